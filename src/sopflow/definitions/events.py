"""Reading BPMN events: which event definitions sopflow runs, and what each is matched by.

BPMN 2.0 section 10.5 gives every event at most one event definition that says what
it waits for or throws. The loader asks this module three things about an element:
may it be run (:func:`unsupported_event`), what kind of node it is
(:func:`event_kind`), and what its definition is matched by (:func:`read_event`):
the message's or signal's *name* (the ``<bpmn:message name>`` a ``messageRef`` points
at), the error's ``errorCode``, the escalation's ``escalationCode``, the link's name,
the condition text. Matching by names and codes, not by XML ids, is what lets
``engine.correlate("disposisi")`` and a throw in another file of the catalog meet.

Transactions, cancel and compensation events stay refused: sopflow has no notion of
undoing a step an officer signed, and the SOP regulations describe corrections as new
steps, not compensations.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import (
    CONDITIONAL,
    ERROR,
    ESCALATION,
    LINK,
    MESSAGE,
    SIGNAL,
    TIMER,
    EventDefinition,
    NodeKind,
)

if TYPE_CHECKING:
    from sopflow.definitions.loader import RawNode, RawProcess
    from sopflow.errors import DefinitionError

__all__ = [
    "check_event_subprocess",
    "check_events",
    "event_kind",
    "event_refs",
    "parallel_multiple",
    "read_event",
    "read_events",
    "unsupported_event",
]

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"

#: element name of each definition sopflow runs -> its kind
_DEFINITIONS = {
    "messageEventDefinition": MESSAGE,
    "signalEventDefinition": SIGNAL,
    "errorEventDefinition": ERROR,
    "escalationEventDefinition": ESCALATION,
    "timerEventDefinition": TIMER,
    "conditionalEventDefinition": CONDITIONAL,
    "linkEventDefinition": LINK,
}

#: where each kind may stand (BPMN 10.5.2-10.5.4)
_ALLOWED: dict[str, frozenset[str]] = {
    "startEvent": frozenset({MESSAGE, SIGNAL, TIMER, ERROR, ESCALATION, CONDITIONAL}),
    "intermediateCatchEvent": frozenset({MESSAGE, SIGNAL, TIMER, CONDITIONAL, LINK}),
    "boundaryEvent": frozenset({MESSAGE, SIGNAL, TIMER, ERROR, ESCALATION, CONDITIONAL}),
    "intermediateThrowEvent": frozenset({MESSAGE, SIGNAL, ESCALATION, LINK}),
    "endEvent": frozenset({MESSAGE, SIGNAL, ERROR, ESCALATION}),
}

_REFUSED = {
    "cancelEventDefinition": (
        "cancel events belong to transactions, which sopflow does not run; model the "
        "cancellation as an error end event caught by a boundary event"
    ),
    "compensateEventDefinition": (
        "compensation undoes finished work, which sopflow does not do: an officer's "
        "signed step stays on record; model a correction as its own steps"
    ),
    "multipleEventDefinition": "an event with several definitions is not run; draw one each",
    "parallelMultipleEventDefinition": "an event with several definitions is not run",
}

#: what each reference attribute points at, and the attribute that names it
_REFS = {
    "message": ("messageRef", "name"),
    "signal": ("signalRef", "name"),
    "error": ("errorRef", "errorCode"),
    "escalation": ("escalationRef", "escalationCode"),
}


def _local(tag: object) -> str | None:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return None
    return tag.split("}", 1)[1]


def _definitions(elem: Any) -> list[Any]:
    return [c for c in elem if (_local(c.tag) or "").endswith("EventDefinition")]


def event_refs(root: Any) -> dict[str, str]:
    """``id`` of every root message, signal, error and escalation -> what it is matched
    by (its name or code; the id when the file gives none)."""
    found: dict[str, str] = {}
    for kind, (_attr, name_attr) in _REFS.items():
        for elem in root.iterchildren(f"{{{_BPMN}}}{kind}"):
            ident = elem.get("id") or ""
            found[ident] = (elem.get(name_attr) or elem.get("name") or ident).strip()
    return found


def unsupported_event(elem: Any, tag: str) -> str | None:
    """Why sopflow refuses this event element, or None."""
    definitions = _definitions(elem)
    if len(definitions) > 1:
        return _unsupported_multiple(elem, tag, definitions)
    if not definitions:
        if tag == "boundaryEvent":
            return "a bpmn:boundaryEvent needs an event definition (BPMN 10.5.4)"
        if tag == "intermediateCatchEvent":
            return "bpmn:intermediateCatchEvent without an event definition is not run"
        return None
    name = _local(definitions[0].tag) or ""
    if name == "terminateEventDefinition" and tag == "endEvent":
        return None
    if name in _REFUSED:
        return f"bpmn:{tag} with a {name.removesuffix('EventDefinition')} event: {_REFUSED[name]}"
    kind = _DEFINITIONS.get(name)
    if kind is None or kind not in _ALLOWED.get(tag, frozenset()):
        what = name.removesuffix("EventDefinition")
        return f"a {what} event definition on a bpmn:{tag} is not BPMN (10.5)"
    return None


#: where a "multiple" event may stand, and the kinds its definitions may be (10.5.1)
_MULTIPLE_TAGS = frozenset(
    {"startEvent", "intermediateCatchEvent", "intermediateThrowEvent", "endEvent"}
)
_MULTIPLE_KINDS = frozenset({MESSAGE, SIGNAL})


def parallel_multiple(elem: Any) -> bool:
    """``parallelMultiple="true"``: the event waits for all of its definitions (10.5.1)."""
    return (elem.get("parallelMultiple") or "").strip() == "true"


def _unsupported_multiple(elem: Any, tag: str, definitions: list[Any]) -> str | None:
    """Why a "multiple" event (several definitions, BPMN 10.5.1) is refused, or None.

    sopflow runs them with messages and signals: a catch fires on any one of its
    definitions, or waits for all with ``parallelMultiple="true"``; a throw throws each;
    a top-level start event starts on any one. Everything else is refused by name."""
    kinds = [_DEFINITIONS.get(_local(d.tag) or "") for d in definitions]
    where = f"bpmn:{tag} with {len(definitions)} event definitions"
    if tag not in _MULTIPLE_TAGS or elem.getparent() is None:
        return f"{where} is not run: only catch, throw, start and end events may have several"
    if any(k not in _MULTIPLE_KINDS for k in kinds):
        names = ", ".join(
            sorted({(_local(d.tag) or "?").removesuffix("EventDefinition") for d in definitions})
        )
        return (
            f"{where} ({names}) is not run: sopflow runs several definitions on one "
            "event for messages and signals only; draw one event each"
        )
    refs = [(d.get("messageRef") or d.get("signalRef") or "").strip() for d in definitions]
    if len(set(zip(kinds, refs, strict=True))) < len(refs):
        return f"{where} names the same message or signal twice; name each once"
    parallel = parallel_multiple(elem)
    if tag == "startEvent" and _local(elem.getparent().tag) != "process":
        return f"{where} inside a subprocess is not run; draw one start event each"
    if parallel and tag in ("intermediateThrowEvent", "endEvent"):
        return f"parallelMultiple on a throwing bpmn:{tag} is not BPMN (10.5.1)"
    return None


def read_events(elem: Any, refs: dict[str, str]) -> tuple[tuple[EventDefinition, ...], str | None]:
    """A "multiple" event's definitions, each read as :func:`read_event` reads one."""
    found: list[EventDefinition] = []
    for definition in _definitions(elem):
        event, problem = _read_definition(elem, definition, refs)
        if problem is not None:
            return (), problem
        if event is not None:
            found.append(event)
    return tuple(found), None


def read_event(elem: Any, refs: dict[str, str]) -> tuple[EventDefinition | None, str | None]:
    """The element's event definition, and a problem to report (an unknown reference)."""
    definitions = _definitions(elem)
    if len(definitions) != 1:
        return None, None
    return _read_definition(elem, definitions[0], refs)


def _read_definition(
    elem: Any, definition: Any, refs: dict[str, str]
) -> tuple[EventDefinition | None, str | None]:
    kind = _DEFINITIONS.get(_local(definition.tag) or "")
    if kind is None or kind == TIMER:
        return (None if kind is None else EventDefinition(TIMER)), None
    if kind == LINK:
        name = (definition.get("name") or elem.get("name") or "").strip()
        if not name:
            return None, "a link event needs a name (BPMN 10.5.5): its throw and catch share it"
        return EventDefinition(LINK, name), None
    if kind == CONDITIONAL:
        cond = definition.find(f"{{{_BPMN}}}condition")
        text = (cond.text or "").strip() if cond is not None else ""
        if not text:
            return None, "a conditional event needs a condition (BPMN 10.5.5)"
        text = text.removeprefix("${").removesuffix("}") if text.startswith("${") else text
        return EventDefinition(CONDITIONAL, condition=text), None
    attr, _ = _REFS[kind]
    ref = (definition.get(attr) or "").strip()
    if not ref:
        if kind in (ERROR, ESCALATION):
            return EventDefinition(kind), None  # catches any (10.5.6); a throw needs one
        return None, f"a {kind} event needs a {attr} naming a bpmn:{kind} of the file"
    if ref not in refs:
        return None, f"{attr} {ref!r} is not a bpmn:{kind} of the file"
    return EventDefinition(kind, refs[ref]), None


def event_kind(tag: str, event: EventDefinition | None, triggered: bool) -> NodeKind | None:
    """The node kind an event element becomes; None keeps the tag's own kind."""
    if tag == "subProcess" and triggered:
        return NodeKind.EVENT_SUBPROCESS
    if event is None or event.kind == TIMER:
        return None
    if tag == "intermediateCatchEvent":
        return NodeKind.CATCH_EVENT
    if tag in ("intermediateThrowEvent", "endEvent"):
        return NodeKind.THROW_EVENT
    return None


def check_event_subprocess(
    raw: RawProcess, node: RawNode, starts: list[RawNode]
) -> list[DefinitionError]:
    """13.5.4: one start event with a trigger; no sequence flow in or out."""
    found: list[DefinitionError] = []
    if len(starts) != 1 or (starts[0].event is None and starts[0].jobs.timer is None):
        found.append(
            raw.error(
                "an event subprocess needs exactly one start event with an event definition "
                "(timer, message, signal, conditional, error or escalation; BPMN 10.3.4)",
                line=node.line,
                element=node.id,
            )
        )
    errors = [n for n in starts if n.event is not None and n.event.kind == ERROR]
    found += [
        raw.error(
            'an error start event always interrupts (BPMN 10.3.4: isInterrupting="false" '
            "is for the other triggers)",
            line=n.line,
            element=n.id,
        )
        for n in errors
        if not n.interrupting
    ]
    if node.incoming or node.outgoing:
        found.append(
            raw.error(
                "an event subprocess has no incoming or outgoing sequence flow (BPMN 10.3.4)",
                line=node.line,
                element=node.id,
            )
        )
    return found


def check_events(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    """Boundary events sit on an activity of their own scope and errors interrupt
    (10.5.4); event start events start event subprocesses (10.5.2); links pair (10.5.5)."""
    found: list[DefinitionError] = []
    for node in raw.nodes.values():
        if node.kind is not NodeKind.BOUNDARY:
            continue
        host = raw.nodes.get(node.attached_to or "")
        if host is None or host.kind not in _ACTIVITIES:
            found.append(
                raw.error(
                    f"attachedToRef {node.attached_to!r} is not an activity of the process",
                    line=node.line,
                    element=node.id,
                )
            )
        elif host.scope != node.scope:
            found.append(
                raw.error(
                    "a boundary event is drawn in the scope of its activity",
                    line=node.line,
                    element=node.id,
                )
            )
        if node.event is not None and node.event.kind == "error" and not node.interrupting:
            found.append(
                raw.error(
                    "an error boundary event always interrupts (BPMN 10.5.4: "
                    'cancelActivity="false" is not allowed)',
                    line=node.line,
                    element=node.id,
                )
            )
        if node.incoming:
            found.append(
                raw.error(
                    "a boundary event has no incoming sequence flow",
                    line=node.line,
                    element=node.id,
                )
            )
    for node in raw.nodes.values():
        if node.kind is NodeKind.EVENT_GATEWAY:
            found += _gateway_targets(raw, node)
    for node in raw.nodes.values():
        if node.tag != "startEvent" or node.event is None:
            continue
        container = raw.nodes.get(node.scope) if node.scope is not None else None
        in_esp = container is not None and container.kind is NodeKind.EVENT_SUBPROCESS
        if not in_esp and (node.scope is not None or node.event.kind in ("error", "escalation")):
            found.append(
                raw.error(
                    f"{node.event.kind} start events start only event subprocesses"
                    + (
                        ""
                        if node.scope is None
                        else " (an embedded subprocess starts with a none start event)"
                    )
                    + " (BPMN 10.5.2)",
                    line=node.line,
                    element=node.id,
                )
            )
    for node in raw.nodes.values():
        if node.event is None or node.event.kind != "link" or node.kind is NodeKind.CATCH_EVENT:
            continue
        catches = [
            n
            for n in raw.nodes.values()
            if n.kind is NodeKind.CATCH_EVENT
            and n.scope == node.scope
            and n.event is not None
            and n.event.kind == "link"
            and n.event.name == node.event.name
        ]
        if len(catches) != 1:
            found.append(
                raw.error(
                    f"link {node.event.name!r} needs exactly one catching link event in its "
                    f"scope (BPMN 10.5.5); found {len(catches)}",
                    line=node.line,
                    element=node.id,
                )
            )
    return found


_ACTIVITIES = frozenset(
    {
        NodeKind.USER_TASK,
        NodeKind.MANUAL_TASK,
        NodeKind.SCRIPT_TASK,
        NodeKind.SERVICE_TASK,
        NodeKind.RECEIVE_TASK,
        NodeKind.SUBPROCESS,
        NodeKind.CALL_ACTIVITY,
        NodeKind.PASS,
    }
)


def _gateway_targets(raw: RawProcess, node: RawNode) -> list[DefinitionError]:
    """13.4.5: an event-based gateway leads to at least two timer, message or signal
    catches or receive tasks, with no condition on its flows."""
    found: list[DefinitionError] = []
    if len(node.outgoing) < 2:
        found.append(
            raw.error(
                "an event-based gateway needs at least two outgoing flows (BPMN 10.6.6)",
                line=node.line,
                element=node.id,
            )
        )
    for flow_id in node.outgoing:
        target = raw.nodes.get(raw.flows[flow_id].target)
        if target is None:
            continue
        waits = target.kind in (NodeKind.TIMER_CATCH, NodeKind.RECEIVE_TASK) or (
            target.kind is NodeKind.CATCH_EVENT
            and target.event is not None
            and target.event.kind in (MESSAGE, SIGNAL)
        )
        if not waits:
            found.append(
                raw.error(
                    "after an event-based gateway comes a timer, message or signal catch "
                    "event or a receive task (BPMN 10.6.6)",
                    line=target.line,
                    element=target.id,
                )
            )
    return found
