"""The table->BPMN compiler: the convention's structure, a drawable layout, byte stability."""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from lxml import etree

from sopflow.cli import compile as compile_cli
from sopflow.definitions.compiler import compile_table
from sopflow.definitions.model import DECISION_FIELD
from sopflow.definitions.table import Langkah, SopTable, parse_table
from sopflow.errors import SopflowError, TableError
from test_table import BASE, SHIPPED_TABLES, sop_tables

ROOT = Path(__file__).resolve().parent.parent

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
FLOW_NODES = ("startEvent", "endEvent", "userTask", "exclusiveGateway", "parallelGateway")

Box = tuple[float, float, float, float]  # x, y, width, height


def xml(table: SopTable) -> etree._Element:
    return etree.fromstring(compile_table(table))


def props(element: etree._Element) -> list[tuple[str, str]]:
    return [
        (p.get("name"), p.get("value"))
        for p in element.findall("bpmn:extensionElements/camunda:properties/camunda:property",
                                 NS)
    ]


def values(pairs: list[tuple[str, str]], name: str) -> list[str]:
    return [v for n, v in pairs if n == name]


def bounds(root: etree._Element, element_id: str) -> Box:
    shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)
    assert shape is not None, f"no shape for {element_id}"
    b = shape.find("dc:Bounds", NS)
    return (float(b.get("x")), float(b.get("y")), float(b.get("width")),
            float(b.get("height")))


def inside(inner: Box, outer: Box) -> bool:
    return (outer[0] <= inner[0] and outer[1] <= inner[1]
            and inner[0] + inner[2] <= outer[0] + outer[2]
            and inner[1] + inner[3] <= outer[1] + outer[3])


def overlap(a: Box, b: Box) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def segment_hits(p: tuple[float, float], q: tuple[float, float], box: Box) -> bool:
    """Does an axis-parallel segment pass through the open interior of ``box``?"""
    x0, x1 = sorted((p[0], q[0]))
    y0, y1 = sorted((p[1], q[1]))
    left, top, right, bottom = box[0], box[1], box[0] + box[2], box[1] + box[3]
    if x0 == x1:
        return left < x0 < right and y0 < bottom and top < y1
    if y0 == y1:
        return top < y0 < bottom and x0 < right and left < x1
    return x0 < right and left < x1 and y0 < bottom and top < y1


def waypoints(edge: etree._Element) -> list[tuple[float, float]]:
    return [(float(w.get("x")), float(w.get("y"))) for w in edge.findall("di:waypoint", NS)]


def row_tasks(step: Langkah) -> list[tuple[str, str]]:
    """(task id, lane) of each task of a table row: ``step_NN``, or for a joint step
    ``step_NN_k`` in the k-th Pelaksana's lane."""
    if not step.bersama:
        return [(f"step_{step.no:02d}", step.pelaksana)]
    return [(f"step_{step.no:02d}_{k}", actor)
            for k, actor in enumerate(step.semua_pelaksana, start=1)]


def check_convention(table: SopTable, root: etree._Element) -> None:
    """Every structural rule of docs/bpmn-conventions.md that a file can be checked for."""
    assert root.tag == f"{{{NS['bpmn']}}}definitions"
    assert root.get("targetNamespace") == "https://sopflow.id/bpmn"
    assert root.get("exporter") == "sopflow"
    assert not any("executionPlatform" in name for name in root.attrib)

    participants = root.findall("bpmn:collaboration[@id='collaboration']/bpmn:participant", NS)
    assert len(participants) == 1
    assert participants[0].get("id") == "pool"
    assert participants[0].get("processRef") == table.process_id
    process = root.find("bpmn:process", NS)
    assert process.get("id") == table.process_id
    assert process.get("isExecutable") == "true"
    assert process.get("name") == participants[0].get("name") == (
        table.identitas.nama or table.process_id)

    # the identity sheet, 1:1 onto SopHeader fields
    header = table.identitas
    pairs = props(process)
    for name, value in header.to_dict().items():
        if isinstance(value, list):
            assert values(pairs, name) == value
        else:
            assert values(pairs, name) == ([] if value is None else [value])

    nodes = {e.get("id"): e for e in process if etree.QName(e).localname in FLOW_NODES}
    flows = {e.get("id"): e for e in process.findall("bpmn:sequenceFlow", NS)}

    # lanes: one per pelaksana, in column order, each node referenced exactly once
    lanes = process.findall("bpmn:laneSet[@id='lanes']/bpmn:lane", NS)
    assert [(la.get("id"), la.get("name"), values(props(la), "role")) for la in lanes] == [
        (f"lane_{i}", p.nama, [p.peran]) for i, p in enumerate(table.pelaksana, start=1)
    ]
    refs = [r.text for la in lanes for r in la.findall("bpmn:flowNodeRef", NS)]
    assert sorted(refs) == sorted(nodes)
    lane_of = {r.text: la.get("name") for la in lanes for r in la.findall("bpmn:flowNodeRef", NS)}

    # steps
    assert nodes["start"].get("name") == "Mulai"
    assert nodes["end"].get("name") == "Selesai"
    assert lane_of["start"] == table.langkah[0].pelaksana
    assert lane_of["end"] == table.langkah[-1].pelaksana
    tasks = process.findall("bpmn:userTask", NS)
    # a joint step (several Pelaksana on one row) is one task per Pelaksana, in the
    # table's order, all with the row's number and Mutu Baku (docs/table-format.md)
    rows = [(task_id, lane, step) for step in table.langkah
            for task_id, lane in row_tasks(step)]
    assert [t.get("id") for t in tasks] == [task_id for task_id, _, _ in rows]
    for task, (_, lane, step) in zip(tasks, rows, strict=True):
        assert task.get("name") == step.kegiatan
        assert lane_of[task.get("id")] == lane
        expected = [("no", str(step.no))]
        expected += [("kelengkapan", k) for k in step.kelengkapan]
        expected += [("waktu", step.waktu)] if step.waktu is not None else []
        expected += [("output", o) for o in step.output]
        expected += [("keterangan", step.keterangan)] if step.keterangan is not None else []
        expected += [("keputusan", DECISION_FIELD)] if step.keputusan else []
        assert props(task) == expected

    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    for flow_id, flow in flows.items():
        outgoing[flow.get("sourceRef")].append(flow_id)
        incoming[flow.get("targetRef")].append(flow_id)
    for node_id, node in nodes.items():
        assert [e.text for e in node.findall("bpmn:incoming", NS)] == incoming[node_id]
        assert [e.text for e in node.findall("bpmn:outgoing", NS)] == outgoing[node_id]
        if node.tag == f"{{{NS['bpmn']}}}userTask":
            assert len(incoming[node_id]) == 1, f"{node_id}: fake join"
            assert len(outgoing[node_id]) == 1

    # joint steps: a parallel split in the first Pelaksana's lane, a flow to each task,
    # each task to the join (BPMN 2.0 section 13.3.1), the join on to the next row
    joint = [s for s in table.langkah if s.bersama]
    parallel = process.findall("bpmn:parallelGateway", NS)
    assert sorted(g.get("id") for g in parallel) == sorted(
        f"{kind}_{s.no:02d}" for s in joint for kind in ("fork", "join")
    )
    for step in joint:
        fork, join = f"fork_{step.no:02d}", f"join_{step.no:02d}"
        assert nodes[fork].get("name") == "Dikerjakan bersama"
        assert nodes[join].get("name") is None
        assert lane_of[fork] == lane_of[join] == step.pelaksana
        task_ids = [task_id for task_id, _ in row_tasks(step)]
        assert len(task_ids) == len(step.semua_pelaksana) >= 2
        assert outgoing[fork] == [f"flow_{fork}_{t}" for t in task_ids]
        assert incoming[join] == [f"flow_{t}_{join}" for t in task_ids]
        assert len(outgoing[join]) == 1

    # decisions and merges
    def entry(no: int) -> str:
        step = table.langkah[no - 1]
        inner = f"fork_{no:02d}" if step.bersama else f"step_{no:02d}"
        return f"merge_{no:02d}" if f"merge_{no:02d}" in nodes else inner

    deciding = {s.no: s.keputusan for s in table.langkah if s.keputusan}
    gateways = process.findall("bpmn:exclusiveGateway", NS)
    decisions = [g for g in gateways if g.get("id").startswith("decision_")]
    merges = [g for g in gateways if g.get("id").startswith("merge_")]
    assert len(decisions) + len(merges) == len(gateways)
    assert sorted(g.get("id") for g in decisions) == [f"decision_{n:02d}" for n in deciding]
    for no, keputusan in deciding.items():
        gateway = nodes[f"decision_{no:02d}"]
        assert gateway.get("name") == "Disetujui?"
        assert gateway.get("default") == f"flow_{no:02d}_tidak"
        assert lane_of[gateway.get("id")] == table.langkah[no - 1].pelaksana
        last = f"join_{no:02d}" if table.langkah[no - 1].bersama else f"step_{no:02d}"
        assert incoming[gateway.get("id")] == [f"flow_{last}_decision_{no:02d}"]
        assert sorted(outgoing[gateway.get("id")]) == [f"flow_{no:02d}_tidak",
                                                       f"flow_{no:02d}_ya"]
        ya, tidak = flows[f"flow_{no:02d}_ya"], flows[f"flow_{no:02d}_tidak"]
        assert (ya.get("name"), ya.get("targetRef")) == ("Ya", entry(keputusan.ya))
        assert (tidak.get("name"), tidak.get("targetRef")) == ("Tidak", entry(keputusan.tidak))
        condition = ya.find("bpmn:conditionExpression", NS)
        assert condition.text == "disetujui == true"
        assert condition.get(f"{{{NS['xsi']}}}type") == "bpmn:tFormalExpression"
        assert tidak.find("bpmn:conditionExpression", NS) is None
        assert f"merge_{keputusan.tidak:02d}" in nodes
    for merge in merges:
        no = int(merge.get("id")[-2:])
        assert merge.get("name") is None
        assert len(incoming[merge.get("id")]) >= 2
        inner = f"fork_{no:02d}" if table.langkah[no - 1].bersama else f"step_{no:02d}"
        assert outgoing[merge.get("id")] == [f"flow_merge_{no:02d}_{inner}"]
        assert lane_of[merge.get("id")] == table.langkah[no - 1].pelaksana
    for flow in flows.values():
        if not flow.get("id").endswith("_ya"):
            assert flow.find("bpmn:conditionExpression", NS) is None

    # diagram: pool, lanes, every node and flow drawn
    planes = root.findall("bpmndi:BPMNDiagram[@id='diagram']/bpmndi:BPMNPlane", NS)
    assert len(planes) == 1 and planes[0].get("bpmnElement") == "collaboration"
    pool = bounds(root, "pool")
    lane_boxes = {la.get("name"): bounds(root, la.get("id")) for la in lanes}
    for la in lanes:
        shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{la.get('id')}']", NS)
        assert shape.get("isHorizontal") == "true"
        box = lane_boxes[la.get("name")]
        assert inside(box, pool) and box[0] == pool[0] + 30
        # a row is 140 high, plus 8 per return channel past the first one leaving it
        leaving = sum(
            1 for f in flows.values()
            if f.get("id").endswith("_tidak") and lane_of[f.get("sourceRef")] == la.get("name")
        )
        assert 120 <= box[3] <= 140 + 8 * max(0, leaving - 1)
    node_boxes = {n: bounds(root, n) for n in nodes}
    for node_id, box in node_boxes.items():
        assert inside(box, lane_boxes[lane_of[node_id]]), node_id
        if node_id.startswith(("merge_", "decision_")):
            shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{node_id}']", NS)
            assert shape.get("isMarkerVisible") == "true"
    ids = sorted(node_boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            assert not overlap(node_boxes[a], node_boxes[b]), (a, b)
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert sorted(edges) == sorted(flows)
    for flow_id, edge in edges.items():
        points = waypoints(edge)
        assert len(points) >= 2, flow_id
        for p, q in itertools.pairwise(points):
            assert p[0] == q[0] or p[1] == q[1], f"{flow_id}: not orthogonal"
            for node_id, box in node_boxes.items():
                if node_id in (flows[flow_id].get("sourceRef"), flows[flow_id].get("targetRef")):
                    continue
                assert not segment_hits(p, q, box), f"{flow_id} crosses {node_id}"
        if flows[flow_id].get("name"):
            assert edge.find("bpmndi:BPMNLabel/dc:Bounds", NS) is not None


# ---------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("path", SHIPPED_TABLES, ids=lambda p: p.name)
def test_each_shipped_table_compiles_to_the_shipped_bpmn(path: Path) -> None:
    shipped = ROOT / "bpmn" / f"{path.stem}.bpmn"
    assert compile_table(parse_table(path)) == shipped.read_bytes(), (
        f"recompile: sopflow compile {path.relative_to(ROOT)} -o {shipped.relative_to(ROOT)}"
    )


@pytest.mark.parametrize("path", SHIPPED_TABLES, ids=lambda p: p.name)
def test_shipped_files_follow_the_convention(path: Path) -> None:
    table = parse_table(path)
    check_convention(table, xml(table))


def test_base_table_follows_the_convention() -> None:
    table = parse_table(BASE)
    root = xml(table)
    check_convention(table, root)
    # the return from step 3 re-enters step 2 through merge_02, drawn below the tasks
    tidak = root.find(".//bpmn:sequenceFlow[@id='flow_03_tidak']", NS)
    assert tidak.get("targetRef") == "merge_02"
    edge = root.find(".//bpmndi:BPMNEdge[@bpmnElement='flow_03_tidak']", NS)
    lowest_task_bottom = max(
        bounds(root, f"step_{n:02d}")[1] + bounds(root, f"step_{n:02d}")[3] for n in (1, 3, 4)
    )
    channel = waypoints(edge)[1:-1]
    assert all(y > lowest_task_bottom for _, y in channel)


def test_compile_is_deterministic() -> None:
    table = parse_table(BASE)
    first = compile_table(table)
    assert compile_table(parse_table(BASE)) == first
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    assert b"\n  <bpmn:process" in first  # pretty-printed


def test_names_are_escaped_not_interpreted() -> None:
    table = parse_table(BASE)
    hostile = '<script>alert("x")</script> & ]]> \' ${x}'
    steps = (replace(table.langkah[0], kegiatan=hostile), *table.langkah[1:])
    table = replace(table, langkah=steps,
                    identitas=replace(table.identitas, nama=hostile))
    root = xml(table)
    assert root.find(".//bpmn:userTask[@id='step_01']", NS).get("name") == hostile
    assert root.find(".//bpmn:participant", NS).get("name") == hostile
    assert root.find(".//script") is None


def test_table_without_nama_uses_the_process_id_as_name() -> None:
    table = parse_table(BASE)
    table = replace(table, identitas=replace(table.identitas, nama=None))
    root = xml(table)
    assert root.find("bpmn:process", NS).get("name") == "contoh_sop"
    assert "nama" not in dict(props(root.find("bpmn:process", NS)))


@settings(max_examples=40, deadline=None)
@given(sop_tables(max_steps=10))
def test_any_valid_table_compiles_to_a_conventional_drawable_file(table: SopTable) -> None:
    check_convention(table, xml(table))


# ----------------------------------------------------------------------- loader agreement


@pytest.mark.parametrize("path", SHIPPED_TABLES, ids=lambda p: p.name)
def test_shipped_files_load_into_the_tables_definition(path: Path) -> None:
    loader = pytest.importorskip("sopflow.definitions.loader")
    table = parse_table(path)
    definition = loader.load_definition(ROOT / "bpmn" / f"{path.stem}.bpmn")
    assert definition.process_id == table.process_id
    assert definition.header == table.identitas
    assert [(la.id, la.name, la.role) for la in definition.lanes] == [
        (f"lane_{i}", p.nama, p.peran) for i, p in enumerate(table.pelaksana, start=1)
    ]
    # a joint row is one definition step per Pelaksana, each with the row's number
    steps = sorted(definition.steps, key=lambda s: (s.no, s.id))
    assert [(s.id, s.no, s.name, s.lane, s.kelengkapan, s.waktu, s.output, s.keterangan)
            for s in steps] == [
        (task_id, s.no, s.kegiatan, lane, s.kelengkapan, s.waktu, s.output, s.keterangan)
        for s in table.langkah
        for task_id, lane in row_tasks(s)
    ]
    def first_task(no: int) -> str:
        """The step a decision leads to: a joint step's first task (the loader follows
        the flow through the merge and the split to the first task it reaches)."""
        return row_tasks(table.langkah[no - 1])[0][0]

    roles = {p.nama: p.peran for p in table.pelaksana}
    assert [s.role for s in steps] == [
        roles[lane] for s in table.langkah for _, lane in row_tasks(s)
    ]
    assert sorted((d.step_id, d.yes_target, d.no_target, d.field)
                  for d in definition.decisions) == [
        (f"step_{s.no:02d}", first_task(s.keputusan.ya), first_task(s.keputusan.tidak),
         DECISION_FIELD)
        for s in table.langkah if s.keputusan
    ]


# ------------------------------------------------------------------------------------ CLI


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="sopflow")
    compile_cli.register(parser.add_subparsers())
    args = parser.parse_args(["compile", *argv])
    status: int = args.run(args)
    return status


@pytest.fixture
def table_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "contoh.toml"
    path.write_text(BASE, encoding="utf-8")
    yield path


def test_cli_writes_the_compiled_file(table_file: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "contoh.bpmn"
    assert run_cli(str(table_file), "-o", str(out)) == 0
    assert out.read_bytes() == compile_table(parse_table(BASE))
    assert "contoh_sop" in capsys.readouterr().out
    assert run_cli(str(table_file), "-o", str(out), "--check", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "up to date"
    assert summary["decisions"] == [3]
    assert summary["steps"] == 4


def test_cli_prints_to_stdout_without_output(table_file: Path,
                                             capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert run_cli(str(table_file)) == 0
    assert capfdbinary.readouterr().out == compile_table(parse_table(BASE))


def test_cli_check_fails_on_a_stale_file(table_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "contoh.bpmn"
    out.write_bytes(compile_table(parse_table(BASE)).replace(b"Contoh SOP", b"Lama"))
    with pytest.raises(SopflowError, match="is not what"):
        run_cli(str(table_file), "-o", str(out), "--check")
    with pytest.raises(SopflowError, match="cannot read"):
        run_cli(str(table_file), "-o", str(tmp_path / "missing.bpmn"), "--check")


def test_cli_reports_table_errors_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.replace('peran = "sekcam"', 'peran = "lurah"'), encoding="utf-8")
    out = tmp_path / "bad.bpmn"
    with pytest.raises(TableError, match=rf"^{bad}:\d+: .*unknown role code 'lurah'"):
        run_cli(str(bad), "-o", str(out))
    assert not out.exists()


def test_cli_refuses_an_unwritable_output(table_file: Path, tmp_path: Path) -> None:
    with pytest.raises(SopflowError, match="cannot write"):
        run_cli(str(table_file), "-o", str(tmp_path / "no" / "such" / "dir.bpmn"))
