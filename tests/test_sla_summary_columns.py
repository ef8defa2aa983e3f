"""The SLA summary reads the process and unit copied onto each step row (migration 10).

Permenpan-RB 35/2012 measures each step of an SOP against its Mutu Baku (waktu); the
summary counts open steps per process, unit and role (issue 14). Since schema 10 it
groups the step rows' own ``process_id`` and ``unit`` columns through one covering
partial index instead of joining the definition and unit tables for every open step.
These tests hold that the copies are right on every write path (a start, a later
step, a migrated old store) and that the summary still counts only running instances:
a cancelled instance's open step row stays open (the engine does not close it), so
the instance-status check stays in the statement.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests._staff import CAMAT, CAMAT_PACE, PACE, PBG, purbalingga, staffed_engine, who

from _stores import BACKENDS, new_url, raw_execute, store_url_fixture  # noqa: F401  (fixture)
from sopflow.sla.monitor import Monitor
from sopflow.sla.summary import summarize
from sopflow.stores import _sql, open_store
from sopflow.stores._schema import SCHEMA_VERSION
from sopflow.stores.base import AuditRow, NewInstance, NewStep
from sopflow.testing import FakeClock

PROCESS = "purbalingga_pengukuran_kinerja"
T0 = datetime(2025, 8, 4, 1, 0, tzinfo=UTC)
MIN = 60_000


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def test_engine_written_steps_carry_their_process_and_unit(store_url: str) -> None:
    """A step written at the start and one written by a later completion both carry the
    instance's unit; a cancelled instance's step stays open (the engine leaves it so)
    but the cancellation marks it, and it is counted nowhere."""
    clock = FakeClock("2025-08-04T08:00:00+07:00")
    with open_store(store_url) as store:
        engine = staffed_engine(store, clock, purbalingga())
        quick = engine.start(PROCESS, actor=who(CAMAT)).instance_id
        slow = engine.start(PROCESS, actor=who(CAMAT)).instance_id
        engine.start(PROCESS, actor=who(CAMAT_PACE), unit=PACE)
        engine.complete(quick, 1, actor=who(CAMAT), at=clock.advance(minutes=10))
        engine.complete(slow, 1, actor=who(CAMAT), at=clock.advance(minutes=10))
        engine.cancel(slow, reason="dobel", actor=who(CAMAT), at=clock.advance(minutes=1))
        at = clock.advance(minutes=1)
        summary = summarize(store, at)
        scan = Monitor(store).scan(at=at)
    # the finding behind keeping the status check: cancelling leaves the step row open
    assert raw_execute(
        store_url,
        "SELECT COUNT(*) FROM sopflow_steps s JOIN sopflow_instances i ON i.id = s.instance"
        " WHERE i.uuid = ? AND s.completed_at IS NULL",
        [slow],
    ) == [(1,)]
    rows = raw_execute(
        store_url,
        "SELECT i.uuid, s.step_no, s.process_id, s.unit, s.instance_running, s.completed_at"
        " FROM sopflow_steps s"
        " JOIN sopflow_instances i ON i.id = s.instance ORDER BY s.id",
    )
    assert {r[2] for r in rows} == {PROCESS}
    assert {(r[0], r[1]): r[3] for r in rows if r[0] == quick} == {(quick, 1): PBG, (quick, 2): PBG}
    # the cancellation cleared the mark of the step it left open
    assert [(r[1], r[4]) for r in rows if r[0] == slow and r[5] is None] == [(2, 0)]
    assert {r[4] for r in rows if r[0] != slow} == {1}
    assert summary.totals() == scan.counts()
    assert {u: sum(c.values()) for u, c in summary.by_unit().items()} == {PBG: 1, PACE: 1}
    assert sum(summary.by_process()[PROCESS].values()) == 2


def test_the_summary_equals_a_model_of_a_mixed_store(store_url: str) -> None:
    """Seeded mixed store: processes, units (and none), roles, deadlines, and instances
    in every status. Each (process, unit, role, status) group equals the count a model
    of the rows gives, and the totals equal the full scan's."""
    rng = random.Random(14)
    start = ms(T0)
    expected: list[tuple[str, str | None, str | None, int | None, int | None]] = []
    with open_store(store_url) as store:
        for process in ("izin", "surat"):
            store.ensure_definition(f"v-{process}", process, "test", b"<definitions/>")
        for n in range(60):
            process = rng.choice(("izin", "surat"))
            unit = rng.choice(("33.03.01", "33.03.02", None))
            status = rng.choice(("running", "running", "running", "cancelled", "terminated"))
            steps = []
            for k in range(rng.choice((1, 1, 2))):
                role = rng.choice(("camat", "sekcam", None))
                due = None if rng.random() < 0.15 else start + rng.randrange(1, 120) * MIN
                risk = None if due is None or rng.random() < 0.3 else due - 15 * MIN
                steps.append(NewStep(f"t{k}", k + 1, role, start, due, risk, "1 Jam"))
                if status == "running":
                    expected.append((process, unit, role, due, risk))
            started = [AuditRow(start, "instance.started", {"unit": unit})] if unit else []
            store.insert_instance(
                NewInstance(f"m-{n:03d}", process, f"v-{process}", status, "{}", start, "t", start),
                steps,
                started,
            )
        for minutes in (0, 45, 200):
            now = start + minutes * MIN
            model: Counter[tuple[str, str | None, str | None, str]] = Counter()
            for process, unit, role, due, risk in expected:
                judged = (
                    "no_standard"
                    if due is None
                    else "breached"
                    if now >= due
                    else "at_risk"
                    if risk is not None and now >= risk
                    else "on_track"
                )
                model[(process, unit, role, judged)] += 1
            got = {r[:4]: r[4] for r in store.sla_summary(now)}  # type: ignore[attr-defined]
            assert got == dict(model), minutes
            at = datetime.fromtimestamp(now / 1000, UTC)
            assert summarize(store, at).totals() == Monitor(store).scan(at=at).counts()
            one = store.sla_summary(now, process_id="izin")  # type: ignore[attr-defined]
            assert {r[:4]: r[4] for r in one} == {k: v for k, v in model.items() if k[0] == "izin"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_10_backfills_the_step_rows_of_a_version_9_store(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store at schema 9 with rows (open and closed steps, with and without a unit)
    opens at schema 10 with each step's process and unit filled in and the covering
    index built; its summary then groups by them."""
    url = new_url(backend, tmp_path)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(_sql, "SCHEMA_VERSION", 9)
            patch.delitem(_sql.MIGRATIONS, 10)
            open_store(url).close()  # schema 9, as the previous sopflow left it
        start = ms(T0)
        assert raw_execute(url, "SELECT value FROM sopflow_meta WHERE key = 'schema_version'") == [
            ("9",)
        ]
        raw_execute(
            url,
            "INSERT INTO sopflow_definitions (id, version, process_id, source, xml)"
            " VALUES (1, 'v1', 'izin', 'x', ?), (2, 'v2', 'surat', 'x', ?)",
            [b"<definitions/>", b"<definitions/>"],
        )
        raw_execute(
            url,
            "INSERT INTO sopflow_instances (id, uuid, definition, status, state, revision,"
            " started_at, started_by, last_action_at) VALUES"
            " (1, 'a', 1, 'running', '{}', 0, ?, 't', ?),"
            " (2, 'b', 2, 'running', '{}', 0, ?, 't', ?),"
            " (3, 'c', 1, 'cancelled', '{}', 0, ?, 't', ?)",
            [start] * 6,
        )
        raw_execute(
            url, "INSERT INTO sopflow_instance_units VALUES (1, '33.03.01'), (3, '33.03.02')"
        )
        raw_execute(
            url,
            "INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at, due_at,"
            " completed_at) VALUES (1, 's1', 1, 'camat', ?, ?, ?), (1, 's2', 2, 'sekcam', ?, ?,"
            " NULL), (2, 's1', 1, 'camat', ?, NULL, NULL), (3, 's1', 1, 'camat', ?, ?, NULL)",
            [start, start + MIN, start + MIN, start, start + MIN, start, start, start + MIN],
        )
        with open_store(url) as store:
            assert store.schema_version() == SCHEMA_VERSION >= 10  # 10 and what came after
            summary = sorted(store.sla_summary(start + 5 * MIN))  # type: ignore[attr-defined]
        rows = raw_execute(
            url,
            "SELECT instance, task, process_id, unit, instance_running FROM sopflow_steps"
            " ORDER BY id",
        )
        assert rows == [
            (1, "s1", "izin", "33.03.01", 1),
            (1, "s2", "izin", "33.03.01", 1),
            (2, "s1", "surat", None, 1),
            (3, "s1", "izin", "33.03.02", 0),
        ]
        # the cancelled instance's open step is not counted
        assert summary == [
            ("izin", "33.03.01", "sekcam", "breached", 1),
            ("surat", None, "camat", "no_standard", 1),
        ]
        if backend == "sqlite":
            names = raw_execute(url, "SELECT name FROM sqlite_master WHERE type = 'index'")
        else:
            names = raw_execute(
                url, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            )
        assert ("sopflow_steps_open_summary",) in names
    finally:
        if backend == "postgres":
            from _stores import drop_schema

            drop_schema(url)


def test_sqlite_summary_reads_the_covering_index(tmp_path: Path) -> None:
    """The plan is one covering read of the partial index: per open step of a running
    instance one index entry, no instance, definition or unit table, and no sort: the
    groups come in the index's order (grouping by the status too sorted every open step
    in a temporary B-tree)."""
    with open_store(f"sqlite:///{tmp_path / 'plan.db'}") as store:
        seen: list[tuple[str, tuple[object, ...]]] = []
        read = store._read  # type: ignore[attr-defined]

        def spy(statement: str, params: tuple[object, ...] = ()) -> list[object]:
            seen.append((statement, tuple(params)))
            return read(statement, params)  # type: ignore[no-any-return]

        store._read = spy  # type: ignore[attr-defined]
        store.sla_summary(0)  # type: ignore[attr-defined]
        [(statement, params)] = seen
        plan = " | ".join(
            str(r[-1])
            for r in store._conn.execute("EXPLAIN QUERY PLAN " + statement, params)  # type: ignore[attr-defined]
        )
    assert "COVERING INDEX sopflow_steps_open_summary" in plan, plan
    assert "SEARCH" not in plan and " i " not in plan, plan
    assert "TEMP B-TREE" not in plan, plan
