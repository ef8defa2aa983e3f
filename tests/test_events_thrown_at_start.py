"""Messages and signals thrown in the action that creates an instance (BPMN 2.0 13.5.1).

A throw event right after the start event throws as the instance starts. What it starts
elsewhere (a message or signal start event of another process) is written with the new
instance, in the same transaction; a message nobody waits for is refused as from any
action. A throw that would reach an instance already waiting cannot be written in the
transaction that inserts the new one, so it is refused with the rewrite named, and
nothing is written — never dropped.
"""

from __future__ import annotations

import pytest

from _events_bpmn import BPMN, OFFICER, flows
from conftest import ListCatalog
from sopflow.definitions.loader import load_definitions_bytes
from sopflow.errors import MessageNotCorrelatedError, RuntimeFault
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

ROOTS = '<bpmn:message id="m" name="laporan_masuk"/>'


def _doc(*processes: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'id="defs" targetNamespace="https://sopflow.id/bpmn">'
        + ROOTS
        + "".join(processes)
        + "</bpmn:definitions>\n"
    ).encode()


#: throws laporan_masuk as it starts, then ends
SENDER = (
    '<bpmn:process id="kirim" isExecutable="true"><bpmn:startEvent id="ks"/>'
    '<bpmn:intermediateThrowEvent id="lempar">'
    '<bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateThrowEvent>'
    '<bpmn:endEvent id="ke"/>' + flows("ks", "lempar", "ke", prefix="k") + "</bpmn:process>"
)
#: starts on laporan_masuk
STARTED = (
    '<bpmn:process id="terima" isExecutable="true">'
    '<bpmn:startEvent id="ts"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent>'
    '<bpmn:userTask id="proses" camunda:candidateGroups="pelaksana"/>'
    '<bpmn:endEvent id="te"/>' + flows("ts", "proses", "te", prefix="t") + "</bpmn:process>"
)
#: waits for laporan_masuk
WAITING = (
    '<bpmn:process id="tunggu" isExecutable="true"><bpmn:startEvent id="ws"/>'
    '<bpmn:intermediateCatchEvent id="tangkap">'
    '<bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>'
    '<bpmn:endEvent id="we"/>' + flows("ws", "tangkap", "we", prefix="w") + "</bpmn:process>"
)


def _engine(store: Store, clock: FakeClock, *processes: str) -> Engine:
    definitions = load_definitions_bytes(_doc(*processes), source="awal.bpmn")
    return Engine(ListCatalog(*definitions), store, clock=clock)


def test_what_a_starting_instance_throws_starts_the_receiving_process(
    store: Store, clock: FakeClock
) -> None:
    engine = _engine(store, clock, SENDER, STARTED)
    sender = engine.start("kirim", actor=OFFICER, data={"nomor": 9})
    assert sender.status == "completed"
    [item] = engine.work_list()
    assert item.task_id == "proses" and item.instance_id != sender.instance_id
    assert engine.status(item.instance_id).data == {"nomor": 9}  # the thrower's data


def test_a_message_nobody_waits_for_refuses_the_start(store: Store, clock: FakeClock) -> None:
    engine = _engine(store, clock, SENDER)
    with pytest.raises(MessageNotCorrelatedError, match="laporan_masuk"):
        engine.start("kirim", actor=OFFICER)
    assert engine.store.instances() == []


def test_a_throw_reaching_a_waiting_instance_as_it_starts_is_refused_not_dropped(
    store: Store, clock: FakeClock
) -> None:
    engine = _engine(store, clock, SENDER, WAITING)
    waiting = engine.start("tunggu", actor=OFFICER).instance_id
    with pytest.raises(RuntimeFault, match="asyncBefore"):
        engine.start("kirim", actor=OFFICER)
    assert engine.status(waiting).status == "running"  # still waiting, nothing written
    assert [i.instance_id for i in engine.store.instances()] == [waiting]
