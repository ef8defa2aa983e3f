"""When a timer falls due: ISO 8601 dates, durations and cycles, and Indonesian waktu.

One function answers for every timer of every element (start events, intermediate catch
events, boundary events, event subprocess starts, BPMN 2.0 section 10.5.5): :func:`first_due`
when the timer starts, :func:`next_due` after a cycle fired. What the text may be:

- ``timeDate``: an ISO 8601 date-time (``2026-03-02T09:00:00+08:00``); without an offset it
  is read in the process's time zone (its work calendar's), a bare date is its midnight;
- ``timeDuration``: an ISO 8601 duration (``PT30M``, ``P1DT12H``, ``P1M``), elapsed time
  around the clock; or a waktu ("30 menit", "2 hari kerja", "2 x 24 jam") measured on the
  process's work calendar exactly as the SLA measures a step's standard;
- ``timeCycle``: ``R[n]/duration``, ``R[n]/start/duration``, ``R[n]/duration/end`` or
  ``R[n]/start/end`` (ISO 8601 repeating intervals; no ``n`` repeats until the end, or
  forever), where the duration may be a waktu (``R3/1 hari kerja``);
- any of them as an expression of the safe language, ``${...}`` or ``=...``, whose value is
  such a text (or, for a date, a ``datetime``);
- any of them as a quoted string literal (``"PT1S"``, ``'P14D'``): SpiffWorkflow reads
  every timer text as a Python expression, so its files quote the text; a literal is a
  constant, read exactly like the text inside the quotes.

Cron expressions (Camunda's other cycle syntax) are refused: a cron line says nothing of
the office's holidays, which is what an SOP timer must respect.

A small parser beats a dependency here: the grammar is one regular expression, and
months need the calendar's own arithmetic anyway (isodate's ``Duration`` would still
need converting).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sopflow.definitions.jobspec import TimerDefinition
from sopflow.errors import ExpressionError, TimerError, WaktuError
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.durations import HariPolicy, Standard, StandardKind, parse_waktu

__all__ = ["Cycle", "Span", "check_timer", "first_due", "next_due", "parse_cycle", "parse_span"]

_DURATION = re.compile(
    r"P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?"
)
#: No repetition count above this: a cycle that long is a typing error.
MAX_REPEAT = 100_000
_MAX_SPAN_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Span:
    """A duration: calendar months plus elapsed time (ISO), or a waktu standard."""

    months: int = 0
    elapsed: timedelta = timedelta(0)
    waktu: Standard | None = None

    def after(self, start: datetime, calendar: WorkCalendar) -> datetime:
        if self.waktu is not None:
            due = calendar.due_at(self.waktu, start)
            if due is None:  # pragma: no cover - parse_span refuses "no standard"
                raise TimerError(self.waktu.text or "", "a timer needs a duration")
            return due
        moment = start
        if self.months:
            moment = (
                calendar.due_at(Standard(StandardKind.CALENDAR_MONTHS, float(self.months)), start)
                or start
            )
        return moment + self.elapsed


@dataclass(frozen=True, slots=True)
class Cycle:
    """An ISO 8601 repeating interval: ``repeat`` None = until ``end`` (or forever)."""

    repeat: int | None
    span: Span
    start: datetime | None = None
    end: datetime | None = None


def parse_span(text: str, *, hari: HariPolicy = HariPolicy.WORKING_DAYS) -> Span:
    """An ISO 8601 duration or a waktu text; TimerError quoting the text otherwise."""
    stripped = text.strip()
    if stripped[:1] in ("P", "p"):
        match = _DURATION.fullmatch(stripped.upper())
        if match is None or stripped.upper() in ("P", "PT") or stripped.upper().endswith("T"):
            raise TimerError(text, "not an ISO 8601 duration (e.g. PT30M, P1DT12H)")
        parts = {k: v for k, v in match.groupdict().items() if v is not None}
        months = int(parts.get("y", 0)) * 12 + int(parts.get("mo", 0))
        elapsed = timedelta(
            weeks=int(parts.get("w", 0)),
            days=int(parts.get("d", 0)),
            hours=int(parts.get("h", 0)),
            minutes=int(parts.get("mi", 0)),
            seconds=float(parts.get("s", "0").replace(",", ".")),
        )
        if months == 0 and elapsed <= timedelta(0):
            raise TimerError(text, "a timer duration must be longer than zero")
        if months > 12 * 10 or elapsed > timedelta(days=_MAX_SPAN_DAYS):
            raise TimerError(text, "longer than 10 years; probably a typing error")
        return Span(months, elapsed)
    try:
        standard = parse_waktu(stripped, hari=hari)
    except WaktuError as exc:
        raise TimerError(text, f"neither an ISO 8601 duration nor a waktu ({exc})") from None
    if standard.kind is StandardKind.NONE:
        raise TimerError(text, "a timer needs a duration, not 'no standard'")
    return Span(waktu=standard)


def parse_date(text: str, calendar: WorkCalendar) -> datetime:
    """An ISO 8601 date or date-time; no offset = the calendar's time zone."""
    stripped = text.strip()
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        try:
            day = date.fromisoformat(stripped)
        except ValueError:
            raise TimerError(
                text, "not an ISO 8601 date-time (e.g. 2026-03-02T09:00+07:00)"
            ) from None
        moment = datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar.time_zone)
    return moment


def parse_cycle(
    text: str, calendar: WorkCalendar, *, hari: HariPolicy = HariPolicy.WORKING_DAYS
) -> Cycle:
    stripped = text.strip()
    if not stripped.upper().startswith("R"):
        if len(stripped.split()) >= 5:
            raise TimerError(
                text, "cron cycles are not supported: write R[n]/duration (e.g. R3/PT10H)"
            )
        raise TimerError(text, "a cycle is R[n]/duration, R[n]/start/duration or .../end")
    parts = stripped.split("/")
    count = parts[0][1:].strip()
    if count and not count.isdigit():
        raise TimerError(text, f"repetitions {count!r} is not a whole number")
    repeat = int(count) if count else None
    if repeat is not None and not 1 <= repeat <= MAX_REPEAT:
        raise TimerError(text, f"repetitions must be from 1 to {MAX_REPEAT}")
    rest = [p.strip() for p in parts[1:]]
    if len(rest) == 1:
        return Cycle(repeat, parse_span(rest[0], hari=hari))
    if len(rest) != 2:
        raise TimerError(text, "a cycle has two or three parts separated by '/'")
    first, second = rest
    if _is_span(first):
        end = parse_date(second, calendar)
        return Cycle(repeat, parse_span(first, hari=hari), end=end)
    start = parse_date(first, calendar)
    if _is_span(second):
        return Cycle(repeat, parse_span(second, hari=hari), start=start)
    end = parse_date(second, calendar)
    if end <= start:
        raise TimerError(text, "the interval's end is not after its start")
    return Cycle(repeat, Span(elapsed=end - start), start=start)


def _is_span(text: str) -> bool:
    return text[:1] in ("P", "p") or not text[:1].isdigit() or " " in text


def _unquoted(text: str) -> str:
    """The text inside one pair of quotes (a string literal, no escapes), else the text."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "'\"":
        inner = stripped[1:-1]
        if stripped[0] not in inner and "\\" not in inner:
            return inner
    return text


def _expression(text: str) -> str | None:
    stripped = text.strip()
    if stripped.startswith("${") and stripped.endswith("}"):
        return stripped[2:-1]
    if stripped.startswith("="):
        return stripped[1:]
    return None


def resolve_text(timer: TimerDefinition, data: Mapping[str, Any]) -> str | datetime:
    """The timer's text, with an expression evaluated on the instance data."""
    source = _expression(timer.text)
    if source is None:
        return _unquoted(timer.text)
    from sopflow.runtime.expressions import compile_expression

    try:
        value = compile_expression(source).evaluate(data)
    except ExpressionError as exc:
        raise TimerError(timer.text, f"its expression fails: {exc}") from None
    if isinstance(value, datetime) and timer.kind == "date":
        return value
    if not isinstance(value, str):
        raise TimerError(timer.text, f"its expression gave {type(value).__name__}, not a text")
    return value


def check_timer(timer: TimerDefinition, *, hari: HariPolicy = HariPolicy.WORKING_DAYS) -> None:
    """Refuse at load what can be judged without data; expressions are judged when run."""
    source = _expression(timer.text)
    if source is not None:
        from sopflow.runtime.expressions import compile_expression

        try:
            compile_expression(source)
        except ExpressionError as exc:
            raise TimerError(timer.text, f"its expression is refused: {exc}") from None
        return
    calendar = WorkCalendar.default()
    text = _unquoted(timer.text)
    if timer.kind == "date":
        parse_date(text, calendar)
    elif timer.kind == "duration":
        parse_span(text, hari=hari)
    else:
        parse_cycle(text, calendar, hari=hari)


def first_due(
    timer: TimerDefinition,
    *,
    start: datetime,
    data: Mapping[str, Any],
    calendar: WorkCalendar,
    hari: HariPolicy = HariPolicy.WORKING_DAYS,
) -> datetime | None:
    """When a timer that starts at ``start`` first fires (None: a cycle already over).

    A date in the past fires at once (``start``), as Camunda does.
    """
    text = resolve_text(timer, data)
    if timer.kind == "date":
        moment = text if isinstance(text, datetime) else parse_date(text, calendar)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=calendar.time_zone)
        return max(moment, start)
    assert isinstance(text, str)
    if timer.kind == "duration":
        return parse_span(text, hari=hari).after(start, calendar)
    cycle = parse_cycle(text, calendar, hari=hari)
    if cycle.start is not None:
        due = cycle.start
        while due < start:  # a cycle that began before: its next occurrence from now on
            due = cycle.span.after(due, calendar)
    else:
        due = cycle.span.after(start, calendar)
    if cycle.end is not None and due > cycle.end:
        return None
    return due


def next_due(
    timer: TimerDefinition,
    *,
    previous: datetime,
    fired: int,
    data: Mapping[str, Any],
    calendar: WorkCalendar,
    hari: HariPolicy = HariPolicy.WORKING_DAYS,
) -> datetime | None:
    """After a cycle fired ``fired`` times, the last at ``previous``: the next, or None."""
    if timer.kind != "cycle":
        return None
    text = resolve_text(timer, data)
    assert isinstance(text, str)
    cycle = parse_cycle(text, calendar, hari=hari)
    if cycle.repeat is not None and fired >= cycle.repeat:
        return None
    due = cycle.span.after(previous, calendar)
    if cycle.end is not None and due > cycle.end:
        return None
    return due
