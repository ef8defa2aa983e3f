"""SVG building blocks shared by the reports' pictures (process, timeline, monthly chart).

One place decides how text from a file becomes safe SVG text (control characters
dropped, whitespace folded), how numbers are written (one decimal, no trailing ``.0``,
so outputs compare byte for byte across runs) and how lines are wrapped for an estimated
font width. The pictures are lxml trees, so the serializer escapes every name; nothing
here escapes by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree

__all__ = ["CHAR_WIDTH", "FONT", "INK", "SVG_NS", "Canvas", "clean", "fmt", "wrap"]

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"
INK = "#263238"
# Arial's mean advance is a little over half the font size; slightly generous so that
# estimated lines never overflow their box.
CHAR_WIDTH = 0.56
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """Text safe for an XML text node: control characters dropped, whitespace folded."""
    return " ".join(_XML_UNSAFE.sub("", text).split())


def wrap(text: str, width: float, font: float, max_lines: int) -> list[str]:
    """Word-wrap for an estimated font width; the last line ends in an ellipsis if cut."""
    per_line = max(1, int(width / (font * CHAR_WIDTH)))
    lines: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > per_line:  # a word longer than the line is broken hard
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:per_line])
            word = word[per_line:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= per_line:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last[: per_line - 1].rstrip() if len(last) >= per_line else last) + "…"
    return lines


def fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


class Canvas:
    """A thin builder over an lxml SVG tree: one place that sets shared attributes."""

    def __init__(self) -> None:
        # SVG as the default namespace, so the output reads <svg xmlns=...><rect .../>
        self.root = etree.fromstring(f'<svg xmlns="{SVG_NS}"/>')

    def group(self, parent: etree._Element | None = None, **attrs: str) -> etree._Element:
        return self.add(parent, "g", **attrs)

    def add(self, parent: etree._Element | None, tag: str, **attrs: str) -> etree._Element:
        element = etree.SubElement(self.root if parent is None else parent, f"{{{SVG_NS}}}{tag}")
        for key, value in attrs.items():
            element.set(key.rstrip("_").replace("_", "-"), value)
        return element

    def text(
        self,
        parent: etree._Element,
        lines: Sequence[str],
        x: float,
        y: float,
        *,
        size: float = 11,
        anchor: str = "middle",
        line_height: float | None = None,
        **attrs: str,
    ) -> etree._Element:
        """Lines centred vertically on ``y`` (the first baseline adjusted accordingly)."""
        step = line_height or size * 1.2
        first = y - step * (len(lines) - 1) / 2 + size * 0.35
        node = self.add(
            parent,
            "text",
            x=fmt(x),
            y=fmt(first),
            font_size=fmt(size),
            text_anchor=anchor,
            fill=attrs.pop("fill", INK),
            **attrs,
        )
        for i, line in enumerate(lines):
            span = self.add(node, "tspan", x=fmt(x), dy="0" if i == 0 else fmt(step))
            span.text = line
        return node

    def title(self, parent: etree._Element, text: str) -> None:
        """A native tooltip: the full name where the box shows a shortened one."""
        self.add(parent, "title").text = text
