"""How each element kind's parts are read: which tags run and which are refused,
multi-instance and standard loops, call activities and their data mappings, event
definitions, task extras, lanes and DI shapes. :mod:`sopflow.definitions._reading`
walks a process and asks this module about each element.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from sopflow.definitions._item_events import ITEM_ROOTS, read_item_parts
from sopflow.definitions._raw import (
    BPMN_NS,
    BPMNDI_NS,
    CAMUNDA_NS,
    DC_NS,
    Bounds,
    RawLane,
    RawNode,
    RawProcess,
    _line,
    _local,
    _properties,
)
from sopflow.definitions.events import (
    event_kind,
    parallel_multiple,
    read_event,
    read_events,
    unsupported_event,
)
from sopflow.definitions.model import (
    MESSAGE,
    Call,
    EventDefinition,
    MultiInstance,
    NodeKind,
    StandardLoop,
)
from sopflow.errors import DefinitionError

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

_LOOPS = ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics")
_LOOPABLE = frozenset({"userTask", "manualTask", "scriptTask", "task", "subProcess"})
#: activities that repeat as multi-instance only: a call activity starts one child
#: instance per item (BPMN 13.3.7 over 13.3.5); a standard loop on one is not run
_MULTI_ONLY = frozenset({"callActivity"})


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
        multi_only = tag in _MULTI_ONLY and child_tag == "multiInstanceLoopCharacteristics"
        if child_tag in _LOOPS and tag not in _LOOPABLE and not multi_only:
            return (
                f"{child_tag.removesuffix('Characteristics')} on bpmn:{tag} is not supported "
                "by sopflow: only tasks and embedded subprocesses repeat (and call "
                "activities as multi-instance)"
            )
    if tag.endswith("Event"):
        return unsupported_event(elem, tag)
    return None


def _task_extras(elem: etree._Element, raw: RawProcess, node_id: str) -> dict[str, Any]:
    from sopflow.definitions._tasks import read_task_extras

    def problem(code: str, message: str, line: int | None) -> None:
        where = line or _line(elem)
        error = DefinitionError(message, file=raw.source, line=where, element=node_id, code=code)
        raw.problems.append(error)

    return read_task_extras(elem, problem)


def _read_multiple(elem: etree._Element, tag: str, node: RawNode, raw: RawProcess) -> None:
    """A "multiple" event (several definitions, BPMN 10.5.1; which ones run is decided by
    events.unsupported_event): its definitions, parallelMultiple, its node kind. Message
    payloads, catch variables and correlation properties are not read for them, so a file
    that gives any is refused rather than run without them."""
    from sopflow.definitions._item_events import item_parts_given
    from sopflow.definitions._messages import message_parts_given

    node.events, problem = read_events(elem, raw.event_refs)
    if problem is not None:
        raw.problems.append(raw.error(problem, line=node.line, element=node.id))
    if len(node.events) < 2:
        node.events = ()
        return
    node.parallel = parallel_multiple(elem)
    given = message_parts_given(elem, node.events, raw.event_refs) or item_parts_given(elem)
    if given is not None:
        raw.problems.append(
            raw.error(
                f"{given} on an event with several definitions is not run: draw the "
                "message's or signal's event on its own",
                line=node.line,
                element=node.id,
            )
        )
    if tag == "intermediateCatchEvent":
        node.kind = NodeKind.MULTIPLE_CATCH
    elif tag in ("intermediateThrowEvent", "endEvent"):
        node.kind = NodeKind.MULTIPLE_THROW


def _read_event_of(elem: etree._Element, tag: str, node: RawNode, raw: RawProcess) -> None:
    """The event parts of a node: its definition, what it is attached to (10.5)."""
    if tag.endswith("Event"):
        node.event, problem = read_event(elem, raw.event_refs)
        if problem is not None:
            raw.problems.append(raw.error(problem, line=node.line, element=node.id))
        if node.unsupported is None and node.event is None:
            _read_multiple(elem, tag, node, raw)
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
    if node.event is not None and node.event.kind == MESSAGE:
        from sopflow.definitions._messages import read_message_parts

        node.event, found = read_message_parts(elem, tag, node.event, raw.event_refs)
        raw.problems += [raw.error(text, line=line, element=node.id) for text, line in found]
    if node.event is not None and node.event.kind in ITEM_ROOTS:
        node.event, found = read_item_parts(elem, node.event)
        raw.problems += [raw.error(text, line=line, element=node.id) for text, line in found]
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
