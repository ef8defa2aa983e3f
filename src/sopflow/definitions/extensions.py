"""Other engines' BPMN extensions: each one honoured with its meaning, or refused by name.

A file drawn for Camunda 7, Flowable, SpiffArena or Zeebe carries attributes and extension
elements that change what its home engine does: ``camunda:candidateGroups`` decides who may
act, ``camunda:formData`` makes a field required, a task listener runs code. Running such a
file with the extension silently dropped runs a different process from the one its author
drew (a Camat completing the step the file reserves for the Sekcam). So :data:`RULES` lists,
for every extension sopflow knows, what its home engine does with it and what sopflow does:

- ``honoured``: sopflow gives it the same meaning (assignment, due dates, forms, properties);
- ``refused``: the file is refused at load with the element named (code
  ``unsupported-extension``);
- ``needs-handler``: it configures work the application must provide (a service task's
  class, a connector); refused unless the application registers a handler for the task;
- ``no-effect``: it changes nothing while a process runs, in its home engine either
  (modeler metadata, version labels, history retention).

Anything in these namespaces that is not in the table is refused too (a new attribute of a
known engine may change behaviour); anything in an unknown namespace is a warning. The
table is the source of the docs table (``docs/other-modelers.md``), and the tests check
that every honoured entry has an effect and every other entry is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from lxml import etree

from sopflow.definitions._extension_rules import TABLE
from sopflow.definitions._item_events import ITEM_PARTS, ITEM_ROOTS
from sopflow.definitions._messages import honoured_message_part
from sopflow.errors import BpmnSchemaError, DefinitionError, UnsafeDocumentError

__all__ = [
    "CODES",
    "NAMESPACES",
    "RULES",
    "Action",
    "Finding",
    "Rule",
    "code_of",
    "extension_problems",
    "rule_for",
]

BPMN_NS: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"

#: the namespaces of the engines sopflow knows, by the prefix their modelers write
NAMESPACES: Final[Mapping[str, str]] = {
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "flowable": "http://flowable.org/bpmn",
    "activiti": "http://activiti.org/bpmn",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
    "modeler": "http://camunda.org/schema/modeler/1.0",
}
_PREFIX_OF: Final = {uri: prefix for prefix, uri in NAMESPACES.items()}

#: namespaces that never change behaviour: XML Schema instance, DI colours, bpmn.io
_INERT_NAMESPACES: Final = frozenset(
    {
        "http://www.w3.org/2001/XMLSchema-instance",
        "http://www.w3.org/XML/1998/namespace",
        "http://bpmn.io/schema/bpmn/biocolor/1.0",
        "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
        "http://bpmn.io/schema/bpmn",
    }
)


class Action(StrEnum):
    HONOURED = "honoured"
    REFUSED = "refused"
    NEEDS_HANDLER = "needs-handler"
    NO_EFFECT = "no-effect"


@dataclass(frozen=True, slots=True)
class Rule:
    """One extension: ``prefix:name`` (attribute, or element inside extensionElements)."""

    prefix: str
    name: str
    kind: str  # "attribute" or "element"
    engines: str
    action: Action
    #: what sopflow does, in words for the docs table
    meaning: str

    @property
    def qualified(self) -> str:
        return f"{self.prefix}:{self.name}"


#: every extension sopflow knows, one row per group (definitions/_extension_rules.py)
_TABLE: Final = TABLE


def _parse_table(text: str) -> tuple[Rule, ...]:
    rows: list[str] = []
    for line in text.strip().splitlines():
        if line.startswith("    ") and rows:
            rows[-1] += " " + line.strip()
        else:
            rows.append(line.strip())
    rules: list[Rule] = []
    for row in rows:
        prefixes, kind, names, action, engines, meaning = (c.strip() for c in row.split(" | ", 5))
        for prefix in prefixes.split():
            for name in names.split():
                rules.append(Rule(prefix, name, kind, engines, Action(action), meaning))
    return tuple(rules)


RULES: Final[tuple[Rule, ...]] = _parse_table(_TABLE)
_A, _E = "attribute", "element"

_BY_KEY: Final[Mapping[tuple[str, str, str], Rule]] = {(r.prefix, r.kind, r.name): r for r in RULES}

#: the ``code`` values of ``sopflow validate --json`` (docs/other-modelers.md)
CODES: Final[Mapping[str, str]] = {
    "unsafe-document": "hostile or oversized XML (DTD, entities, size)",
    "bpmn-schema": "not well-formed XML, or not valid BPMN 2.0 (XSD)",
    "unsupported-element": "a BPMN element sopflow does not run",
    "needs-handler": "a script or service task the application must provide",
    "unsupported-extension": "an extension whose behaviour sopflow does not have",
    "unknown-extension": "an extension sopflow does not know (warning)",
    "lane": "a step's lane or role is missing or ambiguous",
    "condition": "a condition outside the expression language and its dialects",
    "waktu": "a Mutu Baku waktu that cannot be read",
    "due-date-conflict": "waktu and a due date disagree; waktu wins (warning)",
    "undeclared-field": "a condition reads a field no step or form sets (warning)",
    "open-task": "a task of a non-SOP file in no lane and with no assignment: anyone may "
    "act (warning)",
    "implicit-end": "an activity or event of a non-SOP file with no outgoing flow, in a "
    "process with end events: its token ends there (warning)",
    "form": "a form field definition that cannot be used",
    "assignment": "an assignee or candidate list that cannot be read",
    "sop-check": "another SOP rule (events, flows, reachability, gateways, diagram)",
}


def rule_for(prefix: str, kind: str, name: str) -> Rule | None:
    return _BY_KEY.get((prefix, kind, name))


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of ``sopflow validate``: an error refuses the file, a warning does not."""

    file: str | None
    line: int | None
    element: str | None
    code: str
    severity: str  # "error" or "warning"
    message: str
    #: the script handler key that satisfies a needs-handler finding, when it is not the
    #: element's id (a SpiffArena preScript: "<task id>:preScript")
    handler: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "element": self.element,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }

    def __str__(self) -> str:
        error = DefinitionError(self.message, file=self.file, line=self.line, element=self.element)
        return str(error) if self.severity == "error" else f"{error} [warning]"


_CODE_PATTERNS: Final = (
    (re.compile(r"script handler|service task|application must provide"), "needs-handler"),
    (re.compile(r"is not supported by sopflow"), "unsupported-element"),
    (re.compile(r"\blanes?\b"), "lane"),
    (re.compile(r"expression language|JUEL|FEEL"), "condition"),
    (re.compile(r"waktu"), "waktu"),
)


def code_of(error: DefinitionError) -> str:
    """The documented code of a loader error (its own, or read from its kind and message)."""
    own = getattr(error, "code", None)
    if isinstance(own, str) and own:
        return own
    if isinstance(error, UnsafeDocumentError):
        return "unsafe-document"
    if isinstance(error, BpmnSchemaError):
        return "bpmn-schema"
    for pattern, code in _CODE_PATTERNS:
        if pattern.search(error.message):
            return code
    return "sop-check"


# ---------------------------------------------------------------------------------------
# The check


def _line(elem: etree._Element) -> int | None:
    line: object = elem.sourceline
    return line if isinstance(line, int) else None


def _owner(elem: etree._Element) -> etree._Element:
    """The BPMN element an extension belongs to (for extensionElements: its parent)."""
    current: etree._Element | None = elem
    while current is not None:
        tag = etree.QName(current.tag) if isinstance(current.tag, str) else None
        if tag is not None and tag.namespace == BPMN_NS and tag.localname != "extensionElements":
            return current
        current = current.getparent()
    return elem


def _ids_up(elem: etree._Element) -> list[str]:
    """The ids of ``elem`` and its ancestors, nearest first (multiInstance has none)."""
    ids: list[str] = []
    current: etree._Element | None = elem
    while current is not None:
        ident = current.get("id") if isinstance(current.tag, str) else None
        if ident:
            ids.append(str(ident))
        current = current.getparent()
    return ids


@dataclass(frozen=True, slots=True)
class _Use:
    """One extension as written: which rule (or None), on which BPMN element."""

    namespace: str
    name: str
    kind: str
    owner: etree._Element
    node: etree._Element
    value: str | None

    @property
    def label(self) -> str:
        prefix = _PREFIX_OF.get(self.namespace, "{" + self.namespace + "}")
        return f"{prefix}:{self.name}"


def _uses(root: etree._Element) -> Iterator[_Use]:
    """Extension attributes on BPMN elements, and top-level extension elements."""
    for elem in root.iter():
        if not isinstance(elem.tag, str):
            continue
        qname = etree.QName(elem.tag)
        if qname.namespace == BPMN_NS:
            for key, value in elem.attrib.items():
                attr = etree.QName(key)
                if attr.namespace and attr.namespace not in _INERT_NAMESPACES:
                    yield _Use(attr.namespace, attr.localname, _A, elem, elem, str(value))
            if qname.localname == "extensionElements":
                for child in elem:
                    if not isinstance(child.tag, str):
                        continue
                    child_name = etree.QName(child.tag)
                    if child_name.namespace and child_name.namespace not in _INERT_NAMESPACES:
                        yield _Use(
                            child_name.namespace,
                            child_name.localname,
                            _E,
                            _owner(elem),
                            child,
                            None,
                        )


def _blank(use: _Use) -> bool:
    """An empty attribute or an empty script element has no behaviour to honour or refuse."""
    if use.kind == _A:
        return (use.value or "").strip() == ""
    if use.name in ("preScript", "postScript", "variableName", "payloadExpression"):
        return (use.node.text or "").strip() == ""
    return False


def extension_findings(
    tree: etree._ElementTree, *, source: str, refused_ids: frozenset[str] = frozenset()
) -> list[Finding]:
    """Every extension of the file judged by :data:`RULES`; ``refused_ids`` are elements
    already refused (an unsupported service task): their configuration is not repeated."""
    found: list[Finding] = []
    for use in _uses(tree.getroot()):
        prefix_of_use = _PREFIX_OF.get(use.namespace, "")
        if honoured_message_part(prefix_of_use, use.name, use.owner):
            continue  # read and checked by definitions/_messages.py
        if _item_part(prefix_of_use, use.name, use.owner):
            continue  # read and checked by definitions/_item_events.py
        ids = _ids_up(use.owner)
        owner_id = ids[0] if ids else None
        if refused_ids.intersection(ids) or _blank(use):
            continue
        prefix = _PREFIX_OF.get(use.namespace)
        line = _line(use.node)
        if prefix is None:
            found.append(
                Finding(
                    source,
                    line,
                    owner_id,
                    "unknown-extension",
                    "warning",
                    f"{use.label} ({use.kind}) is an extension sopflow does not know; "
                    "it has no effect here",
                )
            )
            continue
        rule = rule_for(prefix, use.kind, use.name)
        if rule is None:
            found.append(
                Finding(
                    source,
                    line,
                    owner_id,
                    "unsupported-extension",
                    "error",
                    f"{use.label} ({use.kind}) of {prefix} is not known to sopflow, so its "
                    "meaning cannot be honoured; remove it or ask for support",
                )
            )
        elif rule.action is Action.HONOURED and not _honoured_here(rule, use.owner):
            where = etree.QName(use.owner.tag).localname
            found.append(
                Finding(
                    source,
                    line,
                    owner_id,
                    "unsupported-extension",
                    "error",
                    f"{use.label} on a bpmn:{where} is not supported by sopflow: it is honoured "
                    f"on {_honoured_on(rule)} only",
                )
            )
        elif rule.action is Action.REFUSED:
            found.append(
                Finding(
                    source,
                    line,
                    owner_id,
                    "unsupported-extension",
                    "error",
                    f"{use.label} is not supported by sopflow ({rule.meaning}); remove it or "
                    "model the behaviour in the diagram",
                )
            )
        elif rule.action is Action.NEEDS_HANDLER and use.name in _HOOKS:
            found.append(_hook_finding(use, source, line, owner_id))
        elif rule.action is Action.NEEDS_HANDLER:
            found.append(
                Finding(
                    source,
                    line,
                    owner_id,
                    "needs-handler",
                    "error",
                    f"{use.label}: {rule.meaning}; register a handler for this task",
                )
            )
    return found


#: honoured on message events only (definitions/_messages.py decides where exactly)
_ON_MESSAGE: Final = frozenset({"messagePayload", "messageVariable"})


def _item_part(prefix: str, name: str, owner: etree._Element) -> bool:
    """SpiffArena's payload and variable on a root signal, error or escalation."""
    tag = etree.QName(owner.tag).localname if isinstance(owner.tag, str) else ""
    return prefix == "spiffworkflow" and name in ITEM_PARTS and tag in ITEM_ROOTS


#: SpiffArena's task scripts: handled by "<task id>:<name>" on the tasks whose behaviour runs
#: them (runtime/behaviours/activities.py); the script text is shown, never run
_HOOKS: Final = frozenset({"preScript", "postScript"})
_HOOK_TAGS: Final = frozenset({"userTask", "manualTask", "scriptTask", "task", "callActivity"})


def _hook_finding(use: _Use, source: str, line: int | None, owner_id: str | None) -> Finding:
    where = etree.QName(use.owner.tag).localname if isinstance(use.owner.tag, str) else ""
    if where not in _HOOK_TAGS:
        return Finding(
            source,
            line,
            owner_id,
            "unsupported-extension",
            "error",
            f"{use.label} on a bpmn:{where} is not supported by sopflow: it is run by a "
            "handler on user, manual, script and plain tasks and call activities only",
        )
    key = f"{owner_id}:{use.name}"
    text = " ".join((use.node.text or "").split())
    shown = text if len(text) <= 80 else text[:77] + "..."
    return Finding(
        source,
        line,
        owner_id,
        "needs-handler",
        "error",
        f"{use.label} needs the application's script handler {key!r} (the file's script "
        f"{shown!r} is never executed)",
        handler=key,
    )


#: honoured extensions that mean something anywhere (properties: process, lanes, steps)
_ANYWHERE: Final = frozenset({"properties"})
_STEP_TAGS: Final = frozenset({"userTask", "manualTask"})
#: honoured on the start event: camunda:initiator stores who started the instance
_ON_START: Final = frozenset({"initiator"})
#: the engine reads these where the standard puts them (runtime/calls.py, behaviours/loops.py)
_ON_CALL: Final = frozenset({"in", "out"})
_ON_MULTI: Final = frozenset({"collection", "elementVariable"})
#: SpiffArena's choice where a repeated task's scripts run (runtime/machine.py hook)
_ON_LOOPS: Final = frozenset({"scriptsOnInstances"})
#: forms are honoured on the start event too: its data is checked when an instance starts
_START_FORMS: Final = frozenset(
    {"formKey", "formRef", "formRefBinding", "formRefVersion", "formData", "formProperty"}
)
#: job settings mean something on every flow node that can become a job (jobs/, jobspec.py)
_ON_JOBS: Final = frozenset({"asyncBefore", "asyncAfter", "failedJobRetryTimeCycle"})
#: an external task is a service, send or business-rule task (jobs/external.py)
_ON_SERVICE: Final = frozenset({"type", "topic"})
_SERVICE_TAGS: Final = frozenset({"serviceTask", "sendTask", "businessRuleTask"})
_FLOW_NODE_TAGS: Final = frozenset({"task", "subProcess", "callActivity", "transaction"})


def _honoured_on(rule: Rule) -> str:
    if rule.name in _ON_MESSAGE:
        return "message events and receive tasks"
    if rule.name == "variableName":
        return "bpmn:signal, bpmn:error, bpmn:escalation and user tasks"
    if rule.name in ITEM_PARTS:
        return "bpmn:signal, bpmn:error and bpmn:escalation"
    if rule.name in _ON_CALL:
        return "call activities"
    if rule.name in _ON_MULTI:
        return "multiInstanceLoopCharacteristics"
    if rule.name in _ON_LOOPS:
        return "multiInstanceLoopCharacteristics and standardLoopCharacteristics"
    if rule.name in _ON_JOBS:
        return "activities, events and gateways"
    if rule.name in _ON_SERVICE:
        return "service, send and business-rule tasks"
    return "user and manual tasks"


def _honoured_here(rule: Rule, owner: etree._Element) -> bool:
    """Task attributes (assignment, due dates, forms) are honoured on steps only."""
    if rule.name in _ANYWHERE:
        return True
    tag = etree.QName(owner.tag).localname if isinstance(owner.tag, str) else ""
    if rule.name == "variableName" and tag == "userTask":
        return True  # definitions/_tasks.py reads it (the form kept under one field)
    if rule.name in _ON_MESSAGE or rule.name in ITEM_PARTS:
        return False  # where they are honoured, honoured_message_part / _item_part took it
    if rule.name in _ON_START:
        return tag == "startEvent"
    if rule.name in _START_FORMS and tag == "startEvent":
        return True
    if rule.name in _ON_CALL:
        return tag == "callActivity"
    if rule.name in _ON_MULTI:
        return tag == "multiInstanceLoopCharacteristics"
    if rule.name in _ON_LOOPS:
        return tag in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics")
    if rule.name in _ON_JOBS:
        return tag in _FLOW_NODE_TAGS or tag.endswith(("Task", "Event", "Gateway"))
    if rule.name in _ON_SERVICE:
        return tag in _SERVICE_TAGS
    return tag in _STEP_TAGS


def extension_problems(
    tree: etree._ElementTree,
    *,
    source: str,
    refused_ids: frozenset[str] = frozenset(),
    handled_ids: frozenset[str] = frozenset(),
) -> list[DefinitionError]:
    """The errors among :func:`extension_findings`, for the loader (warnings do not refuse)."""
    problems: list[DefinitionError] = []
    for finding in extension_findings(tree, source=source, refused_ids=refused_ids):
        if finding.severity != "error":
            continue
        if finding.code == "needs-handler" and (finding.handler or finding.element) in handled_ids:
            continue
        error = DefinitionError(
            finding.message, file=finding.file, line=finding.line, element=finding.element
        )
        error.code = finding.code
        if finding.handler is not None:
            error.handler = finding.handler
        problems.append(error)
    return problems


def docs_table() -> str:
    """The Markdown table of docs/other-modelers.md (a test keeps the page in step)."""
    rows = ["| extension | kind | home engine | sopflow |", "|---|---|---|---|"]
    seen: set[tuple[str, str, str]] = set()
    for rule in sorted(RULES, key=lambda r: (r.action, r.prefix, r.name)):
        key = (rule.name, rule.kind, rule.meaning)
        prefixes = [r.prefix for r in RULES if (r.name, r.kind, r.meaning) == key]
        if key in seen:
            continue
        seen.add(key)
        names = ", ".join(f"`{p}:{rule.name}`" for p in prefixes)
        rows.append(
            f"| {names} | {rule.kind} | {rule.engines} | **{rule.action}**: {rule.meaning} |"
        )
    return "\n".join(rows)
