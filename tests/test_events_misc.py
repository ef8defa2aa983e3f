"""Link, conditional and none intermediate events; what stays refused (BPMN 2.0 10.5).

Link events are a "go to" within one scope (10.5.5); a conditional catch waits until
its condition holds and is looked at again whenever the instance data change; the
intermediate none throw event passes the token on (13.5.2). Transactions, cancel and
compensation events are refused when the file is loaded, with a reason a person can
act on; ``status`` lists every pass through a waiting node.
"""

from __future__ import annotations

import pytest

from _events_bpmn import OFFICER, doc, flows, load, message
from conftest import ListCatalog
from sopflow.errors import DefinitionError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def open_tasks(engine: Engine, instance_id: str) -> list[str]:
    return sorted(w.task_id for w in engine.work_list(instance_id=instance_id))


def test_link_throw_goes_on_at_its_catch(store: Store, clock: FakeClock) -> None:
    definition = load(
        doc(
            "tautan",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="satu"/>'
            '<bpmn:intermediateThrowEvent id="ke_hal_2">'
            '<bpmn:linkEventDefinition name="hal2"/></bpmn:intermediateThrowEvent>'
            '<bpmn:intermediateCatchEvent id="dari_hal_1">'
            '<bpmn:linkEventDefinition name="hal2"/></bpmn:intermediateCatchEvent>'
            '<bpmn:userTask id="dua"/><bpmn:intermediateThrowEvent id="catat"/>'
            '<bpmn:endEvent id="end"/>'
            + flows("start", "satu", "ke_hal_2")
            + flows("dari_hal_1", "dua", "catat", "end"),
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("tautan", actor=OFFICER).instance_id
    engine.complete(started, "satu", actor=OFFICER)
    assert open_tasks(engine, started) == ["dua"]
    engine.complete(started, "dua", actor=OFFICER)
    assert engine.status(started).status == "completed"


def test_a_link_without_its_catch_is_refused() -> None:
    with pytest.raises(DefinitionError, match="link 'hal9' needs exactly one catching"):
        load(
            doc(
                "tautan",
                '<bpmn:startEvent id="start"/>'
                '<bpmn:intermediateThrowEvent id="ke">'
                '<bpmn:linkEventDefinition name="hal9"/></bpmn:intermediateThrowEvent>'
                '<bpmn:intermediateCatchEvent id="dari">'
                '<bpmn:linkEventDefinition name="lain"/></bpmn:intermediateCatchEvent>'
                '<bpmn:endEvent id="end"/>' + flows("start", "ke") + flows("dari", "end"),
            )
        )


def test_conditional_catch_waits_until_the_data_make_it_true(
    store: Store, clock: FakeClock
) -> None:
    """10.5.5: the condition is evaluated when the token arrives and again after every
    change of the instance data: here a parallel step fills the field it waits for."""
    definition = load(
        doc(
            "syarat",
            '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="bagi"/>'
            '<bpmn:intermediateCatchEvent id="tunggu_lunas">'
            "<bpmn:conditionalEventDefinition><bpmn:condition>retribusi_lunas == true"
            "</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>"
            '<bpmn:userTask id="terbitkan"/><bpmn:userTask id="bayar"/>'
            '<bpmn:parallelGateway id="gabung"/><bpmn:endEvent id="end"/>'
            + flows("start", "bagi")
            + flows("bagi", "tunggu_lunas", "terbitkan", "gabung", prefix="a")
            + flows("bagi", "bayar", "gabung", prefix="b")
            + flows("gabung", "end"),
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("syarat", actor=OFFICER, data={"retribusi_lunas": False}).instance_id
    assert open_tasks(engine, started) == ["bayar"]
    engine.complete(started, "bayar", actor=OFFICER, data={"retribusi_lunas": True})
    assert open_tasks(engine, started) == ["terbitkan"]
    [wait] = [w for w in engine.status(started).waits if w.node == "tunggu_lunas"]
    assert (wait.kind, wait.outcome) == ("conditional", "held")


@pytest.mark.parametrize(
    ("snippet", "reason"),
    [
        (
            '<bpmn:transaction id="t"><bpmn:startEvent id="ts"/><bpmn:endEvent id="te"/>'
            '<bpmn:sequenceFlow id="tf" sourceRef="ts" targetRef="te"/></bpmn:transaction>',
            "transactions",
        ),
        (
            '<bpmn:intermediateThrowEvent id="t"><bpmn:compensateEventDefinition/>'
            "</bpmn:intermediateThrowEvent>",
            "compensation undoes finished work",
        ),
        (
            '<bpmn:endEvent id="t"><bpmn:cancelEventDefinition/></bpmn:endEvent>',
            "cancel events belong to transactions",
        ),
    ],
)
def test_transactions_cancel_and_compensation_stay_refused(snippet: str, reason: str) -> None:
    with pytest.raises(DefinitionError, match=reason):
        load(
            doc(
                "tolak",
                '<bpmn:startEvent id="start"/><bpmn:endEvent id="end"/>'
                + flows("start", "end")
                + snippet,
            )
        )


def test_unknown_message_reference_is_refused_with_the_element() -> None:
    with pytest.raises(DefinitionError, match="messageRef 'm9' is not a bpmn:message"):
        load(
            doc(
                "salah",
                '<bpmn:startEvent id="start"/><bpmn:intermediateCatchEvent id="tunggu">'
                '<bpmn:messageEventDefinition messageRef="m9"/></bpmn:intermediateCatchEvent>'
                '<bpmn:endEvent id="end"/>' + flows("start", "tunggu", "end"),
                message("m1", "ada"),
            )
        )


def test_status_lists_every_pass_through_a_waiting_node(store: Store, clock: FakeClock) -> None:
    """``status --json`` waits: a user task's pass and a message catch's, each with its
    kind, when it began and ended, and how."""
    definition = load(
        doc(
            "lintas",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="catat"/>'
            '<bpmn:intermediateCatchEvent id="tunggu">'
            '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:intermediateCatchEvent>'
            '<bpmn:endEvent id="end"/>' + flows("start", "catat", "tunggu", "end"),
            message("m1", "jawaban"),
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("lintas", actor=OFFICER).instance_id
    clock.advance(hours=1)
    engine.complete(started, "catat", actor=OFFICER)
    clock.advance(hours=2)
    engine.correlate("jawaban", instance_id=started)
    waits = engine.status(started).to_dict()["waits"]
    assert [(w["node"], w["kind"], w["outcome"]) for w in waits] == [
        ("catat", "user_task", "completed"),
        ("tunggu", "message", "received"),
    ]
    assert waits[1]["began_at"] == waits[0]["ended_at"]
    assert waits[1]["ended_at"] is not None and waits[1]["ended_at"] > waits[1]["began_at"]


def test_event_gateway_must_lead_to_catches() -> None:
    """10.6.6 / 13.4.5: what follows an event-based gateway is an event that waits."""
    with pytest.raises(DefinitionError, match="after an event-based gateway comes a timer"):
        load(
            doc(
                "gw",
                '<bpmn:startEvent id="start"/><bpmn:eventBasedGateway id="g"/>'
                '<bpmn:userTask id="a"/><bpmn:intermediateCatchEvent id="b">'
                '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:intermediateCatchEvent>'
                '<bpmn:endEvent id="end"/>'
                + flows("start", "g")
                + flows("g", "a", "end", prefix="x")
                + flows("g", "b", "end", prefix="y"),
                message("m1", "m"),
            )
        )


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (
            '<bpmn:boundaryEvent id="b" attachedToRef="hilang">'
            "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>",
            "attachedToRef 'hilang' is not an activity",
        ),
        (
            '<bpmn:boundaryEvent id="b" attachedToRef="kerja" cancelActivity="false">'
            "<bpmn:errorEventDefinition/></bpmn:boundaryEvent>",
            "an error boundary event always interrupts",
        ),
        (
            '<bpmn:boundaryEvent id="b" attachedToRef="kerja"/>',
            "needs an event definition",
        ),
        (
            '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="s"/>'
            '<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="sf" sourceRef="s" targetRef="e"/>'
            "</bpmn:subProcess>",
            "an event subprocess needs exactly one start event with an event definition",
        ),
        (
            '<bpmn:intermediateCatchEvent id="c"><bpmn:messageEventDefinition/>'
            "</bpmn:intermediateCatchEvent>",
            "needs a messageRef",
        ),
    ],
)
def test_malformed_events_are_refused_with_a_reason(extra: str, reason: str) -> None:
    """10.5.4 / 10.3.4: boundary events sit on an activity and have a trigger; an event
    subprocess starts with a triggered start event; a message catch names its message."""
    with pytest.raises(DefinitionError) as caught:
        load(
            doc(
                "rusak",
                '<bpmn:startEvent id="start"/><bpmn:userTask id="kerja"/>'
                '<bpmn:endEvent id="end"/>' + flows("start", "kerja", "end") + extra,
            )
        )
    problems = getattr(caught.value, "problems", None) or [caught.value]
    assert any(reason in str(p) for p in problems), [str(p) for p in problems]


def test_interrupting_conditional_boundary_fires_when_the_data_make_it_true(
    store: Store, clock: FakeClock
) -> None:
    """10.5.4 / 13.5.3: the condition of a conditional boundary event is looked at after
    every change of the data; when it holds, the activity is cancelled."""
    definition = load(
        doc(
            "batal",
            '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="bagi"/>'
            '<bpmn:userTask id="verifikasi"/><bpmn:userTask id="pemohon"/>'
            '<bpmn:boundaryEvent id="dicabut" attachedToRef="verifikasi">'
            "<bpmn:conditionalEventDefinition><bpmn:condition>dicabut == true"
            "</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:boundaryEvent>"
            '<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>'
            '<bpmn:endEvent id="end_c"/>'
            + flows("start", "bagi")
            + flows("bagi", "verifikasi", "end_a", prefix="a")
            + flows("bagi", "pemohon", "end_b", prefix="b")
            + flows("dicabut", "end_c"),
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("batal", actor=OFFICER, data={"dicabut": False}).instance_id
    engine.complete(started, "pemohon", actor=OFFICER, data={"dicabut": True})
    assert engine.status(started).status == "completed"
    [step] = [h for h in engine.history(started) if h.task_id == "verifikasi"]
    assert step.outcome == "cancelled" and "dicabut" in (step.reason or "")
