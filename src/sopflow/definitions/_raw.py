"""The records the loader reads a BPMN file into, before any check (loader stage 3).

:class:`RawProcess` and its nodes, flows and lanes keep each element's source line, so
every finding can say ``file:line: element-id: ...``; the checks
(:mod:`sopflow.definitions.checks`) read them and the builder
(:mod:`sopflow.definitions._building`) turns them into the immutable definition. The
small helpers here (namespaces, local names, lines, properties) are shared by the
reading modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from sopflow.definitions.jobspec import NO_JOBS, JobSpec
from sopflow.definitions.model import (
    Call,
    EventDefinition,
    MultiInstance,
    NodeKind,
    StandardLoop,
)
from sopflow.errors import DefinitionError

__all__ = [
    "BPMNDI_NS",
    "BPMN_NS",
    "CAMUNDA_NS",
    "DC_NS",
    "DI_NS",
    "SPIFF_NS",
    "ZEEBE_NS",
    "Bounds",
    "Property",
    "RawFlow",
    "RawLane",
    "RawNode",
    "RawProcess",
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
    events: tuple[EventDefinition, ...] = ()
    parallel: bool = False
    #: a boundary event's host activity (attachedToRef), for reachability
    attached_to: str | None = None
    interrupting: bool = True
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    #: Step keyword arguments from other modelers' attributes (definitions/_tasks.py)
    extras: dict[str, Any] = field(default_factory=dict)
    #: SpiffArena's preScript / postScript with text (runtime/hooks.py)
    hooks: frozenset[str] = frozenset()
    #: SpiffArena's scriptsOnInstances="true" on the loop characteristics
    scripts_on_instances: bool = False

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
