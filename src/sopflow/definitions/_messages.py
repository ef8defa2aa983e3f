"""Reading what a message carries: payloads, catch variables, correlation properties.

BPMN 2.0 8.4.3 (Message), 8.4.7 (Correlation) and 13.5.1/13.5.2 (throw and catch). The
standard leaves the payload's expression language open; the files sopflow meets write it
in SpiffArena's extensions (``spiffworkflow:messagePayload`` on the throw,
``spiffworkflow:messageVariable`` on the catch) or in SpiffWorkflow's camunda dialect
(``camunda:expression`` on the throw's messageEventDefinition, ``camunda:resultVariable``
the variable the catcher keeps it in). Correlation properties are standard: a root
``bpmn:correlationProperty`` with one ``correlationPropertyRetrievalExpression`` per
message, whose ``messagePath`` is a name or ``name['key']``.

Everything is checked here, at load, against the safe language
(:mod:`sopflow.events.payloads`); anything outside it refuses the file with the element
named. Nothing in the file is ever evaluated as code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from lxml import etree

from sopflow.definitions.model import MESSAGE, EventDefinition
from sopflow.errors import ExpressionError
from sopflow.events.payloads import check_variable, compile_path, compile_payload

__all__ = ["honoured_message_part", "message_parts_given", "read_message_parts"]

_BPMN: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SPIFF: Final = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_CAMUNDA: Final = "http://camunda.org/schema/1.0/bpmn"

#: elements that throw a message (13.5.1) and that catch one (13.5.2)
_THROWS: Final = frozenset({"intermediateThrowEvent", "endEvent"})
_CATCHES: Final = frozenset(
    {"intermediateCatchEvent", "boundaryEvent", "startEvent", "receiveTask"}
)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _spiff_text(elem: etree._Element, name: str) -> str | None:
    """``spiffworkflow:<name>`` text in ``elem``'s extensionElements, or None."""
    for ext in elem.iterchildren(f"{{{_BPMN}}}extensionElements"):
        for child in ext.iterchildren(f"{{{_SPIFF}}}{name}"):
            text = (child.text or "").strip()
            if text:
                return text
    return None


def _definition(elem: etree._Element) -> etree._Element | None:
    found = elem.find(f"{{{_BPMN}}}messageEventDefinition")
    return found


def honoured_message_part(prefix: str, name: str, owner: etree._Element) -> bool:
    """Whether this extension is one of the message parts read here, where it is read."""
    tag = _local(owner.tag)
    if prefix == "camunda" and name in ("expression", "resultVariable"):
        return tag == "messageEventDefinition"
    if prefix == "spiffworkflow" and name in ("messagePayload", "messageVariable"):
        if tag == "messageEventDefinition":
            parent = owner.getparent()
            return parent is not None and _local(parent.tag) in _THROWS | _CATCHES
        return tag in _CATCHES | _THROWS and (
            tag == "receiveTask" or _definition(owner) is not None
        )
    return False


def message_parts_given(
    elem: etree._Element, events: tuple[EventDefinition, ...], refs: dict[str, str]
) -> str | None:
    """The first message part a "multiple" event gives (payload, variable, correlation
    property of one of its messages), which sopflow does not read there; or None."""
    holders = [elem, *elem.iterchildren(f"{{{_BPMN}}}messageEventDefinition")]
    for holder in holders:
        for name in ("messagePayload", "messageVariable"):
            if _spiff_text(holder, name) is not None:
                return f"spiffworkflow:{name}"
        for name in ("expression", "resultVariable"):
            if (holder.get(f"{{{_CAMUNDA}}}{name}") or "").strip():
                return f"camunda:{name}"
    root = elem.getroottree().getroot()
    for event in events:
        if (
            event.kind == MESSAGE
            and event.name is not None
            and _correlation(root, refs, event.name)
        ):
            return f"a correlation property of message {event.name!r}"
    return None


def _correlation(
    root: etree._Element, refs: dict[str, str], message: str
) -> list[tuple[str, str, int | None, str | None]]:
    """(property, path, line, problem) of every correlation property of ``message``."""
    found: list[tuple[str, str, int | None, str | None]] = []
    for prop in root.iterchildren(f"{{{_BPMN}}}correlationProperty"):
        name = (prop.get("name") or prop.get("id") or "").strip()
        for retrieval in prop.iterchildren(f"{{{_BPMN}}}correlationPropertyRetrievalExpression"):
            ref = (retrieval.get("messageRef") or "").strip()
            if refs.get(ref) != message:
                continue
            path = retrieval.find(f"{{{_BPMN}}}messagePath")
            text = "" if path is None else (path.text or "").strip()
            line = retrieval.sourceline if isinstance(retrieval.sourceline, int) else None
            problem = None
            try:
                compile_path(text)
            except ExpressionError as exc:
                problem = (
                    f"correlation property {name!r}: messagePath {text[:80]!r} is not a name "
                    f"or name['key'] (BPMN 8.4.7): {exc.message}"
                )
            found.append((name, text, line, problem))
    return found


def read_message_parts(
    elem: etree._Element, tag: str, event: EventDefinition, refs: dict[str, str]
) -> tuple[EventDefinition, list[tuple[str, int | None]]]:
    """``event`` with its payload, variable and correlation read, and the problems."""
    problems: list[tuple[str, int | None]] = []
    if event.kind != MESSAGE or event.name is None:
        return event, problems
    definition = _definition(elem)
    holders = [e for e in (definition, elem) if e is not None]
    payload = next((t for h in holders if (t := _spiff_text(h, "messagePayload"))), None)
    variable = next((t for h in holders if (t := _spiff_text(h, "messageVariable"))), None)
    camunda_payload = camunda_variable = None
    if definition is not None:
        camunda_payload = (definition.get(f"{{{_CAMUNDA}}}expression") or "").strip() or None
        camunda_variable = (definition.get(f"{{{_CAMUNDA}}}resultVariable") or "").strip() or None
    line = elem.sourceline if isinstance(elem.sourceline, int) else None
    throws = tag in _THROWS
    if payload and camunda_payload:
        problems.append(
            (
                "a message has one payload: spiffworkflow:messagePayload or "
                "camunda:expression, not both",
                line,
            )
        )
    payload = payload or camunda_payload
    if payload is not None and not throws:
        problems.append(
            (
                f"a message payload is evaluated where the message is thrown "
                f"(BPMN 13.5.1); a bpmn:{tag} catches it",
                line,
            )
        )
        payload = None
    if variable is not None and throws:
        problems.append(
            (
                "spiffworkflow:messageVariable names where a catch keeps the "
                "message (13.5.2); this element throws it",
                line,
            )
        )
        variable = None
    variable = variable or camunda_variable
    if payload is not None:
        try:
            compile_payload(payload)
        except ExpressionError as exc:
            problems.append((f"message payload refused: {exc.message}", line))
            payload = None
    if variable is not None:
        try:
            variable = check_variable(variable)
        except ExpressionError as exc:
            problems.append((f"message variable {variable[:80]!r} refused: {exc.message}", line))
            variable = None
    correlation: list[tuple[str, str]] = []
    for prop, path, where, problem in _correlation(elem.getroottree().getroot(), refs, event.name):
        if problem is not None:
            problems.append((problem, where))
        else:
            correlation.append((prop, path))
    return (
        replace(event, payload=payload, variable=variable, correlation=tuple(correlation)),
        problems,
    )
