"""Each SOP check, shown by a minimal file that breaks it and the exact finding it gives.

The files are the convention-following fixture with one deliberate change, so every
test reads as "this change makes the file unusable, for this reason, here".
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest

from sopflow.definitions.loader import boolean_test, load_definition_bytes
from sopflow.definitions.model import NodeKind, ProcessDefinition
from sopflow.errors import DefinitionError, SopCheckError

FIXTURES = Path(__file__).parent / "fixtures" / "bpmn"
MINIMAL = (FIXTURES / "sop_minimal.bpmn").read_text(encoding="utf-8")
SOURCE = "sop.bpmn"


def mutate(*pairs: tuple[str, str], base: str = MINIMAL) -> str:
    text = base
    for old, new in pairs:
        assert text.count(old) == 1, f"fixture text not found exactly once: {old!r}"
        text = text.replace(old, new)
    return text


def line_of(text: str, needle: str) -> int:
    [index] = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return index


def load(text: str, script_handlers: Collection[str] = ()) -> ProcessDefinition:
    return load_definition_bytes(
        text.encode("utf-8"), source=SOURCE, script_handlers=script_handlers
    )


def problems(text: str) -> list[DefinitionError]:
    with pytest.raises(SopCheckError) as info:
        load(text)
    return info.value.problems


def only_problem(text: str) -> str:
    [problem] = problems(text)
    return str(problem)


# --- lanes ---------------------------------------------------------------------------

REF_STEP_03 = "        <bpmn:flowNodeRef>step_03</bpmn:flowNodeRef>\n"
ROLE_CAMAT = """        <bpmn:extensionElements>
          <camunda:properties>
            <camunda:property name="role" value="camat" />
          </camunda:properties>
        </bpmn:extensionElements>
"""


def test_user_task_in_no_lane() -> None:
    text = mutate((REF_STEP_03, ""))
    line = line_of(text, '<bpmn:userTask id="step_03"')
    assert only_problem(text) == (
        f"{SOURCE}:{line}: step_03: user task is not in any lane "
        "(no lane lists it in flowNodeRef)"
    )


def test_user_task_in_two_lanes() -> None:
    text = mutate(
        (
            "        <bpmn:flowNodeRef>step_02</bpmn:flowNodeRef>\n",
            "        <bpmn:flowNodeRef>step_02</bpmn:flowNodeRef>\n" + REF_STEP_03,
        )
    )
    line = line_of(text, '<bpmn:userTask id="step_03"')
    assert only_problem(text) == (
        f"{SOURCE}:{line}: step_03: user task is in 2 lanes: Kasubag Program, Camat"
    )


def test_lane_without_name_or_role() -> None:
    text = mutate(
        ('<bpmn:lane id="lane_2" name="Camat">', '<bpmn:lane id="lane_2">'), (ROLE_CAMAT, "")
    )
    line = line_of(text, '<bpmn:lane id="lane_2"')
    assert only_problem(text) == (
        f"{SOURCE}:{line}: lane_2: lane has no role: give it a name or a role property"
    )


def test_lane_without_role_property_takes_its_name_as_role() -> None:
    definition = load(mutate((ROLE_CAMAT, "")))
    assert definition.lane("Camat") is not None
    assert [la.role for la in definition.lanes] == ["kasubag", "Camat"]
    step = definition.step("step_02")
    assert step is not None and step.role == "Camat"


def test_nested_lanes_flatten_to_leaf_lanes() -> None:
    text = mutate(
        ('<bpmn:lane id="lane_2" name="Camat">', '<bpmn:lane id="outer" name="Pimpinan">\n'
         '<bpmn:childLaneSet id="inner"><bpmn:lane id="lane_2" name="Camat">'),
        ("    </bpmn:laneSet>", "    </bpmn:childLaneSet></bpmn:lane></bpmn:laneSet>"),
    )
    definition = load(text)
    assert [(la.id, la.name) for la in definition.lanes] == [
        ("lane_1", "Kasubag Program"),
        ("lane_2", "Camat"),
    ]


# --- step properties -------------------------------------------------------------------


def test_waktu_that_cannot_be_read_is_quoted_at_its_property() -> None:
    text = mutate(('value="30 Menit"', 'value="sebentar saja"'))
    [problem] = problems(text)
    assert (problem.file, problem.line, problem.element) == (
        SOURCE,
        line_of(text, "sebentar saja"),
        "step_02",
    )
    assert problem.message.startswith("waktu 'sebentar saja':")


def test_step_number_must_be_a_whole_number_and_unique() -> None:
    text = mutate(('name="no" value="3"', 'name="no" value="tiga"'))
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'tiga')}: step_03: "
        "step number no='tiga' is not a whole number from 1 to 9999"
    )
    text = mutate(('name="no" value="3"', 'name="no" value="1"'))
    line = line_of(text, '<bpmn:userTask id="step_03"') + 3
    assert only_problem(text) == (
        f"{SOURCE}:{line}: step_03: step number 1 is also used by step_01"
    )


def test_steps_without_no_are_numbered_breadth_first_from_the_start() -> None:
    text = MINIMAL
    for no in ("1", "2", "3"):
        text = mutate((f'<camunda:property name="no" value="{no}" />', ""), base=text)
    definition = load(text)
    assert [(s.no, s.id) for s in definition.steps] == [
        (1, "step_01"),
        (2, "step_02"),
        (3, "step_03"),
    ]


def test_manual_task_is_a_step_too() -> None:
    text = mutate(
        ('<bpmn:userTask id="step_03" name="Menyampaikan data kinerja">',
         '<bpmn:manualTask id="step_03" name="Menyampaikan data kinerja">'),
        ("    </bpmn:userTask>\n    <bpmn:endEvent", "    </bpmn:manualTask>\n    <bpmn:endEvent"),
    )
    definition = load(text)
    assert definition.nodes["step_03"].kind is NodeKind.MANUAL_TASK
    step = definition.step("step_03")
    assert step is not None and (step.no, step.lane) == (3, "Kasubag Program")


# --- reachability and structure --------------------------------------------------------

ORPHAN = """    <bpmn:userTask id="step_04" name="Tidak terhubung" />
    <bpmn:endEvent id="end" name="Selesai">"""


def test_node_not_reachable_from_the_start() -> None:
    text = mutate(
        ('    <bpmn:endEvent id="end" name="Selesai">', ORPHAN),
        (REF_STEP_03, REF_STEP_03 + "        <bpmn:flowNodeRef>step_04</bpmn:flowNodeRef>\n"),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'Tidak terhubung')}: step_04: not reachable from the start event"
    )


def test_node_that_cannot_reach_an_end() -> None:
    text = mutate(
        ('    <bpmn:endEvent id="end" name="Selesai">', ORPHAN),
        (REF_STEP_03, REF_STEP_03 + "        <bpmn:flowNodeRef>step_04</bpmn:flowNodeRef>\n"),
        (
            '    <bpmn:sequenceFlow id="flow_step_03_end"',
            '    <bpmn:sequenceFlow id="flow_dead" sourceRef="decision_02" targetRef="step_04">'
            '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">revisi == 2'
            "</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
            '    <bpmn:sequenceFlow id="flow_step_03_end"',
        ),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'Tidak terhubung')}: step_04: cannot reach an end event"
    )


def test_missing_start_and_end_events() -> None:
    text = mutate(
        ('<bpmn:endEvent id="end" name="Selesai">', '<bpmn:task id="end" name="Selesai">'),
        ("    </bpmn:endEvent>", "    </bpmn:task>"),
    )
    line = line_of(text, '<bpmn:process id="sop_minimal"')
    assert f"{SOURCE}:{line}: sop_minimal: process has no end event" in [
        str(p) for p in problems(text)
    ]
    text = mutate(
        ('<bpmn:startEvent id="start" name="Mulai">', '<bpmn:task id="start" name="Mulai">'),
        ("    </bpmn:startEvent>", "    </bpmn:task>"),
    )
    assert f"{SOURCE}:{line}: sop_minimal: process has no start event" in [
        str(p) for p in problems(text)
    ]


def test_a_task_with_two_outgoing_flows_is_an_implicit_parallel_split() -> None:
    """BPMN 2.0 13.2.1: several outgoing flows from an activity each get a token."""
    text = mutate(
        (
            '    <bpmn:sequenceFlow id="flow_step_03_end"',
            '    <bpmn:sequenceFlow id="flow_extra" sourceRef="step_01" targetRef="step_03" />\n'
            '    <bpmn:sequenceFlow id="flow_step_03_end"',
        ),
    )
    definition = load(text)
    assert {f.target for f in definition.nodes["step_01"].outgoing} == {"step_02", "step_03"}


def test_condition_on_a_flow_that_leaves_a_task_is_allowed() -> None:
    """BPMN 2.0 13.3.1: an activity's outgoing flows may be conditional."""
    text = mutate(
        (
            '<bpmn:sequenceFlow id="flow_step_03_end" sourceRef="step_03" targetRef="end" />',
            '<bpmn:sequenceFlow id="flow_step_03_end" sourceRef="step_03" targetRef="end">\n'
            '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">selesai'
            "</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>",
        ),
    )
    [flow] = load(text).nodes["step_03"].outgoing
    assert flow.condition == "selesai"


def test_condition_on_a_flow_that_leaves_a_start_event() -> None:
    text = mutate(
        (
            '<bpmn:sequenceFlow id="flow_start_merge_01" sourceRef="start" targetRef="merge_01" />',
            '<bpmn:sequenceFlow id="flow_start_merge_01" sourceRef="start" targetRef="merge_01">\n'
            '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">selesai'
            "</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>",
        ),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, '>selesai<')}: flow_start_merge_01: a condition is not "
        "allowed on a flow leaving a startEvent: only on flows leaving a gateway or an activity"
    )


# --- gateways and conditions -----------------------------------------------------------

DEFAULT_ATTR = ' default="flow_02_tidak"'
TIDAK_FLOW = (
    '<bpmn:sequenceFlow id="flow_02_tidak" name="Tidak" sourceRef="decision_02" '
    'targetRef="merge_01" />'
)


def tidak_with(condition: str) -> tuple[str, str]:
    return (
        TIDAK_FLOW,
        TIDAK_FLOW.replace(" />", ">")
        + '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
        + condition
        + "</bpmn:conditionExpression></bpmn:sequenceFlow>",
    )


def test_boolean_test_and_its_negation_cover_every_case_without_default() -> None:
    definition = load(mutate((DEFAULT_ATTR, ""), tidak_with("disetujui == false")))
    [decision] = definition.decisions
    assert (decision.yes_target, decision.no_target) == ("step_03", "step_01")
    assert not any(f.is_default for f in definition.nodes["decision_02"].outgoing)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("disetujui == true", ("disetujui", True)),
        ("disetujui", ("disetujui", True)),
        ("not disetujui", ("disetujui", False)),
        ("disetujui == false", ("disetujui", False)),
        ("disetujui != true", ("disetujui", False)),
        ("amount > 100", None),
        ("not disetujui == true", None),
        ("true", None),
        (None, None),
    ],
)
def test_what_counts_as_a_boolean_field_test(
    condition: str | None, expected: tuple[str, bool] | None
) -> None:
    assert boolean_test(condition) == expected


def test_gateway_without_default_whose_conditions_may_all_be_false() -> None:
    text = mutate((DEFAULT_ATTR, ""), tidak_with("revisi == true"))
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'Disetujui?')}: decision_02: "
        "exclusive gateway has 2 outgoing flows but no default flow, and its conditions do "
        "not cover every case: mark one flow as the default"
    )


def test_gateway_flow_without_condition_that_is_not_the_default() -> None:
    text = mutate((DEFAULT_ATTR, ""))
    tidak_line = line_of(text, TIDAK_FLOW)
    assert [str(p) for p in problems(text)] == [
        f"{SOURCE}:{line_of(text, 'Disetujui?')}: decision_02: "
        "exclusive gateway has 2 outgoing flows but no default flow, and its conditions do "
        "not cover every case: mark one flow as the default",
        f"{SOURCE}:{tidak_line}: flow_02_tidak: flow leaves an "
        "exclusive gateway with neither a condition nor being its default",
    ]


def test_default_flow_must_not_carry_a_condition() -> None:
    text = mutate(tidak_with("disetujui == false"))
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'disetujui == false')}: flow_02_tidak: the default flow "
        "must not carry a condition"
    )


def test_condition_outside_the_safe_language() -> None:
    text = mutate(("disetujui == true<", "disetujui ==<"))
    [problem] = problems(text)
    assert (problem.line, problem.element) == (line_of(text, "disetujui =="), "flow_02_ya")
    assert problem.message.startswith(
        "condition 'disetujui ==' is not in the safe expression language: "
    )


# --- unsupported elements --------------------------------------------------------------

STEP_03_OPEN = '<bpmn:userTask id="step_03" name="Menyampaikan data kinerja">'
STEP_03_CLOSE = (
    "    </bpmn:userTask>\n    <bpmn:endEvent",
    "    </bpmn:{tag}>\n    <bpmn:endEvent",
)


def retag_step_03(tag: str) -> str:
    return mutate(
        (STEP_03_OPEN, STEP_03_OPEN.replace("userTask", tag)),
        (STEP_03_CLOSE[0], STEP_03_CLOSE[1].format(tag=tag)),
    )


def test_script_task_is_refused_unless_the_caller_handles_it() -> None:
    text = mutate(
        (
            "      <bpmn:outgoing>flow_step_03_end</bpmn:outgoing>\n",
            "      <bpmn:outgoing>flow_step_03_end</bpmn:outgoing>\n"
            "      <bpmn:script>kirim_data()</bpmn:script>\n",
        ),
        base=retag_step_03("scriptTask"),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'scriptTask id')}: step_03: bpmn:scriptTask is not "
        "supported by sopflow unless the caller registers a script handler for it "
        "(scripts in a BPMN file are never executed)"
    )
    definition = load(text, script_handlers={"step_03"})
    assert definition.nodes["step_03"].kind is NodeKind.SCRIPT_TASK
    assert [s.id for s in definition.steps] == ["step_01", "step_02"]


@pytest.mark.parametrize("tag", ["serviceTask", "sendTask", "businessRuleTask"])
def test_tasks_that_call_out_load_as_jobs(tag: str) -> None:
    """BPMN 10.3.3: service, send and business-rule tasks are run as jobs (sopflow.jobs)."""
    definition = load(retag_step_03(tag))
    assert definition.nodes["step_03"].kind is NodeKind.SERVICE_TASK
    assert [s.id for s in definition.steps] == ["step_01", "step_02"]


def test_service_task_implementation_sopflow_cannot_run_is_refused() -> None:
    text = mutate(
        (
            '<bpmn:serviceTask id="step_03"',
            '<bpmn:serviceTask camunda:type="connector" id="step_03"',
        ),
        base=retag_step_03("serviceTask"),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'serviceTask camunda')}: step_03: camunda:type='connector' "
        'is not run by sopflow: use camunda:type="external" with a camunda:topic, or a Python '
        "handler"
    )


def test_external_task_without_topic_is_refused() -> None:
    text = mutate(
        (
            '<bpmn:serviceTask id="step_03"',
            '<bpmn:serviceTask camunda:type="external" id="step_03"',
        ),
        base=retag_step_03("serviceTask"),
    )
    assert only_problem(text).endswith(
        "step_03: an external task needs a camunda:topic for its workers to fetch"
    )


def test_complex_gateway_is_refused() -> None:
    text = mutate(
        ('<bpmn:exclusiveGateway id="merge_01">', '<bpmn:complexGateway id="merge_01">'),
        ("    </bpmn:exclusiveGateway>\n    <bpmn:userTask id=\"step_01\"",
         "    </bpmn:complexGateway>\n    <bpmn:userTask id=\"step_01\""),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'complexGateway id')}: merge_01: bpmn:complexGateway is "
        "not supported by sopflow: its activation rule is an arbitrary expression over token "
        "counts; use a parallel or inclusive gateway"
    )


def test_multi_instance_without_a_count_is_refused() -> None:
    """BPMN 2.0 13.3.7: a multi-instance activity needs a cardinality or a collection."""
    text = mutate(
        (
            "      <bpmn:incoming>flow_merge_01_step_01</bpmn:incoming>\n",
            "      <bpmn:incoming>flow_merge_01_step_01</bpmn:incoming>\n"
            "      <bpmn:outgoing>flow_step_01_step_02</bpmn:outgoing>\n"
            "      <bpmn:multiInstanceLoopCharacteristics />\n",
        ),
        (
            "      <bpmn:outgoing>flow_step_01_step_02</bpmn:outgoing>\n"
            "    </bpmn:userTask>",
            "    </bpmn:userTask>",
        ),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'Menyusun data kinerja')}: step_01: multi-instance needs a "
        "loopCardinality or an input collection (camunda:collection or loopDataInputRef)"
    )


def test_timer_without_its_time_is_refused() -> None:
    """BPMN 10.5.5 (table 10.104): a timer names one of timeDate, timeDuration, timeCycle."""
    text = mutate(
        (
            "      <bpmn:outgoing>flow_start_merge_01</bpmn:outgoing>\n",
            "      <bpmn:outgoing>flow_start_merge_01</bpmn:outgoing>\n"
            '      <bpmn:timerEventDefinition id="timer" />\n',
        ),
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'startEvent id')}: start: a timer event definition needs "
        "exactly one of timeDate, timeDuration or timeCycle (BPMN 10.5.5); it has 0"
    )


# --- decisions and the drawing ---------------------------------------------------------


def test_deciding_task_must_be_followed_by_an_exclusive_gateway() -> None:
    text = mutate(
        (
            '<camunda:property name="waktu" value="15 menit" />',
            '<camunda:property name="waktu" value="15 menit" />\n'
            '          <camunda:property name="keputusan" value="disetujui" />',
        )
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'Menyampaikan data kinerja')}: step_03: a deciding task "
        "(keputusan) must be followed by an exclusive gateway"
    )


def test_task_drawn_in_another_lane_than_flow_node_ref_says() -> None:
    text = mutate(
        (
            '<dc:Bounds x="700" y="78" width="100" height="80" />',
            '<dc:Bounds x="700" y="213" width="100" height="80" />',
        )
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'Menyampaikan data kinerja')}: step_03: drawn in lane Camat "
        "but flowNodeRef puts it in lane Kasubag Program"
    )


def test_task_drawn_outside_every_lane() -> None:
    text = mutate(
        (
            '<dc:Bounds x="700" y="78" width="100" height="80" />',
            '<dc:Bounds x="700" y="500" width="100" height="80" />',
        )
    )
    assert only_problem(text) == (
        f"{SOURCE}:{line_of(text, 'Menyampaikan data kinerja')}: step_03: drawn outside every "
        "lane but flowNodeRef puts it in lane Kasubag Program"
    )


def test_file_without_a_diagram_loads_with_only_the_drawing_check_skipped() -> None:
    start = MINIMAL.index("  <bpmndi:BPMNDiagram")
    end = MINIMAL.index("</bpmndi:BPMNDiagram>") + len("</bpmndi:BPMNDiagram>\n")
    definition = load(MINIMAL[:start] + MINIMAL[end:])
    assert [s.id for s in definition.steps] == ["step_01", "step_02", "step_03"]


# --- all findings at once --------------------------------------------------------------


def test_every_finding_is_collected_in_line_order_and_str_is_the_first() -> None:
    text = mutate(
        (REF_STEP_03, ""),
        ('value="30 Menit"', 'value="sebentar"'),
        ("disetujui == true<", "__import__('os')<"),
    )
    with pytest.raises(SopCheckError) as info:
        load(text)
    found = info.value.problems
    assert [p.element for p in found] == ["step_02", "step_03", "flow_02_ya"]
    assert [p.line for p in found] == sorted(p.line or 0 for p in found)
    assert str(info.value) == str(found[0])
    assert all(p.file == SOURCE for p in found)


def test_which_process_runs_when_a_file_holds_several() -> None:
    second = '<bpmn:process id="other" isExecutable="false" />\n  <bpmn:process id="sop_minimal"'
    text = mutate(('<bpmn:process id="sop_minimal"', second))
    assert load(text).process_id == "sop_minimal"  # the participant's processRef decides
    start = text.index("  <bpmn:collaboration")
    end = text.index("</bpmn:collaboration>") + len("</bpmn:collaboration>\n")
    no_pool = text[:start] + text[end:]
    no_diagram = no_pool[: no_pool.index("  <bpmndi:BPMNDiagram")] + "</bpmn:definitions>\n"
    assert load(no_diagram).process_id == "sop_minimal"  # the only executable one
    ambiguous = no_diagram.replace(
        'id="other" isExecutable="false"', 'id="other" isExecutable="true"'
    )
    with pytest.raises(DefinitionError) as info:
        load(ambiguous)
    assert info.value.message == (  # load_definitions loads both (test_loader_interop.py)
        "the file holds 2 executable processes: load it with load_definitions "
        "(a Catalog does), or mark only one executable"
    )
