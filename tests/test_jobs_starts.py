"""Timer start events and asynchronous continuations (BPMN 2.0 10.5.2, 13.5.1; Camunda's
asyncBefore/asyncAfter transaction boundaries)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from _jobs_bpmn import bpmn, chain, load, timer
from conftest import ListCatalog
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

OFFICER = Actor("ani", "pelaksana")


def timer_started(text: str) -> bytes:
    nodes = [
        f'<bpmn:startEvent id="mulai">{timer("timeCycle", text)}</bpmn:startEvent>',
        '<bpmn:userTask id="susun" name="Rekap laporan"/>',
        '<bpmn:endEvent id="end"/>',
    ]
    return bpmn("rekap", nodes, [("f1", "mulai", "susun"), ("f2", "susun", "end")])


def test_timer_start_event_starts_an_instance_each_cycle(store: Store, clock: FakeClock) -> None:
    """R2/PT1H: two instances, one and two hours from when the catalog is first run."""
    engine = Engine(ListCatalog(load(timer_started("R2/PT1H"))), store, clock=clock)
    assert engine.run_due() == 0
    assert engine.run_due(clock.now() + timedelta(minutes=59)) == 0
    assert engine.run_due(clock.now() + timedelta(hours=1)) == 1
    assert engine.run_due(clock.now() + timedelta(hours=5)) == 1
    instances = store.instances(process_id="rekap")
    assert [i.started_by for i in instances] == ["timer", "timer"]
    assert [i.started_at - instances[0].started_at for i in instances] == [0, 3_600_000]
    assert len(engine.work_list(role="pelaksana")) == 2
    # a restarted worker (a new engine on the same store) does not start the cycle again
    again = Engine(ListCatalog(load(timer_started("R2/PT1H"))), store, clock=clock)
    assert again.run_due(clock.now() + timedelta(days=3)) == 0


def test_a_new_version_replaces_the_old_versions_start_timer(
    store: Store, clock: FakeClock
) -> None:
    Engine(ListCatalog(load(timer_started("R/PT1H"))), store, clock=clock).run_due()
    newer = Engine(ListCatalog(load(timer_started("R/PT2H"))), store, clock=clock)
    assert newer.run_due() == 0  # the old version's start timer is withdrawn here
    assert newer.run_due(clock.now() + timedelta(hours=1)) == 0
    assert newer.run_due(clock.now() + timedelta(hours=2)) == 1
    [instance] = store.instances(process_id="rekap")
    assert instance.version == newer.catalog.get("rekap").version


def test_async_before_commits_before_the_task_starts(store: Store, clock: FakeClock) -> None:
    calls: list[dict[str, Any]] = []

    def hitung(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(data)
        return {"capaian": 95}

    from sopflow.definitions.loader import load_definition_bytes

    data = chain(
        "p",
        '<bpmn:userTask id="isi"/>',
        '<bpmn:scriptTask id="hitung" camunda:asyncBefore="true">'
        "<bpmn:script>hitung()</bpmn:script></bpmn:scriptTask>",
        '<bpmn:userTask id="tinjau"/>',
    )
    definition = load_definition_bytes(data, source="async.bpmn", script_handlers={"hitung"})
    engine = Engine(ListCatalog(definition), store, clock=clock, script_handlers={"hitung": hitung})
    started = engine.start("p", actor=OFFICER).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    assert calls == []  # the completion was committed before the script
    [job] = engine.jobs(instance_id=started)
    assert (job.kind, job.node, job.payload) == ("async", "hitung", {"at": "before"})
    assert engine.run_due() == 1
    assert calls == [{}]
    assert [w.task_id for w in engine.work_list(instance_id=started)] == ["tinjau"]


def test_async_after_commits_the_task_then_leaves_in_a_job(store: Store, clock: FakeClock) -> None:
    definition = load(
        chain(
            "p",
            '<bpmn:userTask id="isi" camunda:asyncAfter="true"/>',
            '<bpmn:userTask id="tinjau"/>',
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("p", actor=OFFICER).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    assert engine.work_list(instance_id=started) == []
    [job] = engine.jobs(instance_id=started)
    assert job.payload == {"at": "after"}
    assert engine.run_due() == 1
    assert [w.task_id for w in engine.work_list(instance_id=started)] == ["tinjau"]


def test_async_property_asks_for_the_same_without_the_camunda_namespace(
    store: Store, clock: FakeClock
) -> None:
    task = (
        '<bpmn:userTask id="isi"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="async" value="before"/></camunda:properties>'
        "</bpmn:extensionElements></bpmn:userTask>"
    )
    engine = Engine(ListCatalog(load(chain("p", task))), store, clock=clock)
    started = engine.start("p", actor=OFFICER).instance_id
    assert engine.work_list(instance_id=started) == []
    assert engine.run_due() == 1
    assert [w.task_id for w in engine.work_list(instance_id=started)] == ["isi"]


def test_terminating_a_token_withdraws_its_pending_continuation(
    store: Store, clock: FakeClock
) -> None:
    """13.5.6: the terminate end ends the waiting asyncBefore token; its job goes too."""
    nodes = [
        '<bpmn:startEvent id="start"/>',
        '<bpmn:parallelGateway id="split"/>',
        '<bpmn:userTask id="nanti" camunda:asyncBefore="true"/>',
        '<bpmn:userTask id="isi"/>',
        '<bpmn:endEvent id="end"/>',
        '<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition/></bpmn:endEvent>',
    ]
    flows = [
        ("f1", "start", "split"),
        ("f2", "split", "nanti"),
        ("f3", "split", "isi"),
        ("f4", "nanti", "end"),
        ("f5", "isi", "stop"),
    ]
    engine = Engine(ListCatalog(load(bpmn("p", nodes, flows))), store, clock=clock)
    started = engine.start("p", actor=OFFICER).instance_id
    assert [j.kind for j in engine.jobs(instance_id=started)] == ["async"]
    engine.complete(started, "isi", actor=OFFICER)
    assert engine.status(started).status == "completed"
    assert engine.jobs() == []


def test_timer_start_event_with_a_date_starts_one_instance(store: Store, clock: FakeClock) -> None:
    nodes = [
        f'<bpmn:startEvent id="mulai">{timer("timeDate", "2025-08-05T08:00:00+07:00")}'
        "</bpmn:startEvent>",
        '<bpmn:endEvent id="end"/>',
    ]
    engine = Engine(
        ListCatalog(load(bpmn("sekali", nodes, [("f1", "mulai", "end")]))), store, clock=clock
    )
    assert engine.run_due(clock.now() + timedelta(hours=23, minutes=59)) == 0
    assert engine.run_due(clock.now() + timedelta(days=1)) == 1
    assert engine.run_due(clock.now() + timedelta(days=30)) == 0
    [instance] = store.instances(process_id="sekali")
    assert instance.status == "completed"
