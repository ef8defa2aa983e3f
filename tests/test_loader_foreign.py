"""Files drawn in other modelers (bpmn.io, SpiffArena) load without sopflow's properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.model import NodeKind
from sopflow.errors import DefinitionError, SopCheckError

FOREIGN = Path(__file__).parent / "fixtures" / "bpmn" / "foreign_bpmnio.bpmn"


def test_bpmnio_file_loads_with_lane_names_as_roles() -> None:
    definition = load_definition(FOREIGN)
    assert definition.process_id == "Process_1q2w3e4"
    assert definition.name == "Permohonan Dana"  # the pool's name: the process has none
    assert definition.header.nama == "Permohonan Dana"
    assert [(la.name, la.role) for la in definition.lanes] == [
        ("Staf Keuangan", "Staf Keuangan"),
        ("Kepala Bagian", "Kepala Bagian"),
    ]
    assert definition.decisions == ()


def test_steps_are_numbered_breadth_first_including_the_subprocess() -> None:
    definition = load_definition(FOREIGN)
    assert [(s.no, s.id, s.name, s.lane) for s in definition.steps] == [
        (1, "Activity_0terima", "Terima permohonan", "Staf Keuangan"),
        (2, "Activity_1setuju", "Setujui permohonan", "Kepala Bagian"),
        # inside the subprocess: inherits the subprocess's lane, as SpiffWorkflow does
        (3, "Activity_0pindai", "Pindai berkas", "Staf Keuangan"),
    ]
    assert all(s.waktu is None and s.kelengkapan == () for s in definition.steps)


def test_condition_and_default_are_kept_as_written() -> None:
    definition = load_definition(FOREIGN)
    besar, kecil = definition.nodes["Gateway_0nilai1"].outgoing
    assert (besar.name, besar.condition, besar.is_default) == ("besar", "amount > 100", False)
    assert (kecil.name, kecil.condition, kecil.is_default) == ("kecil", None, True)


def test_embedded_subprocess_has_scope_and_inner_start() -> None:
    nodes = load_definition(FOREIGN).nodes
    sub = nodes["Activity_1arsip0"]
    assert (sub.kind, sub.start, sub.scope) == (NodeKind.SUBPROCESS, "Event_1mulaiSub", None)
    assert nodes["Activity_0pindai"].scope == "Activity_1arsip0"
    assert nodes["Event_1akhirSub"].kind is NodeKind.END
    assert nodes["Event_1akhirSub"].scope == "Activity_1arsip0"
    assert [f.target for f in sub.outgoing] == ["Event_0selesai"]


def test_spiffworkflow_properties_give_the_role_and_mutu_baku() -> None:
    text = FOREIGN.read_text(encoding="utf-8")
    text = text.replace(
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"',
    ).replace(
        '<bpmn:lane id="Lane_1kepala" name="Kepala Bagian">',
        '<bpmn:lane id="Lane_1kepala" name="Kepala Bagian"><bpmn:extensionElements>'
        '<spiffworkflow:properties><spiffworkflow:property name="role" value="kasubag" />'
        "</spiffworkflow:properties></bpmn:extensionElements>",
    ).replace(
        '<bpmn:userTask id="Activity_1setuju" name="Setujui permohonan">',
        '<bpmn:userTask id="Activity_1setuju" name="Setujui permohonan"><bpmn:extensionElements>'
        '<spiffworkflow:properties><spiffworkflow:property name="waktu" value="2 hari" />'
        "</spiffworkflow:properties></bpmn:extensionElements>",
    )
    definition = load_definition_bytes(text.encode(), source="spiff.bpmn")
    assert [la.role for la in definition.lanes] == ["Staf Keuangan", "kasubag"]
    step = definition.step("Activity_1setuju")
    assert step is not None and (step.role, step.waktu) == ("kasubag", "2 hari")


def _foreign(*pairs: tuple[str, str]) -> bytes:
    text = FOREIGN.read_text(encoding="utf-8")
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode("utf-8")


SUB_END = '      <bpmn:endEvent id="Event_1akhirSub">'


def test_unreachable_task_inside_a_subprocess_is_found() -> None:
    lost = '      <bpmn:userTask id="Activity_lost" name="Hilang" />\n'
    data = _foreign((SUB_END, lost + SUB_END))
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(data, source="f.bpmn")
    [problem] = info.value.problems
    assert (problem.element, problem.message) == (
        "Activity_lost",
        "not reachable from the start event",
    )


def test_subprocess_without_start_event() -> None:
    data = _foreign(
        ('<bpmn:startEvent id="Event_1mulaiSub">', '<bpmn:task id="Event_1mulaiSub">'),
        (
            "        <bpmn:outgoing>Flow_1s1</bpmn:outgoing>\n      </bpmn:startEvent>",
            "        <bpmn:outgoing>Flow_1s1</bpmn:outgoing>\n      </bpmn:task>",
        ),
    )
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(data, source="f.bpmn")
    assert "f.bpmn:41: Activity_1arsip0: subprocess has no start event" in [
        str(p) for p in info.value.problems
    ]


def test_flow_crossing_the_subprocess_boundary() -> None:
    data = _foreign(
        (
            '<bpmn:sequenceFlow id="Flow_0d" sourceRef="Gateway_1gabung" '
            'targetRef="Activity_1arsip0" />',
            '<bpmn:sequenceFlow id="Flow_0d" sourceRef="Gateway_1gabung" '
            'targetRef="Activity_0pindai" />',
        ),
    )
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(data, source="f.bpmn")
    assert "Flow_0d: sequence flow crosses a subprocess boundary" in [
        f"{p.element}: {p.message}" for p in info.value.problems
    ]


def test_flow_to_an_element_that_is_not_a_flow_node() -> None:
    data = _foreign(
        ('targetRef="Event_0selesai" />', 'targetRef="Lane_1kepala" />'),
    )
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(data, source="f.bpmn")
    assert (
        "Flow_0e: targetRef 'Lane_1kepala' is not a flow node of process 'Process_1q2w3e4'"
        in [f"{p.element}: {p.message}" for p in info.value.problems]
    )


def test_what_spiffworkflow_cannot_parse_is_refused_with_its_place() -> None:
    data = _foreign(
        (
            '<bpmn:userTask id="Activity_0terima" name="Terima permohonan">',
            '<bpmn:scriptTask id="Activity_0terima" name="Terima permohonan">',
        ),
        (
            "      <bpmn:outgoing>Flow_0b</bpmn:outgoing>\n    </bpmn:userTask>",
            "      <bpmn:outgoing>Flow_0b</bpmn:outgoing>\n    </bpmn:scriptTask>",
        ),
    )
    # handled by the caller, so sopflow's checks pass; SpiffWorkflow still wants a script
    with pytest.raises(DefinitionError) as info:
        load_definition_bytes(data, source="f.bpmn", script_handlers={"Activity_0terima"})
    assert info.value.element == "Activity_0terima"
    assert info.value.line == 23
    assert info.value.message.startswith("SpiffWorkflow cannot parse it: Invalid Script Task.")
