"""What a signal carries through a "multiple" event (BPMN 2.0 10.5.1; SpiffArena's
item-aware events).

A signal's bpmn:signal may give SpiffArena's ``payloadExpression`` (evaluated on the
thrower's data when thrown) and ``variableName`` (the field every catch of that signal
keeps the payload in): definitions/_item_events.py. A multiple event throws or catches
each of its definitions (10.5.1: the throw throws all of them; the catch is triggered
by one), but sopflow reads those parts only on the single event: a multiple throw would
send a copy of the thrower's whole data instead of the payload, and a multiple catch
would keep nothing. So, as for a message's payload parts there, the file is refused
with the event and the part named, never run without them.
"""

from __future__ import annotations

import pytest

from _events_bpmn import OFFICER, flows
from sopflow.definitions.loader import load_definitions_bytes
from sopflow.errors import TaskDataError
from sopflow.stores.base import Store
from sopflow.testing import FakeClock
from test_events_multiple import MESSAGE_A, ROOTS, _doc, _engine, _ready, _refused, _waiting

#: kantor_tutup carries the thrower's ``sebab``, kept in ``alasan`` by every catch
ITEM_ROOTS = ROOTS.replace(
    '<bpmn:signal id="s_t" name="kantor_tutup"/>',
    '<bpmn:signal id="s_t" name="kantor_tutup"><bpmn:extensionElements>'
    "<spiffworkflow:variableName>alasan</spiffworkflow:variableName>"
    "<spiffworkflow:payloadExpression>sebab</spiffworkflow:payloadExpression>"
    "</bpmn:extensionElements></bpmn:signal>"
    '<bpmn:signal id="s_u" name="apel_batal"/>',
)
SIGNAL_T = '<bpmn:signalEventDefinition signalRef="s_t"/>'
SIGNAL_U = '<bpmn:signalEventDefinition signalRef="s_u"/>'


def _thrower(definitions: str) -> str:
    """start -> isi (a user task, so the throw is its own action) -> throw -> end."""
    return (
        '<bpmn:process id="lempar" isExecutable="true"><bpmn:startEvent id="ls"/>'
        '<bpmn:userTask id="isi" camunda:candidateGroups="pelaksana"/>'
        f'<bpmn:intermediateThrowEvent id="t">{definitions}</bpmn:intermediateThrowEvent>'
        '<bpmn:endEvent id="le"/>' + flows("ls", "isi", "t", "le", prefix="l") + "</bpmn:process>"
    )


@pytest.mark.parametrize(
    ("data", "element"),
    [
        (_doc(_waiting(MESSAGE_A + SIGNAL_T), _thrower(SIGNAL_U), roots=ITEM_ROOTS), "tangkap"),
        (_doc(_waiting(SIGNAL_T), _thrower(SIGNAL_U + SIGNAL_T), roots=ITEM_ROOTS), "t"),
    ],
    ids=["catch", "throw"],
)
def test_a_signal_with_payload_parts_on_a_multiple_event_is_refused(
    data: bytes, element: str
) -> None:
    problems = _refused(data)
    assert any(
        p.startswith(f"{element}: ")
        and "spiffworkflow:payloadExpression of signal 'kantor_tutup'" in p
        and "several definitions" in p
        for p in problems
    ), problems


def test_the_same_signals_without_payload_parts_load() -> None:
    """The refusal is for the parts, not for signals on multiple events."""
    data = _doc(
        _waiting(MESSAGE_A + SIGNAL_T),
        _thrower(SIGNAL_U + SIGNAL_T),
        roots=ROOTS + '<bpmn:signal id="s_u" name="apel_batal"/>',
    )
    ids = {d.process_id for d in load_definitions_bytes(data, source="multiple.bpmn")}
    assert ids == {"tunggu", "lempar"}


#: throws berkas_a with SpiffArena's messagePayload ``nomor``: a payload that is no dict
NUMBER_THROWER = _thrower(
    '<bpmn:messageEventDefinition messageRef="m_a"><bpmn:extensionElements>'
    "<spiffworkflow:messagePayload>nomor</spiffworkflow:messagePayload>"
    "</bpmn:extensionElements></bpmn:messageEventDefinition>"
)


@pytest.mark.parametrize("catch", [MESSAGE_A, MESSAGE_A + SIGNAL_U], ids=["single", "multiple"])
def test_a_message_payload_that_is_no_dict_is_refused_by_any_catch_without_a_variable(
    store: Store, clock: FakeClock, catch: str
) -> None:
    """13.5.2: the catch takes the message's data. A payload that is not a dict has no
    field to merge, and a multiple catch names no messageVariable (refused there): as at
    the single catch, the throwing action is refused and nothing is written, rather than
    the payload dropped."""
    roots = ROOTS + '<bpmn:signal id="s_u" name="apel_batal"/>'
    engine = _engine(store, clock, _doc(_waiting(catch), NUMBER_THROWER, roots=roots))
    iid = engine.start("tunggu", actor=OFFICER).instance_id
    thrower = engine.start("lempar", actor=OFFICER, data={"nomor": 42}).instance_id
    with pytest.raises(TaskDataError, match="not a dict"):
        engine.complete(thrower, "isi", actor=OFFICER)
    assert _ready(engine, iid) == []
    assert {w.node for w in engine.status(iid).waits} == {"tangkap"}  # still waiting
