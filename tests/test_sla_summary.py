"""The SLA summary, change scan and paged listing agree with the full scan, on both backends.

Permenpan-RB 35/2012 measures each step against its Mutu Baku (waktu); the monitor's
full scan judges every open step in Python. At kabupaten scale the database answers
instead (issue 14): these tests hold the SQL answers to the full scan's, step by step,
and check that the change scan reads index ranges, not the open steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _stores import store_url_fixture  # noqa: F401  (fixture)
from sopflow.sla.monitor import Monitor, SlaEvent
from sopflow.sla.summary import pages, summarize
from sopflow.stores import open_store
from sopflow.stores.base import AuditRow, NewInstance, NewStep, Store

T0 = datetime(2025, 8, 4, 1, 0, tzinfo=UTC)
MIN = 60_000


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _instance(
    store: Store,
    n: int,
    process: str,
    step: NewStep,
    status: str = "running",
    unit: str | None = None,
) -> str:
    iid = f"{process}-{n:04d}"
    version = f"v-{process}"
    store.ensure_definition(version, process, "test", b"<definitions/>")
    # the engine's start row: its unit is what the store records as the instance's unit
    started = [AuditRow(step.ready_at, "instance.started", {"unit": unit})] if unit else []
    store.insert_instance(
        NewInstance(iid, process, version, status, "{}", step.ready_at, "t", step.ready_at),
        [step],
        started,
    )
    return iid


@pytest.fixture
def loaded(store_url: str) -> Iterator[Store]:
    """40 open steps: deadlines every few minutes from T0, a few without a standard."""
    store = open_store(store_url)
    start = ms(T0)
    for n in range(40):
        process = "izin" if n % 3 else "surat"
        role = ("camat", "sekcam", "kasi")[n % 3]
        due = None if n % 10 == 9 else start + (n + 1) * 5 * MIN
        risk = None if due is None or n % 4 == 0 else due - 10 * MIN
        step = NewStep(f"step_{n % 5}", n % 5 + 1, role, start, due, risk, "1 Jam")
        _instance(store, n, process, step)
    # an open step of a cancelled instance counts nowhere
    _instance(store, 99, "izin", NewStep("s", 1, "camat", start, start + MIN), status="cancelled")
    yield store
    store.close()


@pytest.mark.parametrize("minutes", [0, 37, 96, 400])
def test_the_summary_counts_what_the_full_scan_finds(loaded: Store, minutes: int) -> None:
    at = T0 + timedelta(minutes=minutes)
    scan = Monitor(loaded).scan(at=at)
    summary = summarize(loaded, at)
    assert summary.totals() == scan.counts()
    by_role: dict[str | None, dict[str, int]] = {}
    by_process: dict[str, dict[str, int]] = {}
    for s in scan:
        for key, out in ((s.role, by_role), (s.process_id, by_process)):
            counts = out.setdefault(key, dict.fromkeys(summary.totals(), 0))  # type: ignore[arg-type]
            counts[s.status] += 1
    assert summary.by_role() == by_role
    assert summary.by_process() == by_process
    assert set(summary.by_unit()) == {None}  # started without a unit


def test_the_change_scan_reports_each_change_once_and_escalates_it_once(loaded: Store) -> None:
    events: list[SlaEvent] = []
    monitor = Monitor(loaded, on_status_change=events.append)
    first = monitor.changes(at=T0 + timedelta(minutes=30))  # from the beginning
    full = Monitor(loaded).scan(at=T0 + timedelta(minutes=30))
    urgent = [(s.step_id, s.status) for s in full if s.status in ("breached", "at_risk")]
    assert [(s.step_id, s.status) for s in first] == urgent
    assert len(events) == len(urgent)

    # Later: only what changed between the two moments, read from the stored mark.
    at = T0 + timedelta(minutes=60)
    second = monitor.changes(at=at)
    before = {(s.step_id, s.status) for s in full}
    now = Monitor(loaded).scan(at=at)
    changed = [
        (s.step_id, s.status)
        for s in now
        if s.status in ("breached", "at_risk") and (s.step_id, s.status) not in before
    ]
    assert sorted((s.step_id, s.status) for s in second) == sorted(changed)
    assert len(events) == len(urgent) + len(changed)
    # Nothing new at the same moment: an empty change scan, no event.
    assert list(monitor.changes(at=at)) == []
    assert len(events) == len(urgent) + len(changed)


def test_pages_list_every_open_step_once_in_deadline_order(loaded: Store) -> None:
    at = T0 + timedelta(minutes=96)
    monitor = Monitor(loaded)
    full = monitor.scan(at=at)
    paged = [s for page in pages(monitor, at, size=7) for s in page]
    assert sorted(s.step_id for s in paged) == sorted(s.step_id for s in full)
    assert len({s.step_id for s in paged}) == len(paged)
    keys = [(s.due_at is None, s.due_at or T0, s.step_id) for s in paged]
    assert keys == sorted(keys)
    status = {s.step_id: s.status for s in full}
    assert all(s.status == status[s.step_id] for s in paged)
    for wanted in ("breached", "at_risk", "on_track", "no_standard"):
        got = [s.step_id for page in pages(monitor, at, status=wanted, size=4) for s in page]
        assert sorted(got) == sorted(i for i, st in status.items() if st == wanted), wanted


def test_a_page_size_below_one_is_refused(loaded: Store) -> None:
    with pytest.raises(ValueError, match="limit"):
        loaded.sla_page(ms(T0), limit=0)  # type: ignore[attr-defined]


def test_sqlite_change_scan_reads_index_ranges(tmp_path: Path) -> None:
    """The cost follows the changes: both halves are ranges of partial open-step indexes."""
    store = open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    seen: list[tuple[str, tuple[object, ...]]] = []
    read = store._read  # type: ignore[attr-defined]

    def spy(statement: str, params: tuple[object, ...] = ()) -> list[object]:
        seen.append((statement, tuple(params)))
        return read(statement, params)  # type: ignore[no-any-return]

    store._read = spy  # type: ignore[attr-defined]
    store.sla_changes(0, 1)  # type: ignore[attr-defined]
    conn = store._conn  # type: ignore[attr-defined]
    for statement, params in seen:
        plan = " | ".join(
            str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + statement, params)
        )
        assert "USING INDEX sopflow_steps_open" in plan and "<?" in plan, plan
    assert len(seen) == 2
    store.close()


def test_the_summary_counts_per_unit_of_the_instances(store_url: str) -> None:
    """Each instance is counted in the unit it was started in (sopflow_instance_units)."""
    store = open_store(store_url)
    start = ms(T0)
    for n in range(6):
        step = NewStep("s", 1, "camat", start, start + MIN, None, "1 Jam")
        _instance(store, n, "izin", step, unit="kec-a" if n < 2 else "kec-b")
    _instance(store, 7, "izin", NewStep("s", 1, "camat", start, start + MIN, None, "1 Jam"))
    by_unit = summarize(store, T0 + timedelta(minutes=5)).by_unit()
    store.close()
    assert {k: v["breached"] for k, v in by_unit.items()} == {"kec-a": 2, "kec-b": 4, None: 1}
