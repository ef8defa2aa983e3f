"""The seal of a write reads what it chains by index range, not the instance's history.

Every write appends the hash-chain entries of the rows it wrote (stores/_chain.py). To
find them it asks for the last step and audit row already chained. Read with an index of
(instance, id) only, that question walked every chain entry and every step row of the
instance, so an instance that went back through a parallel block 1,000 times paid for
its 8,000 chain entries on each completion (benchmarks/tokens.py measured 14 x the cost
after one return). These tests read SQLite's query plan of the seal queries back and
check the chain still verifies after many returns: exact, not timed.
"""

from __future__ import annotations

from pathlib import Path

from tests._bpmn import STAF, engine_for

from sopflow.stores import open_store
from sopflow.testing import FakeClock


def _returned(tmp_path: Path, clock: FakeClock, passes: int) -> tuple[object, str]:
    store = open_store(f"sqlite:///{tmp_path / 'seal.db'}")
    engine = engine_for(store, clock, "parallel_loop")
    iid = engine.start("parallel_loop", actor=STAF).instance_id
    for _ in range(passes):  # BPMN 2.0 13.4.1: a parallel block inside a return loop
        for task in ("siapkan", "cek_a", "cek_b"):
            engine.complete(iid, task, actor=STAF)
        engine.complete(iid, "putus", actor=STAF, data={"disetujui": False})
    return store, iid


def test_the_seal_queries_are_index_ranges_of_the_instance(
    tmp_path: Path, clock: FakeClock
) -> None:
    store, iid = _returned(tmp_path, clock, 5)
    conn = store._conn  # type: ignore[attr-defined]
    for query in store._seal_queries(iid, {1, 2}):  # type: ignore[attr-defined]
        sql = store._sql(query.sql)  # type: ignore[attr-defined]
        plan = [str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, query.params)]
        for line in plan:
            if "sopflow_chain " in line + " " and not sql.startswith("SELECT hash"):
                # the last chained row of a kind: one probe, not every entry of the instance
                # (the head, ``SELECT hash ... ORDER BY id DESC LIMIT 1``, is one already)
                assert "instance=? AND kind=?" in line, plan
            if line.startswith("SEARCH s ") or line.startswith("SEARCH a "):
                assert "rowid>?" in line or "rowid=?" in line, plan
    store.close()  # type: ignore[attr-defined]


def test_the_chain_of_an_instance_returned_many_times_verifies(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The ranges seal exactly what the whole-history reads sealed: every row, once."""
    store, iid = _returned(tmp_path, clock, 12)
    report = store.verify_chain(iid)  # type: ignore[attr-defined]
    assert report.ok, report
    conn = store._conn  # type: ignore[attr-defined]
    [(steps,)] = conn.execute(
        "SELECT COUNT(*) FROM sopflow_steps s JOIN sopflow_instances i ON i.id = s.instance"
        " WHERE i.uuid = ?",
        (iid,),
    ).fetchall()
    [(chained,)] = conn.execute(
        "SELECT COUNT(DISTINCT c.row_id) FROM sopflow_chain c JOIN sopflow_instances i"
        " ON i.id = c.instance WHERE i.uuid = ? AND c.kind = 'step'",
        (iid,),
    ).fetchall()
    assert chained == steps == 1 + 12 * 4
    store.close()  # type: ignore[attr-defined]
