"""The diagram a BPMN file carries (BPMN 2.0 chapter 12, DI): shapes and edges with bounds.

The process picture reuses the layout the office's modeler drew, so it reads the
``bpmndi`` plane as written, skipping what is malformed (a non-numeric or infinite
bound, an edge with fewer than two waypoints) instead of failing the whole picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lxml import etree

from sopflow.definitions.model import ProcessDefinition
from sopflow.definitions.xmlsafe import parse_xml
from sopflow.errors import DefinitionError
from sopflow.reports._svg import clean

__all__ = ["Box", "Edge", "Shape", "read_diagram"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True, slots=True)
class Shape:
    element: str
    kind: str  # local tag name of the semantic element: userTask, lane, participant ...
    name: str
    box: Box
    label: Box | None


@dataclass(frozen=True, slots=True)
class Edge:
    element: str
    kind: str
    name: str
    points: tuple[tuple[float, float], ...]
    label: Box | None


def bounds(element: etree._Element | None) -> Box | None:
    if element is None:
        return None
    try:
        box = Box(*(float(element.get(k, "")) for k in ("x", "y", "width", "height")))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (box.x, box.y, box.w, box.h)) or box.w < 0 or box.h < 0:
        return None
    return box


def read_diagram(definition: ProcessDefinition) -> tuple[list[Shape], list[Edge]]:
    """The shapes and edges of the file's first diagram that has any."""
    root = parse_xml(definition.xml, source=definition.source).getroot()
    semantic: dict[str, etree._Element] = {}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = element.get("id")
        if element_id:
            semantic[element_id] = element
    for plane in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
        shapes: list[Shape] = []
        edges: list[Edge] = []
        for di in plane:
            ref = di.get("bpmnElement") or ""
            target = semantic.get(ref)
            if target is None or not isinstance(di.tag, str):
                continue
            kind = etree.QName(target).localname
            name = clean(target.get("name") or "")
            label = bounds(di.find(f"{{{BPMNDI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds"))
            if di.tag == f"{{{BPMNDI_NS}}}BPMNShape":
                box = bounds(di.find(f"{{{DC_NS}}}Bounds"))
                if box is None:
                    continue
                shapes.append(Shape(ref, kind, name, box, label))
            elif di.tag == f"{{{BPMNDI_NS}}}BPMNEdge":
                points = []
                for wp in di.iter(f"{{{DI_NS}}}waypoint"):
                    try:
                        x, y = float(wp.get("x", "")), float(wp.get("y", ""))
                    except ValueError:
                        continue
                    if math.isfinite(x) and math.isfinite(y):
                        points.append((x, y))
                if len(points) >= 2:
                    edges.append(Edge(ref, kind, name, tuple(points), label))
        if shapes:
            return shapes, edges
    raise DefinitionError(
        "has no diagram to draw (no bpmndi shapes); open and save it in a BPMN modeler",
        file=definition.source,
        element=definition.process_id,
    )
