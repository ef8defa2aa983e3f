"""The five Permenpan-RB 35/2012 flowchart symbols as SVG elements.

The regulation allows exactly five symbols (terminator capsule, process rectangle,
decision diamond, arrow, off-page connector pentagon); keeping them in one module makes
it easy to see that the document draws nothing else. Arrowheads are plain triangles
rather than SVG markers so that several SVGs in one HTML page never clash on marker
ids and so that renderers with weak marker support still draw them.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from sopflow.reports._svg import FONT, fmt

__all__ = [
    "FONT",
    "Point",
    "arrow",
    "connector",
    "decision",
    "label",
    "process",
    "terminator",
]

Point = tuple[float, float]

STROKE = "#000"
_HEAD = 6.0  # arrowhead length


def _points(points: Sequence[Point]) -> str:
    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)


def _shape(tag: str, css_class: str, **attrs: str) -> etree._Element:
    element = etree.Element(tag)
    element.set("class", css_class)
    for name, value in attrs.items():
        element.set(name.replace("_", "-"), value)
    element.set("fill", "#fff")
    element.set("stroke", STROKE)
    element.set("stroke-width", "1.2")
    return element


def terminator(cx: float, cy: float, w: float, h: float) -> etree._Element:
    """Capsule: where the procedure starts and ends."""
    return _shape(
        "rect", "simbol terminator",
        x=fmt(cx - w / 2), y=fmt(cy - h / 2), width=fmt(w), height=fmt(h),
        rx=fmt(h / 2), ry=fmt(h / 2),
    )


def process(cx: float, cy: float, w: float, h: float) -> etree._Element:
    """Rectangle: an activity."""
    return _shape(
        "rect", "simbol proses",
        x=fmt(cx - w / 2), y=fmt(cy - h / 2), width=fmt(w), height=fmt(h),
    )


def decision(cx: float, cy: float, w: float, h: float) -> etree._Element:
    """Diamond: a decision with the exits Ya and Tidak."""
    return _shape(
        "polygon", "simbol keputusan",
        points=_points([(cx, cy - h / 2), (cx + w / 2, cy), (cx, cy + h / 2), (cx - w / 2, cy)]),
    )


def connector(cx: float, cy: float, w: float, h: float, letter: str) -> etree._Element:
    """Pentagon (off-page connector) carrying the letter that pairs it with its twin."""
    group = etree.Element("g")
    group.set("class", "penghubung")
    group.set("data-huruf", letter)
    top, bottom = cy - h / 2, cy + h / 2
    shoulder = cy + h / 6
    group.append(
        _shape(
            "polygon", "simbol penghubung",
            points=_points([
                (cx - w / 2, top), (cx + w / 2, top), (cx + w / 2, shoulder),
                (cx, bottom), (cx - w / 2, shoulder),
            ]),
        )
    )
    group.append(label(cx, cy + 1, letter, size=9, anchor="middle", bold=True))
    return group


def arrow(points: Sequence[Point], *, css_class: str = "panah") -> etree._Element:
    """An orthogonal polyline ending in a filled arrowhead on its last segment."""
    if len(points) < 2:
        raise ValueError("an arrow needs at least two points")
    group = etree.Element("g")
    group.set("class", css_class)
    (x1, y1), (x2, y2) = points[-2], points[-1]
    length = max(abs(x2 - x1), abs(y2 - y1)) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    base = (x2 - ux * _HEAD, y2 - uy * _HEAD)
    line = etree.SubElement(group, "polyline")
    line.set("points", _points([*points[:-1], base]))
    line.set("fill", "none")
    line.set("stroke", STROKE)
    line.set("stroke-width", "1")
    head = etree.SubElement(group, "polygon")
    half = _HEAD / 2.4
    head.set(
        "points",
        _points([
            (x2, y2),
            (base[0] - uy * half, base[1] + ux * half),
            (base[0] + uy * half, base[1] - ux * half),
        ]),
    )
    head.set("fill", STROKE)
    return group


def label(
    x: float, y: float, text: str, *, size: float = 8, anchor: str = "start", bold: bool = False
) -> etree._Element:
    """A short text (Ya, Tidak, a connector letter) placed on the chart."""
    element = etree.Element("text")
    element.set("x", fmt(x))
    element.set("y", fmt(y))
    element.set("font-family", FONT)
    element.set("font-size", fmt(size))
    element.set("text-anchor", anchor)
    element.set("dominant-baseline", "middle")
    if bold:
        element.set("font-weight", "bold")
    element.text = text
    return element
