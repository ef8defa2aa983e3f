"""Reading what a signal, error or escalation carries: SpiffArena's payload and variable.

BPMN 2.0 10.5.1 gives signals, errors and escalations an ``structureRef`` item definition
(what the event carries) but leaves open how a thrower fills it and where a catcher keeps
it. SpiffArena writes both on the root ``bpmn:signal`` / ``bpmn:error`` /
``bpmn:escalation`` element, in its extensionElements: ``spiffworkflow:payloadExpression``
is evaluated on the thrower's data when the event is thrown, and
``spiffworkflow:variableName`` is the field every catch of that event keeps the payload
in (SpiffWorkflow's ``SpiffItemAwareEventDefinition``: ``throw`` evaluates the
expression, ``update_task_data`` sets ``data[variable] = payload``, None when the thrower
sent none). Both ends read the same root element, so one definition says both.

sopflow gives them that meaning: the expression is checked here, at load, against the
safe payload language (:mod:`sopflow.events.payloads`: one value or a dict display of
values, never ``eval``); the variable must be a plain name. Anything else refuses the
file with the event named.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from lxml import etree

from sopflow.definitions.model import ERROR, ESCALATION, SIGNAL, EventDefinition
from sopflow.errors import ExpressionError
from sopflow.events.payloads import check_variable, compile_payload

__all__ = ["ITEM_PARTS", "ITEM_ROOTS", "item_parts_given", "read_item_parts"]

_BPMN: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SPIFF: Final = "http://spiffworkflow.org/bpmn/schema/1.0/core"

#: the root elements that may carry the parts, and the parts
ITEM_ROOTS: Final = frozenset({SIGNAL, ERROR, ESCALATION})
ITEM_PARTS: Final = frozenset({"payloadExpression", "variableName"})
_REF: Final = {SIGNAL: "signalRef", ERROR: "errorRef", ESCALATION: "escalationRef"}


def _text(elem: etree._Element, name: str) -> str | None:
    for ext in elem.iterchildren(f"{{{_BPMN}}}extensionElements"):
        for child in ext.iterchildren(f"{{{_SPIFF}}}{name}"):
            text = (child.text or "").strip()
            if text:
                return text
    return None


def _referred(elem: etree._Element, kind: str, definition: etree._Element) -> etree._Element | None:
    """The bpmn:signal / error / escalation an event definition of ``elem`` refers to."""
    ref = (definition.get(_REF[kind]) or "").strip()
    if not ref:
        return None
    root = elem.getroottree().getroot()
    return next((c for c in root.iterchildren(f"{{{_BPMN}}}{kind}") if c.get("id") == ref), None)


def _root_of(elem: etree._Element, kind: str) -> etree._Element | None:
    """The bpmn:signal / error / escalation the event's (first) definition refers to."""
    definition = elem.find(f"{{{_BPMN}}}{kind}EventDefinition")
    return None if definition is None else _referred(elem, kind, definition)


def read_item_parts(
    elem: etree._Element, event: EventDefinition
) -> tuple[EventDefinition, list[tuple[str, int | None]]]:
    """``event`` with its SpiffArena payload and variable read, and the problems."""
    problems: list[tuple[str, int | None]] = []
    if event.kind not in ITEM_ROOTS:
        return event, problems
    root = _root_of(elem, event.kind)
    if root is None:
        return event, problems
    payload, variable = _text(root, "payloadExpression"), _text(root, "variableName")
    line = root.sourceline if isinstance(root.sourceline, int) else None
    if payload is not None:
        try:
            compile_payload(payload)
        except ExpressionError as exc:
            problems.append(
                (f"{event.kind} {event.name!r}: payloadExpression refused: {exc.message}", line)
            )
            payload = None
    if variable is not None:
        try:
            variable = check_variable(variable)
        except ExpressionError as exc:
            problems.append(
                (
                    f"{event.kind} {event.name!r}: variableName {variable[:80]!r} refused: "
                    f"{exc.message}",
                    line,
                )
            )
            variable = None
    return replace(event, payload=payload, variable=variable), problems


def item_parts_given(elem: etree._Element) -> str | None:
    """The first SpiffArena payload part the bpmn:signal of one of a "multiple" event's
    signal definitions gives, which sopflow does not read there; or None. Its throw
    would carry a copy of the thrower's data and its catch keep nothing, where the
    single event with that signal throws the payload and keeps it in the variable."""
    for definition in elem.iterchildren(f"{{{_BPMN}}}signalEventDefinition"):
        signal = _referred(elem, SIGNAL, definition)
        if signal is None:
            continue
        for part in sorted(ITEM_PARTS):
            if _text(signal, part) is not None:
                name = signal.get("name") or signal.get("id") or ""
                return f"spiffworkflow:{part} of signal {name[:80]!r}"
    return None
