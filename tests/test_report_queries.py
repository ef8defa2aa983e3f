"""What a per-SOP report asks of the store: a fixed number of statements, not one per instance.

Steps the engine closed (a completion condition's cancelled instances, BPMN 2.0 section
13.3.7; the steps a terminate end event ended, section 13.5.6) are not completed work,
so ``completed_steps`` leaves them out and the report reads them apart (issue 10). Read
instance by instance, a kabupaten's report over thousands of instances made thousands
of queries; ``closed_steps`` reads them for the whole process in one statement. The
tests count the statements the store sends, on every SQL backend: exact counts, not time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from tests._bpmn import STAF, fixture
from tests._stores import store_url_fixture  # noqa: F401  (fixture)
from tests.conftest import ListCatalog
from tests.test_report_joint import _TERMINATE

from sopflow.definitions.loader import load_definition_bytes
from sopflow.reports.stats import process_report
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


@pytest.fixture
def sql_store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


def _engine(store: Store, clock: FakeClock) -> Engine:
    terminate = load_definition_bytes(_TERMINATE, source="cek_cepat.bpmn")
    return Engine(ListCatalog(terminate, fixture("mi_completion")), store, clock=clock)


def _terminated(engine: Engine, clock: FakeClock) -> str:
    """An instance whose ``periksa`` step the terminate end closed (outcome terminated)."""
    iid = engine.start("cek_cepat", actor=STAF, at=clock.now()).instance_id
    engine.complete(iid, "tolak", actor=STAF, at=clock.advance(minutes=10))
    return iid


def _counting(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the store reads with, in order (writes are not a report's)."""
    sent: list[str] = []
    read = store._read  # type: ignore[attr-defined]

    def counted(statement: str, params: Any = ()) -> list[Any]:
        sent.append(statement)
        return read(statement, params)  # type: ignore[no-any-return]

    monkeypatch.setattr(store, "_read", counted)
    return sent


def test_closed_steps_gives_the_rows_the_engine_closed_for_a_whole_process(
    sql_store: Store, clock: FakeClock
) -> None:
    """13.3.7 and 13.5.6: the rows a completion condition cancelled and a terminate end
    ended, of the process asked for only, never a completed or an open row."""
    engine = _engine(sql_store, clock)
    ended = [_terminated(engine, clock) for _ in range(3)]
    mi = engine.start("mi_completion", actor=STAF, data={"jumlah_penilai": 4}).instance_id
    engine.complete(mi, "nilai", actor=STAF)
    engine.complete(mi, "nilai", actor=STAF)  # nrOfCompletedInstances >= 2: two cancelled

    rows = sql_store.closed_steps(process_id="cek_cepat")
    assert [(r.instance_id, r.task, r.outcome) for r in rows] == [
        (iid, "periksa", "terminated") for iid in ended
    ]
    cancelled = sql_store.closed_steps(process_id="mi_completion")
    assert [(r.task, r.outcome) for r in cancelled] == [("nilai", "cancelled")] * 2
    assert all(r.completed_at is not None for r in cancelled)
    assert sql_store.closed_steps(process_id="mi_completion", outcomes=("terminated",)) == []
    assert sql_store.closed_steps(process_id="cek_cepat", outcomes=()) == []
    one = sql_store.closed_steps(instance_id=ended[1])
    assert [r.instance_id for r in one] == [ended[1]]
    both = sql_store.closed_steps()
    assert len(both) == 5
    # the same rows reading each instance's whole history gives
    by_history = [
        r
        for iid in [*ended, mi]
        for r in sql_store.steps(iid)
        if r.outcome in ("cancelled", "terminated")
    ]
    assert both == by_history


def test_a_process_report_reads_the_store_the_same_number_of_times_for_3_or_30_instances(
    sql_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report's reads do not grow with the instances of the SOP (each instance read on
    its own made 30 queries here instead of 3), and it still counts every step the
    terminate end closed as cancelled."""
    engine = _engine(sql_store, clock)
    statements = []
    for n in (3, 30):
        while len(sql_store.instances(process_id="cek_cepat")) < n:
            _terminated(engine, clock)
        sent = _counting(sql_store, monkeypatch)
        report = process_report(
            sql_store,
            "cek_cepat",
            definitions=engine.definition,
            at=clock.now() + timedelta(hours=1),
        )
        monkeypatch.undo()
        periksa = next(s for s in report.steps if s.task_id == "periksa").figures
        assert (periksa.count, periksa.cancelled) == (0, n)
        statements.append(len(sent))
    assert statements[0] == statements[1]
    assert statements[0] <= 6
