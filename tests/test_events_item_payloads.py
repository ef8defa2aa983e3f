"""What signals, errors and escalations carry (BPMN 2.0 10.5.1, 13.5.1, 13.5.2, 13.5.6).

BPMN 2.0 gives a signal, error or escalation an item definition (10.5.1: "the data
carried by the event") but leaves open how the thrower fills it and where a catch keeps
it. SpiffArena writes both on the root ``bpmn:signal`` / ``bpmn:error`` /
``bpmn:escalation``: ``spiffworkflow:payloadExpression``, evaluated on the thrower's data
as it throws (13.5.1), and ``spiffworkflow:variableName``, the field every catch of that
event keeps the payload in (13.5.2), None when the throw carried none. sopflow gives them
the same meaning, in the safe expression language, checked at load and never evaluated
as code; without them a signal carries the thrower's data and an error nothing, as
before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _events_bpmn import BPMN, OFFICER, flow, flows
from conftest import ListCatalog
from sopflow.definitions.loader import load_definitions_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import DefinitionError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
LANE = "pelaksana"


def _parts(payload: str | None, variable: str | None) -> str:
    inner = ""
    if payload is not None:
        inner += f"<spiffworkflow:payloadExpression>{payload}</spiffworkflow:payloadExpression>"
    if variable is not None:
        inner += f"<spiffworkflow:variableName>{variable}</spiffworkflow:variableName>"
    return f"<bpmn:extensionElements>{inner}</bpmn:extensionElements>" if inner else ""


def _process(pid: str, body: str) -> str:
    return f'<bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process>'


def _doc(roots: str, *processes: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:spiffworkflow="{SPIFF}" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'id="defs" targetNamespace="https://sopflow.id/bpmn">'
        + roots
        + "".join(processes)
        + "</bpmn:definitions>\n"
    ).encode()


def _task(tid: str) -> str:
    return f'<bpmn:userTask id="{tid}" camunda:candidateGroups="{LANE}"/>'


def _signal_file(
    payload: str | None = "{'r1': v1, 'r2': v2}", variable: str | None = "hasil"
) -> bytes:
    """One instance: a parallel split; ``isi`` sets v1/v2 and throws ``siap``; the other
    branch waits for ``siap`` and goes on to ``periksa``."""
    body = (
        '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="split"/>'
        + _task("isi")
        + '<bpmn:intermediateThrowEvent id="lempar">'
        '<bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>'
        '<bpmn:endEvent id="e1"/>'
        '<bpmn:intermediateCatchEvent id="tangkap">'
        '<bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateCatchEvent>'
        + _task("periksa")
        + '<bpmn:endEvent id="e2"/>'
        + flow("f0", "s", "split")
        + flows("split", "isi", "lempar", "e1", prefix="a")
        + flows("split", "tangkap", "periksa", "e2", prefix="b")
    )
    roots = f'<bpmn:signal id="sig" name="siap">{_parts(payload, variable)}</bpmn:signal>'
    return _doc(roots, _process("sinyal", body))


def _engine(store: Store, clock: FakeClock, data: bytes) -> Engine:
    definitions: list[ProcessDefinition] = load_definitions_bytes(data, source="items.bpmn")
    return Engine(ListCatalog(*definitions), store, clock=clock)


def test_a_signal_payload_is_evaluated_by_the_thrower_and_kept_in_the_catchs_variable(
    store: Store, clock: FakeClock
) -> None:
    """13.5.1: the payload is the thrower's data at the moment of the throw; 13.5.2: the
    catch keeps it in variableName, and nothing else of the thrower's data arrives."""
    engine = _engine(store, clock, _signal_file())
    iid = engine.start("sinyal", actor=OFFICER).instance_id
    engine.complete(iid, "isi", actor=OFFICER, data={"v1": 7, "v2": "dua", "lain": 1})
    data = engine.status(iid).data
    assert data["hasil"] == {"r1": 7, "r2": "dua"}
    assert "$payload" not in data
    assert [i.task_id for i in engine.work_list(instance_id=iid)] == ["periksa"]


def test_a_signal_payload_reaches_catches_in_other_instances(
    store: Store, clock: FakeClock
) -> None:
    """10.5.4: a signal reaches every catch; the payload travels with it."""
    engine = _engine(store, clock, _signal_file(payload="v1 * 2"))
    waiting = engine.start("sinyal", actor=OFFICER).instance_id
    thrower = engine.start("sinyal", actor=OFFICER).instance_id
    engine.complete(thrower, "isi", actor=OFFICER, data={"v1": 21})
    assert engine.status(thrower).data["hasil"] == 42
    assert engine.status(waiting).data["hasil"] == 42
    assert "v1" not in engine.status(waiting).data  # only the payload crosses


def test_a_variable_without_a_payload_expression_keeps_none(store: Store, clock: FakeClock) -> None:
    """SpiffWorkflow's item-aware events: no payloadExpression throws no payload, and the
    catch's variable is set to None (not left out, not the thrower's data)."""
    engine = _engine(store, clock, _signal_file(payload=None))
    iid = engine.start("sinyal", actor=OFFICER).instance_id
    engine.complete(iid, "isi", actor=OFFICER, data={"v1": 1})
    assert engine.status(iid).data["hasil"] is None


def test_a_payload_that_cannot_be_evaluated_refuses_the_throw(
    store: Store, clock: FakeClock
) -> None:
    engine = _engine(store, clock, _signal_file())
    iid = engine.start("sinyal", actor=OFFICER).instance_id
    with pytest.raises(TaskDataError, match="signal 'siap'") as info:
        engine.complete(iid, "isi", actor=OFFICER, data={"v1": 1})  # no v2
    assert info.value.task_id == "lempar"
    assert [i.task_id for i in engine.work_list(instance_id=iid)] == ["isi"]


def _error_file(kind: str, payload: str = "alasan", variable: str = "hasil") -> bytes:
    """A subprocess whose step decides whether to throw ``kind`` at its end; a boundary
    event on the subprocess catches it and leads to ``tangani``."""
    ref = "errorRef" if kind == "error" else "escalationRef"
    code = "errorCode" if kind == "error" else "escalationCode"
    inner = (
        '<bpmn:startEvent id="ss"/>'
        + _task("isi")
        + '<bpmn:exclusiveGateway id="cek" default="f_ok"/>'
        f'<bpmn:endEvent id="gagal"><bpmn:{kind}EventDefinition {ref}="x"/></bpmn:endEvent>'
        '<bpmn:endEvent id="ok"/>'
        + flows("ss", "isi", "cek", prefix="i")
        + flow("f_ok", "cek", "ok")
        + flow("f_gagal", "cek", "gagal", "ditolak")
    )
    body = (
        '<bpmn:startEvent id="s"/>'
        f'<bpmn:subProcess id="sub">{inner}</bpmn:subProcess>'
        f'<bpmn:boundaryEvent id="tangkap" attachedToRef="sub">'
        f'<bpmn:{kind}EventDefinition {ref}="x"/></bpmn:boundaryEvent>'
        + _task("tangani")
        + '<bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
        + flows("s", "sub", "e", prefix="m")
        + flows("tangkap", "tangani", "e2", prefix="t")
    )
    roots = f'<bpmn:{kind} id="x" {code}="E1">{_parts(payload, variable)}</bpmn:{kind}>'
    return _doc(roots, _process("kesalahan", body))


@pytest.mark.parametrize("kind", ["error", "escalation"])
def test_an_error_or_escalation_payload_reaches_its_boundary_catch(
    store: Store, clock: FakeClock, kind: str
) -> None:
    """13.5.6: the end event throws; the boundary event of the enclosing subprocess
    catches (13.5.3) and keeps the payload in its variable."""
    engine = _engine(store, clock, _error_file(kind, payload="{'kode': nomor, 'sebab': alasan}"))
    iid = engine.start("kesalahan", actor=OFFICER).instance_id
    engine.complete(
        iid, "isi", actor=OFFICER, data={"ditolak": True, "nomor": 5, "alasan": "kurang"}
    )
    assert engine.status(iid).data["hasil"] == {"kode": 5, "sebab": "kurang"}
    assert [i.task_id for i in engine.work_list(instance_id=iid)] == ["tangani"]


def test_an_error_payload_crosses_to_the_calling_instance(store: Store, clock: FakeClock) -> None:
    """13.3.5 / 13.5.6: an error the called process does not catch reaches the boundary
    event on the call activity, with its payload."""
    child = (
        '<bpmn:startEvent id="cs"/>'
        + _task("kerja")
        + '<bpmn:endEvent id="ce"><bpmn:errorEventDefinition errorRef="x"/></bpmn:endEvent>'
        + flows("cs", "kerja", "ce", prefix="c")
    )
    parent = (
        '<bpmn:startEvent id="s"/><bpmn:callActivity id="panggil" calledElement="anak"/>'
        '<bpmn:boundaryEvent id="tangkap" attachedToRef="panggil">'
        '<bpmn:errorEventDefinition errorRef="x"/></bpmn:boundaryEvent>'
        + _task("tangani")
        + '<bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
        + flows("s", "panggil", "e", prefix="m")
        + flows("tangkap", "tangani", "e2", prefix="t")
    )
    roots = f'<bpmn:error id="x" errorCode="E1">{_parts("sebab", "hasil")}</bpmn:error>'
    engine = _engine(store, clock, _doc(roots, _process("induk", parent), _process("anak", child)))
    iid = engine.start("induk", actor=OFFICER).instance_id
    [kid] = engine.status(iid).children
    engine.complete(kid, "kerja", actor=OFFICER, data={"sebab": "berkas hilang"})
    assert engine.status(iid).data["hasil"] == "berkas hilang"
    assert "sebab" not in engine.status(iid).data
    assert [i.task_id for i in engine.work_list(instance_id=iid)] == ["tangani"]


# -------------------------------------------------------------------- refused at load


@pytest.mark.parametrize(
    ("payload", "variable", "said"),
    [
        ("__import__('os').system('id')", "hasil", "payloadExpression refused"),
        ("open('/etc/passwd').read()", "hasil", "payloadExpression refused"),
        ("(lambda: 1)()", "hasil", "payloadExpression refused"),
        ("v1", "hasil; import os", "variableName"),
        ("v1", "__class__", "variableName"),
    ],
)
def test_payloads_outside_the_safe_language_are_refused_at_load(
    payload: str, variable: str, said: str
) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definitions_bytes(_signal_file(payload, variable), source="items.bpmn")
    problems = getattr(info.value, "problems", None) or [info.value]
    assert any(said in p.message and p.element in ("lempar", "tangkap") for p in problems)


def test_payload_parts_on_a_task_are_refused_naming_where_they_mean_something() -> None:
    data = _signal_file().replace(
        f'<bpmn:userTask id="isi" camunda:candidateGroups="{LANE}"/>'.encode(),
        (
            f'<bpmn:userTask id="isi" camunda:candidateGroups="{LANE}">'
            f"{_parts('v1', None)}</bpmn:userTask>"
        ).encode(),
    )
    with pytest.raises(DefinitionError, match="payloadExpression on a bpmn:userTask") as info:
        load_definitions_bytes(data, source="items.bpmn")
    assert "bpmn:signal, bpmn:error and bpmn:escalation" in str(info.value)


def test_the_payload_text_is_never_executed(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    with pytest.raises(DefinitionError):
        load_definitions_bytes(_signal_file(payload=hostile), source="items.bpmn")
    assert not marker.exists()
