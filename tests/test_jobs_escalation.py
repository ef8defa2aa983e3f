"""SLA escalations as jobs: announced at least once, and once per set of workers.

A step past its Mutu Baku waktu (Permenpan-RB 35/2012) is escalated to the officer's
superior; the announcement must neither be lost nor repeated.

The monitor only enqueues; a worker announces (log + the application's hook) and
records the escalation in one transaction with the job's end. A worker that dies while
announcing leaves its lease to run out, and the escalation is announced by another.
"""

from __future__ import annotations

from _jobs_bpmn import chain, load
from _stores import store_url_fixture  # noqa: F401  (fixture)
from conftest import ListCatalog
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.sla.monitor import Monitor, SlaEvent
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

OFFICER = Actor("ani", "pelaksana")
STEP = (
    '<bpmn:userTask id="periksa" name="Memeriksa berkas"><bpmn:extensionElements>'
    '<camunda:properties><camunda:property name="waktu" value="15 menit"/>'
    "</camunda:properties></bpmn:extensionElements></bpmn:userTask>"
)


def setup(store: Store, clock: FakeClock, hook: object) -> tuple[Engine, Monitor, str]:
    definition = load(chain("p", STEP))
    engine = Engine(ListCatalog(definition), store, clock=clock, on_escalation=hook)  # type: ignore[arg-type]
    started = engine.start("p", actor=OFFICER).instance_id
    monitor = Monitor(store, enqueue=True, clock=clock, definitions=engine.definition)
    return engine, monitor, started


def test_monitor_enqueues_and_a_worker_announces_once(store: Store, clock: FakeClock) -> None:
    seen: list[SlaEvent] = []
    engine, monitor, started = setup(store, clock, seen.append)
    clock.advance(hours=1)
    monitor.scan()
    monitor.scan()  # a second monitor scan (or monitor) enqueues nothing more
    [job] = engine.jobs(kind="sla-escalation")
    assert job.payload["status"] == "breached"
    assert seen == []  # the monitor itself announces nothing
    assert engine.run_due() == 1
    assert [(e.status, e.step.instance_id, e.step.task) for e in seen] == [
        ("breached", started, "periksa")
    ]
    monitor.scan()
    assert engine.run_due(clock.advance(hours=1)) == 0
    assert [s for _, s, _ in store.escalations(started)] == ["at_risk", "breached"]


def test_a_worker_killed_while_announcing_leaves_the_job_to_another(
    store: Store, clock: FakeClock
) -> None:
    seen: list[SlaEvent] = []
    engine, monitor, _started = setup(store, clock, seen.append)
    monitor.scan(clock.advance(hours=1))
    # a worker takes the job and dies before recording it
    [_taken] = store.claim_jobs(  # type: ignore[attr-defined]
        "dead-worker",
        now=round(clock.now().timestamp() * 1000),
        lease_ms=30_000,
        limit=5,
        kinds=["sla-escalation"],
    )
    assert engine.run_due() == 0
    assert engine.run_due(clock.advance(seconds=30)) == 1
    assert len(seen) == 1
    assert engine.jobs() == []


def test_a_failing_hook_is_retried_then_is_an_incident(store: Store, clock: FakeClock) -> None:
    calls: list[SlaEvent] = []

    def hook(event: SlaEvent) -> None:
        calls.append(event)
        raise TimeoutError("SMS gateway")

    engine, monitor, _started = setup(store, clock, hook)
    monitor.scan(clock.advance(hours=1))
    assert engine.run_due() == 1
    assert engine.run_due(clock.advance(seconds=10)) == 1
    assert engine.run_due(clock.advance(seconds=40)) == 1
    assert len(calls) == 3
    [incident] = engine.incidents()
    assert (incident.kind, incident.message) == ("sla-escalation", "TimeoutError: SMS gateway")
    monitor.scan()  # not announced, so not recorded: but its job is still there, not doubled
    assert len(engine.jobs(kind="sla-escalation")) == 1


def test_announced_once_on_every_backend(store_url: str) -> None:
    from sopflow.stores import open_store

    clock = FakeClock()
    store = open_store(store_url)
    try:
        seen: list[SlaEvent] = []
        engine, monitor, started = setup(store, clock, seen.append)
        monitor.scan(clock.advance(hours=1))
        monitor.scan()
        assert engine.run_due() == 1
        monitor.scan()
        assert engine.run_due() == 0
        assert [e.status for e in seen] == ["breached"]
        assert [s for _, s, _ in store.escalations(started)] == ["at_risk", "breached"]
    finally:
        store.close()
