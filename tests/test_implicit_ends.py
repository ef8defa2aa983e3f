"""A path of another engine's file may end at an activity with no outgoing flow, though
its process has an end event (BPMN 2.0 section 13.2.1: a token with no outgoing flow to
take is consumed; Camunda 7 and SpiffWorkflow run such files, most often a
non-interrupting boundary event's side path that ends at a task).

sopflow reads a file that is not an SOP the same way and ``validate`` lists the node as a
warning (``implicit-end``); an SOP (docs/bpmn-conventions.md: every step on a path to an
end event) stays strict and refuses it ("cannot reach an end event").
"""

from __future__ import annotations

import pytest
from tests._modelers import NAMESPACES
from tests.conftest import ListCatalog

from sopflow.definitions._warnings import tree_warnings
from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.xmlsafe import parse_xml
from sopflow.errors import SopCheckError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

ANYONE = Actor("budi", set())


def split(*, side: str = "", lane_role: str | None = None, loop: bool = False) -> bytes:
    """start -> fork -> ``utama`` -> end, and fork -> ``catat`` (no outgoing flow)."""
    lanes = ""
    if lane_role is not None:
        refs = "".join(
            f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>"
            for n in ("start", "fork", "utama", "catat", "end")
        )
        lanes = (
            '<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Staf">'
            '<bpmn:extensionElements><camunda:properties><camunda:property name="role" '
            f'value="{lane_role}"/></camunda:properties></bpmn:extensionElements>'
            f"{refs}</bpmn:lane></bpmn:laneSet>"
        )
    back = (
        '<bpmn:userTask id="ulang"/>'
        '<bpmn:sequenceFlow id="f_a" sourceRef="catat" targetRef="ulang"/>'
        '<bpmn:sequenceFlow id="f_b" sourceRef="ulang" targetRef="catat"/>'
        if loop
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NAMESPACES} id="defs" targetNamespace="http://example.org/t">
  <bpmn:process id="cabang" isExecutable="true">{lanes}
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="utama"/>
    <bpmn:userTask id="catat"/>{side}
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="utama"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="catat"/>
    <bpmn:sequenceFlow id="f4" sourceRef="utama" targetRef="end"/>{back}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _warnings(data: bytes) -> list[tuple[str | None, str]]:
    tree = parse_xml(data, source="cabang.bpmn")
    return [(f.element, f.code) for f in tree_warnings(tree, source="cabang.bpmn")]


def test_a_foreign_path_ending_at_a_task_loads_and_is_a_warning() -> None:
    load_definition_bytes(split(), source="cabang.bpmn")
    assert ("catat", "implicit-end") in _warnings(split())
    assert ("utama", "implicit-end") not in _warnings(split())


def test_the_token_ends_at_the_task_and_the_instance_completes(
    store: Store, clock: FakeClock
) -> None:
    """13.2.1: the instance completes once no token is left, the consumed one included."""
    engine = Engine(
        ListCatalog(load_definition_bytes(split(), source="c.bpmn")), store, clock=clock
    )
    iid = engine.start("cabang", actor=ANYONE).instance_id
    engine.complete(iid, "catat", actor=ANYONE)
    assert engine.status(iid).status == "running"  # utama still open
    engine.complete(iid, "utama", actor=ANYONE)
    assert engine.status(iid).status == "completed"


def test_an_sop_keeps_the_strict_rule() -> None:
    """An SOP (a lane with a role) must bring every step to an end event."""
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(split(lane_role="staf"), source="sop.bpmn")
    assert any(
        p.element == "catat" and "cannot reach an end event" in p.message
        for p in info.value.problems
    )
    assert ("catat", "implicit-end") not in _warnings(split(lane_role="staf"))


def test_a_loop_with_no_way_out_is_still_refused() -> None:
    """Nodes whose only path leads round and round never end their token."""
    data = split(loop=True)
    with pytest.raises(SopCheckError, match="cannot reach an end event"):
        load_definition_bytes(data, source="cabang.bpmn")


def test_a_gateway_with_no_outgoing_flow_is_no_implicit_end() -> None:
    side = (
        '<bpmn:exclusiveGateway id="buntu"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="utama" targetRef="buntu"/>'
    )
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(split(side=side), source="cabang.bpmn")
    assert any(p.element == "buntu" for p in info.value.problems)
