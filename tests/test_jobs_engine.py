"""The intermediate timer catch event and run_due (BPMN 2.0 13.5.3, 10.5.5).

"A timer ... waits until the time condition holds": the token stays at the event, its
job is in the store with the state that put it there, and ``run_due`` (the worker loop
driven by a fake clock) moves it on once the job is due, never earlier.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from _jobs_bpmn import bpmn, catch, chain, load
from conftest import ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock, capture_events

WIB = ZoneInfo("Asia/Jakarta")
OFFICER = Actor("ani", "pelaksana")


def waiting(pid: str, kind: str, text: str) -> ProcessDefinition:
    """isi -> wait for the timer -> tinjau."""
    return load(
        chain(
            pid,
            '<bpmn:userTask id="isi"/>',
            catch("tunggu", kind, text),
            '<bpmn:userTask id="tinjau"/>',
        )
    )


def engine_for(store: Store, clock: FakeClock, *definitions: ProcessDefinition) -> Engine:
    return Engine(ListCatalog(*definitions), store, clock=clock)


def ready(engine: Engine, instance_id: str) -> list[str]:
    return [w.task_id for w in engine.work_list(instance_id=instance_id)]


def test_token_waits_at_the_timer_until_it_is_due(store: Store, clock: FakeClock) -> None:
    engine = engine_for(store, clock, waiting("p", "timeDuration", "PT2H"))
    started = engine.start("p", actor=OFFICER).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    [job] = engine.jobs(instance_id=started)
    assert (job.kind, job.node, job.due_at) == (
        "timer",
        "tunggu",
        round((clock.now() + timedelta(hours=2)).timestamp() * 1000),
    )
    assert ready(engine, started) == []
    clock.advance(hours=1, minutes=59)
    assert engine.run_due() == 0
    assert ready(engine, started) == []
    clock.advance(minutes=1)
    assert engine.run_due() == 1
    assert ready(engine, started) == ["tinjau"]
    assert engine.jobs(instance_id=started) == []
    # the step after the timer became ready when the timer fired
    [item] = engine.work_list(instance_id=started)
    assert item.ready_at == clock.now()


def test_waktu_timer_counts_the_work_calendar_across_weekend_and_holiday(
    store: Store, clock: FakeClock
) -> None:
    """Friday 15 Aug 2025 10:00 + "1 hari kerja" = Tuesday 19 Aug 10:00 (Sat, Sun 17
    Agustus and the cuti bersama of Monday 18 Aug are not working days)."""
    clock.set(datetime(2025, 8, 15, 10, 0, tzinfo=WIB))
    engine = engine_for(store, clock, waiting("p", "timeDuration", "1 hari kerja"))
    started = engine.start("p", actor=OFFICER).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    clock.set(datetime(2025, 8, 19, 9, 59, tzinfo=WIB))
    assert engine.run_due() == 0
    clock.set(datetime(2025, 8, 19, 10, 0, tzinfo=WIB))
    assert engine.run_due() == 1
    assert ready(engine, started) == ["tinjau"]


def test_timer_date_from_an_expression_on_the_instance_data(store: Store, clock: FakeClock) -> None:
    engine = engine_for(store, clock, waiting("p", "timeDate", "${batas}"))
    started = engine.start(
        "p", actor=OFFICER, data={"batas": "2025-08-06T09:00:00+07:00"}
    ).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    assert engine.run_due(datetime(2025, 8, 6, 8, 59, tzinfo=WIB)) == 0
    assert engine.run_due(datetime(2025, 8, 6, 9, 0, tzinfo=WIB)) == 1


def test_unreadable_timer_value_refuses_the_action_and_writes_nothing(
    store: Store, clock: FakeClock
) -> None:
    engine = engine_for(store, clock, waiting("p", "timeDuration", "${lama}"))
    started = engine.start("p", actor=OFFICER, data={"lama": "sebentar"}).instance_id
    with pytest.raises(TaskDataError, match="tunggu: timer 'sebentar'"):
        engine.complete(started, "isi", actor=OFFICER)
    assert ready(engine, started) == ["isi"]
    assert engine.jobs(instance_id=started) == []


def test_run_due_fires_in_due_order_and_counts_jobs_made_due_by_firing(
    store: Store, clock: FakeClock
) -> None:
    """Two timers in a row (PT10M then PT5M) and another instance's PT12M: at +1h all
    three fire, in due order 10, 12, 15 minutes."""
    two = load(
        chain("dua", catch("a", "timeDuration", "PT10M"), catch("b", "timeDuration", "PT5M"))
    )
    one = load(chain("satu", catch("c", "timeDuration", "PT12M")))
    engine = engine_for(store, clock, two, one)
    first = engine.start("dua", actor=OFFICER).instance_id
    second = engine.start("satu", actor=OFFICER).instance_id
    with capture_events() as events:
        assert engine.run_due(clock.now() + timedelta(hours=1)) == 3
    fired = [e["task_id"] for e in events if e["event"] == "wait.ended"]
    assert fired == ["a", "c", "b"]
    assert engine.status(first).status == "completed"
    assert engine.status(second).status == "completed"


def test_cancelling_an_instance_withdraws_its_timer(store: Store, clock: FakeClock) -> None:
    engine = engine_for(store, clock, waiting("p", "timeDuration", "PT1H"))
    started = engine.start("p", actor=OFFICER).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    engine.cancel(started, reason="berkas ditarik", actor=OFFICER)
    assert engine.jobs() == []
    assert engine.run_due(clock.now() + timedelta(days=1)) == 0


def test_terminate_end_withdraws_the_timer_of_a_parallel_branch(
    store: Store, clock: FakeClock
) -> None:
    """13.5.6: a terminate end event ends every token of its scope, the waiting timer's
    too, and the timer's job goes with it."""
    nodes = [
        '<bpmn:startEvent id="start"/>',
        '<bpmn:parallelGateway id="split"/>',
        catch("tunggu", "timeDuration", "PT1H"),
        '<bpmn:userTask id="isi"/>',
        '<bpmn:endEvent id="end"/>',
        '<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition/></bpmn:endEvent>',
    ]
    flows = [
        ("f1", "start", "split"),
        ("f2", "split", "tunggu"),
        ("f3", "split", "isi"),
        ("f4", "tunggu", "end"),
        ("f5", "isi", "stop"),
    ]
    engine = engine_for(store, clock, load(bpmn("p", nodes, flows)))
    started = engine.start("p", actor=OFFICER).instance_id
    assert len(engine.jobs(instance_id=started)) == 1
    engine.complete(started, "isi", actor=OFFICER)
    assert engine.status(started).status == "completed"
    assert engine.jobs() == []
    ended = [
        (a.payload["task_id"], a.payload["outcome"])
        for a in store.audit(started)
        if a.event == "wait.ended"
    ]
    assert ended == [("tunggu", "terminated")]


def test_status_lists_every_pass_through_a_waiting_node(store: Store, clock: FakeClock) -> None:
    """User task, timer, user task: each pass with its kind, begin, end and how."""
    engine = engine_for(store, clock, waiting("p", "timeDuration", "PT2H"))
    started = engine.start("p", actor=OFFICER).instance_id
    t0 = clock.now()
    engine.complete(started, "isi", actor=OFFICER, at=clock.advance(minutes=10))
    engine.run_due(clock.advance(hours=2))
    view = engine.status(started).to_dict()
    assert [(w["node"], w["kind"], w["outcome"]) for w in view["waits"]] == [
        ("isi", "user_task", "completed"),
        ("tunggu", "timer", "fired"),
        ("tinjau", "user_task", None),
    ]
    timer_pass = view["waits"][1]
    assert datetime.fromisoformat(timer_pass["began_at"]) == t0 + timedelta(minutes=10)
    assert datetime.fromisoformat(timer_pass["ended_at"]) == clock.now()
    assert timer_pass["due_at"] == timer_pass["ended_at"]
    assert view["incidents"] == []


def test_timer_uses_the_calendar_the_sla_policy_gives_the_process(
    store: Store, clock: FakeClock
) -> None:
    """A counter open around the clock (WorkCalendar.always) counts 30 menit as elapsed
    time: Friday 16:15 + 30 menit = 16:45, not Tuesday morning."""
    from sopflow.sla.calendar import WorkCalendar
    from sopflow.sla.policy import SlaPolicy

    clock.set(datetime(2025, 8, 15, 16, 15, tzinfo=WIB))
    definition = waiting("p", "timeDuration", "30 menit")
    policy = SlaPolicy(calendars={"p": WorkCalendar.always()})
    engine = Engine(ListCatalog(definition), store, clock=clock, sla=policy)
    started = engine.start("p", actor=OFFICER).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    [job] = engine.jobs(instance_id=started)
    assert job.due_at == round(datetime(2025, 8, 15, 16, 45, tzinfo=WIB).timestamp() * 1000)
