"""What firing a due timer costs on the wire to PostgreSQL (run_due, jobs/api.py).

Issue 14 counts round trips, not statements: on a network the time of a job is its round
trips. A fired timer (BPMN 2.0 10.5.5 timer catch) is the claim of the job (its lease
written and the job's row returned in one statement), the instance read with its open
steps (one statement), and the change's batch with the job's deletion (the two round
trips every action costs, stores/_chain.py). ``run_due`` then asks once more for a due
job and finds none. The counting proxy is the one of test_perf_roundtrips.py.
"""

from __future__ import annotations

import os

import pytest

from _stores import ENV
from conftest import ListCatalog
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.testing import FakeClock
from test_perf_roundtrips import STAF, WireCounter, _measure, wire  # noqa: F401  (fixture)


@pytest.mark.skipif(not os.environ.get(ENV), reason=f"{ENV} not set")
def test_a_fired_timer_costs_one_transaction_in_four_round_trips(
    wire: tuple[WireCounter, str],  # noqa: F811  (the fixture imported above)
    clock: FakeClock,
) -> None:
    """A timer fired by run_due: claim, read, batch; one BEGIN and one COMMIT."""
    from tests._jobs_bpmn import catch, chain, load

    counter, url = wire
    store = open_store(url)
    store._conn.prepare_threshold = None  # type: ignore[attr-defined]
    definition = load(
        chain(
            "p",
            '<bpmn:userTask id="isi"/>',
            catch("tunggu", "timeDuration", "PT1H"),
            '<bpmn:userTask id="tinjau"/>',
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    engine.run_due()  # the catalog's start timers are looked at once per engine
    iid = engine.start("p", actor=STAF).instance_id
    engine.complete(iid, "isi", actor=STAF)
    clock.advance(hours=1)
    fired = _measure(counter, lambda: engine.run_due())
    idle = _measure(counter, lambda: engine.run_due())
    assert [s.task_id for s in engine.work_list(role="pelaksana")] == ["tinjau"]
    store.close()
    # claim (1) + instance with open steps (1) + the change's batch (2) + the empty claim
    # that ends run_due (1); 11 round trips and three transactions before (issue 14)
    assert fired == (5, 1, 1)
    assert idle == (1, 0, 0)
