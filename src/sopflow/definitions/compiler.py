"""Compile an SOP table into a BPMN file that follows the sopflow convention exactly.

The convention (docs/bpmn-conventions.md) is what the loader, the runtime and Camunda
Modeler all agree on; generating it from the table instead of drawing it by hand keeps the
shipped files faithful to the SOP and identical from one build to the next (the same table
always gives the same bytes, so a test can pin every shipped file to its table).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from sopflow.definitions.layout import (
    EdgeKind,
    EdgeSpec,
    Layout,
    NodeSpec,
    ShapeKind,
    layout_process,
    task_size,
)
from sopflow.definitions.model import DECISION_FIELD
from sopflow.definitions.table import Langkah, SopTable
from sopflow.errors import TableError, WaktuError

__all__ = [
    "BPMNDI_NS",
    "BPMN_NS",
    "CAMUNDA_NS",
    "DC_NS",
    "DI_NS",
    "TARGET_NAMESPACE",
    "XSI_NS",
    "compile_table",
    "item_variable",
    "joint_task_id",
    "step_id",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
TARGET_NAMESPACE = "https://sopflow.id/bpmn"

_NSMAP = {
    "bpmn": BPMN_NS,
    "bpmndi": BPMNDI_NS,
    "dc": DC_NS,
    "di": DI_NS,
    "camunda": CAMUNDA_NS,
    "xsi": XSI_NS,
}

#: the decision condition: the deciding task sets ``disetujui`` (approved) true or false
YES_CONDITION = f"{DECISION_FIELD} == true"

_PROCESS_TEXT_PROPERTIES: tuple[str, ...] = (
    "nomor",
    "nama",
    "pemerintah",
    "kecamatan",
    "unit",
    "tanggal_pembuatan",
    "tanggal_revisi",
    "tanggal_efektif",
    "disahkan_oleh_jabatan",
    "disahkan_oleh_nama",
    "disahkan_oleh_pangkat",
    "disahkan_oleh_nip",
    "zona_waktu",
)
_PROCESS_LIST_PROPERTIES: tuple[str, ...] = (
    "dasar_hukum",
    "kualifikasi_pelaksana",
    "keterkaitan",
    "peralatan_perlengkapan",
    "peringatan",
    "pencatatan_pendataan",
)


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def step_id(no: int) -> str:
    """The id of step ``no``: ``step_01`` ... (two digits, so ids sort in step order)."""
    return f"step_{no:02d}"


def _decision_id(no: int) -> str:
    return f"decision_{no:02d}"


def _merge_id(no: int) -> str:
    return f"merge_{no:02d}"


def _fork_id(no: int) -> str:
    return f"fork_{no:02d}"


def _join_id(no: int) -> str:
    return f"join_{no:02d}"


def joint_task_id(no: int, index: int) -> str:
    """The task of the ``index``-th (1-based) Pelaksana of joint step ``no``: ``step_03_2``."""
    return f"{step_id(no)}_{index}"


#: the name of a joint step's split: bpmnlint wants every split labelled
FORK_NAME = "Dikerjakan bersama"


@dataclass
class _Node:
    id: str
    tag: str
    name: str | None
    lane: int
    shape: ShapeKind
    step: Langkah | None = None
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    default: str | None = None
    #: drawn in the column of the node before it (the tasks of one joint step)
    shares_column: bool = False


@dataclass(frozen=True)
class _Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None
    kind: EdgeKind = EdgeKind.FORWARD


class _Graph:
    """Nodes in column order and flows, derived from the table's steps and decisions."""

    def __init__(self, table: SopTable) -> None:
        self.table = table
        lane_index = {p.nama: i for i, p in enumerate(table.pelaksana)}
        steps = table.langkah
        count = len(steps)
        # entries into each step: the start event, the previous step, decisions' targets
        entries: dict[int, int] = {1: 1}
        for step in steps:
            if step.keputusan is None:
                if step.no < count:
                    entries[step.no + 1] = entries.get(step.no + 1, 0) + 1
            else:
                for target in (step.keputusan.ya, step.keputusan.tidak):
                    entries[target] = entries.get(target, 0) + 1
        self.merged = {no for no, n in entries.items() if n > 1}

        self.nodes: list[_Node] = []
        self.flows: list[_Flow] = []
        first_lane = lane_index[steps[0].pelaksana]
        self._add(_Node("start", "startEvent", "Mulai", first_lane, ShapeKind.EVENT))
        for step in steps:
            lane = lane_index[step.pelaksana]
            if step.no in self.merged:
                self._add(_Node(_merge_id(step.no), "exclusiveGateway", None, lane,
                                ShapeKind.GATEWAY))
            if step.bersama:
                self._add(_Node(_fork_id(step.no), "parallelGateway", FORK_NAME, lane,
                                ShapeKind.GATEWAY))
                for index, actor in enumerate(step.semua_pelaksana, start=1):
                    self._add(_Node(joint_task_id(step.no, index), "userTask", step.kegiatan,
                                    lane_index[actor], ShapeKind.TASK, step=step,
                                    shares_column=index > 1))
                self._add(_Node(_join_id(step.no), "parallelGateway", None, lane,
                                ShapeKind.GATEWAY))
            else:
                tag = "callActivity" if step.panggil is not None else "userTask"
                self._add(_Node(step_id(step.no), tag, step.kegiatan, lane,
                                ShapeKind.TASK, step=step))
            if step.keputusan is not None:
                self._add(_Node(_decision_id(step.no), "exclusiveGateway", "Disetujui?",
                                lane, ShapeKind.GATEWAY))
        self._add(_Node("end", "endEvent", "Selesai", lane_index[steps[-1].pelaksana],
                        ShapeKind.EVENT))

        self._connect("start", 1)
        for step in steps:
            sid = self.entry_of(step)
            if step.no in self.merged:
                self._flow(_merge_id(step.no), sid)
            if step.bersama:
                for index in range(1, len(step.semua_pelaksana) + 1):
                    task = joint_task_id(step.no, index)
                    self._flow(sid, task)
                    self._flow(task, _join_id(step.no))
                sid = _join_id(step.no)
            if step.keputusan is not None:
                decision = _decision_id(step.no)
                self._flow(sid, decision)
                self._connect(decision, step.keputusan.ya, flow_id=f"flow_{step.no:02d}_ya",
                              name="Ya", condition=YES_CONDITION)
                self._connect(decision, step.keputusan.tidak,
                              flow_id=f"flow_{step.no:02d}_tidak", name="Tidak",
                              kind=EdgeKind.RETURN)
                self.by_id[decision].default = f"flow_{step.no:02d}_tidak"
            elif step.no < count:
                self._connect(sid, step.no + 1)
            else:
                self._flow(sid, "end")

    @staticmethod
    def entry_of(step: Langkah) -> str:
        """The node a flow into ``step`` enters (past its merge): the task, or its split."""
        return _fork_id(step.no) if step.bersama else step_id(step.no)

    def _add(self, node: _Node) -> None:
        self.nodes.append(node)
        self.by_id = {n.id: n for n in self.nodes}

    def _connect(self, source: str, target_no: int, *, flow_id: str | None = None,
                 name: str | None = None, condition: str | None = None,
                 kind: EdgeKind = EdgeKind.FORWARD) -> None:
        """A flow into step ``target_no``, through its merge gateway when it has one."""
        step = self.table.langkah[target_no - 1]
        target = _merge_id(target_no) if target_no in self.merged else self.entry_of(step)
        self._flow(source, target, flow_id=flow_id, name=name, condition=condition, kind=kind)

    def _flow(self, source: str, target: str, *, flow_id: str | None = None,
              name: str | None = None, condition: str | None = None,
              kind: EdgeKind = EdgeKind.FORWARD) -> None:
        flow = _Flow(flow_id or f"flow_{source}_{target}", source, target, name, condition,
                     kind)
        self.flows.append(flow)
        self.by_id[source].outgoing.append(flow.id)
        self.by_id[target].incoming.append(flow.id)


def _properties(parent: etree._Element, pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        return
    extension = etree.SubElement(parent, _bpmn("extensionElements"))
    properties = etree.SubElement(extension, f"{{{CAMUNDA_NS}}}properties")
    for name, value in pairs:
        etree.SubElement(properties, f"{{{CAMUNDA_NS}}}property", name=name, value=value)


def _process_properties(table: SopTable) -> list[tuple[str, str]]:
    header = table.identitas
    pairs: list[tuple[str, str]] = []
    for name in _PROCESS_TEXT_PROPERTIES:
        value = getattr(header, name)
        if value is not None:
            pairs.append((name, value))
    for name in _PROCESS_LIST_PROPERTIES:
        pairs.extend((name, item) for item in getattr(header, name))
    rules = table.kewenangan
    if rules.pembatal:
        pairs.append(("pembatal", ", ".join(rules.pembatal)))
    if rules.pemisahan_keputusan is not None:
        pairs.append(("pemisahan_keputusan", _yes_no(rules.pemisahan_keputusan)))
    if rules.hanya_definitif is not None:
        pairs.append(("hanya_definitif", _yes_no(rules.hanya_definitif)))
    return pairs


def _yes_no(flag: bool) -> str:
    """The value authority/policy.py reads for a yes/no rule."""
    return "ya" if flag else "tidak"


def _step_properties(step: Langkah) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = [("no", str(step.no))]
    pairs.extend(("kelengkapan", item) for item in step.kelengkapan)
    if step.waktu is not None:
        pairs.append(("waktu", step.waktu))
    pairs.extend(("output", item) for item in step.output)
    if step.keterangan is not None:
        pairs.append(("keterangan", step.keterangan))
    if step.keputusan is not None:
        pairs.append(("keputusan", DECISION_FIELD))
    # the authority rules (authority/policy.py); on every task of a joint step alike
    if step.bukan_pelaksana_langkah:
        pairs.append(
            ("bukan_pelaksana_langkah", ", ".join(map(str, step.bukan_pelaksana_langkah)))
        )
    if step.hanya_definitif is not None:
        pairs.append(("hanya_definitif", _yes_no(step.hanya_definitif)))
    if step.unit_induk:
        pairs.append(("unit_induk", "ya"))
    return pairs


def _step_extensions(element: etree._Element, step: Langkah) -> None:
    """Mutu Baku properties; for a call, the data passed in and back (all of it)."""
    _properties(element, _step_properties(step))
    if step.panggil is not None:
        extension = element.find(_bpmn("extensionElements"))
        assert extension is not None  # _step_properties always gives "no"
        etree.SubElement(extension, f"{{{CAMUNDA_NS}}}in", variables="all")
        etree.SubElement(extension, f"{{{CAMUNDA_NS}}}out", variables="all")


def _loop(element: etree._Element, node_id: str, field_name: str) -> None:
    """Parallel multi-instance over the list ``field_name``, each item as ``<field>_item``.

    Written both ways: Camunda's collection / elementVariable attributes, which Camunda
    Modeler shows and edits, and the standard's loopDataInputRef / inputDataItem, which
    SpiffWorkflow and other engines read (BPMN 2.0 section 10.2.8).
    """
    loop = etree.SubElement(element, _bpmn("multiInstanceLoopCharacteristics"),
                            isSequential="false")
    loop.set(f"{{{CAMUNDA_NS}}}collection", field_name)
    loop.set(f"{{{CAMUNDA_NS}}}elementVariable", item_variable(field_name))
    etree.SubElement(loop, _bpmn("loopDataInputRef")).text = field_name
    etree.SubElement(loop, _bpmn("inputDataItem"), id=f"{node_id}_item",
                     name=item_variable(field_name))


def item_variable(field_name: str) -> str:
    """The variable holding one item of an ``untuk_setiap`` list in each instance."""
    return f"{field_name}_item"


def _bounds(parent: etree._Element, tag: str, x: int, y: int, width: int,
            height: int) -> None:
    etree.SubElement(parent, tag, x=str(x), y=str(y), width=str(width), height=str(height))


def _diagram(root: etree._Element, graph: _Graph, layout: Layout) -> None:
    diagram = etree.SubElement(root, f"{{{BPMNDI_NS}}}BPMNDiagram", id="diagram")
    plane = etree.SubElement(diagram, f"{{{BPMNDI_NS}}}BPMNPlane", id="diagram_plane",
                             bpmnElement="collaboration")
    shape_tag, edge_tag = f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"
    bounds_tag, label_tag = f"{{{DC_NS}}}Bounds", f"{{{BPMNDI_NS}}}BPMNLabel"

    pool = etree.SubElement(plane, shape_tag, id="pool_di", bpmnElement="pool",
                            isHorizontal="true")
    b = layout.pool
    _bounds(pool, bounds_tag, b.x, b.y, b.width, b.height)
    for index, lane_bounds in enumerate(layout.lanes, start=1):
        lane = etree.SubElement(plane, shape_tag, id=f"lane_{index}_di",
                                bpmnElement=f"lane_{index}", isHorizontal="true")
        _bounds(lane, bounds_tag, lane_bounds.x, lane_bounds.y, lane_bounds.width,
                lane_bounds.height)
    for node in graph.nodes:
        placed = layout.nodes[node.id]
        shape = etree.SubElement(plane, shape_tag, id=f"{node.id}_di", bpmnElement=node.id)
        if node.tag == "exclusiveGateway":
            shape.set("isMarkerVisible", "true")
        elif node.tag == "callActivity":
            shape.set("isExpanded", "false")
        b = placed.bounds
        _bounds(shape, bounds_tag, b.x, b.y, b.width, b.height)
        if placed.label is not None:
            label = etree.SubElement(shape, label_tag)
            lb = placed.label
            _bounds(label, bounds_tag, lb.x, lb.y, lb.width, lb.height)
    for flow in graph.flows:
        routed = layout.edges[flow.id]
        edge = etree.SubElement(plane, edge_tag, id=f"{flow.id}_di", bpmnElement=flow.id)
        for x, y in routed.waypoints:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=str(x), y=str(y))
        if routed.label is not None:
            label = etree.SubElement(edge, label_tag)
            lb = routed.label
            _bounds(label, bounds_tag, lb.x, lb.y, lb.width, lb.height)


def _size(node: _Node) -> tuple[int, int]:
    """A task's box; a call activity's is wider, as modelers draw a marker at its bottom."""
    width, height = task_size(node.name or "")
    return (width + 40, height) if node.tag == "callActivity" else (width, height)


def _check_waktu(table: SopTable) -> None:
    """The loader's waktu check, for tables built in code rather than read by parse_table."""
    from sopflow.sla.durations import parse_waktu

    for step in table.langkah:
        if step.waktu is None:
            continue
        try:
            parse_waktu(step.waktu)
        except WaktuError as exc:
            raise TableError(f"step {step.no}: waktu: {exc}", file=table.source) from None


def _check_rules(table: SopTable) -> None:
    """The table reader's separation check, for tables built in code: a number that is no
    step would compile to a file whose every action the engine refuses as undefined."""
    for step in table.langkah:
        for no in step.bukan_pelaksana_langkah:
            target = table.langkah_by_no(no)
            if target is None or target.panggil is not None or no == step.no:
                raise TableError(
                    f"step {step.no}: bukan_pelaksana_langkah: {no} is not another step "
                    "someone does in this table",
                    file=table.source,
                )


def compile_table(table: SopTable) -> bytes:
    """The BPMN file of ``table``: same table, same bytes (UTF-8, pretty-printed)."""
    from sopflow import __version__

    _check_waktu(table)
    _check_rules(table)
    graph = _Graph(table)
    name = table.identitas.nama or table.process_id

    root = etree.Element(_bpmn("definitions"), nsmap=_NSMAP)
    root.set("id", "definitions")
    root.set("targetNamespace", TARGET_NAMESPACE)
    root.set("exporter", "sopflow")
    root.set("exporterVersion", __version__)

    collaboration = etree.SubElement(root, _bpmn("collaboration"), id="collaboration")
    etree.SubElement(collaboration, _bpmn("participant"), id="pool", name=name,
                     processRef=table.process_id)

    process = etree.SubElement(root, _bpmn("process"), id=table.process_id, name=name,
                               isExecutable="true")
    _properties(process, _process_properties(table))
    lane_set = etree.SubElement(process, _bpmn("laneSet"), id="lanes")
    for index, person in enumerate(table.pelaksana):
        lane = etree.SubElement(lane_set, _bpmn("lane"), id=f"lane_{index + 1}",
                                name=person.nama)
        _properties(lane, [("role", person.peran)])
        for node in graph.nodes:
            if node.lane == index:
                etree.SubElement(lane, _bpmn("flowNodeRef")).text = node.id

    # the lists untuk_setiap rows go through, as data objects: loopDataInputRef refers to
    # an item-aware element by id (BPMN 2.0 section 10.2.8), and modelers resolve it
    for field_name in dict.fromkeys(s.untuk_setiap for s in table.langkah if s.untuk_setiap):
        etree.SubElement(process, _bpmn("dataObject"), id=field_name, name=field_name)
    for node in graph.nodes:
        element = etree.SubElement(process, _bpmn(node.tag), id=node.id)
        if node.name is not None:
            element.set("name", node.name)
        if node.default is not None:
            element.set("default", node.default)
        if node.step is not None and node.step.panggil is not None:
            element.set("calledElement", node.step.panggil)
        if node.step is not None:
            _step_extensions(element, node.step)
        for flow_id in node.incoming:
            etree.SubElement(element, _bpmn("incoming")).text = flow_id
        for flow_id in node.outgoing:
            etree.SubElement(element, _bpmn("outgoing")).text = flow_id
        if node.step is not None and node.step.untuk_setiap is not None:
            _loop(element, node.id, node.step.untuk_setiap)
    for flow in graph.flows:
        element = etree.SubElement(process, _bpmn("sequenceFlow"), id=flow.id)
        if flow.name is not None:
            element.set("name", flow.name)
        element.set("sourceRef", flow.source)
        element.set("targetRef", flow.target)
        if flow.condition is not None:
            condition = etree.SubElement(element, _bpmn("conditionExpression"))
            condition.set(f"{{{XSI_NS}}}type", "bpmn:tFormalExpression")
            condition.text = flow.condition

    layout = layout_process(
        len(table.pelaksana),
        [
            NodeSpec(n.id, n.shape, n.lane, None, _size(n), shares_column=n.shares_column)
            if n.shape is ShapeKind.TASK
            else NodeSpec(n.id, n.shape, n.lane, n.name)
            for n in graph.nodes
        ],
        [EdgeSpec(f.id, f.source, f.target, f.kind, f.name) for f in graph.flows],
    )
    _diagram(root, graph, layout)
    body: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True,
                                 encoding="UTF-8")
    return body
