"""Error events (BPMN 2.0 10.5.6 and 13.5.6).

"An error ... is caught by the nearest enclosing catch that matches its errorCode":
boundary events of the activity that threw and of every activity around it, event
subprocesses of each scope, then the calling process of a call activity. One that
nothing catches is not lost and not silently ignored: the instance gets an incident
(the jobs branch's mechanism), and its state before the throw stays.
"""

from __future__ import annotations

import pytest

from _events_bpmn import OFFICER, doc, error, escalation, flows, load
from conftest import ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import BpmnError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

TOLAK = error("e_tolak", "BERKAS_TIDAK_LENGKAP")


def open_tasks(engine: Engine, instance_id: str) -> list[str]:
    return sorted(w.task_id for w in engine.work_list(instance_id=instance_id))


def nested_service() -> ProcessDefinition:
    """luar { dalam { cek_dukcapil (service) } }, error boundary on luar only."""
    return load(
        doc(
            "berlapis",
            '<bpmn:startEvent id="start"/>'
            '<bpmn:subProcess id="luar"><bpmn:startEvent id="s1"/>'
            '<bpmn:subProcess id="dalam"><bpmn:startEvent id="s2"/>'
            '<bpmn:serviceTask id="cek_dukcapil"/><bpmn:endEvent id="e2"/>'
            + flows("s2", "cek_dukcapil", "e2")
            + '</bpmn:subProcess><bpmn:userTask id="setelah"/><bpmn:endEvent id="e1"/>'
            + flows("s1", "dalam", "setelah", "e1")
            + "</bpmn:subProcess>"
            '<bpmn:boundaryEvent id="ditolak" attachedToRef="luar">'
            '<bpmn:errorEventDefinition errorRef="e_tolak"/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="kembalikan"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_tolak"/>'
            + flows("start", "luar", "end")
            + flows("ditolak", "kembalikan", "end_tolak"),
            TOLAK,
        )
    )


def test_handler_error_is_caught_two_scopes_up(store: Store, clock: FakeClock) -> None:
    """13.5.6: the service handler raises sopflow.BpmnError; neither the task nor the
    inner subprocess catches it; the boundary event of the outer subprocess does, and
    the token leaves by its flow."""

    def check(data: dict[str, object]) -> None:
        raise BpmnError("BERKAS_TIDAK_LENGKAP", "NIK tidak ditemukan")

    engine = Engine(
        ListCatalog(nested_service()),
        store,
        clock=clock,
        service_handlers={"cek_dukcapil": check},
    )
    started = engine.start("berlapis", actor=OFFICER).instance_id
    assert engine.run_due() == 1
    assert open_tasks(engine, started) == ["kembalikan"]
    assert engine.jobs(instance_id=started) == []
    assert engine.incidents(instance_id=started) == []


def test_uncaught_handler_error_is_an_incident_and_keeps_the_state(
    store: Store, clock: FakeClock
) -> None:
    def check(data: dict[str, object]) -> None:
        raise BpmnError("LAIN", "kode lain")

    engine = Engine(
        ListCatalog(nested_service()),
        store,
        clock=clock,
        service_handlers={"cek_dukcapil": check},
    )
    started = engine.start("berlapis", actor=OFFICER).instance_id
    before = store.load_instance(started).state
    engine.run_due()
    [incident] = engine.incidents(instance_id=started)
    assert "LAIN" in incident.message
    assert store.load_instance(started).state == before
    assert engine.status(started).status == "running"


def test_external_worker_error_goes_the_same_way(store: Store, clock: FakeClock) -> None:
    """bpmn_error_external throws through the one function handlers use."""
    engine = Engine(ListCatalog(nested_service()), store, clock=clock, external_tasks=True)
    started = engine.start("berlapis", actor=OFFICER).instance_id
    [task] = engine.fetch_and_lock("cek_dukcapil", "w1", 1, 60)
    engine.bpmn_error_external(task.id, "w1", "BERKAS_TIDAK_LENGKAP")
    assert open_tasks(engine, started) == ["kembalikan"]


def error_end_in_subprocess(catch_all: bool = False) -> ProcessDefinition:
    ref = "" if catch_all else ' errorRef="e_tolak"'
    return load(
        doc(
            "periksa",
            '<bpmn:startEvent id="start"/>'
            '<bpmn:subProcess id="verifikasi"><bpmn:startEvent id="s1"/>'
            '<bpmn:userTask id="cek"/><bpmn:exclusiveGateway id="lengkap" default="f_ok"/>'
            '<bpmn:endEvent id="ok"/>'
            '<bpmn:endEvent id="gagal"><bpmn:errorEventDefinition errorRef="e_tolak"/>'
            "</bpmn:endEvent>"
            + flows("s1", "cek", "lengkap")
            + '<bpmn:sequenceFlow id="f_ok" sourceRef="lengkap" targetRef="ok"/>'
            '<bpmn:sequenceFlow id="f_gagal" sourceRef="lengkap" targetRef="gagal">'
            "<bpmn:conditionExpression>not disetujui</bpmn:conditionExpression>"
            "</bpmn:sequenceFlow></bpmn:subProcess>"
            f'<bpmn:boundaryEvent id="ditolak" attachedToRef="verifikasi">'
            f"<bpmn:errorEventDefinition{ref}/></bpmn:boundaryEvent>"
            '<bpmn:userTask id="kembalikan"/><bpmn:userTask id="proses"/>'
            '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_tolak"/>'
            + flows("start", "verifikasi", "proses", "end")
            + flows("ditolak", "kembalikan", "end_tolak"),
            TOLAK,
        )
    )


@pytest.mark.parametrize("catch_all", [False, True])
def test_error_end_event_is_caught_by_the_subprocess_boundary(
    store: Store, clock: FakeClock, catch_all: bool
) -> None:
    """10.5.6: an error end event ends the subprocess; its error boundary (matching the
    errorCode, or without errorRef: any error) takes the token."""
    engine = Engine(ListCatalog(error_end_in_subprocess(catch_all)), store, clock=clock)
    started = engine.start("periksa", actor=OFFICER).instance_id
    engine.complete(started, "cek", actor=OFFICER, data={"disetujui": False})
    assert open_tasks(engine, started) == ["kembalikan"]
    other = engine.start("periksa", actor=OFFICER).instance_id
    engine.complete(other, "cek", actor=OFFICER, data={"disetujui": True})
    assert open_tasks(engine, other) == ["proses"]


def test_uncaught_error_end_event_becomes_an_incident(store: Store, clock: FakeClock) -> None:
    """An error end event with nothing to catch it, reached by a person's action: the
    action is written, the token waits in an error job, whose run opens the incident."""
    definition = load(
        doc(
            "lepas",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="cek"/>'
            '<bpmn:endEvent id="gagal"><bpmn:errorEventDefinition errorRef="e_tolak"/>'
            "</bpmn:endEvent>" + flows("start", "cek", "gagal"),
            TOLAK,
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("lepas", actor=OFFICER).instance_id
    engine.complete(started, "cek", actor=OFFICER)
    assert engine.run_due() == 1
    [incident] = engine.incidents(instance_id=started)
    assert "BERKAS_TIDAK_LENGKAP" in incident.message
    assert incident.node == "gagal"
    assert engine.status(started).status == "running"


@pytest.mark.parametrize("at_once", [False, True])
def test_child_error_is_caught_on_the_call_activity(
    store: Store, clock: FakeClock, at_once: bool
) -> None:
    """10.3.5 / 13.5.6: an error the called process does not catch goes to the call
    activity in the parent: the child is cancelled, the parent's boundary catches it —
    in a later action of the child, or while the parent's action starts it."""
    chain = ("start", "gagal") if at_once else ("start", "cek", "gagal")
    child = load(
        doc(
            "anak",
            '<bpmn:startEvent id="start"/>'
            + ("" if at_once else '<bpmn:userTask id="cek"/>')
            + '<bpmn:endEvent id="gagal"><bpmn:errorEventDefinition errorRef="e_tolak"/>'
            "</bpmn:endEvent>" + flows(*chain),
            TOLAK,
        ),
        name="anak.bpmn",
    )
    parent = load(
        doc(
            "induk",
            '<bpmn:startEvent id="start"/><bpmn:callActivity id="panggil" calledElement="anak"/>'
            '<bpmn:boundaryEvent id="ditolak" attachedToRef="panggil">'
            '<bpmn:errorEventDefinition errorRef="e_tolak"/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="kembalikan"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_tolak"/>'
            + flows("start", "panggil", "end")
            + flows("ditolak", "kembalikan", "end_tolak"),
            TOLAK,
        ),
        name="induk.bpmn",
    )
    engine = Engine(ListCatalog(child, parent), store, clock=clock)
    started = engine.start("induk", actor=OFFICER).instance_id
    [kid] = engine.status(started).children
    if not at_once:
        engine.complete(kid, "cek", actor=OFFICER)
    assert engine.status(kid).status == "cancelled"
    assert open_tasks(engine, started) == ["kembalikan"]
    assert engine.jobs() == []


@pytest.mark.parametrize("interrupting", [False, True])
def test_child_escalation_reaches_the_call_activity(
    store: Store, clock: FakeClock, interrupting: bool
) -> None:
    """10.5.6: an escalation the called process does not catch reaches the call
    activity: a non-interrupting catch sends a token and the child goes on; an
    interrupting one ends the call activity, and the child with it."""
    child = load(
        doc(
            "anak",
            '<bpmn:startEvent id="start"/><bpmn:intermediateThrowEvent id="lapor">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:intermediateThrowEvent>'
            '<bpmn:userTask id="kerjakan"/><bpmn:endEvent id="end"/>'
            + flows("start", "lapor", "kerjakan", "end"),
            escalation("x1", "TERLAMBAT"),
        ),
        name="anak.bpmn",
    )
    flag = "true" if interrupting else "false"
    parent = load(
        doc(
            "induk",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="siapkan"/>'
            '<bpmn:callActivity id="panggil" calledElement="anak"/>'
            f'<bpmn:boundaryEvent id="naik" attachedToRef="panggil" cancelActivity="{flag}">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="beri_tahu"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_x"/>'
            + flows("start", "siapkan", "panggil", "end")
            + flows("naik", "beri_tahu", "end_x"),
            escalation("x1", "TERLAMBAT"),
        ),
        name="induk.bpmn",
    )
    engine = Engine(ListCatalog(child, parent), store, clock=clock)
    started = engine.start("induk", actor=OFFICER).instance_id
    engine.complete(started, "siapkan", actor=OFFICER)
    [kid] = engine.status(started).children
    assert open_tasks(engine, started) == ["beri_tahu"]
    if interrupting:
        assert engine.status(kid).status == "cancelled"
    else:
        assert open_tasks(engine, kid) == ["kerjakan"]
        engine.complete(kid, "kerjakan", actor=OFFICER)
        engine.complete(started, "beri_tahu", actor=OFFICER)
        assert engine.status(started).status == "completed"


def test_error_boundary_on_the_task_itself(store: Store, clock: FakeClock) -> None:
    """10.5.4: an error boundary event on the service task that throws."""
    definition = load(
        doc(
            "langsung",
            '<bpmn:startEvent id="start"/><bpmn:serviceTask id="kirim"/>'
            '<bpmn:boundaryEvent id="gagal_kirim" attachedToRef="kirim">'
            '<bpmn:errorEventDefinition errorRef="e_tolak"/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="kirim_manual"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_manual"/>'
            + flows("start", "kirim", "end")
            + flows("gagal_kirim", "kirim_manual", "end_manual"),
            TOLAK,
        )
    )

    def send(data: dict[str, object]) -> None:
        raise BpmnError("BERKAS_TIDAK_LENGKAP")

    engine = Engine(ListCatalog(definition), store, clock=clock, service_handlers={"kirim": send})
    started = engine.start("langsung", actor=OFFICER).instance_id
    engine.run_due()
    assert open_tasks(engine, started) == ["kirim_manual"]
    [wait] = [w for w in engine.status(started).waits if w.node == "kirim"]
    assert wait.outcome == "cancelled"


def test_two_escalations_of_a_child_in_one_action_reach_the_parent_once_each(
    store: Store, clock: FakeClock
) -> None:
    """Two escalations thrown by one action of a called process make one change of the
    parent, with a token each (non-interrupting catch)."""
    child = load(
        doc(
            "anak",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="mulai"/>'
            '<bpmn:intermediateThrowEvent id="satu">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:intermediateThrowEvent>'
            '<bpmn:intermediateThrowEvent id="dua">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:intermediateThrowEvent>'
            '<bpmn:userTask id="kerjakan"/><bpmn:endEvent id="end"/>'
            + flows("start", "mulai", "satu", "dua", "kerjakan", "end"),
            escalation("x1", "TERLAMBAT"),
        ),
        name="anak.bpmn",
    )
    parent = load(
        doc(
            "induk",
            '<bpmn:startEvent id="start"/><bpmn:callActivity id="panggil" calledElement="anak"/>'
            '<bpmn:boundaryEvent id="naik" attachedToRef="panggil" cancelActivity="false">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="beri_tahu"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_x"/>'
            + flows("start", "panggil", "end")
            + flows("naik", "beri_tahu", "end_x"),
            escalation("x1", "TERLAMBAT"),
        ),
        name="induk.bpmn",
    )
    engine = Engine(ListCatalog(child, parent), store, clock=clock)
    started = engine.start("induk", actor=OFFICER).instance_id
    [kid] = engine.status(started).children
    engine.complete(kid, "mulai", actor=OFFICER)
    assert open_tasks(engine, started) == ["beri_tahu", "beri_tahu"]
    assert open_tasks(engine, kid) == ["kerjakan"]
