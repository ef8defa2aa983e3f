"""The process picture: a BPMN file drawn from its own diagram (DI), coloured by SLA status.

The office already knows its SOP by the picture its modeler shows, so the monitoring
picture reuses that exact layout (pool, lanes, boxes, arrows from the file's
``bpmndi`` shapes and edges) instead of inventing a new one. Only the fill of each step
changes: by the status of one instance's steps, or, across many instances, by the share
of passes that met the Mutu Baku standard.

The SVG is built as an lxml tree, so every name from a file is escaped by the
serializer, never by hand; it refers to nothing outside itself (no fonts, images,
scripts or links) and uses no ``id`` attributes, so several pictures can sit inline in
one HTML report without clashing. Elements carry ``data-*`` attributes (element id,
step number, status, share met) for tests and for scripts of the page that embeds them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from lxml import etree

from sopflow.definitions.model import ProcessDefinition
from sopflow.logging import get_logger
from sopflow.reports._diagram import Box, Edge, Shape, read_diagram
from sopflow.reports._svg import CHAR_WIDTH, FONT, INK, Canvas, clean, fmt, wrap
from sopflow.runtime.views import InstanceView

__all__ = [
    "DONE_IN_TIME",
    "DONE_LATE",
    "NOT_REACHED",
    "STATUSES",
    "STATUS_LABELS",
    "STATUS_STYLES",
    "instance_step_status",
    "render_process_svg",
    "share_colour",
]

log = get_logger(__name__)

DONE_IN_TIME, DONE_LATE, NOT_REACHED = "done_in_time", "done_late", "not_reached"
ON_TRACK, AT_RISK, BREACHED = "on_track", "at_risk", "breached"

#: The step statuses a picture knows, in legend order (the monitor uses the same strings).
STATUSES: tuple[str, ...] = (DONE_IN_TIME, DONE_LATE, ON_TRACK, AT_RISK, BREACHED, NOT_REACHED)

#: What a legend says for each status.
STATUS_LABELS: Mapping[str, str] = {
    DONE_IN_TIME: "done in time",
    DONE_LATE: "done late",
    ON_TRACK: "open: on track",
    AT_RISK: "open: at risk",
    BREACHED: "open: breached",
    NOT_REACHED: "not reached",
}

#: (fill, stroke) per status. Late and breached share red hues but differ in fill
#: strength, and every coloured step also carries a text badge, so colour is never the
#: only carrier of the meaning (colour-blind readers, black-and-white print).
STATUS_STYLES: Mapping[str, tuple[str, str]] = {
    DONE_IN_TIME: ("#c8e6c9", "#2e7d32"),
    DONE_LATE: ("#ffccbc", "#bf360c"),
    ON_TRACK: ("#bbdefb", "#1565c0"),
    AT_RISK: ("#ffe082", "#e65100"),
    BREACHED: ("#ef9a9a", "#b71c1c"),
    NOT_REACHED: ("#f5f5f5", "#9e9e9e"),
}

_BADGES: Mapping[str, str] = {
    DONE_IN_TIME: "in time",
    DONE_LATE: "late",
    ON_TRACK: "on track",
    AT_RISK: "at risk",
    BREACHED: "breached",
}


_FLOW = "#455a64"
_NO_DATA = ("#eceff1", "#90a4ae")
_MARGIN = 20.0
_TITLE_BAND = 52.0
_LEGEND_BAND = 46.0


# ----------------------------------------------------------------------------- statuses


def instance_step_status(view: InstanceView) -> dict[str, str]:
    """Status of each step an instance reached, keyed by task id; the latest pass decides.

    A completed pass met its standard when ``completed_at <= due_at``; a pass without a
    standard counts as done in time (no standard is never a breach). An open pass takes
    the SLA status the engine computed at the view's ``at`` (``no_standard`` reads as on
    track). A pass left open by a cancelled instance is judged at the cancellation.
    Steps never reached are absent; :func:`render_process_svg` draws them as not reached.
    """
    open_status = {item.task_id: item.sla_status for item in view.open_steps}
    status: dict[str, str] = {}
    for record in sorted(view.history, key=lambda r: r.ready_at):
        due = record.due_at
        if record.completed_at is not None:
            late = due is not None and record.completed_at > due
            status[record.task_id] = DONE_LATE if late else DONE_IN_TIME
        elif record.task_id in open_status:
            sla = open_status[record.task_id]
            status[record.task_id] = sla if sla in (AT_RISK, BREACHED) else ON_TRACK
        else:
            ended = view.ended_at or view.last_action_at
            status[record.task_id] = BREACHED if due is not None and ended >= due else ON_TRACK
    return status


def share_colour(share: float) -> tuple[str, str]:
    """(fill, stroke) for a share met in 0..1: red at 0, amber at 0.5, green at 1."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share met must be within 0..1, got {share!r}")
    stops = ((0.0, (198, 40, 40)), (0.5, (249, 168, 37)), (1.0, (46, 125, 50)))
    (a, ca), (b, cb) = (stops[0], stops[1]) if share <= 0.5 else (stops[1], stops[2])
    t = (share - a) / (b - a)
    stroke = tuple(round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True))
    fill = tuple(round(c + (255 - c) * 0.62) for c in stroke)
    return _hex(fill), _hex(stroke)


def _hex(rgb: Sequence[int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


# ----------------------------------------------------------------------------- drawing


def render_process_svg(
    definition: ProcessDefinition,
    *,
    step_status: Mapping[str, str] | None = None,
    share_met: Mapping[str, float] | None = None,
    title: str | None = None,
) -> str:
    """Draw ``definition`` from its DI; colour steps by ``step_status`` or ``share_met``.

    ``step_status`` maps task ids to one of :data:`STATUSES` (steps not listed are not
    reached); ``share_met`` maps task ids to the share of passes that met the standard
    (0..1; steps not listed have no data). Give at most one of the two. Raises
    DefinitionError if the file has no diagram, ValueError for an unknown status or a
    share outside 0..1.
    """
    if step_status is not None and share_met is not None:
        raise ValueError("give step_status or share_met, not both")
    for task, status in (step_status or {}).items():
        if status not in STATUS_STYLES:
            raise ValueError(f"step {task!r}: unknown status {status!r} (use one of {STATUSES})")
    for task, share in (share_met or {}).items():
        if not isinstance(share, int | float) or not 0.0 <= share <= 1.0:
            raise ValueError(f"step {task!r}: share met must be within 0..1, got {share!r}")

    shapes, edges = read_diagram(definition)
    xs = [s.box.x for s in shapes] + [p[0] for e in edges for p in e.points]
    ys = [s.box.y for s in shapes] + [p[1] for e in edges for p in e.points]
    xe = [s.box.x + s.box.w for s in shapes] + [p[0] for e in edges for p in e.points]
    ye = [s.box.y + s.box.h for s in shapes] + [p[1] for e in edges for p in e.points]
    for s in shapes:
        if s.label is not None:
            xs.append(s.label.x)
            xe.append(s.label.x + s.label.w)
            ye.append(s.label.y + s.label.h)
    min_x, min_y, max_x, max_y = min(xs), min(ys) - 10, max(xe), max(ye) + 10
    mode = "status" if step_status is not None else "share" if share_met is not None else None
    width = max(max_x - min_x + 2 * _MARGIN, 760.0 if mode else 300.0)
    height = _TITLE_BAND + (max_y - min_y) + (_LEGEND_BAND if mode else 0) + _MARGIN

    canvas = Canvas()
    svg = canvas.root
    svg.set("width", fmt(width))
    svg.set("height", fmt(height))
    svg.set("viewBox", f"0 0 {fmt(width)} {fmt(height)}")
    svg.set("font-family", FONT)
    svg.set("class", "sopflow-process")
    svg.set("data-process-id", definition.process_id)
    svg.set("data-mode", mode or "plain")
    svg.set("role", "img")
    heading = clean(title if title is not None else definition.name)
    svg.set("aria-label", heading)
    canvas.add(None, "rect", x="0", y="0", width=fmt(width), height=fmt(height), fill="#fff")
    _draw_title(canvas, heading, definition, width)

    body = canvas.group(
        transform=f"translate({fmt(_MARGIN - min_x)},{fmt(_TITLE_BAND - min_y)})",
        class_="diagram",
    )
    for shape in shapes:
        if shape.kind == "participant":
            _draw_pool(canvas, body, shape, shapes)
    for shape in shapes:
        if shape.kind == "lane":
            _draw_lane(canvas, body, shape)
    for shape in shapes:
        if shape.kind in ("subProcess", "transaction", "adHocSubProcess"):
            _draw_activity(canvas, body, shape, definition, None, None, container=True)
    for edge in edges:
        _draw_edge(canvas, body, edge)
    for shape in shapes:
        kind = shape.kind
        if kind.endswith("Task") or kind in ("task", "callActivity"):
            colours, badge = _step_style(
                shape.element, mode, step_status, share_met, _without_standard(definition, shape)
            )
            _draw_activity(canvas, body, shape, definition, colours, badge)
        elif kind.endswith("Gateway"):
            _draw_gateway(canvas, body, shape)
        elif kind.endswith("Event"):
            _draw_event(canvas, body, shape)
        elif kind == "textAnnotation":
            _draw_annotation(canvas, body, shape)
    drawn = {s.element for s in shapes}
    for step in definition.steps:
        if step.id not in drawn:
            log.warning("render.step_without_shape", process_id=definition.process_id, task=step.id)
    if mode == "status":
        _status_legend(canvas, height - _LEGEND_BAND + 8)
    elif mode == "share":
        _share_legend(canvas, height - _LEGEND_BAND + 8)
    return etree.tostring(svg, encoding="unicode")


def _draw_title(canvas: Canvas, heading: str, definition: ProcessDefinition, width: float) -> None:
    group = canvas.group(class_="title")
    chars = int((width - 2 * _MARGIN) / (15 * CHAR_WIDTH))
    canvas.text(
        group, wrap(heading, (width - 2 * _MARGIN), 15, 1), _MARGIN, 20,
        size=15, anchor="start", font_weight="bold",
    )
    header = definition.header
    parts = [
        f"No. {header.nomor}" if header.nomor else "",
        f"Kecamatan {header.kecamatan}" if header.kecamatan else "",
        header.pemerintah or "",
        definition.process_id,
    ]
    sub = clean(" · ".join(p for p in parts if p))
    canvas.text(group, [sub[:chars * 2]], _MARGIN, 40, size=11, anchor="start", fill="#546e7a")


def _draw_pool(canvas: Canvas, parent: etree._Element, pool: Shape, shapes: list[Shape]) -> None:
    b = pool.box
    group = canvas.group(parent, class_="pool", data_id=pool.element)
    canvas.add(group, "rect", x=fmt(b.x), y=fmt(b.y), width=fmt(b.w), height=fmt(b.h),
               fill="#fff", stroke=INK, stroke_width="1.5")
    lanes = [s.box for s in shapes if s.kind == "lane"
             and b.x <= s.box.x < b.x + b.w and b.y <= s.box.y < b.y + b.h]
    band = min((la.x for la in lanes), default=b.x + 30) - b.x
    band = band if 0 < band < b.w else 30
    canvas.add(group, "line", x1=fmt(b.x + band), y1=fmt(b.y), x2=fmt(b.x + band),
               y2=fmt(b.y + b.h), stroke=INK, stroke_width="1.5")
    if pool.name:
        lines = wrap(pool.name, b.h - 12, 13, 2)
        canvas.text(group, lines, 0, 0, size=13, font_weight="bold",
                    transform=f"translate({fmt(b.x + band / 2)},{fmt(b.cy)}) rotate(-90)")
        canvas.title(group, pool.name)


def _draw_lane(canvas: Canvas, parent: etree._Element, lane: Shape) -> None:
    b = lane.box
    group = canvas.group(parent, class_="lane", data_id=lane.element)
    canvas.add(group, "rect", x=fmt(b.x), y=fmt(b.y), width=fmt(b.w), height=fmt(b.h),
               fill="#fbfcfd", stroke="#78909c", stroke_width="1")
    canvas.add(group, "line", x1=fmt(b.x + 30), y1=fmt(b.y), x2=fmt(b.x + 30),
               y2=fmt(b.y + b.h), stroke="#cfd8dc", stroke_width="1")
    if lane.name:
        lines = wrap(lane.name, b.h - 10, 12, 2)
        canvas.text(group, lines, 0, 0, size=12, line_height=13,
                    transform=f"translate({fmt(b.x + 15)},{fmt(b.cy)}) rotate(-90)")
        canvas.title(group, lane.name)


def _without_standard(definition: ProcessDefinition, shape: Shape) -> bool:
    """A step whose waktu sets no standard ("sesuai jadwal", none): no share to show."""
    from sopflow.errors import WaktuError
    from sopflow.sla.durations import StandardKind, parse_waktu

    step = definition.step(shape.element)
    if step is None:
        return False
    try:
        return parse_waktu(step.waktu).kind is StandardKind.NONE
    except WaktuError:
        return False


def _step_style(
    task: str,
    mode: str | None,
    step_status: Mapping[str, str] | None,
    share_met: Mapping[str, float] | None,
    without_standard: bool = False,
) -> tuple[tuple[str, str], str | None]:
    if mode == "status" and step_status is not None:
        status = step_status.get(task, NOT_REACHED)
        return STATUS_STYLES[status], _BADGES.get(status)
    if mode == "share" and share_met is not None:
        share = share_met.get(task)
        if share is None:
            # "no data" is for a step never worked; a step without a standard has no share
            return _NO_DATA, "tanpa standar" if without_standard else "no data"
        return share_colour(float(share)), f"{math.floor(share * 100 + 0.5)}% met"
    return ("#fff", INK), None


def _draw_activity(
    canvas: Canvas,
    parent: etree._Element,
    shape: Shape,
    definition: ProcessDefinition,
    colours: tuple[str, str] | None,
    badge: str | None,
    *,
    container: bool = False,
) -> None:
    b = shape.box
    step = definition.step(shape.element)
    fill, stroke = colours or ("#fff", INK)
    attrs: dict[str, str] = {"class_": "subprocess" if container else "task",
                             "data_id": shape.element, "data_kind": shape.kind}
    if step is not None:
        attrs["data_step_no"] = str(step.no)
    group = canvas.group(parent, **attrs)
    if container:
        canvas.add(group, "rect", x=fmt(b.x), y=fmt(b.y), width=fmt(b.w), height=fmt(b.h),
                   rx="10", fill="#fff", fill_opacity="0.6", stroke=INK, stroke_width="1.2")
        canvas.text(group, wrap(shape.name, b.w - 12, 11, 1), b.x + 8, b.y + 12, size=11,
                    anchor="start", font_weight="bold")
        return
    dashed = {"stroke_dasharray": "4 3"} if badge is None and colours is not None else {}
    canvas.add(group, "rect", x=fmt(b.x), y=fmt(b.y), width=fmt(b.w), height=fmt(b.h),
               rx="10", fill=fill, stroke=stroke, stroke_width="2" if badge else "1.2", **dashed)
    size = 10.5 if b.h >= 90 else 10
    max_lines = max(1, int((b.h - 14) / (size * 1.2)))
    lines = wrap(shape.name or shape.element, b.w - 12, size, max_lines)
    canvas.text(group, lines, b.cx, b.cy, size=size)
    tip = shape.name or shape.element
    if step is not None:
        number = str(step.no)
        tab_w = 8 + len(number) * 7
        canvas.add(group, "rect", x=fmt(b.x + 8), y=fmt(b.y - 8), width=fmt(tab_w),
                   height="15", rx="7", fill=stroke, stroke="#fff", stroke_width="1")
        canvas.text(group, [number], b.x + 8 + tab_w / 2, b.y - 0.5, size=10,
                    fill="#fff", font_weight="bold")
        tip = f"{step.no}. {tip}" + (f" — waktu: {step.waktu}" if step.waktu else "")
    if badge is not None:
        badge_w = 12 + len(badge) * 6.2
        canvas.add(group, "rect", x=fmt(b.cx - badge_w / 2), y=fmt(b.y + b.h - 8),
                   width=fmt(badge_w), height="16", rx="8", fill=stroke, stroke="#fff",
                   stroke_width="1", class_="badge")
        canvas.text(group, [badge], b.cx, b.y + b.h, size=10.5, fill="#fff", font_weight="bold",
                    class_="badge-text")
        tip += f" — {badge}"
    canvas.title(group, tip)


def _draw_gateway(canvas: Canvas, parent: etree._Element, shape: Shape) -> None:
    b = shape.box
    group = canvas.group(parent, class_="gateway", data_id=shape.element, data_kind=shape.kind)
    points = [(b.cx, b.y), (b.x + b.w, b.cy), (b.cx, b.y + b.h), (b.x, b.cy)]
    canvas.add(group, "polygon", points=" ".join(f"{fmt(x)},{fmt(y)}" for x, y in points),
               fill="#fff", stroke=INK, stroke_width="1.5")
    dx, dy = b.w * 0.2, b.h * 0.2
    if shape.kind == "exclusiveGateway":
        for (x1, y1), (x2, y2) in (
            ((b.cx - dx, b.cy - dy), (b.cx + dx, b.cy + dy)),
            ((b.cx - dx, b.cy + dy), (b.cx + dx, b.cy - dy)),
        ):
            canvas.add(group, "line", x1=fmt(x1), y1=fmt(y1), x2=fmt(x2), y2=fmt(y2),
                       stroke=INK, stroke_width="3", stroke_linecap="round")
    elif shape.kind == "parallelGateway":
        for (x1, y1), (x2, y2) in (
            ((b.cx - dx * 1.2, b.cy), (b.cx + dx * 1.2, b.cy)),
            ((b.cx, b.cy - dy * 1.2), (b.cx, b.cy + dy * 1.2)),
        ):
            canvas.add(group, "line", x1=fmt(x1), y1=fmt(y1), x2=fmt(x2), y2=fmt(y2),
                       stroke=INK, stroke_width="3", stroke_linecap="round")
    if shape.name:
        _outside_label(canvas, group, shape.name, shape.label, b, above=True)
        canvas.title(group, shape.name)


def _draw_event(canvas: Canvas, parent: etree._Element, shape: Shape) -> None:
    b = shape.box
    role = {"startEvent": "start", "endEvent": "end"}.get(shape.kind, "intermediate")
    group = canvas.group(parent, class_=f"event {role}", data_id=shape.element,
                         data_kind=shape.kind)
    r = min(b.w, b.h) / 2
    fill, stroke = {"start": ("#e8f5e9", "#2e7d32"), "end": ("#ffebee", "#b71c1c")}.get(
        role, ("#fff", INK)
    )
    canvas.add(group, "circle", cx=fmt(b.cx), cy=fmt(b.cy), r=fmt(r), fill=fill,
               stroke=stroke, stroke_width="4" if role == "end" else "2")
    if role == "intermediate":
        canvas.add(group, "circle", cx=fmt(b.cx), cy=fmt(b.cy), r=fmt(r - 3), fill="none",
                   stroke=INK, stroke_width="1.2")
    if shape.name:
        _outside_label(canvas, group, shape.name, shape.label, b, above=False)


def _draw_annotation(canvas: Canvas, parent: etree._Element, shape: Shape) -> None:
    b = shape.box
    group = canvas.group(parent, class_="annotation", data_id=shape.element)
    canvas.add(group, "path", d=f"M{fmt(b.x + 10)},{fmt(b.y)} h-10 v{fmt(b.h)} h10",
               fill="none", stroke=INK)


def _outside_label(
    canvas: Canvas,
    group: etree._Element,
    name: str,
    label: Box | None,
    b: Box,
    *,
    above: bool,
) -> None:
    if label is not None:
        width = max(label.w, 60.0)
        canvas.text(group, wrap(name, width, 11, 3), label.cx, label.cy, size=11,
                    class_="label")
        return
    y = b.y - 10 if above else b.y + b.h + 13
    canvas.text(group, wrap(name, max(b.w * 2, 80.0), 11, 2), b.cx, y, size=11, class_="label")


def _draw_edge(canvas: Canvas, parent: etree._Element, edge: Edge) -> None:
    if edge.kind != "sequenceFlow":
        # associations and message flows: dotted, no arrowhead, no coloured meaning
        group = canvas.group(parent, class_="association", data_id=edge.element)
        canvas.add(group, "polyline",
                   points=" ".join(f"{fmt(x)},{fmt(y)}" for x, y in edge.points),
                   fill="none", stroke=_FLOW, stroke_width="1.2", stroke_dasharray="3 3")
        return
    group = canvas.group(parent, class_="flow", data_id=edge.element)
    points = list(edge.points)
    (x1, y1), (x2, y2) = points[-2], points[-1]
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    head = 9.0
    # The line stops at the arrowhead's base so the thick stroke does not blunt its tip.
    points[-1] = (x2 - ux * head * 0.8, y2 - uy * head * 0.8)
    canvas.add(group, "polyline", points=" ".join(f"{fmt(x)},{fmt(y)}" for x, y in points),
               fill="none", stroke=_FLOW, stroke_width="1.6", stroke_linejoin="round")
    bx, by = x2 - ux * head, y2 - uy * head
    px, py = -uy * head * 0.45, ux * head * 0.45
    canvas.add(group, "polygon",
               points=f"{fmt(x2)},{fmt(y2)} {fmt(bx + px)},{fmt(by + py)} "
               f"{fmt(bx - px)},{fmt(by - py)}",
               fill=_FLOW, stroke="none")
    if edge.name:
        if edge.label is not None:
            x, y = edge.label.cx, edge.label.cy
        else:
            (ax, ay), (cx, cy) = edge.points[0], edge.points[1]
            x, y = (ax + cx) / 2 + 4, (ay + cy) / 2 - 7
        canvas.text(group, [edge.name[:40]], x, y, size=11, font_weight="bold", class_="label",
                    stroke="#fff", stroke_width="3", paint_order="stroke", stroke_linejoin="round")


def _legend_item(canvas: Canvas, group: etree._Element, x: float, y: float,
                 colours: tuple[str, str], text: str) -> float:
    canvas.add(group, "rect", x=fmt(x), y=fmt(y), width="26", height="16", rx="5",
               fill=colours[0], stroke=colours[1], stroke_width="2")
    canvas.text(group, [text], x + 32, y + 8, size=11.5, anchor="start")
    return x + 32 + len(text) * 11.5 * CHAR_WIDTH + 18


def _status_legend(canvas: Canvas, y: float) -> None:
    group = canvas.group(class_="legend", data_mode="status")
    x = _MARGIN
    for status in STATUSES:
        item = canvas.group(group, class_="legend-item", data_status=status)
        x = _legend_item(canvas, item, x, y, STATUS_STYLES[status], STATUS_LABELS[status])


def _share_legend(canvas: Canvas, y: float) -> None:
    group = canvas.group(class_="legend", data_mode="share")
    canvas.text(group, ["share of passes within the standard:"], _MARGIN, y + 8, size=11.5,
                anchor="start")
    x = _MARGIN + 230
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = _legend_item(canvas, group, x, y, share_colour(share), f"{round(share * 100)}%")
    _legend_item(canvas, group, x + 10, y, _NO_DATA, "no data")
