"""The timeline of one instance: each pass through a step against its Mutu Baku standard.

A process picture shows *where* an instance stands; the timeline shows *when*: one row
per pass (a step sent back by a "Tidak" gets a row per pass), a bar from the moment the
step became ready to the moment it was done (or to "now" while open), and behind it a
thin bar to the step's due date. Bars are coloured met / missed, or by the open status.

The axis is calendar time with the office's non-working time shaded (nights, weekends,
national holidays and cuti bersama from the SLA policy's calendar), because that is how
people remember a case ("it sat over the long weekend"), while the text at the end of
each row gives the working time the SLA actually counts, so a 15-minute step that is
only a sliver on a three-week axis still reads exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from lxml import etree

from sopflow.definitions.model import ProcessDefinition
from sopflow.reports._svg import FONT, INK, SVG_NS, clean, fmt, wrap
from sopflow.reports.render import STATUS_STYLES
from sopflow.runtime.views import StepRecord
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.policy import NO_STANDARD, ON_TRACK, SlaPolicy, open_status

__all__ = ["pass_status", "render_timeline_svg"]

_LABEL_W = 290.0
_CHART_W = 880.0
_NOTE_W = 190.0
_ROW_H = 26.0
_TOP = 92.0
_MARGIN = 16.0
_NO_STANDARD = ("#cfd8dc", "#607d8b")
#: a pass the engine closed (a sibling branch, a completion condition or a terminate end
#: ended it): neither met nor missed, drawn hatched-grey whatever its standard
CANCELLED = "cancelled"
_CANCELLED = ("#eceff1", "#90a4ae")
_CLOSED_BY_ENGINE = frozenset({"cancelled", "terminated"})


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
    for key, value in attrs.items():
        node.set(key.rstrip("_").replace("_", "-"), value)
    if text is not None:
        node.text = text
    return node


def pass_status(
    record: StepRecord, risk_at: datetime | None, now: datetime
) -> str:
    """done_in_time / done_late for a completed pass, cancelled for one the engine closed
    (issue 10: not done, not breached), else the open SLA status at ``now``."""
    due = record.due_at
    if record.completed_at is not None and record.outcome in _CLOSED_BY_ENGINE:
        return CANCELLED
    if record.completed_at is not None:
        return "done_late" if due is not None and record.completed_at > due else "done_in_time"
    status = open_status(
        None if due is None else due.timestamp() * 1000,
        None if risk_at is None else risk_at.timestamp() * 1000,
        now.timestamp() * 1000,
    )
    # the picture has no "no standard" colour for an open pass: it is simply on track
    return ON_TRACK if status == NO_STANDARD else status


def _minutes_text(minutes: float) -> str:
    if minutes < 60:
        return f"{minutes:.0f} min"
    if minutes < 8 * 60:
        return f"{minutes / 60:.1f} h".replace(".0 h", " h")
    return f"{minutes / 60:.0f} h"


def render_timeline_svg(
    records: Sequence[StepRecord],
    *,
    definition: ProcessDefinition,
    policy: SlaPolicy | None = None,
    now: datetime | None = None,
    title: str | None = None,
) -> str:
    """One instance's passes (``Engine.history``) on a time axis against their standards.

    ``now`` ends the bars of open passes (default: the current time); ``policy`` gives
    the calendar for shading and working time (default: the national ASN calendar).
    """
    policy = policy or SlaPolicy()
    cal = policy.calendar_for(definition)
    tz = cal.time_zone
    moment = now if now is not None else datetime.now(UTC)
    passes = sorted(records, key=lambda r: r.ready_at)

    start = min((r.ready_at for r in passes), default=moment)
    ends = [r.completed_at or moment for r in passes] + [r.due_at for r in passes if r.due_at]
    end = max(ends, default=start)
    # Whole local days on the axis, so day ticks fall on midnight.
    first_day = start.astimezone(tz).date()
    last_day = max(end, start + timedelta(hours=1)).astimezone(tz).date()
    axis_start = datetime.combine(first_day, time(0), tz)
    axis_end = datetime.combine(last_day + timedelta(days=1), time(0), tz)
    span = (axis_end - axis_start).total_seconds()

    def x_of(at: datetime) -> float:
        return _LABEL_W + (at - axis_start).total_seconds() / span * _CHART_W

    width = _LABEL_W + _CHART_W + _NOTE_W + _MARGIN
    rows_h = max(len(passes), 1) * _ROW_H
    height = _TOP + rows_h + 64

    root = etree.fromstring(f'<svg xmlns="{SVG_NS}"/>')

    heading = clean(title or f"{definition.name}: timeline")
    for key, value in {
        "width": fmt(width), "height": fmt(height),
        "viewBox": f"0 0 {fmt(width)} {fmt(height)}", "font-family": FONT,
        "class": "sopflow-timeline", "data-process-id": definition.process_id,
        "role": "img", "aria-label": heading,
    }.items():
        root.set(key, value)
    _add(root, "rect", x="0", y="0", width=fmt(width), height=fmt(height), fill="#fff")
    _add(root, "text", wrap(heading, width - 2 * _MARGIN, 15, 1)[0], x=fmt(_MARGIN), y="24",
        font_size="15", font_weight="bold", fill=INK)
    _add(root, "text", f"times in {tz.key}; shaded: outside working hours, weekends and holidays",
        x=fmt(_MARGIN), y="42", font_size="11", fill="#546e7a")

    top, bottom = _TOP, _TOP + rows_h
    stripes = _add(root, "g", class_="stripes")
    for i in range(1, len(passes), 2):
        _add(stripes, "rect", x="0", y=fmt(top + i * _ROW_H), width=fmt(width),
             height=fmt(_ROW_H), fill="#f5f7f8")
    axis = _add(root, "g", class_="axis")
    _shade(axis, cal, first_day, last_day, x_of, top, bottom)
    days = (last_day - first_day).days + 1
    every = 1 if days <= 21 else 7 if days <= 150 else 30
    label_every = max(1, math.ceil(46 / (_CHART_W / days * every)))
    for i in range(0, days + 1, every):
        day = first_day + timedelta(days=i)
        x = x_of(datetime.combine(day, time(0), tz))
        tick = _add(axis, "g", class_="tick", data_day=day.isoformat())
        _add(tick, "line", x1=fmt(x), y1=fmt(top - 6), x2=fmt(x), y2=fmt(bottom),
            stroke="#b0bec5", stroke_width="0.8")
        if i < days and (i // every) % label_every == 0:
            name = cal.holiday_name(day)
            label = day.strftime("%a %d %b")
            text = _add(tick, "text", label, x=fmt(x + 3), y=fmt(top - 10), font_size="10",
                       fill="#c62828" if name else "#455a64")
            if name:
                _add(text, "title", f"{day.isoformat()}: {name}")
    _add(axis, "line", x1=fmt(_LABEL_W), y1=fmt(bottom), x2=fmt(_LABEL_W + _CHART_W),
        y2=fmt(bottom), stroke="#78909c")

    rows = _add(root, "g", class_="rows")
    seen: dict[str, int] = {}
    for i, record in enumerate(passes):
        seen[record.task_id] = seen.get(record.task_id, 0) + 1
        nth = seen[record.task_id]
        y = top + i * _ROW_H
        step = definition.step(record.task_id)
        _, risk = (
            policy.deadlines(definition, step, record.ready_at) if step else (None, None)
        )
        status = pass_status(record, risk, moment)
        if status == CANCELLED:
            fill, stroke = _CANCELLED
        else:
            fill, stroke = STATUS_STYLES[status] if record.due_at else _NO_STANDARD
        row = _add(rows, "g", class_="pass", data_task=record.task_id, data_pass=str(nth),
                  data_status=status if record.due_at or status == CANCELLED else "no_standard")
        no = record.step_no if record.step_no is not None else "?"
        name = clean(record.name or record.task_id)
        if step is not None and definition.step_by_no(step.no) is None:
            # one task of a joint step: the row's number is shared, the lane tells them apart
            name = f"[{clean(step.lane or step.role)}] {name}"
        suffix = f" (pass {nth})" if nth > 1 else ""
        short = wrap(f"{no}. {name}", _LABEL_W - 20 - len(suffix) * 6, 11, 1)[0]
        text = _add(row, "text", short + suffix, x=fmt(_MARGIN), y=fmt(y + _ROW_H / 2 + 4),
                    font_size="11", fill=INK)
        _add(text, "title", f"{no}. {name} [{record.role or ''}] {record.actor or ''}".strip())
        x0 = x_of(record.ready_at)
        if record.due_at is not None:
            xd = x_of(record.due_at)
            _add(row, "rect", class_="standard", x=fmt(x0), y=fmt(y + _ROW_H - 8),
                width=fmt(max(xd - x0, 1.0)), height="3", fill="#90a4ae")
            _add(row, "line", class_="due", x1=fmt(xd), y1=fmt(y + 4), x2=fmt(xd),
                y2=fmt(y + _ROW_H - 4), stroke="#37474f", stroke_width="1.5")
        done = record.completed_at or moment
        x1 = x_of(done)
        bar = _add(row, "rect", class_="actual", x=fmt(x0), y=fmt(y + 6),
                  width=fmt(max(x1 - x0, 3.0)), height=fmt(_ROW_H - 15), rx="2",
                  fill=fill, stroke=stroke, stroke_width="1.2")
        worked = cal.working_minutes_between(record.ready_at, done)
        standard = (
            cal.working_minutes_between(record.ready_at, record.due_at) if record.due_at else None
        )
        note = _minutes_text(worked) + (
            f" / {record.waktu}" if record.waktu else " / no standard"
        )
        if record.completed_at is None:
            note = "open: " + note
        elif status == CANCELLED:
            note = f"{record.outcome}: " + note
        returned = [d for d in record.path if (d.label or "").strip().lower() == "tidak"]
        if returned:
            note += " ↩ Tidak"
        _add(bar, "title",
            f"ready {record.ready_at.astimezone(tz):%a %d %b %H:%M}, "
            + (f"done {record.completed_at.astimezone(tz):%a %d %b %H:%M}"
               if record.completed_at else "still open")
            + (f", due {record.due_at.astimezone(tz):%a %d %b %H:%M}" if record.due_at else "")
            + f"; {worked:.0f} working min" + (f" of {standard:.0f}" if standard else ""))
        _add(row, "text", note, x=fmt(_LABEL_W + _CHART_W + 8), y=fmt(y + _ROW_H / 2 + 4),
            font_size="10.5", fill=stroke if record.due_at else "#546e7a", class_="note")

    if any(r.completed_at is None for r in passes):
        xn = x_of(moment)
        marker = _add(root, "g", class_="now")
        _add(marker, "line", x1=fmt(xn), y1=fmt(top - 4), x2=fmt(xn), y2=fmt(bottom + 4),
            stroke="#6a1b9a", stroke_width="1.5", stroke_dasharray="4 3")
        _add(marker, "text", f"now {moment.astimezone(tz):%d %b %H:%M}", x=fmt(xn),
            y=fmt(bottom + 16), font_size="10", text_anchor="middle", fill="#6a1b9a")
    if not passes:
        _add(root, "text", "no steps recorded", x=fmt(_LABEL_W), y=fmt(top + 18),
            font_size="12", fill="#546e7a")
    _legend(root, height - 24)
    return etree.tostring(root, encoding="unicode")


def _shade(
    parent: etree._Element, cal: WorkCalendar, first: date, last: date,
    x_of: Callable[[datetime], float], top: float, bottom: float,
) -> None:
    """Grey the parts of each day that are not working time."""
    tz = cal.time_zone
    day = first
    while day <= last:
        midnight = datetime.combine(day, time(0), tz)
        working = cal.always_open or cal.is_working_day(day)
        intervals: tuple[tuple[int, int], ...] = (
            ((0, 1440),) if cal.always_open else cal.hours[day.weekday()] if working else ()
        )
        # A whole day off (weekend, holiday) is shaded darker than the nights.
        shade = "#90a4ae" if not working else "#b0bec5"
        opacity = "0.32" if not working else "0.18"
        cursor = 0
        for s, e in (*intervals, (1440, 1440)):
            if s > cursor:
                xa = x_of(midnight + timedelta(minutes=cursor))
                xb = x_of(midnight + timedelta(minutes=s))
                _add(parent, "rect", x=fmt(xa), y=fmt(top), width=fmt(xb - xa),
                    height=fmt(bottom - top), fill=shade, fill_opacity=opacity,
                     class_="off" if working else "day-off")
            cursor = max(cursor, e)
        day += timedelta(days=1)


def _legend(root: etree._Element, y: float) -> None:
    group = _add(root, "g", class_="legend")
    x = _MARGIN
    items = [
        (STATUS_STYLES["done_in_time"], "met"),
        (STATUS_STYLES["done_late"], "missed"),
        (STATUS_STYLES["on_track"], "open: on track"),
        (STATUS_STYLES["at_risk"], "open: at risk"),
        (STATUS_STYLES["breached"], "open: breached"),
        (_NO_STANDARD, "no standard"),
        (_CANCELLED, "cancelled"),
    ]
    for (fill, stroke), text in items:
        _add(group, "rect", x=fmt(x), y=fmt(y - 10), width="24", height="12", rx="2",
            fill=fill, stroke=stroke)
        _add(group, "text", text, x=fmt(x + 30), y=fmt(y), font_size="11", fill=INK)
        x += 30 + len(text) * 6.4 + 18
    _add(group, "rect", x=fmt(x), y=fmt(y - 5), width="24", height="3", fill="#90a4ae")
    _add(group, "line", x1=fmt(x + 24), y1=fmt(y - 11), x2=fmt(x + 24), y2=fmt(y + 3),
        stroke="#37474f", stroke_width="1.5")
    _add(group, "text", "standard (to due date)", x=fmt(x + 30), y=fmt(y), font_size="11",
        fill=INK)
