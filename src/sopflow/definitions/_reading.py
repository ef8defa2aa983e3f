"""Reading a process of a file into a :class:`~sopflow.definitions._raw.RawProcess`
(loader stage 3): which process(es) of a file run (the isExecutable rules), and the
walk over its elements, scope by scope, with flows linked to their nodes.
"""

from __future__ import annotations

from lxml import etree

from sopflow.definitions._elements import (
    _LOOPABLE,
    _MULTI_ONLY,
    _SUPPORTED,
    _UNSUPPORTED,
    _read_call,
    _read_event_of,
    _read_lanes,
    _read_loop,
    _read_multi,
    _read_shapes,
    _task_extras,
    _unsupported_reason,
)
from sopflow.definitions._raw import (
    BPMN_NS,
    RawFlow,
    RawNode,
    RawProcess,
    _line,
    _local,
    _properties,
)
from sopflow.definitions.events import event_refs
from sopflow.definitions.jobspec import read_job_spec
from sopflow.definitions.model import (
    NodeKind,
)
from sopflow.errors import BpmnSchemaError

__all__ = ["executable_process_ids", "picture_process_ids", "read_process"]


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


def picture_process_ids(root: etree._Element, source: str) -> list[str]:
    """The processes of a file kept for pictures and documents only: those it marks
    isExecutable="false" beside the ones sopflow runs (BPMN 2.0, 10.2: a process not
    meant to run, e.g. a partner's pool drawn for reference). A lone process is run
    whatever it is marked (bpmn.io saves every new diagram as not executable)."""
    running = set(executable_process_ids(root, source))
    return [
        p.get("id") or ""
        for p in root.iterchildren(f"{{{BPMN_NS}}}process")
        if p.get("isExecutable") == "false" and (p.get("id") or "") not in running
    ]


def executable_process_ids(root: etree._Element, source: str) -> list[str]:
    """The processes of a file sopflow runs: every isExecutable="true" one when there
    are several, else the one :func:`_executable_process` picks (bpmn.io saves a lone
    process as not executable, and a lone process is still the one meant)."""
    marked = [p.get("id") or "" for p in _marked(list(root.iterchildren(f"{{{BPMN_NS}}}process")))]
    if len(marked) >= 2:
        return marked
    return [_executable_process(root, source).get("id") or ""]


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
        elif tag in _MULTI_ONLY:
            node.multi = _read_multi(elem)
        if node.unsupported is not None:
            node.kind = None
        node.hooks = _hooks(elem)
        node.scripts_on_instances = _scripts_on_instances(elem)
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


_SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _scripts_on_instances(elem: etree._Element) -> bool:
    """SpiffWorkflow moves a repeated task's pre/post scripts to the loop body unless its
    loop characteristics say ``spiffworkflow:scriptsOnInstances="true"`` (exactly)."""
    for tag in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
        loop = elem.find(f"{{{BPMN_NS}}}{tag}")
        if loop is not None:
            return loop.get(f"{{{_SPIFF_NS}}}scriptsOnInstances") == "true"
    return False


def _hooks(elem: etree._Element) -> frozenset[str]:
    """The SpiffArena pre/post scripts of a task that have text (an empty one does
    nothing in SpiffArena either); the text is shown by ``validate``, never run."""
    ext = elem.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return frozenset()
    return frozenset(
        name
        for name in ("preScript", "postScript")
        if (script := ext.find(f"{{{_SPIFF_NS}}}{name}")) is not None
        and (script.text or "").strip()
    )

