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

from typing import Any

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

__all__ = ["event_kind", "event_refs", "read_event", "unsupported_event"]

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

#: where each kind may stand (BPMN 10.5.2-10.5.4, tables 10.84-10.90)
_ALLOWED: dict[str, frozenset[str]] = {
    "startEvent": frozenset({MESSAGE, SIGNAL, TIMER, ERROR, ESCALATION}),
    "intermediateCatchEvent": frozenset({MESSAGE, SIGNAL, TIMER, CONDITIONAL, LINK}),
    "boundaryEvent": frozenset({MESSAGE, SIGNAL, TIMER, ERROR, ESCALATION}),
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
        return f"bpmn:{tag} with {len(definitions)} event definitions is not run; draw one each"
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
        return f"a {what} event definition on a bpmn:{tag} is not BPMN (10.5, table 10.93)"
    return None


def read_event(elem: Any, refs: dict[str, str]) -> tuple[EventDefinition | None, str | None]:
    """The element's event definition, and a problem to report (an unknown reference)."""
    definitions = _definitions(elem)
    if len(definitions) != 1:
        return None, None
    definition = definitions[0]
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
