"""Layout of the SOP flowchart: which symbol goes where, which arrows join them, and
where the table breaks across printed pages.

Rows have heights fixed in advance (from the text they hold) so that one SVG per page
segment can be laid exactly over the Pelaksana columns; arrows then run freely between
rows and columns. One step sits in a row, so a row's width is free for the horizontal
part of any arrow, and vertical "channels" at the column edges carry the arrows that jump
back (Tidak) or forward past other rows. A step done by several Pelaksana together puts a
symbol in each of their columns, joined by a line; arrows enter and leave it at the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from lxml import etree

from sopflow.definitions.model import NodeKind, ProcessDefinition, Step
from sopflow.errors import DefinitionError
from sopflow.logging import get_logger
from sopflow.reports import _symbols as sym
from sopflow.reports._svg import fmt

__all__ = [
    "ChartRow",
    "Link",
    "RowExtra",
    "Segment",
    "SymbolKind",
    "chart_links",
    "chart_rows",
    "draw_segment",
    "plan_segments",
    "row_steps",
]

log = get_logger(__name__)

#: height of the zone holding an off-page connector at the top or bottom of a segment
CONNECTOR_ZONE = 34


class SymbolKind(StrEnum):
    TERMINATOR = "terminator"
    PROCESS = "proses"
    DECISION = "keputusan"
    #: a row that runs another SOP (Keterkaitan): the off-page connector, without a letter
    CALL = "panggil"


@dataclass(frozen=True, slots=True)
class ChartRow:
    step: Step
    column: int  # 0-based index of the Pelaksana column (the first, for a joint row)
    symbol: SymbolKind
    height: int
    #: every column with a symbol in this row, ``column`` first; empty means ``column`` only
    columns: tuple[int, ...] = ()

    @property
    def all_columns(self) -> tuple[int, ...]:
        return self.columns or (self.column,)


@dataclass(frozen=True, slots=True)
class RowExtra:
    """What a row shows beyond its step: its other Pelaksana, or the SOP it runs."""

    bersama: tuple[str, ...] = ()
    calls: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    """An arrow between steps by number; ``target`` None means the procedure ends."""

    source: int
    target: int | None
    label: str | None = None
    #: the target is the very next row: a plain downward arrow
    forward: bool = False


@dataclass(slots=True)
class Segment:
    """The rows printed on one page, with the connector letters at its edges."""

    rows: list[ChartRow]
    top_letter: str | None = None
    bottom_letter: str | None = None
    #: letters of arrows whose ends sit on different pages: (source no, target no) -> letter
    jump_letters: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def numbers(self) -> set[int]:
        return {row.step.no for row in self.rows}


def _column_of(definition: ProcessDefinition, step: Step) -> int:
    for index, lane in enumerate(definition.lanes):
        if step.lane is not None and step.lane in (lane.name, lane.id):
            return index
    raise DefinitionError(
        "step has no Pelaksana lane, so the document cannot place its symbol",
        file=definition.source, line=step.line, element=step.id,
    )


def _lane_index(definition: ProcessDefinition, name: str, step: Step) -> int:
    for index, lane in enumerate(definition.lanes):
        if name in (lane.name, lane.id):
            return index
    raise DefinitionError(
        f"step names Pelaksana {name!r}, which is not a lane of the process",
        file=definition.source, line=step.line, element=step.id,
    )


def row_steps(definition: ProcessDefinition) -> list[Step]:
    """The first step of each row: steps sharing a number are one row (a joint step)."""
    rows: dict[int, Step] = {}
    for step in sorted(definition.steps, key=lambda s: s.no):
        rows.setdefault(step.no, step)
    return list(rows.values())


def chart_rows(
    definition: ProcessDefinition, heights: dict[int, int],
    extras: Mapping[int, RowExtra] | None = None,
) -> list[ChartRow]:
    """One row per step number in order; the first and last rows are capsules.

    Several steps with one number (the tasks of a joint step) make one row with a symbol
    in each of their columns, as the Permenpan-RB flowcharts draw a row whose check marks
    sit in several Pelaksana columns; ``extras`` adds what a table says about a row.
    """
    extras = extras or {}
    steps = row_steps(definition)
    deciding = {d.step_id for d in definition.decisions}
    rows = []
    for index, step in enumerate(steps):
        extra = extras.get(step.no, RowExtra())
        if step.id in deciding or step.decision_field:
            kind = SymbolKind.DECISION
        elif extra.calls:
            kind = SymbolKind.CALL
        elif index in (0, len(steps) - 1):
            kind = SymbolKind.TERMINATOR
        else:
            kind = SymbolKind.PROCESS
        column = _column_of(definition, step)
        columns = [column]
        for other in definition.steps:
            if other.no == step.no and other is not step:
                columns.append(_column_of(definition, other))
        columns += [_lane_index(definition, name, step) for name in extra.bersama]
        unique = tuple(dict.fromkeys(columns))
        rows.append(ChartRow(step, column, kind, heights[step.no],
                             unique if len(unique) > 1 else ()))
    return rows


def _resolve(
    definition: ProcessDefinition, node_id: str | None, seen: set[str]
) -> list[Step | None]:
    """The steps a flow leads to, passing through gateways and other nodes; None for an
    end (a none or a terminate end event).

    A split leads to every row its branches reach: a joint step's parallel split (one
    task per lane, all numbered as the row) to that one row, a parallel or inclusive split
    into different rows to each of them.
    """
    if node_id is None or node_id in seen:
        return []
    seen.add(node_id)
    step = definition.step(node_id)
    if step is not None:
        return [step]
    node = definition.nodes.get(node_id)
    if node is None or node.kind in (NodeKind.END, NodeKind.TERMINATE_END):
        return [None]
    if not node.outgoing:
        return [None]
    found: list[Step | None] = []
    for flow in node.outgoing:
        found += _resolve(definition, flow.target, seen)
    return found


def chart_links(definition: ProcessDefinition) -> list[Link]:
    """The arrows of the flowchart, read from the process graph.

    A step without a graph node (a definition built by hand) simply leads to the next
    step, which is what a straight SOP table means.
    """
    steps = row_steps(definition)
    decisions = {d.step_id: d for d in definition.decisions}
    gateways = {d.gateway_id: d for d in definition.decisions}
    links: list[Link] = []

    def target_nos(node_id: str | None) -> list[int | None]:
        found = _resolve(definition, node_id, set()) or [None]
        return list(dict.fromkeys(None if step is None else step.no for step in found))

    def target_no(node_id: str | None) -> int | None:
        return target_nos(node_id)[0]

    for index, step in enumerate(steps):
        following = steps[index + 1].no if index + 1 < len(steps) else None
        decision = decisions.get(step.id)
        node = definition.nodes.get(step.id)
        if decision is None and node is not None:
            for flow in node.outgoing:
                if flow.target in gateways:
                    decision = gateways[flow.target]
        if decision is not None:
            for text, node_id in (("Ya", decision.yes_target), ("Tidak", decision.no_target)):
                target = target_no(node_id)
                links.append(Link(step.no, target, text, target is not None
                                  and target == following))
        elif node is not None and node.outgoing:
            targets = dict.fromkeys(
                no for flow in node.outgoing for no in target_nos(flow.target)
            )
            links.extend(
                Link(step.no, t, None, t is not None and t == following) for t in targets
            )
        else:
            links.append(Link(step.no, following, None, following is not None))
    last = steps[-1].no if steps else None
    return [
        link for link in links
        if not (link.target is None and link.source == last and link.label is None)
    ]


def plan_segments(
    rows: Sequence[ChartRow], links: Sequence[Link], budget: int, *, first_extra: int = 0
) -> list[Segment]:
    """Split rows into printed pages of at most ``budget`` px of rows.

    The first page has no connector at its top, so it may use ``first_extra`` px more.

    A break is moved up so that a return loop stays on one page, unless that would leave
    the page less than half full (a near-empty page looks like a mistake on paper); what
    still crosses a break gets a pair of lettered off-page connectors.
    """
    spans = [
        (min(link.source, link.target), max(link.source, link.target))
        for link in links
        if link.target is not None and not link.forward
    ]
    pages: list[list[ChartRow]] = []
    start = 0
    while start < len(rows):
        limit = budget + (first_extra if start == 0 else 0)
        end, used = start, rows[start].height
        while end + 1 < len(rows) and used + rows[end + 1].height <= limit:
            end += 1
            used += rows[end].height
        if end + 1 < len(rows):
            first_no = rows[start].step.no
            moved = True
            while moved:
                moved = False
                last_no = rows[end].step.no
                for low, high in spans:
                    if first_no < low <= last_no < high:
                        new_end = next(i for i in range(start, end + 1)
                                       if rows[i].step.no == low) - 1
                        kept = sum(r.height for r in rows[start:new_end + 1])
                        if new_end >= start and kept * 2 >= limit:
                            end, moved = new_end, True
                            break
        if rows[end].height > limit:
            log.warning("document_row_too_tall", step=rows[end].step.id, height=rows[end].height)
        pages.append(list(rows[start:end + 1]))
        start = end + 1

    segments = [Segment(page) for page in pages]
    letters = _letters()
    page_of = {row.step.no: i for i, seg in enumerate(segments) for row in seg.rows}
    events: list[tuple[int, int, Link | None]] = []
    for link in links:
        if link.target is None or page_of[link.source] == page_of[link.target]:
            continue
        if link.forward:
            events.append((link.source, 0, None))
        else:
            events.append((min(link.source, link.target), 1, link))
    for no, _, jump in sorted(events, key=lambda e: (e[0], e[1])):
        letter = next(letters)
        if jump is None:
            segments[page_of[no]].bottom_letter = letter
            segments[page_of[no] + 1].top_letter = letter
        else:
            assert jump.target is not None
            for page in (page_of[jump.source], page_of[jump.target]):
                segments[page].jump_letters[(jump.source, jump.target)] = letter
    return segments


def _letters() -> Iterator[str]:
    """A, B, ... Z, then AA, AB, ...: the labels SOP sheets put in connectors."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    yield from alphabet
    yield from (first + second for first in alphabet for second in alphabet)


@dataclass(frozen=True, slots=True)
class _Box:
    cx: float
    cy: float
    w: float
    h: float
    top_y: float  # top of the row

    @property
    def top(self) -> float:
        return self.cy - self.h / 2

    @property
    def bottom(self) -> float:
        return self.cy + self.h / 2

    @property
    def left(self) -> float:
        return self.cx - self.w / 2

    @property
    def right(self) -> float:
        return self.cx + self.w / 2


class _Channels:
    """Vertical lanes at column edges, each used by one arrow over a y-range.

    Arrows into the same step share a channel: they join before entering it, as a
    hand-drawn SOP does, instead of running side by side.
    """

    def __init__(self) -> None:
        self._used: dict[tuple[int, str], list[tuple[float, float, int, int]]] = {}

    def take(self, column: int, side: str, y1: float, y2: float, target: int) -> int:
        low, high = min(y1, y2), max(y1, y2)
        taken = self._used.setdefault((column, side), [])
        shared = next((slot for _, _, slot, t in taken if t == target), None)
        busy = {slot for a, b, slot, t in taken if a <= high and low <= b and t != target}
        slot = shared if shared is not None and shared not in busy else next(
            s for s in range(100) if s not in busy)
        taken.append((low, high, slot, target))
        return slot


def draw_segment(
    segment: Segment, links: Sequence[Link], columns: int, column_width: float
) -> etree._Element:
    """The SVG overlay for one page segment, in px, origin at the first Pelaksana cell."""
    width = columns * column_width
    top_zone = CONNECTOR_ZONE if segment.top_letter else 0
    bottom_zone = CONNECTOR_ZONE if segment.bottom_letter else 0
    height = top_zone + sum(row.height for row in segment.rows) + bottom_zone
    svg = etree.Element("svg")
    svg.set("class", "bagan")
    svg.set("width", fmt(width))
    svg.set("height", str(height))
    svg.set("viewBox", f"0 0 {fmt(width)} {height}")
    svg.set("role", "img")
    svg.set("aria-label", "Bagan alir")

    shape_w = max(min(column_width - 22, 66), 24)
    boxes: dict[int, _Box] = {}
    y = float(top_zone)
    for row in segment.rows:
        cx = (row.column + 0.5) * column_width - 0.5
        cy = y + row.height / 2
        if row.symbol is SymbolKind.DECISION:
            box = _Box(cx, cy, min(shape_w * 0.8, 52), 36, y)
        elif row.symbol is SymbolKind.CALL:
            box = _Box(cx, cy, min(shape_w * 0.7, 44), 34, y)
        else:
            box = _Box(cx, cy, shape_w, 26, y)
        boxes[row.step.no] = box
        y += row.height

    channels = _Channels()
    arrows = etree.SubElement(svg, "g")
    arrows.set("class", "panah-panah")
    shapes = etree.SubElement(svg, "g")
    shapes.set("class", "simbol-simbol")

    for row in segment.rows:
        box = boxes[row.step.no]
        centres = [(c + 0.5) * column_width - 0.5 for c in row.all_columns]
        if len(centres) > 1:
            # one step done together: a line through the row joins its symbols
            joint = etree.SubElement(arrows, "polyline")
            joint.set("class", "bersama")
            joint.set("points", sym._points([(min(centres), box.cy), (max(centres), box.cy)]))
            joint.set("fill", "none")
            joint.set("stroke", sym.STROKE)
            joint.set("stroke-width", "1")
        for column, cx in zip(row.all_columns, centres, strict=True):
            element = _symbol(row.symbol, cx, box)
            element.set("data-no", str(row.step.no))
            element.set("data-pelaksana", str(column + 1))
            shapes.append(element)

    first, last = segment.rows[0], segment.rows[-1]
    if segment.top_letter:
        box = boxes[first.step.no]
        shapes.append(sym.connector(box.cx, CONNECTOR_ZONE / 2 - 2, 20, 22, segment.top_letter))
        arrows.append(sym.arrow([(box.cx, CONNECTOR_ZONE / 2 + 9), (box.cx, box.top)]))
    if segment.bottom_letter:
        box = boxes[last.step.no]
        cy = height - CONNECTOR_ZONE / 2 + 2
        shapes.append(sym.connector(box.cx, cy, 20, 22, segment.bottom_letter))
        arrows.append(sym.arrow([(box.cx, box.bottom), (box.cx, cy - 11)]))

    for link in links:
        source = boxes.get(link.source)
        if source is None:
            continue
        row = next(r for r in segment.rows if r.step.no == link.source)
        if link.target is None:
            _to_end(arrows, shapes, source, link, width)
            continue
        target = boxes.get(link.target)
        if link.forward:
            if target is None:
                if link.label:
                    arrows.append(sym.label(source.cx + 4, source.bottom + 7, link.label))
                continue  # drawn with the bottom connector above
            # the elbow runs halfway between the symbol and the row's border, never on
            # the border itself, where it would vanish into the table's grid
            elbow = (source.bottom + target.top_y) / 2
            points = [(source.cx, source.bottom)]
            if target.cx != source.cx:
                points += [(source.cx, elbow), (target.cx, elbow)]
            points.append((target.cx, target.top))
            arrows.append(sym.arrow(points))
            if link.label:
                toward_left = target.cx > source.cx  # the label goes opposite the elbow
                arrows.append(sym.label(source.cx - 4 if toward_left else source.cx + 4,
                                        source.bottom + 4, link.label,
                                        anchor="end" if toward_left else "start"))
            continue
        target_row = next((r for r in segment.rows if r.step.no == link.target), None)
        if target is None or target_row is None:
            letter = segment.jump_letters.get((link.source, link.target))
            if letter is not None:
                _to_connector(arrows, shapes, source, letter, width, link.label)
            continue
        _jump(arrows, source, target, row.column, target_row.column, column_width,
              channels, link)

    for (source_no, no), letter in sorted(segment.jump_letters.items()):
        if no in boxes and source_no not in boxes:
            box = boxes[no]
            on_right = box.right + 34 <= width
            cx = box.right + 22 if on_right else box.left - 22
            shapes.append(sym.connector(cx, box.cy - 2, 18, 20, letter))
            edge = box.right if on_right else box.left
            start = cx - 9 if on_right else cx + 9
            arrows.append(sym.arrow([(start, box.cy), (edge, box.cy)]))
    return svg


def _symbol(kind: SymbolKind, cx: float, box: _Box) -> etree._Element:
    if kind is SymbolKind.CALL:
        element = sym.connector(cx, box.cy, box.w, box.h, "")
        element.set("class", "penghubung panggil")
        return element
    draw = {
        SymbolKind.TERMINATOR: sym.terminator,
        SymbolKind.PROCESS: sym.process,
        SymbolKind.DECISION: sym.decision,
    }[kind]
    return draw(cx, box.cy, box.w, box.h)


def _jump(
    arrows: etree._Element, source: _Box, target: _Box, source_column: int,
    target_column: int, column_width: float, channels: _Channels, link: Link,
) -> None:
    """An arrow from the side of ``source`` along a column-edge channel into ``target``."""
    if target_column > source_column:
        side = "left"
        exit_x = source.right
    else:
        side = "right"
        exit_x = source.left if target_column < source_column else source.right
    assert link.target is not None
    slot = channels.take(target_column, side, source.cy, target.cy, link.target)
    left = target_column * column_width
    offset = 5 + 4 * slot
    channel_x = left + offset if side == "left" else left + column_width - 1 - offset
    entry_x = target.left if side == "left" else target.right
    if target is source:
        loop_y = source.top_y + 4
        points = [(exit_x, source.cy), (channel_x, source.cy), (channel_x, loop_y),
                  (source.cx + source.w / 4, loop_y),
                  (source.cx + source.w / 4, source.cy - source.h / 4)]
    else:
        points = [(exit_x, source.cy), (channel_x, source.cy), (channel_x, target.cy),
                  (entry_x, target.cy)]
    arrows.append(sym.arrow(points))
    if link.label:
        _exit_label(arrows, source, exit_x < source.cx, link.label)


def _to_connector(
    arrows: etree._Element, shapes: etree._Element, source: _Box, letter: str,
    width: float, text: str | None,
) -> None:
    on_right = source.right + 40 <= width
    cx = source.right + 28 if on_right else source.left - 28
    edge = source.right if on_right else source.left
    shapes.append(sym.connector(cx, source.cy + 2, 18, 20, letter))
    arrows.append(sym.arrow([(edge, source.cy), (cx - 9 if on_right else cx + 9, source.cy)]))
    if text:
        _exit_label(arrows, source, not on_right, text)


def _to_end(
    arrows: etree._Element, shapes: etree._Element, source: _Box, link: Link, width: float
) -> None:
    """A decision exit that ends the procedure early: a small capsule beside the step."""
    on_right = source.right + 58 <= width
    w, h = 40.0, 16.0
    cx = source.right + 12 + w / 2 if on_right else source.left - 12 - w / 2
    cy = source.cy + 14
    capsule = sym.terminator(cx, cy, w, h)
    capsule.set("data-no", "selesai")
    shapes.append(capsule)
    shapes.append(sym.label(cx, cy, "Selesai", size=7, anchor="middle"))
    edge = source.right if on_right else source.left
    entry = cx - w / 2 if on_right else cx + w / 2
    arrows.append(sym.arrow([(edge, source.cy), ((edge + entry) / 2, source.cy),
                             ((edge + entry) / 2, cy), (entry, cy)]))
    if link.label:
        _exit_label(arrows, source, not on_right, link.label)


def _exit_label(arrows: etree._Element, source: _Box, toward_left: bool, text: str) -> None:
    """Ya/Tidak beside the upper edge of the symbol, clear of the channel it runs into."""
    x = source.cx - source.w / 4 - 3 if toward_left else source.cx + source.w / 4 + 3
    arrows.append(sym.label(x, source.top + 3, text, anchor="end" if toward_left else "start"))
