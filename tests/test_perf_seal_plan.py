"""A write's seal reads a few index entries on PostgreSQL, whatever the statistics say.

Every write transaction ends with the hash chain's seal (stores/_chain.py): it reads its
instance's step and audit rows past the last one chained, ``instance = ? AND id > ?``,
and the step rows with their holdings. Issue 14 asks that an action cost the same in a
large store as in a small one. Where PostgreSQL has no statistics for the tables (a
store never analysed: autovacuum off, as on the benchmark's host, or a bulk load not yet
analysed), it estimated thousands of audit rows per instance and a third of the table
for ``id > ?``, and combined the instance's entries with the primary key's whole range
past the id. A start, whose last chained id is 0, then read every audit row of the store
(3.9 ms at 126,000 rows, growing with the table); with the index on (instance, id) of
schema 12 it reads one range. The step read hashed the whole holdings table in the same
conditions; a lateral ``LIMIT 1`` probe keeps it to the holdings' primary key.

The tables here are filled by SQL and never analysed, standing in for such a store. The
premise is checked too: with the index sopflow had before, the same reads are
bounded by the instance alone and filtered row by row. (The hash join over the holdings
was seen at 64,000 holdings in a store never analysed; at a test's size the planner
probes either way, so the test checks that the probe is one by construction.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _stores import BACKENDS, drop_schema, new_url, raw_execute
from sopflow.stores import _sql, open_store
from sopflow.stores._schema import SCHEMA_VERSION
from sopflow.stores.base import NewInstance, NewStep, Store

T0 = 1_754_269_200_000
#: Rows of an older instance, filling the tables the seal reads.
ROWS = 20_000


def _start(store: Store, iid: str) -> None:
    store.ensure_definition("v-izin", "izin", "test", b"<definitions/>")
    step = NewStep("s", 1, "camat", T0, T0 + 60_000, None, "1 Jam")
    store.insert_instance(
        NewInstance(iid, "izin", "v-izin", "running", "{}", T0, "t", T0), [step], []
    )


@pytest.fixture
def unanalysed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """ROWS audit rows, step rows and holdings of one old instance; no statistics.

    ``schema 11`` has the single-column indexes of before, created, like schema 12's, on
    empty tables (an index built on a full table would record its row count).
    """
    url = new_url("postgres", tmp_path)
    store = open_store(url)
    try:
        conn: Any = store._conn  # type: ignore[attr-defined]
        if request.param == "schema 11":
            for table in ("steps", "audit"):
                conn.execute(f"DROP INDEX sopflow_{table}_instance")
                conn.execute(f"CREATE INDEX sopflow_{table}_instance ON sopflow_{table}(instance)")
        _start(store, "old")
        conn.execute(
            "INSERT INTO sopflow_audit (instance, at, event, payload)"
            " SELECT i.id, %s + k, 'step.completed', '{\"task\":\"s\"}'"
            " FROM sopflow_instances i, generate_series(1, %s) k WHERE i.uuid = 'old'",
            (T0, ROWS),
        )
        conn.execute(
            "INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at, completed_at)"
            " SELECT i.id, 's', 1, 'camat', %s + k, %s + k"
            " FROM sopflow_instances i, generate_series(1, %s) k WHERE i.uuid = 'old'",
            (T0, T0 + 1, ROWS),
        )
        conn.execute(
            "INSERT INTO sopflow_step_holdings (step, nip, nama, position, position_name,"
            " unit, kind, basis) SELECT id, '1987', 'Ratna', 'camat', 'Camat', 'kec', 'definitif',"
            " '' FROM sopflow_steps"
        )
        _start(store, "new")
        yield store
    finally:
        store.close()
        drop_schema(url)


def _plans(store: Store) -> tuple[str, str]:
    """The plans of the new instance's seal reads of steps and of audit rows."""
    conn: Any = store._conn  # type: ignore[attr-defined]
    _head, steps, audits = store._seal_queries("new", set())  # type: ignore[attr-defined]
    return tuple(  # type: ignore[return-value]
        "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN " + store._sql(q.sql),  # type: ignore[attr-defined]
                tuple(q.params),
            )
        )
        for q in (steps, audits)
    )


@pytest.mark.postgres
@pytest.mark.parametrize("unanalysed", ["schema 12"], indirect=True)
def test_a_seal_reads_its_instances_index_range_without_statistics(unanalysed: Store) -> None:
    steps, audits = _plans(unanalysed)
    for plan, table in ((steps, "steps"), (audits, "audit")):
        # Both conditions bound one range of the (instance, id) index: no Filter on id.
        assert f"on sopflow_{table}_instance" in plan, plan
        assert "Index Cond: ((instance = $0) AND (id > $3))" in plan, plan
        assert "Seq Scan" not in plan and "Filter: (id >" not in plan, plan
    assert "sopflow_audit_pkey" not in audits, audits
    # Each step row probes its holding by primary key: a per-row lateral subquery that
    # the planner cannot turn into a hash join over the whole holdings table.
    assert "Hash" not in steps, steps
    assert "Index Scan using sopflow_step_holdings_pkey" in steps, steps
    assert "Index Cond: (step = s.id)" in steps, steps


@pytest.mark.postgres
@pytest.mark.parametrize("unanalysed", ["schema 11"], indirect=True)
def test_with_the_old_index_the_id_is_filtered_row_by_row(unanalysed: Store) -> None:
    """The premise of the test above: it fails if schema 12's index stops mattering."""
    for plan in _plans(unanalysed):
        assert "Filter: (id >" in plan, plan


_INDEXES = {
    "postgres": (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND indexname IN ('sopflow_steps_instance', 'sopflow_audit_instance')"
    ),
    "sqlite": (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        " AND name IN ('sopflow_steps_instance', 'sopflow_audit_instance')"
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_12_orders_postgresql_instance_indexes_by_id(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store at schema 11 with an instance opens at schema 12 with the instance kept;
    PostgreSQL's indexes on the instance end with the id, SQLite's are left as they were
    (their rowid already ends them)."""
    url = new_url(backend, tmp_path)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(_sql, "SCHEMA_VERSION", 11)
            patch.delitem(_sql.MIGRATIONS, 12)
            with open_store(url) as store:
                _start(store, "kept")
            before = dict(raw_execute(url, _INDEXES[backend]))
        with open_store(url) as store:
            assert store.schema_version() == SCHEMA_VERSION >= 12
            assert [i.instance_id for i in store.instances()] == ["kept"]
            assert store.verify_chain("kept").ok  # type: ignore[attr-defined]
        after = dict(raw_execute(url, _INDEXES[backend]))
        assert sorted(after) == ["sopflow_audit_instance", "sopflow_steps_instance"]
        if backend == "postgres":
            assert all("(instance)" in str(d) for d in before.values()), before
            assert all("(instance, id)" in str(d) for d in after.values()), after
        else:
            assert after == before
    finally:
        if backend == "postgres":
            drop_schema(url)
