"""Loader rules found wrong on files from other engines, fixed to what the standard says.

Each case comes from measuring ``scripts/corpus.py`` on other engines' files (the files
themselves are never copied; these are written for the tests):

- isExecutable (BPMN 2.0 section 10.2, Process attributes): no default, except that a
  public process without it is not executable; SpiffWorkflow and Flowable read a missing
  attribute as true, Camunda 7 deploys only processes marked true;
- reachability: every start event of a process begins it (10.5.2), and an event on an
  activity's boundary is reached with its host (10.5.4);
- a call activity whose process calls itself before any step waits never ends (10.3.4
  Call Activity gives no bound; sopflow refuses the action instead of recursing).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests._modelers import NAMESPACES
from tests.conftest import ListCatalog

from sopflow.definitions.extensions import CODES
from sopflow.definitions.loader import load_definition_bytes, load_definitions_bytes
from sopflow.errors import BpmnSchemaError, RuntimeFault, SopCheckError
from sopflow.runtime.calls import MAX_CALL_DEPTH
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

DOCS = Path(__file__).resolve().parents[1] / "docs" / "other-modelers.md"


def _process(pid: str, attrs: str = "", body: str = "") -> str:
    body = body or (  # ids are unique across the file (xs:ID), so each carries the pid
        f'<bpmn:startEvent id="{pid}_s"/><bpmn:userTask id="{pid}_t" name="Tugas"/>'
        f'<bpmn:endEvent id="{pid}_e"/>'
        f'<bpmn:sequenceFlow id="{pid}_f1" sourceRef="{pid}_s" targetRef="{pid}_t"/>'
        f'<bpmn:sequenceFlow id="{pid}_f2" sourceRef="{pid}_t" targetRef="{pid}_e"/>'
    )
    return f'<bpmn:process id="{pid}" {attrs}>{body}</bpmn:process>'


def _file(*processes: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NAMESPACES} id="d" '
        f'targetNamespace="http://example.org/t">{"".join(processes)}</bpmn:definitions>\n'
    ).encode()


def _ids(data: bytes) -> list[str]:
    return [d.process_id for d in load_definitions_bytes(data, source="multi.bpmn")]


# --- isExecutable --------------------------------------------------------------------------


def test_several_processes_none_marked_all_run_as_spiffworkflow_runs_them() -> None:
    """SpiffWorkflow's own test files mark none; its parser reads a missing one as true."""
    assert _ids(_file(_process("satu"), _process("dua"))) == ["satu", "dua"]


def test_a_public_process_without_the_attribute_is_not_executable() -> None:
    """10.2: "For public Processes, no value has the same semantics as if the value were
    false"; the private one is then the only one, loaded as a single process."""
    data = _file(_process("dalam"), _process("luar", 'processType="Public"'))
    assert _ids(data) == ["dalam"]
    assert load_definition_bytes(data, source="multi.bpmn").process_id == "dalam"


def test_marked_processes_keep_exactly_the_marked_ones() -> None:
    """Camunda 7 deploys only isExecutable="true"; an unmarked sibling is not started."""
    data = _file(_process("utama", 'isExecutable="true"'), _process("lain"))
    assert _ids(data) == ["utama"]
    data = _file(_process("a", 'isExecutable="false"'), _process("b"))
    loaded = load_definitions_bytes(data, source="multi.bpmn")
    assert [d.process_id for d in loaded if d.executable] == ["b"]
    # the one marked false is kept for its picture and document, never started (10.2)
    assert [d.process_id for d in loaded if not d.executable] == ["a"]


def test_several_executable_processes_ask_for_load_definitions() -> None:
    data = _file(_process("a", 'isExecutable="true"'), _process("b", 'isExecutable="true"'))
    with pytest.raises(BpmnSchemaError, match="2 executable processes: load it with"):
        load_definition_bytes(data, source="multi.bpmn")
    data = _file(_process("a", 'isExecutable="false"'), _process("b", 'isExecutable="false"'))
    with pytest.raises(BpmnSchemaError, match='mark exactly one isExecutable="true"'):
        load_definitions_bytes(data, source="multi.bpmn")


# --- reachability --------------------------------------------------------------------------

_BOUNDARY = (
    '<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Tugas"/><bpmn:endEvent id="e"/>'
    '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration>'
    "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    '<bpmn:userTask id="ingatkan" name="Ingatkan"/><bpmn:endEvent id="e2"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="ingatkan"/>'
    '<bpmn:sequenceFlow id="f4" sourceRef="ingatkan" targetRef="e2"/>'
)


def _messages(data: bytes) -> list[str]:
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(data, source="uji.bpmn")
    return [f"{p.element}: {p.message}" for p in info.value.problems]


def test_the_path_after_a_boundary_event_is_reached_with_its_host() -> None:
    """10.5.4: no flow leads from the start event to the task after the boundary timer,
    yet it is reached with the timer's host: the file loads, nothing "not reachable"."""
    definition = load_definition_bytes(
        _file(_process("p", 'isExecutable="true"', _BOUNDARY)), source="uji.bpmn"
    )
    assert {"b", "ingatkan", "e2"} <= set(definition.nodes)


def test_a_host_that_only_ends_through_its_boundary_event_can_reach_an_end() -> None:
    body = _BOUNDARY.replace('<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>', "")
    body = body.replace('<bpmn:endEvent id="e"/>', "")
    definition = load_definition_bytes(
        _file(_process("p", 'isExecutable="true"', body)), source="uji.bpmn"
    )
    assert definition.nodes["b"].attached_to == "t"


def test_every_start_event_begins_the_process() -> None:
    """10.5.2: several start events are alternatives; the path of the second one is
    reachable (the second start itself is refused: sopflow starts at one none start)."""
    body = (
        '<bpmn:startEvent id="s1"/><bpmn:startEvent id="s2"/>'
        '<bpmn:userTask id="a" name="A"/><bpmn:userTask id="b" name="B"/>'
        '<bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s1" targetRef="a"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="s2" targetRef="b"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="a" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="e"/>'
    )
    messages = _messages(_file(_process("p", 'isExecutable="true"', body)))
    assert [m for m in messages if "reach" in m] == []
    assert any("2 start events" in m for m in messages)


def test_a_node_no_start_leads_to_is_still_reported() -> None:
    body = _BOUNDARY.replace('<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>', "")
    messages = _messages(_file(_process("p", 'isExecutable="true"', body)))
    assert "t: not reachable from the start event" in messages
    assert "ingatkan: not reachable from the start event" in messages


# --- a process that calls itself at once ----------------------------------------------------


def test_a_process_calling_itself_before_any_step_waits_is_refused_not_a_crash(
    store: Store, clock: FakeClock
) -> None:
    """SpiffWorkflow's call_activity_level_3 test file has this shape; it used to end in
    RecursionError. Now the start is refused with the call activity named, nothing stored."""
    body = (
        '<bpmn:startEvent id="s"/><bpmn:callActivity id="lagi" calledElement="ulang"/>'
        '<bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="lagi"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="lagi" targetRef="e"/>'
    )
    definition = load_definition_bytes(
        _file(_process("ulang", 'isExecutable="true"', body)), source="ulang.bpmn"
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    with pytest.raises(RuntimeFault, match=f"{MAX_CALL_DEPTH} levels deep") as info:
        engine.start("ulang", actor=Actor("a"))
    assert info.value.task_id == "lagi"
    assert store.instances() == []


# --- the documented codes -------------------------------------------------------------------


def test_the_code_table_of_the_docs_is_the_one_validate_uses() -> None:
    text = DOCS.read_text(encoding="utf-8").split("| code | meaning |", 1)[1]
    table = text.split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (.+) \|$", table, flags=re.MULTILINE)
    assert dict(rows) == dict(CODES)
