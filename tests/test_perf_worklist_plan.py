"""A role's work list on PostgreSQL reads the role's index range with no parallel workers.

Issue 14 asks that a role's work list cost the same among 1,000,000 open steps as among
1,000. The read is a range of the partial expression index ``sopflow_steps_open_role``
(about 20 entries for the role), but PostgreSQL does not use the statistics of a partial
index's expression: it estimates the role at 0.5 % of the open steps, a figure that grows
with the table. At 1,000,000 open steps that estimate (5,101 rows for 20) made a parallel
plan look cheaper, and starting its two workers cost 7-50 ms for a 1 ms read
(docs/performance.md). The store's sessions therefore plan without parallel workers,
unless the connection, user or database chose otherwise.

A test database is small; the planner's parallel costs are set to zero on the store's
own connection so that any plan it could run in parallel would be chosen so, standing in
for the estimate of a 1,000,000-step store. The premise is checked too: with workers
allowed, the same statement is planned in parallel.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _stores import drop_schema, new_url, postgres_base, with_schema
from sopflow.stores import open_store
from sopflow.stores.base import NewInstance, NewStep, Store

pytestmark = pytest.mark.postgres

T0 = 1_754_269_200_000
#: Open steps of the role nobody asks for; the role asked for has FEW.
MANY, FEW = 20_000, 5
#: Make any parallel plan cheaper than its serial one (a small stand-in for 1,000,000).
PARALLEL_FREE = (
    "SET parallel_setup_cost = 0",
    "SET parallel_tuple_cost = 0",
    "SET min_parallel_index_scan_size = 0",
    "SET min_parallel_table_scan_size = 0",
)


def _start(store: Store, iid: str, role: str) -> None:
    store.ensure_definition("v-izin", "izin", "test", b"<definitions/>")
    step = NewStep("s", 1, role, T0, T0 + 60_000, None, "1 Jam")
    store.insert_instance(
        NewInstance(iid, "izin", "v-izin", "running", "{}", T0, "t", T0), [step], []
    )


@pytest.fixture
def skewed(tmp_path: Path) -> Iterator[Store]:
    """MANY open steps of `camat` (and twice as many completed ones), FEW of `sekcam`."""
    url = new_url("postgres", tmp_path)
    store = open_store(url)
    try:
        for n in range(FEW):
            _start(store, f"few-{n}", "sekcam")
        _start(store, "many", "camat")
        conn: Any = store._conn  # type: ignore[attr-defined]
        conn.execute(
            "INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at, due_at,"
            " completed_at, process_id, instance_running)"
            " SELECT i.id, 's', 1, 'camat', %s + k, %s + k,"
            " CASE WHEN k %% 3 = 0 THEN NULL ELSE %s + k END, 'izin', 1"
            " FROM sopflow_instances i, generate_series(1, %s) k WHERE i.uuid = 'many'",
            (T0, T0 + 60_000, T0 + 1_000, 3 * MANY),
        )
        conn.execute("ANALYZE sopflow_steps")
        conn.execute("ANALYZE sopflow_instances")
        yield store
    finally:
        store.close()
        drop_schema(url)


def _plan_of_work_list(store: Store) -> str:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    read = store._read  # type: ignore[attr-defined]

    def spy(statement: str, params: Any = ()) -> Any:
        seen.append((store._sql(statement), tuple(params)))  # type: ignore[attr-defined]
        return read(statement, params)

    store._read = spy  # type: ignore[attr-defined]
    try:
        assert len(store.open_steps(roles=["sekcam"])) == FEW
    finally:
        store._read = read  # type: ignore[attr-defined]
    [(statement, params)] = seen
    conn: Any = store._conn  # type: ignore[attr-defined]
    return "\n".join(r[0] for r in conn.execute("EXPLAIN " + statement, params))


def test_a_roles_work_list_is_its_index_range_without_workers(skewed: Store) -> None:
    conn: Any = skewed._conn  # type: ignore[attr-defined]
    for setting in PARALLEL_FREE:
        conn.execute(setting)
    plan = _plan_of_work_list(skewed)
    assert "sopflow_steps_open_role" in plan, plan
    assert "Gather" not in plan and "Parallel" not in plan, plan


def test_with_workers_allowed_the_same_read_would_be_parallel(skewed: Store) -> None:
    """The premise of the test above: it fails if the store stops turning workers off."""
    conn: Any = skewed._conn  # type: ignore[attr-defined]
    for setting in (*PARALLEL_FREE, "SET max_parallel_workers_per_gather = 2"):
        conn.execute(setting)
    assert "Gather" in _plan_of_work_list(skewed)


@pytest.mark.parametrize(
    ("options", "expected"), [("", "0"), ("-c max_parallel_workers_per_gather=3", "3")]
)
def test_a_connections_own_choice_of_workers_is_kept(options: str, expected: str) -> None:
    """Workers are turned off only where nobody chose: ``options`` in the URL wins."""
    url = with_schema(postgres_base(), f"sopflow_test_{secrets.token_hex(6)}")
    if options:
        url += "&options=" + options.replace(" ", "%20").replace("=", "%3D")
    store = open_store(url)
    try:
        conn: Any = store._conn  # type: ignore[attr-defined]
        assert conn.execute("SHOW max_parallel_workers_per_gather").fetchone() == (expected,)
    finally:
        conn.execute(f'DROP SCHEMA "{store.schema}" CASCADE')  # type: ignore[attr-defined]
        store.close()
