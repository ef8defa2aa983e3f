"""Load a BPMN file into a checked :class:`~sopflow.definitions.model.ProcessDefinition`.

The pipeline is strict on purpose; each stage refuses what the next would trip over:

1. hardened XML parsing (:mod:`sopflow.definitions.xmlsafe`): no DTD, no entities, bounded size;
2. the BPMN 2.0 XSD that SpiffWorkflow bundles;
3. reading the executable process into plain records (:class:`RawProcess`), keeping each
   element's source line so every message can say ``file:line: element-id: ...``;
4. the SOP checks (:mod:`sopflow.definitions.checks`), all findings collected at once;
5. SpiffWorkflow's own parser, so nothing it cannot parse is accepted;
6. building the immutable definition the engine, SLA monitor and reports read.

Nothing is executed while loading: conditions are only compiled by the safe expression
language, never evaluated.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lxml import etree

from sopflow.definitions.events import event_kind, event_refs, read_event, unsupported_event
from sopflow.definitions.jobspec import NO_JOBS, JobSpec, read_job_spec
from sopflow.definitions.model import (
    MESSAGE,
    Call,
    Decision,
    EventDefinition,
    Flow,
    Lane,
    MultiInstance,
    Node,
    NodeKind,
    ProcessDefinition,
    SopHeader,
    StandardLoop,
    Step,
)
from sopflow.definitions.xmlsafe import DEFAULT_MAX_BYTES, parse_xml, read_limited
from sopflow.errors import BpmnSchemaError, DefinitionError, SopCheckError

__all__ = [
    "Bounds",
    "RawFlow",
    "RawLane",
    "RawNode",
    "RawProcess",
    "boolean_test",
    "build_definition",
    "definition_version",
    "executable_process_ids",
    "joint_steps",
    "load_definition",
    "load_definition_bytes",
    "load_definitions",
    "load_definitions_bytes",
    "problems_of",
    "read_process",
    "step_numbers",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"

_SHORT_NS = {
    BPMN_NS: "bpmn",
    BPMNDI_NS: "bpmndi",
    DC_NS: "dc",
    DI_NS: "di",
    CAMUNDA_NS: "camunda",
    SPIFF_NS: "spiffworkflow",
}

#: BPMN flow nodes sopflow runs, by local tag name.
_SUPPORTED: dict[str, NodeKind] = {
    "startEvent": NodeKind.START,
    "endEvent": NodeKind.END,
    "userTask": NodeKind.USER_TASK,
    "manualTask": NodeKind.MANUAL_TASK,
    "task": NodeKind.PASS,
    "intermediateThrowEvent": NodeKind.PASS,
    "exclusiveGateway": NodeKind.EXCLUSIVE_GATEWAY,
    "parallelGateway": NodeKind.PARALLEL_GATEWAY,
    "inclusiveGateway": NodeKind.INCLUSIVE_GATEWAY,
    "subProcess": NodeKind.SUBPROCESS,
    "scriptTask": NodeKind.SCRIPT_TASK,
    "serviceTask": NodeKind.SERVICE_TASK,
    "sendTask": NodeKind.SERVICE_TASK,
    "businessRuleTask": NodeKind.SERVICE_TASK,
    "intermediateCatchEvent": NodeKind.TIMER_CATCH,
    "callActivity": NodeKind.CALL_ACTIVITY,
    "receiveTask": NodeKind.RECEIVE_TASK,
    "boundaryEvent": NodeKind.BOUNDARY,
    "eventBasedGateway": NodeKind.EVENT_GATEWAY,
}

#: BPMN flow nodes sopflow refuses, with the reason a person can act on.
_UNSUPPORTED: dict[str, str] = {
    "complexGateway": (
        "its activation rule is an arbitrary expression over token counts; "
        "use a parallel or inclusive gateway"
    ),
    "transaction": "transactions (and their cancel and compensation) are not run; "
    "use an embedded subProcess",
    "adHocSubProcess": "ad-hoc subprocesses have no order to follow",
}

#: Properties of the process that map onto SopHeader, split by shape.
_HEADER_LISTS = (
    "dasar_hukum",
    "kualifikasi_pelaksana",
    "keterkaitan",
    "peralatan_perlengkapan",
    "peringatan",
    "pencatatan_pendataan",
)
_HEADER_SCALARS = tuple(
    name for name in SopHeader.__dataclass_fields__ if name not in _HEADER_LISTS
)


@dataclass(frozen=True, slots=True)
class Bounds:
    """A DI shape's rectangle, in the plane named by ``plane``."""

    plane: str
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y + self.height / 2)

    def contains(self, point: tuple[float, float]) -> bool:
        px, py = point
        return self.x <= px <= self.x + self.width and self.y <= py <= self.y + self.height


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    value: str
    line: int | None


@dataclass(slots=True)
class RawFlow:
    id: str
    source: str
    target: str
    name: str | None
    condition: str | None
    line: int | None
    condition_line: int | None


@dataclass(slots=True)
class RawNode:
    """A flow node as written; ``kind`` is None when sopflow refuses the element."""

    id: str
    tag: str
    kind: NodeKind | None
    name: str | None
    line: int | None
    scope: str | None
    properties: tuple[Property, ...] = ()
    unsupported: str | None = None
    jobs: JobSpec = NO_JOBS
    default: str | None = None
    start_quantity: str | None = None
    completion_quantity: str | None = None
    multi: MultiInstance | None = None
    loop: StandardLoop | None = None
    loop_maximum: str | None = None
    call: Call | None = None
    event: EventDefinition | None = None
    #: a boundary event's host activity (attachedToRef), for reachability
    attached_to: str | None = None
    interrupting: bool = True
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    #: Step keyword arguments from other modelers' attributes (definitions/_tasks.py)
    extras: dict[str, Any] = field(default_factory=dict)

    def prop(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name and p.value != ""), None)

    def props(self, name: str) -> tuple[str, ...]:
        return tuple(p.value for p in self.properties if p.name == name and p.value != "")

    @property
    def is_step(self) -> bool:
        return self.kind in (NodeKind.USER_TASK, NodeKind.MANUAL_TASK)

    @property
    def is_row(self) -> bool:
        """A row of the SOP table: a step, or a call activity (a row run by another SOP)."""
        return self.is_step or self.kind is NodeKind.CALL_ACTIVITY


@dataclass(slots=True)
class RawLane:
    id: str
    name: str | None
    role: str | None
    line: int | None
    refs: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(slots=True)
class RawProcess:
    """The executable process of one file, read but not yet checked."""

    source: str
    process_id: str
    name: str
    line: int | None
    properties: tuple[Property, ...]
    nodes: dict[str, RawNode]
    flows: dict[str, RawFlow]
    lanes: list[RawLane]
    #: element id -> its DI shape (first one found)
    shapes: dict[str, Bounds]
    #: problems found while reading (unknown references, ...), reported with the checks
    problems: list[DefinitionError] = field(default_factory=list)
    #: root message/signal/error/escalation id -> its name or code (definitions.events)
    event_refs: dict[str, str] = field(default_factory=dict)

    def error(self, message: str, *, line: int | None, element: str | None) -> DefinitionError:
        return DefinitionError(message, file=self.source, line=line, element=element)

    def node_lanes(self, node_id: str) -> list[RawLane]:
        """Leaf lanes listing the node; nodes inside a subprocess inherit its lane.

        SpiffWorkflow does the same: an embedded subprocess's tasks take the lane of
        the subprocess task, and bpmn-js does not list inner nodes in flowNodeRef.
        """
        seen: set[str] = set()
        current: str | None = node_id
        while current is not None and current not in seen:
            seen.add(current)
            lanes = [lane for lane in self.lanes if current in lane.refs]
            if lanes:
                return lanes
            node = self.nodes.get(current)
            current = node.scope if node is not None else None
        return []

    def start_of(self, scope: str | None) -> list[RawNode]:
        """The start events of a scope, its none start event first (the one
        ``engine.start`` and a subprocess's entry use)."""
        found = [n for n in self.nodes.values() if n.scope == scope and n.kind is NodeKind.START]
        found.sort(key=lambda n: n.event is not None or n.jobs.timer is not None)
        return found


def _short(text: str) -> str:
    for uri, prefix in _SHORT_NS.items():
        text = text.replace("{" + uri + "}", prefix + ":")
    return text


def _local(tag: object) -> str | None:
    if not isinstance(tag, str):
        return None  # comments and processing instructions
    qname = etree.QName(tag)
    return qname.localname if qname.namespace == BPMN_NS else None


def _line(elem: etree._Element) -> int | None:
    line: object = elem.sourceline
    return line if isinstance(line, int) else None


def _properties(elem: etree._Element) -> tuple[Property, ...]:
    """camunda:properties (the convention), or spiffworkflow:properties (foreign files)."""
    found: list[Property] = []
    for ext in elem.iterchildren(f"{{{BPMN_NS}}}extensionElements"):
        for ns in (CAMUNDA_NS, SPIFF_NS, ZEEBE_NS):
            for prop in ext.iterfind(f"{{{ns}}}properties/{{{ns}}}property"):
                name = prop.get("name")
                if name:
                    found.append(Property(name, prop.get("value") or "", _line(prop)))
    return tuple(found)


# ---------------------------------------------------------------------------------------
# XSD and SpiffWorkflow


_SCHEMA_LOCK = threading.Lock()


@cache
def _validator() -> Any:
    """SpiffWorkflow's bundled BPMN 2.0 XSD, built once (it takes ~0.5 s) and only if needed."""
    from SpiffWorkflow.spiff.parser.process import VALIDATOR

    return VALIDATOR


def _element_for(tree: etree._ElementTree, path: str | None, line: int | None) -> str | None:
    """The id of the element an XSD error is about, or of its nearest ancestor with one."""
    elem: etree._Element | None = None
    if path:
        try:
            hits = tree.xpath(path, namespaces=dict((v, k) for k, v in _SHORT_NS.items()))
        except etree.XPathError:
            hits = []
        if isinstance(hits, list) and hits and isinstance(hits[0], etree._Element):
            elem = hits[0]
    if elem is None and line is not None:
        elem = next((e for e in tree.iter() if _line(e) == line), None)
    while elem is not None:
        ident = elem.get("id") if isinstance(elem.tag, str) else None
        if ident:
            return ident
        elem = elem.getparent()
    return None


#: most schema findings reported for one file (a broken file can have thousands)
_MAX_SCHEMA_FINDINGS = 50


def _schema_problems(tree: etree._ElementTree, source: str) -> list[DefinitionError]:
    """Every XSD finding (up to a bound), so ``validate`` shows them all at once."""
    validator = _validator()
    with _SCHEMA_LOCK:
        validator.preprocess(tree)
        schema = validator.validator
        if schema.validate(tree):
            return []
        entries = list(schema.error_log)[:_MAX_SCHEMA_FINDINGS]
    problems: list[DefinitionError] = []
    for entry in entries:
        line = entry.line if entry.line > 0 else None
        problems.append(
            BpmnSchemaError(
                f"not valid BPMN 2.0: {_short(entry.message)}",
                file=source,
                line=line,
                element=_element_for(tree, entry.path, line),
            )
        )
    return problems


#: SpiffWorkflow parser refusals of valid BPMN that sopflow's engine runs itself.
_SPIFF_LIMITS = (
    "Multiple outgoing flows are not supported",
    # camunda:collection: sopflow's loop check requires a collection or a cardinality
    "A multiinstance task must specify a cardinality or a loop input data reference",
)


def _spiff_parse(tree: etree._ElementTree, raw: RawProcess) -> None:
    """Let SpiffWorkflow parse the process, so a file it cannot read is refused now."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    # bpmn.io saves isExecutable="false" by default; sopflow already chose the process to
    # run (single participant or single process), so tell SpiffWorkflow the same. The tree
    # is a private parse: the definition keeps the original bytes.
    for process in tree.getroot().iterchildren(f"{{{BPMN_NS}}}process"):
        if process.get("id") == raw.process_id:
            process.set("isExecutable", "true")
    # SpiffWorkflow has no parser for business-rule tasks without its DMN engine;
    # sopflow runs them as jobs like service tasks, so let it read them as those.
    for elem in tree.getroot().iter(f"{{{BPMN_NS}}}businessRuleTask"):
        elem.tag = f"{{{BPMN_NS}}}serviceTask"
    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(tree, filename=raw.source)
        parser.get_spec(raw.process_id)
        # a called process lives in another file: the catalog checks that it exists
        parser.get_subprocess_specs(raw.process_id, require_call_activity_specs=False)
    except ValidationException as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        if message.startswith(_SPIFF_LIMITS):
            return  # valid BPMN that sopflow's own engine runs (implicit split, Camunda MI)
        element = exc.id or None
        node = raw.nodes.get(element) if element else None
        line = exc.line_number if isinstance(exc.line_number, int) else None
        if line is None and node is not None:
            line = node.line
        raise DefinitionError(
            f"SpiffWorkflow cannot parse it: {message}",
            file=raw.source,
            line=line,
            element=element,
        ) from exc
    except Exception as exc:
        # SpiffWorkflow raises assorted KeyError/AttributeError on odd input; for the
        # person loading the file this is still "the file cannot be used", not a crash.
        raise DefinitionError(
            f"SpiffWorkflow cannot parse it: {type(exc).__name__}: {exc}", file=raw.source
        ) from exc


# ---------------------------------------------------------------------------------------
# Reading


def _executable_process(root: etree._Element, source: str) -> etree._Element:
    processes = [p for p in root.iterchildren(f"{{{BPMN_NS}}}process")]
    by_id = {p.get("id"): p for p in processes}
    refs = [
        part.get("processRef")
        for collab in root.iterchildren(f"{{{BPMN_NS}}}collaboration")
        for part in collab.iterchildren(f"{{{BPMN_NS}}}participant")
        if part.get("processRef")
    ]
    if len(refs) == 1 and refs[0] in by_id:
        return by_id[refs[0]]
    if len(processes) == 1:
        return processes[0]
    executable = _marked(processes)
    if len(executable) == 1:
        return executable[0]
    if not processes:
        raise BpmnSchemaError("the file holds no bpmn:process", file=source, line=_line(root))
    if len(executable) > 1:
        raise BpmnSchemaError(
            f"the file holds {len(executable)} executable processes: load it with "
            "load_definitions (a Catalog does), or mark only one executable",
            file=source,
            line=_line(root),
        )
    raise BpmnSchemaError(
        f"cannot tell which of {len(processes)} processes to run: "
        'mark exactly one isExecutable="true"',
        file=source,
        line=_line(root),
    )


def _marked(processes: list[etree._Element]) -> list[etree._Element]:
    """The executable processes among several: the isExecutable="true" ones; when none
    is marked, every one that has no isExecutable attribute and is not public.

    BPMN 2.0 (section 10.2, the Process attributes) gives isExecutable no default except
    that a public process without it is not executable. SpiffWorkflow and Flowable read a
    missing attribute as true; Camunda 7 deploys only processes marked true (it logs
    ENGINE-01003 for a missing one), and Camunda Modeler and bpmn.io always write it. So
    a file that marks none (SpiffWorkflow's own test files) runs as SpiffWorkflow runs
    it, and a file that marks some keeps exactly those.
    """
    marked = [p for p in processes if p.get("isExecutable") == "true"]
    if marked:
        return marked
    return [
        p for p in processes if p.get("isExecutable") is None and p.get("processType") != "Public"
    ]


def executable_process_ids(root: etree._Element, source: str) -> list[str]:
    """The processes of a file sopflow runs: every isExecutable="true" one when there
    are several, else the one :func:`_executable_process` picks (bpmn.io saves a lone
    process as not executable, and a lone process is still the one meant)."""
    marked = [p.get("id") or "" for p in _marked(list(root.iterchildren(f"{{{BPMN_NS}}}process")))]
    if len(marked) >= 2:
        return marked
    return [_executable_process(root, source).get("id") or ""]


_LOOPS = ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics")
_LOOPABLE = frozenset({"userTask", "manualTask", "scriptTask", "task", "subProcess"})


def _text(elem: etree._Element | None) -> str | None:
    if elem is None:
        return None
    text = (elem.text or "").strip()
    return text or None


def _read_multi(elem: etree._Element) -> MultiInstance | None:
    """multiInstanceLoopCharacteristics, in the standard's and Camunda's spelling."""
    mi = elem.find(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics")
    if mi is None:
        return None
    item = mi.find(f"{{{BPMN_NS}}}inputDataItem")
    out_item = mi.find(f"{{{BPMN_NS}}}outputDataItem")
    return MultiInstance(
        sequential=mi.get("isSequential") == "true",
        cardinality=_text(mi.find(f"{{{BPMN_NS}}}loopCardinality")),
        collection=mi.get(f"{{{CAMUNDA_NS}}}collection")
        or _text(mi.find(f"{{{BPMN_NS}}}loopDataInputRef")),
        element=mi.get(f"{{{CAMUNDA_NS}}}elementVariable")
        or (None if item is None else item.get("name") or item.get("id")),
        completion=_text(mi.find(f"{{{BPMN_NS}}}completionCondition")),
        output=_text(mi.find(f"{{{BPMN_NS}}}loopDataOutputRef")),
        output_element=None if out_item is None else out_item.get("name") or out_item.get("id"),
    )


def _variable(by_id: dict[str, etree._Element], ref: str | None) -> str | None:
    """The variable a data association end names: a data object (through its reference)
    by its id, as SpiffWorkflow names it; a call's dataInput/dataOutput by its name."""
    found = by_id.get(ref or "")
    if found is None:
        return None
    if _local(found.tag) == "dataObjectReference":
        found = by_id.get(found.get("dataObjectRef") or "")
        return None if found is None else found.get("id")
    name = found.get("name") or ""
    return name if name.isidentifier() else found.get("id")


def _read_call(elem: etree._Element) -> tuple[Call | None, str | None]:
    """calledElement and camunda:in / camunda:out; the second value is a problem."""
    called = (elem.get("calledElement") or "").strip()
    if not called:
        return None, "a callActivity needs a calledElement naming a process of the catalog"
    inputs: list[tuple[str, str]] = []
    outputs: list[tuple[str, str]] = []
    all_in = all_out = False
    for ext in elem.iterchildren(f"{{{BPMN_NS}}}extensionElements"):
        for tag, into in (("in", inputs), ("out", outputs)):
            for mapping in ext.iterchildren(f"{{{CAMUNDA_NS}}}{tag}"):
                if mapping.get("variables") == "all":
                    if tag == "in":
                        all_in = True
                    else:
                        all_out = True
                    continue
                source, target = mapping.get("source"), mapping.get("target")
                if not source or not target:
                    return None, (
                        f"camunda:{tag} needs source and target variable names "
                        "(sourceExpression and businessKey are not supported)"
                    )
                into.append((source, target))
    # The standard's data associations, where both ends are plain names (no
    # transformation, no assignment): source variable of the caller -> target of the
    # child going in, the other way coming out.
    by_id: dict[str, etree._Element] = {}
    for tag, into in (("dataInputAssociation", inputs), ("dataOutputAssociation", outputs)):
        for assoc in elem.iterchildren(f"{{{BPMN_NS}}}{tag}"):
            if not by_id:
                by_id = {str(e.get("id")): e for e in elem.getroottree().iter() if e.get("id")}
            source = _variable(by_id, _text(assoc.find(f"{{{BPMN_NS}}}sourceRef")))
            target = _variable(by_id, _text(assoc.find(f"{{{BPMN_NS}}}targetRef")))
            plain = assoc.find(f"{{{BPMN_NS}}}transformation") is None and (
                assoc.find(f"{{{BPMN_NS}}}assignment") is None
            )
            if not (source and target and plain):
                return None, (
                    f"bpmn:{tag} must map one plain name to another "
                    "(transformations and assignments are not run)"
                )
            into.append((source, target))
    return Call(called, tuple(inputs), tuple(outputs), all_in, all_out), None


def _read_loop(elem: etree._Element) -> tuple[StandardLoop | None, str | None]:
    """standardLoopCharacteristics and its loopMaximum text (checked later)."""
    loop = elem.find(f"{{{BPMN_NS}}}standardLoopCharacteristics")
    if loop is None:
        return None, None
    maximum = loop.get("loopMaximum")
    value = int(maximum) if maximum is not None and maximum.strip().isdigit() else None
    return (
        StandardLoop(
            condition=_text(loop.find(f"{{{BPMN_NS}}}loopCondition")),
            test_before=loop.get("testBefore") == "true",
            maximum=value,
        ),
        maximum,
    )


def _unsupported_reason(elem: etree._Element, tag: str) -> str | None:
    if tag in _UNSUPPORTED:
        return f"bpmn:{tag} is not supported by sopflow: {_UNSUPPORTED[tag]}"
    for child in elem:
        child_tag = _local(child.tag)
        if child_tag is None:
            continue
        if child_tag == "eventDefinitionRef":
            return f"bpmn:{tag} with an eventDefinitionRef is not run: define the event inline"
        if child_tag in _LOOPS and tag not in _LOOPABLE:
            return (
                f"{child_tag.removesuffix('Characteristics')} on bpmn:{tag} is not supported "
                "by sopflow: only tasks and embedded subprocesses repeat"
            )
    if tag.endswith("Event"):
        return unsupported_event(elem, tag)
    return None


def _read_scope(
    container: etree._Element, scope: str | None, raw: RawProcess, lane_sets: list[etree._Element]
) -> None:
    for elem in container:
        tag = _local(elem.tag)
        if tag is None:
            continue
        if tag == "laneSet":
            lane_sets.append(elem)
            continue
        if tag == "sequenceFlow":
            cond = elem.find(f"{{{BPMN_NS}}}conditionExpression")
            text = (cond.text or "").strip() if cond is not None else ""
            flow_id = elem.get("id") or _generated_flow_id(elem, raw)
            raw.flows[flow_id] = RawFlow(
                id=flow_id,
                source=elem.get("sourceRef") or "",
                target=elem.get("targetRef") or "",
                name=elem.get("name"),
                condition=text or None,
                line=_line(elem),
                condition_line=_line(cond) if cond is not None else None,
            )
            continue
        if tag not in _SUPPORTED and tag not in _UNSUPPORTED:
            continue  # artifacts, data objects, documentation: not part of the flow
        node_id = elem.get("id") or ""
        properties = _properties(elem)
        node = RawNode(
            id=node_id,
            tag=tag,
            kind=_SUPPORTED.get(tag),
            name=elem.get("name"),
            line=_line(elem),
            scope=scope,
            properties=properties,
            unsupported=_unsupported_reason(elem, tag),
            jobs=read_job_spec(elem, {p.name: p.value for p in properties}),
            default=elem.get("default"),
            start_quantity=elem.get("startQuantity"),
            completion_quantity=elem.get("completionQuantity"),
            attached_to=elem.get("attachedToRef") if tag == "boundaryEvent" else None,
        )
        if tag == "endEvent" and elem.find(f"{{{BPMN_NS}}}terminateEventDefinition") is not None:
            node.kind = NodeKind.TERMINATE_END
        if node.unsupported is None:
            _read_event_of(elem, tag, node, raw)
        if tag == "callActivity" and node.unsupported is None:
            node.call, node.unsupported = _read_call(elem)
        if tag in _LOOPABLE:
            node.multi = _read_multi(elem)
            node.loop, node.loop_maximum = _read_loop(elem)
        if node.unsupported is not None:
            node.kind = None
        if node.is_step or (tag == "startEvent" and scope is None):
            node.extras = _task_extras(elem, raw, node_id)
        raw.nodes[node_id] = node
        if tag == "subProcess":
            _read_scope(elem, node_id, raw, lane_sets)


def _generated_flow_id(elem: etree._Element, raw: RawProcess) -> str:
    """A stable id for a sequence flow written without one (Flowable files; BPMN allows it).

    Set on the loader's private tree too, so SpiffWorkflow sees the same flow.
    """
    base = f"flow_{elem.get('sourceRef') or ''}_to_{elem.get('targetRef') or ''}"
    flow_id, n = base, 1
    while flow_id in raw.flows:
        n += 1
        flow_id = f"{base}_{n}"
    elem.set("id", flow_id)
    return flow_id


def _task_extras(elem: etree._Element, raw: RawProcess, node_id: str) -> dict[str, Any]:
    from sopflow.definitions._tasks import read_task_extras

    def problem(code: str, message: str, line: int | None) -> None:
        where = line or _line(elem)
        error = DefinitionError(message, file=raw.source, line=where, element=node_id, code=code)
        raw.problems.append(error)

    return read_task_extras(elem, problem)


def _read_event_of(elem: etree._Element, tag: str, node: RawNode, raw: RawProcess) -> None:
    """The event parts of a node: its definition, what it is attached to (10.5)."""
    if tag.endswith("Event"):
        node.event, problem = read_event(elem, raw.event_refs)
        if problem is not None:
            raw.problems.append(raw.error(problem, line=node.line, element=node.id))
    if tag == "receiveTask":
        ref = (elem.get("messageRef") or "").strip()
        if ref in raw.event_refs:
            node.event = EventDefinition(MESSAGE, raw.event_refs[ref])
        else:
            what = (
                f"messageRef {ref!r} is not a bpmn:message of the file"
                if ref
                else ("a receive task needs a messageRef naming the message it waits for")
            )
            raw.problems.append(raw.error(what, line=node.line, element=node.id))
    if tag == "boundaryEvent":
        node.attached_to = elem.get("attachedToRef")
        node.interrupting = elem.get("cancelActivity", "true").strip() != "false"
    if tag == "startEvent":
        node.interrupting = elem.get("isInterrupting", "true").strip() != "false"
    kind = event_kind(tag, node.event, elem.get("triggeredByEvent") == "true")
    if kind is not None:
        node.kind = kind


def _read_lanes(lane_set: etree._Element, into: list[RawLane]) -> None:
    """Flatten nested childLaneSets to their leaf lanes, in document order."""
    for lane in lane_set.iterchildren(f"{{{BPMN_NS}}}lane"):
        children = lane.findall(f"{{{BPMN_NS}}}childLaneSet")
        if any(c.find(f"{{{BPMN_NS}}}lane") is not None for c in children):
            for child in children:
                _read_lanes(child, into)
            continue
        props = _properties(lane)
        role = next((p.value.strip() for p in props if p.name == "role" and p.value.strip()), None)
        name = lane.get("name")
        into.append(
            RawLane(
                id=lane.get("id") or "",
                name=name if name and name.strip() else None,
                role=role,
                line=_line(lane),
                refs=[
                    (ref.text or "").strip()
                    for ref in lane.iterchildren(f"{{{BPMN_NS}}}flowNodeRef")
                ],
            )
        )


def _read_shapes(root: etree._Element) -> dict[str, Bounds]:
    shapes: dict[str, Bounds] = {}
    for plane in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
        plane_id = plane.get("bpmnElement") or plane.get("id") or ""
        for shape in plane.iterchildren(f"{{{BPMNDI_NS}}}BPMNShape"):
            element = shape.get("bpmnElement")
            bounds = shape.find(f"{{{DC_NS}}}Bounds")
            if not element or bounds is None or element in shapes:
                continue
            try:
                shapes[element] = Bounds(
                    plane_id,
                    float(bounds.get("x", "")),
                    float(bounds.get("y", "")),
                    float(bounds.get("width", "")),
                    float(bounds.get("height", "")),
                )
            except ValueError:
                continue  # the XSD already refuses non-numbers; be robust anyway
    return shapes


def read_process(
    tree: etree._ElementTree, *, source: str, process_id: str | None = None
) -> RawProcess:
    """Read the executable process (or the one named) of an XSD-valid tree."""
    root = tree.getroot()
    if process_id is None:
        process = _executable_process(root, source)
    else:
        found = [p for p in root.iterchildren(f"{{{BPMN_NS}}}process") if p.get("id") == process_id]
        if not found:
            raise BpmnSchemaError(f"the file holds no process {process_id!r}", file=source)
        process = found[0]
    process_id = process.get("id") or ""
    participant_name = next(
        (
            part.get("name")
            for part in root.iter(f"{{{BPMN_NS}}}participant")
            if part.get("processRef") == process_id and part.get("name")
        ),
        None,
    )
    raw = RawProcess(
        source=source,
        process_id=process_id,
        name=process.get("name") or participant_name or process_id,
        line=_line(process),
        properties=_properties(process),
        nodes={},
        flows={},
        lanes=[],
        shapes=_read_shapes(root),
        event_refs=event_refs(root),
    )
    lane_sets: list[etree._Element] = []
    _read_scope(process, None, raw, lane_sets)
    for lane_set in lane_sets:
        _read_lanes(lane_set, raw.lanes)
    for flow in raw.flows.values():
        for end, ref in (("sourceRef", flow.source), ("targetRef", flow.target)):
            if ref not in raw.nodes:
                raw.problems.append(
                    raw.error(
                        f"{end} {ref!r} is not a flow node of process {process_id!r}",
                        line=flow.line,
                        element=flow.id,
                    )
                )
        if flow.source in raw.nodes:
            raw.nodes[flow.source].outgoing.append(flow.id)
        if flow.target in raw.nodes:
            raw.nodes[flow.target].incoming.append(flow.id)
    from sopflow.definitions._convention import follows_sop_convention

    if not follows_sop_convention(raw):
        # A lane with neither a name nor a role names no one (BPMN 2.0 10.8: a lane
        # organises, it assigns nothing): in a file that is not an SOP its tasks are as
        # if in no lane (open, or assigned by their own attributes). An SOP refuses it.
        raw.lanes[:] = [lane for lane in raw.lanes if lane.name or lane.role]
    return raw


# ---------------------------------------------------------------------------------------
# Building


def _successors(raw: RawProcess, node: RawNode) -> list[str]:
    """Execution order neighbours: into a subprocess's start, out of its end."""
    if node.kind is NodeKind.SUBPROCESS:
        inner = raw.start_of(node.id)
        if inner:
            return [inner[0].id]
    targets = [raw.flows[f].target for f in node.outgoing if raw.flows[f].target in raw.nodes]
    ends = (NodeKind.END, NodeKind.TERMINATE_END)
    if node.kind in ends and node.scope is not None and node.scope in raw.nodes:
        parent = raw.nodes[node.scope]
        targets += [
            raw.flows[f].target for f in parent.outgoing if raw.flows[f].target in raw.nodes
        ]
    return targets


def joint_steps(raw: RawProcess) -> dict[str, str]:
    """The tasks of joint steps, each mapped to the parallel split it is a branch of.

    A joint step (several Pelaksana doing one row, ``pelaksana = [...]`` in a table) is a
    parallel split whose every branch is one task, each in its own lane, all entering one
    parallel join; its tasks share the row's number, and nothing else may.
    """
    found: dict[str, str] = {}
    for split in raw.nodes.values():
        if split.kind is not NodeKind.PARALLEL_GATEWAY or len(split.outgoing) < 2:
            continue
        tasks = [raw.nodes.get(raw.flows[f].target) for f in split.outgoing]
        joins: set[str] = set()
        lanes: set[str] = set()
        for task in tasks:
            if task is None or not task.is_step or task.multi is not None:
                break
            if len(task.incoming) != 1 or len(task.outgoing) != 1:
                break
            join = raw.nodes.get(raw.flows[task.outgoing[0]].target)
            task_lanes = raw.node_lanes(task.id)
            if join is None or join.kind is not NodeKind.PARALLEL_GATEWAY or len(task_lanes) != 1:
                break
            joins.add(join.id)
            lanes.add(task_lanes[0].id)
        else:
            if len(joins) == 1 and len(lanes) == len(tasks):
                found.update((task.id, split.id) for task in tasks if task is not None)
    return found


def step_numbers(raw: RawProcess) -> dict[str, int]:
    """Step numbers: the ``no`` property, else breadth-first order from the start.

    Steps without ``no`` are numbered after the highest explicit number, so a file
    that numbers some steps keeps those numbers.
    """
    explicit: dict[str, int] = {}
    for node in raw.nodes.values():
        prop = node.prop("no") if node.is_row else None
        if prop is not None and re.fullmatch(r"\s*\d+\s*", prop.value):
            explicit[node.id] = int(prop.value)
    order: list[str] = []
    starts = raw.start_of(None)
    seen: set[str] = set()
    queue = deque(s.id for s in starts[:1])
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        node = raw.nodes[current]
        if node.is_row:
            order.append(current)
        queue.extend(t for t in _successors(raw, node) if t not in seen)
    order += [n.id for n in raw.nodes.values() if n.is_row and n.id not in seen]
    numbers = dict(explicit)
    next_no = max(explicit.values(), default=0) + 1
    for node_id in order:
        if node_id not in numbers:
            numbers[node_id] = next_no
            next_no += 1
    return numbers


def _follow_to_step(raw: RawProcess, flow_id: str | None) -> str | None:
    """The first step a flow leads to, passing through merge gateways and pass-through nodes."""
    seen: set[str] = set()
    while flow_id is not None and flow_id in raw.flows:
        target = raw.flows[flow_id].target
        node = raw.nodes.get(target)
        if node is None or target in seen:
            return None
        seen.add(target)
        if node.is_row:
            return node.id
        if node.kind is NodeKind.PARALLEL_GATEWAY and node.outgoing:
            first = raw.flows[node.outgoing[0]].target
            if joint_steps(raw).get(first) == node.id:
                return first  # a joint step: the row is its first task
        passes = node.kind in (NodeKind.EXCLUSIVE_GATEWAY, NodeKind.PASS)
        if not passes or len(node.outgoing) != 1:
            return None
        flow_id = node.outgoing[0]
    return None


_BOOL_TEST = re.compile(
    r"^\s*(?P<neg>not\s+)?(?P<field>[A-Za-z_]\w*)\s*"
    r"(?:(?P<op>==|!=)\s*(?P<value>true|false|True|False))?\s*$"
)


def boolean_test(condition: str | None) -> tuple[str, bool] | None:
    """``(field, polarity)`` when a condition is a plain boolean field test, else None.

    ``disetujui == true`` and ``disetujui`` are (disetujui, True); ``disetujui == false``,
    ``not disetujui`` and ``disetujui != true`` are (disetujui, False).
    """
    if condition is None:
        return None
    match = _BOOL_TEST.match(condition)
    if match is None or match["field"] in ("not", "true", "false", "True", "False"):
        return None
    polarity = True
    if match["neg"]:
        if match["op"]:
            return None  # "not x == true" reads ambiguously: not covered
        polarity = False
    if match["op"]:
        polarity = (match["value"].lower() == "true") == (match["op"] == "==")
    return (match["field"], polarity)


def _decision(raw: RawProcess, gateway: RawNode) -> Decision | None:
    if gateway.kind is not NodeKind.EXCLUSIVE_GATEWAY or len(gateway.incoming) != 1:
        return None
    source = raw.nodes.get(raw.flows[gateway.incoming[0]].source)
    if source is None or not source.is_step:
        return None
    prop = source.prop("keputusan")
    if prop is None:
        return None
    field_name = prop.value.strip()
    yes_flow: str | None = None
    no_flow: str | None = None
    for flow_id in gateway.outgoing:
        label = (raw.flows[flow_id].name or "").strip().casefold()
        if label == "ya" and yes_flow is None:
            yes_flow = flow_id
        elif label == "tidak" and no_flow is None:
            no_flow = flow_id
    for flow_id in gateway.outgoing:  # unnamed flows: read the condition instead
        test = boolean_test(raw.flows[flow_id].condition)
        if test is not None and test[0] == field_name:
            if test[1] and yes_flow is None:
                yes_flow = flow_id
            elif not test[1] and no_flow is None:
                no_flow = flow_id
    if no_flow is None and gateway.default in gateway.outgoing and gateway.default != yes_flow:
        no_flow = gateway.default
    return Decision(
        gateway_id=gateway.id,
        step_id=source.id,
        field=field_name,
        yes_target=_follow_to_step(raw, yes_flow),
        no_target=_follow_to_step(raw, no_flow),
    )


def _header(raw: RawProcess) -> SopHeader:
    values: dict[str, Any] = {}
    for name in _HEADER_SCALARS:
        prop = next((p for p in raw.properties if p.name == name and p.value != ""), None)
        if prop is not None:
            values[name] = prop.value
    for name in _HEADER_LISTS:
        values[name] = tuple(p.value for p in raw.properties if p.name == name and p.value != "")
    values.setdefault("nama", raw.name)
    return SopHeader(**values)


def definition_version(data: bytes, process_id: str | None = None) -> str:
    """sha256 of the file; of the file plus the process id when it holds several."""
    if process_id is None:
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha256(data + b"\n#" + process_id.encode()).hexdigest()


def quantity(text: str | None) -> int:
    """startQuantity / completionQuantity as a number (the checks refused anything below 1)."""
    value = (text or "1").strip()
    return int(value) if value.isdigit() else 1


def build_definition(raw: RawProcess, *, data: bytes, shared: bool = False) -> ProcessDefinition:
    """Turn a checked RawProcess into the immutable definition.

    ``shared``: the file holds several executable processes, so the version is the
    sha256 of the bytes followed by ``\n#`` and the process id (one version each).
    """
    lanes = tuple(
        Lane(id=lane.id, name=lane.label, role=lane.role or lane.label) for lane in raw.lanes
    )
    lane_by_id = {lane.id: lane for lane in lanes}
    numbers = step_numbers(raw)
    steps: list[Step] = []
    calls: list[Step] = []
    for node in raw.nodes.values():
        if not node.is_row:
            continue
        node_lanes = raw.node_lanes(node.id)
        lane = lane_by_id[node_lanes[0].id] if node_lanes else None
        keputusan = node.prop("keputusan")
        waktu = node.prop("waktu")
        keterangan = node.prop("keterangan")
        (steps if node.is_step else calls).append(
            Step(
                id=node.id,
                no=numbers[node.id],
                name=node.name or node.id,
                lane=lane.name if lane else None,
                role=lane.role if lane else "",
                kelengkapan=node.props("kelengkapan"),
                waktu=waktu.value if waktu else None,
                output=node.props("output"),
                keterangan=keterangan.value if keterangan else None,
                decision_field=keputusan.value.strip() if keputusan else None,
                line=node.line,
                **node.extras,
            )
        )
    steps.sort(key=lambda s: s.no)
    calls.sort(key=lambda s: s.no)
    nodes: dict[str, Node] = {}
    for node in raw.nodes.values():
        if node.kind is None:
            continue  # never reached: the checks refuse unsupported elements
        outgoing = tuple(
            Flow(
                id=f.id,
                source=f.source,
                target=f.target,
                name=f.name,
                condition=f.condition,
                is_default=(node.default == f.id),
            )
            for f in (raw.flows[fid] for fid in node.outgoing)
        )
        inner = (
            raw.start_of(node.id)
            if node.kind in (NodeKind.SUBPROCESS, NodeKind.EVENT_SUBPROCESS)
            else []
        )
        if node.kind is NodeKind.EVENT_SUBPROCESS and inner:
            node.interrupting = inner[0].interrupting
        nodes[node.id] = Node(
            id=node.id,
            kind=node.kind,
            name=node.name,
            outgoing=outgoing,
            scope=node.scope,
            start=inner[0].id if inner else None,
            incoming=tuple(node.incoming),
            start_quantity=quantity(node.start_quantity),
            completion_quantity=quantity(node.completion_quantity),
            jobs=node.jobs,
            multi=node.multi,
            loop=node.loop,
            call=node.call,
            event=node.event,
            attached_to=node.attached_to,
            interrupting=node.interrupting,
            boundaries=tuple(
                n.id for n in raw.nodes.values() if n.attached_to == node.id and n.kind
            ),
            event_subprocesses=tuple(
                n.id
                for n in raw.nodes.values()
                if n.scope == node.id and n.kind is NodeKind.EVENT_SUBPROCESS
            ),
        )
    decisions = [d for d in (_decision(raw, n) for n in raw.nodes.values()) if d is not None]
    decisions.sort(key=lambda d: numbers.get(d.step_id, 0))
    return ProcessDefinition(
        process_id=raw.process_id,
        name=raw.name,
        version=definition_version(data, raw.process_id if shared else None),
        source=raw.source,
        xml=data,
        header=_header(raw),
        lanes=lanes,
        steps=tuple(steps),
        decisions=tuple(decisions),
        calls=tuple(calls),
        nodes=MappingProxyType(nodes),
        start_node=raw.start_of(None)[0].id,
        start_form=raw.start_of(None)[0].extras.get("form", ()),
        start_form_key=raw.start_of(None)[0].extras.get("form_key"),
        event_subprocesses=tuple(
            n.id
            for n in raw.nodes.values()
            if n.scope is None and n.kind is NodeKind.EVENT_SUBPROCESS
        ),
    )


# ---------------------------------------------------------------------------------------
# Public API


def load_definition_bytes(
    data: bytes,
    *,
    source: str,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ProcessDefinition:
    """Load and check BPMN bytes (a stored version, an upload); ``source`` names it in errors.

    ``script_handlers`` names the scriptTask ids the caller runs itself; any other
    scriptTask is refused. Raises a DefinitionError subclass for every problem.
    """
    if len(data) <= max_bytes:
        key = (hashlib.sha256(data).hexdigest(), source, frozenset(script_handlers))
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
            if cached is not None:
                _CACHE.move_to_end(key)
                return cached
    definition = _load(data, source=source, script_handlers=script_handlers, max_bytes=max_bytes)
    with _CACHE_LOCK:
        _CACHE[(definition.version, source, frozenset(script_handlers))] = definition
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return definition


#: Definitions are immutable and keyed by content, so the engine can reload a stored
#: version per instance without paying for XSD and SpiffWorkflow parsing each time.
_CACHE_SIZE = 64
_CACHE: OrderedDict[tuple[str, str, frozenset[str]], ProcessDefinition] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _load(
    data: bytes,
    *,
    source: str,
    script_handlers: Collection[str],
    max_bytes: int,
    process_id: str | None = None,
) -> ProcessDefinition:
    from sopflow.definitions.checks import run_checks
    from sopflow.definitions.extensions import extension_problems

    tree = parse_xml(data, source=source, max_bytes=max_bytes)
    schema = _schema_problems(tree, source)
    raw: RawProcess | None = None
    try:
        raw = read_process(tree, source=source, process_id=process_id)
    except DefinitionError as exc:
        if not schema:
            raise
        schema.append(exc)
    problems: list[DefinitionError] = []
    if raw is not None:  # schema errors first, then every SOP and extension finding
        problems = run_checks(raw, script_handlers=script_handlers)
        refused = frozenset(n.id for n in raw.nodes.values() if n.unsupported is not None)
        handled = frozenset(script_handlers)
        problems += extension_problems(
            tree, source=source, refused_ids=refused, handled_ids=handled
        )
        problems.sort(key=lambda p: p.line or 0)
    if schema:
        first = schema[0]
        raise BpmnSchemaError(
            first.message,
            file=first.file,
            line=first.line,
            element=first.element,
            problems=schema + problems,
        )
    assert raw is not None
    if problems:
        first = problems[0]
        # str() is the first finding, so a one-line error still points at a place;
        # ``problems`` carries all of them for ``sopflow validate``.
        raise SopCheckError(
            first.message,
            file=first.file,
            line=first.line,
            element=first.element,
            problems=problems,
        )
    _spiff_parse(tree, raw)
    return build_definition(raw, data=data, shared=process_id is not None)


def load_definition(
    path: str | Path,
    *,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ProcessDefinition:
    """Load and check one BPMN file, refusing it by size before reading it."""
    data = read_limited(path, max_bytes=max_bytes)
    return load_definition_bytes(
        data, source=str(path), script_handlers=script_handlers, max_bytes=max_bytes
    )


def load_definitions_bytes(
    data: bytes,
    *,
    source: str,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[ProcessDefinition]:
    """Every executable process of a file, each a definition of its own.

    A file with one process loads exactly as :func:`load_definition_bytes`; a file with
    several isExecutable="true" processes gives one definition per process, each with
    its own version (see :func:`definition_version`).
    """
    tree = parse_xml(data, source=source, max_bytes=max_bytes)
    ids = executable_process_ids(tree.getroot(), source)
    if len(ids) == 1:
        return [
            load_definition_bytes(
                data, source=source, script_handlers=script_handlers, max_bytes=max_bytes
            )
        ]
    found = []
    for process_id in ids:
        key = (definition_version(data, process_id), source, frozenset(script_handlers))
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
        if cached is None:
            cached = _load(
                data,
                source=source,
                script_handlers=script_handlers,
                max_bytes=max_bytes,
                process_id=process_id,
            )
            with _CACHE_LOCK:
                _CACHE[key] = cached
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        found.append(cached)
    return found


def load_definitions(
    path: str | Path,
    *,
    script_handlers: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[ProcessDefinition]:
    """Every executable process of one BPMN file (see :func:`load_definitions_bytes`)."""
    data = read_limited(path, max_bytes=max_bytes)
    return load_definitions_bytes(
        data, source=str(path), script_handlers=script_handlers, max_bytes=max_bytes
    )


def problems_of(error: DefinitionError) -> Iterable[DefinitionError]:
    """Every finding an error carries: a SopCheckError's list, or the error itself."""
    if isinstance(error, SopCheckError | BpmnSchemaError) and error.problems:
        return list(error.problems)
    return [error]
