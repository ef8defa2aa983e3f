"""Messages and signals thrown in the action that creates an instance (BPMN 2.0 13.5.1).

A throw event right after the start event throws as the instance starts. What it starts
elsewhere (a message or signal start event of another process) is written with the new
instance, in the same transaction; a message nobody waits for is refused as from any
action. A throw that reaches an instance already waiting changes that instance in the
transaction that inserts the new one, guarded by its revision. Only where the new
instance is itself created inside another action (a call activity's child) is such a
throw refused, with the rewrite named, and nothing written — never dropped.
"""

from __future__ import annotations

from typing import Any

import pytest

from _events_bpmn import BPMN, OFFICER, flows
from _stores import store_url_fixture  # noqa: F401  (the store_url fixture)
from conftest import ListCatalog
from sopflow.definitions.loader import load_definitions_bytes
from sopflow.errors import MessageNotCorrelatedError, RuntimeFault
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

ROOTS = '<bpmn:message id="m" name="laporan_masuk"/>'


def _doc(*processes: str, roots: str = ROOTS) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'id="defs" targetNamespace="https://sopflow.id/bpmn">'
        + roots
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


def _engine(store: Store, clock: FakeClock, *processes: str, roots: str = ROOTS) -> Engine:
    definitions = load_definitions_bytes(_doc(*processes, roots=roots), source="awal.bpmn")
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


def test_a_throw_as_an_instance_starts_reaches_an_instance_already_waiting(
    store: Store, clock: FakeClock
) -> None:
    """13.5.1: a thrown message goes to its waiting catch; the catching instance moves on
    in the transaction that inserts the thrower, both chains verify."""
    engine = _engine(store, clock, SENDER, WAITING)
    waiting = engine.start("tunggu", actor=OFFICER).instance_id
    sender = engine.start("kirim", actor=OFFICER, data={"nomor": 9})
    assert sender.status == "completed"
    assert engine.status(waiting).status == "completed"  # the catch fired, then its end
    [ended] = [row for row in engine.store.audit(waiting) if row.event == "wait.ended"]
    assert (ended.payload["task_id"], ended.payload["outcome"]) == ("tangkap", "received")
    assert engine.status(waiting).data == {"nomor": 9}  # the message carried the data
    for instance_id in (waiting, sender.instance_id):
        assert store.verify_chain(instance_id).ok  # type: ignore[attr-defined]


def test_a_signal_thrown_as_an_instance_starts_reaches_every_waiting_instance(
    store: Store, clock: FakeClock
) -> None:
    """10.5.1 signals are broadcast: every waiting catch fires, in one transaction."""
    as_signal = ('messageEventDefinition messageRef="m"', 'signalEventDefinition signalRef="s"')
    thrower, catcher = SENDER.replace(*as_signal), WAITING.replace(*as_signal)
    roots = '<bpmn:signal id="s" name="rapat_dimulai"/>'
    engine = _engine(store, clock, thrower, catcher, roots=roots)
    first = engine.start("tunggu", actor=OFFICER).instance_id
    second = engine.start("tunggu", actor=OFFICER).instance_id
    engine.start("kirim", actor=OFFICER)
    assert engine.status(first).status == "completed"
    assert engine.status(second).status == "completed"


#: calls the sender, so the sender starts inside the caller's action
CALLER = (
    '<bpmn:process id="panggil" isExecutable="true"><bpmn:startEvent id="ps"/>'
    '<bpmn:callActivity id="panggil_kirim" calledElement="kirim"/>'
    '<bpmn:endEvent id="pe"/>' + flows("ps", "panggil_kirim", "pe", prefix="p") + "</bpmn:process>"
)


def test_a_child_starting_inside_another_action_that_reaches_a_waiting_instance_is_refused(
    store: Store, clock: FakeClock
) -> None:
    """A called instance's start is a child row of its caller's action; what its throw
    would change elsewhere is not joined to that action, so it is refused with the
    rewrite named, and nothing is written (never dropped)."""
    engine = _engine(store, clock, SENDER, WAITING, CALLER)
    waiting = engine.start("tunggu", actor=OFFICER).instance_id
    with pytest.raises(RuntimeFault, match="asyncBefore"):
        engine.start("panggil", actor=OFFICER)
    assert engine.status(waiting).status == "running"  # still waiting, nothing written
    assert [i.instance_id for i in engine.store.instances()] == [waiting]


def test_on_both_stores_a_start_that_loses_the_race_writes_nothing_and_tries_again(
    store_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caught instance's change is guarded by the revision it was read at: when
    another writer moves that instance on first (here: cancels it between the thrower's
    read and its write), the write conflicts and nothing of it is stored; the start is
    tried again on the instance as it is now, where nobody waits for the message any
    more, so it is refused (13.5.1), never delivered to a cancelled instance."""
    definitions = load_definitions_bytes(_doc(SENDER, WAITING), source="awal.bpmn")
    engine = Engine(ListCatalog(*definitions), open_store(store_url), clock=clock)
    other = Engine(ListCatalog(*definitions), open_store(store_url), clock=clock)
    waiting = engine.start("tunggu", actor=OFFICER).instance_id
    insert = engine.store.insert_instance
    attempts: list[bool] = []

    def cancelled_first(*args: Any, **kwargs: Any) -> None:
        if not attempts:
            other.cancel(waiting, actor=OFFICER, reason="dibatalkan")
        attempts.append(bool(kwargs.get("also")))
        insert(*args, **kwargs)

    monkeypatch.setattr(engine.store, "insert_instance", cancelled_first)
    with pytest.raises(MessageNotCorrelatedError, match="laporan_masuk"):
        engine.start("kirim", actor=OFFICER)
    assert attempts == [True]  # one write, with the catch; it conflicted, none after it
    assert [i.instance_id for i in engine.store.instances()] == [waiting]
    assert engine.status(waiting).status == "cancelled"
    monkeypatch.undo()
    again = engine.start("tunggu", actor=OFFICER).instance_id
    engine.start("kirim", actor=OFFICER)
    assert engine.status(again).status == "completed"
    other.store.close()
    engine.store.close()
