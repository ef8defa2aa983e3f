""" "Multiple" events: one event with several definitions (BPMN 2.0 10.5.1, 13.5.2, 13.5.1).

10.5.1: an event with more than one event definition is a Multiple event. A catch is
triggered by any one of its definitions ("Multiple"), or only when all of them have
occurred (``parallelMultiple="true"``, "Parallel Multiple"); a throw throws all of them;
a start event starts the process on any one. sopflow runs them for messages and signals
and refuses the rest at load by name.
"""

from __future__ import annotations

import pytest

from _events_bpmn import BPMN, OFFICER, flows
from conftest import ListCatalog
from sopflow.definitions.loader import load_definitions_bytes
from sopflow.errors import DefinitionError, MessageNotCorrelatedError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

ROOTS = (
    '<bpmn:message id="m_a" name="berkas_a"/><bpmn:message id="m_b" name="berkas_b"/>'
    '<bpmn:signal id="s_t" name="kantor_tutup"/>'
)
MESSAGE_A = '<bpmn:messageEventDefinition messageRef="m_a"/>'
MESSAGE_B = '<bpmn:messageEventDefinition messageRef="m_b"/>'
SIGNAL = '<bpmn:signalEventDefinition signalRef="s_t"/>'


def _doc(*processes: str, roots: str = ROOTS) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'id="defs" targetNamespace="https://sopflow.id/bpmn">'
        + roots
        + "".join(processes)
        + "</bpmn:definitions>\n"
    ).encode()


def _waiting(definitions: str, parallel: bool = False, pid: str = "tunggu") -> str:
    """start -> catch (the given definitions) -> periksa -> end."""
    attr = ' parallelMultiple="true"' if parallel else ""
    return (
        f'<bpmn:process id="{pid}" isExecutable="true"><bpmn:startEvent id="s"/>'
        f'<bpmn:intermediateCatchEvent id="tangkap"{attr}>{definitions}'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:userTask id="periksa" camunda:candidateGroups="pelaksana"/>'
        '<bpmn:endEvent id="e"/>' + flows("s", "tangkap", "periksa", "e") + "</bpmn:process>"
    )


def _engine(store: Store, clock: FakeClock, data: bytes) -> Engine:
    definitions = load_definitions_bytes(data, source="multiple.bpmn")
    return Engine(ListCatalog(*definitions), store, clock=clock)


def _ready(engine: Engine, iid: str) -> list[str]:
    return [i.task_id for i in engine.work_list(instance_id=iid)]


@pytest.mark.parametrize("first", ["message", "signal"])
def test_a_multiple_catch_fires_on_any_one_of_its_definitions(
    store: Store, clock: FakeClock, first: str
) -> None:
    """10.5.1 Multiple: "only one of the EventDefinitions is required"; the others stop
    waiting with it (13.5.2: the catch completes once)."""
    engine = _engine(store, clock, _doc(_waiting(MESSAGE_A + SIGNAL)))
    iid = engine.start("tunggu", actor=OFFICER).instance_id
    assert _ready(engine, iid) == []
    if first == "message":
        assert engine.correlate("berkas_a", data={"nomor": 7}).instances == (iid,)
        assert engine.status(iid).data["nomor"] == 7
        assert len(engine.signal("kantor_tutup")) == 0  # withdrawn with the token
    else:
        assert engine.signal("kantor_tutup").instances == (iid,)
        with pytest.raises(MessageNotCorrelatedError):
            engine.correlate("berkas_a")
    assert _ready(engine, iid) == ["periksa"]


def test_a_parallel_multiple_catch_waits_for_all_of_its_definitions(
    store: Store, clock: FakeClock
) -> None:
    """10.5.1 Parallel Multiple: "all of the EventDefinitions are required"; one that
    has arrived is not waited for again."""
    engine = _engine(store, clock, _doc(_waiting(MESSAGE_A + MESSAGE_B + SIGNAL, parallel=True)))
    iid = engine.start("tunggu", actor=OFFICER).instance_id
    engine.correlate("berkas_b", data={"b": 2})
    assert _ready(engine, iid) == []
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("berkas_b")  # arrived already: nothing waits for it now
    engine.signal("kantor_tutup")
    assert _ready(engine, iid) == []
    engine.correlate("berkas_a", data={"a": 1})
    assert _ready(engine, iid) == ["periksa"]
    data = engine.status(iid).data
    assert (data["a"], data["b"]) == (1, 2)
    assert len(engine.signal("kantor_tutup")) == 0


def test_a_multiple_throw_throws_every_definition(store: Store, clock: FakeClock) -> None:
    """10.5.1: "all of the EventDefinitions are thrown" — here to a parallel catch in
    another instance, which then has both."""
    thrower = (
        '<bpmn:process id="kirim" isExecutable="true"><bpmn:startEvent id="ks"/>'
        '<bpmn:userTask id="isi" camunda:candidateGroups="pelaksana"/>'
        f'<bpmn:intermediateThrowEvent id="lempar">{MESSAGE_A}{SIGNAL}'
        '</bpmn:intermediateThrowEvent><bpmn:endEvent id="ke"/>'
        + flows("ks", "isi", "lempar", "ke", prefix="k")
        + "</bpmn:process>"
    )
    engine = _engine(store, clock, _doc(_waiting(MESSAGE_A + SIGNAL, parallel=True), thrower))
    waiting = engine.start("tunggu", actor=OFFICER).instance_id
    sender = engine.start("kirim", actor=OFFICER).instance_id
    engine.complete(sender, "isi", actor=OFFICER, data={"perihal": "izin"})
    assert engine.status(sender).status == "completed"
    assert _ready(engine, waiting) == ["periksa"]
    assert engine.status(waiting).data["perihal"] == "izin"  # the message carried its data


def test_a_multiple_end_event_throws_each_and_ends(store: Store, clock: FakeClock) -> None:
    thrower = (
        '<bpmn:process id="kirim" isExecutable="true"><bpmn:startEvent id="ks"/>'
        '<bpmn:userTask id="isi" camunda:candidateGroups="pelaksana"/>'
        f'<bpmn:endEvent id="ke">{MESSAGE_B}{SIGNAL}</bpmn:endEvent>'
        + flows("ks", "isi", "ke", prefix="k")
        + "</bpmn:process>"
    )
    engine = _engine(store, clock, _doc(_waiting(MESSAGE_B + SIGNAL, parallel=True), thrower))
    waiting = engine.start("tunggu", actor=OFFICER).instance_id
    sender = engine.start("kirim", actor=OFFICER).instance_id
    assert engine.complete(sender, "isi", actor=OFFICER).status == "completed"
    assert _ready(engine, waiting) == ["periksa"]


def test_a_signal_of_the_instance_itself_reaches_its_multiple_catch(
    store: Store, clock: FakeClock
) -> None:
    """10.5.4: a signal reaches every catch, the thrower's own instance included."""
    body = (
        '<bpmn:process id="sendiri" isExecutable="true"><bpmn:startEvent id="s"/>'
        '<bpmn:parallelGateway id="split"/>'
        '<bpmn:userTask id="isi" camunda:candidateGroups="pelaksana"/>'
        f'<bpmn:intermediateThrowEvent id="lempar">{SIGNAL}</bpmn:intermediateThrowEvent>'
        '<bpmn:endEvent id="e1"/>'
        f'<bpmn:intermediateCatchEvent id="tangkap">{MESSAGE_A}{SIGNAL}'
        '</bpmn:intermediateCatchEvent><bpmn:endEvent id="e2"/>'
        + flows("s", "split")
        + flows("split", "isi", "lempar", "e1", prefix="a")
        + flows("split", "tangkap", "e2", prefix="b")
        + "</bpmn:process>"
    )
    engine = _engine(store, clock, _doc(body))
    iid = engine.start("sendiri", actor=OFFICER).instance_id
    engine.complete(iid, "isi", actor=OFFICER)
    assert engine.status(iid).status == "completed"


def test_a_multiple_start_event_starts_on_any_one_of_its_definitions(
    store: Store, clock: FakeClock
) -> None:
    """10.5.2 Multiple start: any one of the triggers starts an instance."""
    body = (
        '<bpmn:process id="mulai" isExecutable="true">'
        f'<bpmn:startEvent id="s">{MESSAGE_A}{SIGNAL}</bpmn:startEvent>'
        '<bpmn:userTask id="periksa" camunda:candidateGroups="pelaksana"/>'
        '<bpmn:endEvent id="e"/>' + flows("s", "periksa", "e") + "</bpmn:process>"
    )
    engine = _engine(store, clock, _doc(body))
    [by_message] = engine.correlate("berkas_a", data={"nomor": 1}).started
    [by_signal] = engine.signal("kantor_tutup").started
    assert by_message != by_signal
    assert engine.status(by_message).data == {"nomor": 1}
    for iid in (by_message, by_signal):
        assert _ready(engine, iid) == ["periksa"]
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("berkas_b")  # not one of its definitions


def _parallel_start() -> str:
    return (
        '<bpmn:process id="mulai" isExecutable="true">'
        f'<bpmn:startEvent id="s" parallelMultiple="true">{MESSAGE_A}{MESSAGE_B}</bpmn:startEvent>'
        '<bpmn:userTask id="periksa" camunda:candidateGroups="pelaksana"/>'
        '<bpmn:endEvent id="e"/>' + flows("s", "periksa", "e") + "</bpmn:process>"
    )


def test_a_parallel_multiple_start_event_starts_the_process_once_all_have_arrived(
    store: Store, clock: FakeClock
) -> None:
    """10.5.2 Parallel Multiple start: "all of the triggers are required to start the
    Process". The first message makes the instance, which waits at its start event (no
    step is open); the second reaches that instance, not a new one, and the work begins."""
    engine = _engine(store, clock, _doc(_parallel_start()))
    [iid] = engine.correlate("berkas_b", data={"b": 2}).started
    assert _ready(engine, iid) == []
    assert engine.correlate("berkas_a", data={"a": 1}).instances == (iid,)
    assert _ready(engine, iid) == ["periksa"]
    assert engine.status(iid).data == {"a": 1, "b": 2}


def test_one_action_throwing_all_triggers_starts_one_instance(
    store: Store, clock: FakeClock
) -> None:
    """A multiple throw of both messages reaches the parallel start event once, with
    both: one instance, its work begun."""
    thrower = (
        '<bpmn:process id="kirim" isExecutable="true"><bpmn:startEvent id="ks"/>'
        '<bpmn:userTask id="isi" camunda:candidateGroups="pelaksana"/>'
        f'<bpmn:endEvent id="ke">{MESSAGE_A}{MESSAGE_B}</bpmn:endEvent>'
        + flows("ks", "isi", "ke", prefix="k")
        + "</bpmn:process>"
    )
    engine = _engine(store, clock, _doc(_parallel_start(), thrower))
    sender = engine.start("kirim", actor=OFFICER).instance_id
    engine.complete(sender, "isi", actor=OFFICER, data={"perihal": "izin"})
    [item] = engine.work_list()
    assert item.task_id == "periksa"
    assert engine.status(item.instance_id).data["perihal"] == "izin"


# -------------------------------------------------------------------- refused at load


def _refused(data: bytes) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definitions_bytes(data, source="multiple.bpmn")
    problems = getattr(info.value, "problems", None) or [info.value]
    return [f"{p.element}: {p.message}" for p in problems]


TIMER = (
    "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
    "</bpmn:timerEventDefinition>"
)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        # a multiple start event of an embedded subprocess
        (
            _doc(
                '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
                '<bpmn:subProcess id="sub">'
                f'<bpmn:startEvent id="ss">{MESSAGE_A}{MESSAGE_B}</bpmn:startEvent>'
                '<bpmn:endEvent id="se"/>' + flows("ss", "se", prefix="i") + "</bpmn:subProcess>"
                '<bpmn:endEvent id="e"/>' + flows("s", "sub", "e") + "</bpmn:process>"
            ),
            "inside a subprocess is not run",
        ),
        # a timer among the definitions: messages and signals only
        (_doc(_waiting(MESSAGE_A + TIMER)), "messages and signals only"),
        # payload parts on a multiple event are not read, so refused
        (
            _doc(
                _waiting(
                    '<bpmn:messageEventDefinition messageRef="m_a"><bpmn:extensionElements>'
                    "<spiffworkflow:messageVariable>x</spiffworkflow:messageVariable>"
                    "</bpmn:extensionElements></bpmn:messageEventDefinition>" + SIGNAL
                )
            ),
            "spiffworkflow:messageVariable on an event with several definitions",
        ),
        # a correlation property of one of its messages
        (
            _doc(
                _waiting(MESSAGE_A + SIGNAL),
                roots=ROOTS + '<bpmn:correlationProperty id="cp" name="nomor">'
                '<bpmn:correlationPropertyRetrievalExpression messageRef="m_a">'
                "<bpmn:messagePath>nomor</bpmn:messagePath>"
                "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>",
            ),
            "a correlation property of message 'berkas_a'",
        ),
        # a throw cannot be parallel
        (
            _doc(
                '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
                f'<bpmn:endEvent id="e" parallelMultiple="true">{MESSAGE_A}{SIGNAL}'
                "</bpmn:endEvent>" + flows("s", "e") + "</bpmn:process>"
            ),
            "parallelMultiple on a throwing bpmn:endEvent",
        ),
        # the same message twice: which of the two would a delivery be for?
        (_doc(_waiting(MESSAGE_A + MESSAGE_A, parallel=True)), "names the same message"),
        # an unknown reference in one of them
        (
            _doc(_waiting(MESSAGE_A + '<bpmn:signalEventDefinition signalRef="nope"/>')),
            "signalRef 'nope'",
        ),
    ],
)
def test_what_sopflow_does_not_run_is_refused_naming_the_event(data: bytes, said: str) -> None:
    problems = _refused(data)
    assert any(said in p for p in problems), problems


def test_a_multiple_boundary_event_is_refused() -> None:
    body = (
        '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
        '<bpmn:userTask id="t" camunda:candidateGroups="pelaksana"/>'
        f'<bpmn:boundaryEvent id="b" attachedToRef="t">{MESSAGE_A}{SIGNAL}</bpmn:boundaryEvent>'
        '<bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
        + flows("s", "t", "e")
        + flows("b", "e2", prefix="x")
        + "</bpmn:process>"
    )
    assert any(p.startswith("b: ") and "is not run" in p for p in _refused(_doc(body)))
