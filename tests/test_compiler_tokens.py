"""Compiling rows the engine of many tokens runs: several Pelaksana, untuk_setiap, panggil.

The compiled files are checked as XML (elements, flows, lanes, diagram), against the BPMN
2.0 XSD and by SpiffWorkflow's parser; the engine that runs them is built separately, so
nothing here starts an instance.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from lxml import etree

from _tables import sop_tables
from sopflow.definitions.compiler import compile_table
from sopflow.definitions.loader import _validate_xsd
from sopflow.definitions.table import SopTable, parse_table
from sopflow.errors import TableError
from test_compiler import NS, Box, bounds, inside, overlap, props, segment_hits, waypoints
from test_table import BASE, replace_once

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "tables" / "rapat-seksi-laporan.toml"
BPMN = f"{{{NS['bpmn']}}}"
CAMUNDA = f"{{{NS['camunda']}}}"
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "userTask",
    "callActivity",
    "exclusiveGateway",
    "parallelGateway",
)


def compiled(table: SopTable) -> etree._Element:
    return etree.fromstring(compile_table(table))


def process_of(root: etree._Element) -> etree._Element:
    process = root.find("bpmn:process", NS)
    assert process is not None
    return process


def node(root: etree._Element, node_id: str) -> etree._Element:
    found = process_of(root).find(f"*[@id='{node_id}']")
    assert found is not None, node_id
    return found


def lane_of(root: etree._Element) -> dict[str, str]:
    return {
        ref.text or "": lane.get("name") or ""
        for lane in process_of(root).iterfind("bpmn:laneSet/bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }


def flows(root: etree._Element) -> dict[str, tuple[str, str]]:
    return {
        f.get("id") or "": (f.get("sourceRef") or "", f.get("targetRef") or "")
        for f in process_of(root).iterfind("bpmn:sequenceFlow", NS)
    }


def on_border(point: tuple[float, float], box: Box) -> bool:
    x, y = point
    left, top, right, bottom = box[0], box[1], box[0] + box[2], box[1] + box[3]
    return (x in (left, right) and top <= y <= bottom) or (
        y in (top, bottom) and left <= x <= right
    )


def check_drawing(root: etree._Element) -> None:
    """The layout rules of docs/bpmn-conventions.md for any compiled file: every node drawn
    inside its lane, no two shapes overlapping, every flow orthogonal, attached to its two
    ends and crossing no other shape, every lane and node in exactly one lane."""
    process = process_of(root)
    nodes = [e.get("id") or "" for e in process if etree.QName(e).localname in FLOW_NODES]
    lanes = lane_of(root)
    assert sorted(lanes) == sorted(nodes)
    lane_boxes = {
        la.get("name"): bounds(root, la.get("id") or "")
        for la in process.iterfind("bpmn:laneSet/bpmn:lane", NS)
    }
    boxes = {n: bounds(root, n) for n in nodes}
    for node_id, box in boxes.items():
        assert inside(box, lane_boxes[lanes[node_id]]), node_id
    for a, b in itertools.combinations(sorted(boxes), 2):
        assert not overlap(boxes[a], boxes[b]), (a, b)
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert sorted(edges) == sorted(flows(root))
    for flow_id, (source, target) in flows(root).items():
        points = waypoints(edges[flow_id])
        assert on_border(points[0], boxes[source]), f"{flow_id} leaves {source} loose"
        assert on_border(points[-1], boxes[target]), f"{flow_id} enters {target} loose"
        for p, q in itertools.pairwise(points):
            assert p[0] == q[0] or p[1] == q[1], f"{flow_id}: not orthogonal"
            for other, box in boxes.items():
                if other not in (source, target):
                    assert not segment_hits(p, q, box), f"{flow_id} crosses {other}"


def spiff_parse(*files: bytes) -> None:
    """SpiffWorkflow reads the caller and every process it calls, as a catalog would."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser

    parser = BpmnParser()
    for index, data in enumerate(files):
        parser.add_bpmn_xml(etree.ElementTree(etree.fromstring(data)), filename=f"f{index}")
    first = process_of(etree.fromstring(files[0])).get("id") or ""
    parser.get_spec(first)
    parser.get_subprocess_specs(first)


@pytest.fixture(scope="module")
def fixture_root() -> etree._Element:
    return compiled(parse_table(FIXTURE))


# ------------------------------------------------------------------- several Pelaksana


def test_a_joint_step_is_a_parallel_split_one_task_per_lane_and_a_join(
    fixture_root: etree._Element,
) -> None:
    """BPMN 2.0 section 13.3.1 (Parallel Gateway): the split sends a token down every
    outgoing flow and the join waits for all of them, so each Pelaksana of the row must
    record the step before the next one starts."""
    lanes = lane_of(fixture_root)
    fork, join = node(fixture_root, "fork_02"), node(fixture_root, "join_02")
    assert fork.tag == join.tag == f"{BPMN}parallelGateway"
    assert fork.get("name") == "Dikerjakan bersama"
    assert (lanes["fork_02"], lanes["join_02"]) == ("Kasi", "Kasi")
    tasks = [node(fixture_root, f"step_02_{i}") for i in (1, 2)]
    assert [t.tag for t in tasks] == [f"{BPMN}userTask"] * 2
    assert [lanes[t.get("id") or ""] for t in tasks] == ["Kasi", "Kasubag"]
    for task in tasks:
        assert task.get("name") == "Rapat Kasi dan Kasubag membahas format data kinerja"
        assert props(task) == [
            ("no", "2"),
            ("kelengkapan", "Disposisi"),
            ("waktu", "60 menit"),
            ("output", "Notulen Rapat"),
        ]
    graph = flows(fixture_root)
    assert sorted(t for s, t in graph.values() if s == "fork_02") == ["step_02_1", "step_02_2"]
    assert sorted(s for s, t in graph.values() if t == "join_02") == ["step_02_1", "step_02_2"]
    assert [t for s, t in graph.values() if s == "join_02"] == ["step_03"]
    # the return of step 4 enters the row through its merge, then the split
    assert graph["flow_04_tidak"] == ("decision_04", "merge_02")
    assert graph["flow_merge_02_fork_02"] == ("merge_02", "fork_02")
    for flow in process_of(fixture_root).iterfind("bpmn:sequenceFlow", NS):
        if flow.get("sourceRef") in ("fork_02", "join_02"):
            assert flow.find("bpmn:conditionExpression", NS) is None


def test_the_tasks_of_a_joint_step_are_drawn_in_one_column(
    fixture_root: etree._Element,
) -> None:
    first, second = bounds(fixture_root, "step_02_1"), bounds(fixture_root, "step_02_2")
    assert first[0] + first[2] / 2 == second[0] + second[2] / 2
    assert first[1] != second[1]


def test_a_joint_first_and_last_step_start_and_end_through_the_gateways() -> None:
    text = replace_once(
        BASE, 'pelaksana = "Camat"\nkelengkapan', 'pelaksana = ["Camat", "Sekcam"]\nkelengkapan'
    )
    text = replace_once(
        text, 'pelaksana = "Camat"\nketerangan', 'pelaksana = ["Sekcam", "Camat"]\nketerangan'
    )
    root = compiled(parse_table(text))
    graph = flows(root)
    assert graph["flow_start_fork_01"] == ("start", "fork_01")
    assert graph["flow_join_04_end"] == ("join_04", "end")
    assert graph["flow_03_ya"] == ("decision_03", "fork_04")
    check_drawing(root)


# --------------------------------------------------------------------- untuk_setiap


def test_untuk_setiap_is_a_parallel_multi_instance_over_the_list(
    fixture_root: etree._Element,
) -> None:
    """BPMN 2.0 section 13.2.7 (Multiple Instances Activity): one instance per item of the
    input collection, each with its item; Camunda's collection / elementVariable and the
    standard's loopDataInputRef / inputDataItem say the same thing for both families."""
    task = node(fixture_root, "step_03")
    assert task.tag == f"{BPMN}userTask"
    loops = task.findall("bpmn:multiInstanceLoopCharacteristics", NS)
    assert len(loops) == 1
    loop = loops[0]
    assert loop.get("isSequential") == "false"
    assert loop.get(f"{CAMUNDA}collection") == "seksi"
    assert loop.get(f"{CAMUNDA}elementVariable") == "seksi_item"
    assert loop.findtext("bpmn:loopDataInputRef", namespaces=NS) == "seksi"
    item = loop.find("bpmn:inputDataItem", NS)
    assert item is not None and item.get("name") == "seksi_item"
    assert list(task)[-1] is loop  # the XSD puts loop characteristics after the flows
    # the reference resolves (bpmn-js warns "unresolved reference" otherwise): the list
    # is a data object of the process, named and identified as the field
    (data,) = process_of(fixture_root).findall("bpmn:dataObject", NS)
    assert (data.get("id"), data.get("name")) == ("seksi", "seksi")
    assert ("waktu", "2 hari") in props(task)


# -------------------------------------------------------------------------- panggil


def test_panggil_is_a_call_activity_passing_all_data_both_ways(
    fixture_root: etree._Element,
) -> None:
    """BPMN 2.0 section 13.2.4 (Call Activity): calledElement names the process; Camunda's
    camunda:in / camunda:out variables="all" hand the instance data to it and back."""
    call = node(fixture_root, "step_05")
    assert call.tag == f"{BPMN}callActivity"
    assert call.get("calledElement") == "pace_data_kinerja"
    assert call.get("name") == "Menjalankan SOP Pengumpulan Data Kinerja"
    assert lane_of(fixture_root)["step_05"] == "Kasubag"
    extension = call.find("bpmn:extensionElements", NS)
    assert extension is not None
    assert [
        (etree.QName(e).localname, e.get("variables"))
        for e in extension
        if etree.QName(e).localname in ("in", "out")
    ] == [("in", "all"), ("out", "all")]
    assert ("keterangan", "Keterkaitan: SOP Pengumpulan Data Kinerja") in props(call)
    shape = fixture_root.find(".//bpmndi:BPMNShape[@bpmnElement='step_05']", NS)
    assert shape is not None and shape.get("isExpanded") == "false"


# ------------------------------------------------------------- standard and engines


def test_the_fixture_is_valid_bpmn_and_spiffworkflow_parses_it_with_the_called_sop(
    fixture_root: etree._Element,
) -> None:
    data = compile_table(parse_table(FIXTURE))
    _validate_xsd(etree.ElementTree(etree.fromstring(data)), str(FIXTURE))
    spiff_parse(data, (ROOT / "bpmn" / "pace-data-kinerja.bpmn").read_bytes())
    check_drawing(fixture_root)


def test_a_call_to_a_process_spiffworkflow_cannot_find_is_refused_by_it() -> None:
    """The other side of the test above: without the called SOP the call cannot resolve,
    so the parse is a real check (the catalog reports it, naming both files)."""
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    with pytest.raises(ValidationException, match="pace_data_kinerja"):
        spiff_parse(compile_table(parse_table(FIXTURE)))


@settings(max_examples=40, deadline=None)
@given(sop_tables(max_steps=8, extended=True))
def test_any_extended_table_compiles_to_a_valid_drawable_file(table: SopTable) -> None:
    data = compile_table(table)
    root = etree.fromstring(data)
    _validate_xsd(etree.ElementTree(root), "generated.bpmn")
    check_drawing(root)
    joint = [s for s in table.langkah if s.bersama]
    assert len(process_of(root).findall("bpmn:parallelGateway", NS)) == 2 * len(joint)
    assert len(process_of(root).findall("bpmn:userTask", NS)) == sum(
        len(s.semua_pelaksana) for s in table.langkah if s.panggil is None
    )
    assert len(process_of(root).findall("bpmn:callActivity", NS)) == sum(
        1 for s in table.langkah if s.panggil
    )


# --------------------------------------------------------------------------- waktu


def test_compile_refuses_a_waktu_the_loader_refuses_in_a_table_built_in_code() -> None:
    """Issue 15: compile accepted "-5 menit" and "1000000 tahun"; the loader then refused
    the compiled file, and with it every process of the catalog."""
    table = parse_table(BASE, source="sop.toml")
    for waktu in ("-5 menit", "1000000 tahun"):
        steps = list(table.langkah)
        steps[1] = replace(steps[1], waktu=waktu)
        with pytest.raises(TableError, match="step 2: waktu") as caught:
            compile_table(replace(table, langkah=tuple(steps)))
        assert caught.value.file == "sop.toml"


def test_two_rows_over_one_list_declare_it_once() -> None:
    text = replace_once(BASE, 'waktu = "2 hari"', 'waktu = "2 hari"\nuntuk_setiap = "seksi"')
    text = replace_once(
        text, 'keterangan = "arsip"', 'keterangan = "arsip"\nuntuk_setiap = "seksi"'
    )
    data = compile_table(parse_table(text))
    root = etree.fromstring(data)
    assert len(process_of(root).findall("bpmn:dataObject", NS)) == 1
    refs = process_of(root).findall(".//bpmn:loopDataInputRef", NS)
    assert [r.text for r in refs] == ["seksi", "seksi"]
    _validate_xsd(etree.ElementTree(root), "two-lists.bpmn")


def test_the_layout_refuses_to_stack_two_nodes_of_one_lane_in_a_column() -> None:
    """Sharing a column is for the tasks of a parallel block, each in its own lane; two
    shapes of one lane in one column would overlap."""
    from sopflow.definitions.layout import NodeSpec, ShapeKind, layout_process

    nodes = [
        NodeSpec("a", ShapeKind.TASK, 0),
        NodeSpec("b", ShapeKind.TASK, 1, shares_column=True),
        NodeSpec("c", ShapeKind.TASK, 0, shares_column=True),
    ]
    with pytest.raises(ValueError, match="c shares a column"):
        layout_process(2, nodes, [])
    placed = layout_process(2, nodes[:2], [])
    assert placed.nodes["a"].bounds.x == placed.nodes["b"].bounds.x
