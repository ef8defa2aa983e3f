"""The Indonesian work calendar: when the clock of a working-time standard runs.

A :class:`WorkCalendar` answers three questions for the SLA monitor: is this a working day,
how much working time lies between two moments, and when does a standard run out. Holidays
come from the ``holidays`` package (national holidays and cuti bersama, set yearly by joint
ministerial decree), loaded per year on first use and cached; a deployment adds its own
local holidays and can cancel a national one it works through.

All arithmetic is done on integer microseconds since the epoch, so adding a duration and
measuring it back gives exactly the duration again, and the work is interval by interval,
day by day, never minute by minute. Wall-clock hours are read in the calendar's time zone;
Indonesia has no daylight saving time, so a working interval is always its written length.
"""

from __future__ import annotations

import calendar as _stdcal
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from sopflow.errors import CalendarError
from sopflow.sla.durations import Standard, StandardKind

__all__ = [
    "ASN_HOURS",
    "WEEKDAY_KEYS",
    "Interval",
    "WorkCalendar",
    "from_config",
]

#: A working interval of one day, in minutes since local midnight; the end may be 1440.
Interval = tuple[int, int]

#: Configuration keys of the weekdays, Monday first (``datetime.weekday()`` order).
WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES: dict[str, int] = {
    **{key: i for i, key in enumerate(WEEKDAY_KEYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{
        name: i
        for i, name in enumerate(("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"))
    },
    "jum'at": 4,
}

_MON_THU: tuple[Interval, ...] = ((7 * 60 + 30, 12 * 60), (13 * 60, 16 * 60))
_FRI: tuple[Interval, ...] = ((7 * 60 + 30, 11 * 60 + 30), (13 * 60, 16 * 60 + 30))

#: The national ASN schedule (Perpres 21/2023): 37.5 hours a week, breaks excluded;
#: 60-minute break Monday to Thursday, 90 minutes on Friday for Friday prayers.
ASN_HOURS: tuple[tuple[Interval, ...], ...] = (_MON_THU, _MON_THU, _MON_THU, _MON_THU, _FRI, (), ())

_ALWAYS_HOURS: tuple[tuple[Interval, ...], ...] = (((0, 1440),),) * 7
_DEFAULT_TZ = "Asia/Jakarta"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
#: Give up rather than walk forever through a calendar with no working time ahead.
_MAX_DAYS = 366 * 50
_LOCAL_HOLIDAY = "libur lokal (local holiday)"


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """An office's working time. Immutable; derive variants with the ``with_*`` methods.

    ``hours`` has seven entries, Monday first, each the day's working intervals in
    minutes since local midnight (breaks are the gaps). ``always_open`` turns the calendar
    into 24x7 time: every minute counts and there are no holidays.
    """

    hours: tuple[tuple[Interval, ...], ...] = ASN_HOURS
    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(_DEFAULT_TZ))
    extra_holidays: frozenset[date] = frozenset()
    cancelled_holidays: frozenset[date] = frozenset()
    national_holidays: bool = True
    cuti_bersama: bool = True
    always_open: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.time_zone, ZoneInfo):
            raise CalendarError(f"time_zone: expected a ZoneInfo, got {self.time_zone!r}")
        if len(self.hours) != 7:
            raise CalendarError(f"hours: expected 7 weekdays, got {len(self.hours)}")
        for weekday, intervals in enumerate(self.hours):
            _check_intervals(intervals, f"hours.{WEEKDAY_KEYS[weekday]}")
        if not self.always_open and not any(self.hours):
            raise CalendarError("hours: no weekday has working hours")
        both = self.extra_holidays & self.cancelled_holidays
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise CalendarError(
                f"extra_holidays and cancelled_holidays both list {listed}"
            )

    # --- construction ----------------------------------------------------------------

    @classmethod
    def default(cls, tz: str | ZoneInfo = _DEFAULT_TZ) -> WorkCalendar:
        """The national ASN schedule with national holidays and cuti bersama."""
        return cls(time_zone=_zone(tz, "tz"))

    @classmethod
    def always(cls, tz: str | ZoneInfo = _DEFAULT_TZ) -> WorkCalendar:
        """24x7 time, for services that promise elapsed time (e.g. an online counter)."""
        return cls(
            hours=_ALWAYS_HOURS, time_zone=_zone(tz, "tz"), national_holidays=False,
            cuti_bersama=False, always_open=True,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WorkCalendar:
        """Build from a TOML/JSON-style mapping; see :func:`from_config`."""
        return from_config(config)

    def with_time_zone(self, tz: str | ZoneInfo) -> WorkCalendar:
        """The same schedule in another zone, e.g. "Asia/Makassar" for WITA offices."""
        return replace(self, time_zone=_zone(tz, "tz"))

    def with_extra_holidays(self, days: Iterable[date]) -> WorkCalendar:
        return replace(self, extra_holidays=self.extra_holidays | _dates(days, "extra_holidays"))

    def with_cancelled_holidays(self, days: Iterable[date]) -> WorkCalendar:
        return replace(
            self,
            cancelled_holidays=self.cancelled_holidays | _dates(days, "cancelled_holidays"),
        )

    def to_config(self) -> dict[str, Any]:
        """The mapping :func:`from_config` reads back into an equal calendar."""
        if self.always_open:
            return {"time_zone": self.time_zone.key, "always": True}
        return {
            "time_zone": self.time_zone.key,
            "hours": {
                WEEKDAY_KEYS[i]: [f"{_hhmm(s)}-{_hhmm(e)}" for s, e in intervals]
                for i, intervals in enumerate(self.hours)
                if intervals
            },
            "extra_holidays": sorted(d.isoformat() for d in self.extra_holidays),
            "cancelled_holidays": sorted(d.isoformat() for d in self.cancelled_holidays),
            "national_holidays": self.national_holidays,
            "cuti_bersama": self.cuti_bersama,
            "always": False,
        }

    # --- days ------------------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """Why a weekday is not worked: the holiday's Indonesian name, or None."""
        day = self._local_date(day)
        if self.always_open or day in self.cancelled_holidays:
            return None
        if day in self.extra_holidays:
            return _LOCAL_HOLIDAY
        if not self.national_holidays:
            return None
        return _national(day.year, self.cuti_bersama).get(day)

    def is_working_day(self, day: date) -> bool:
        """A day with working hours that is no holiday; an aware datetime means its local day."""
        day = self._local_date(day)
        if self.always_open:
            return True
        if not self.hours[day.weekday()] or day in self.extra_holidays:
            return False
        if day in self.cancelled_holidays or not self.national_holidays:
            return True
        return day not in _national(day.year, self.cuti_bersama)

    @property
    def working_day_minutes(self) -> float:
        """The mean length of a working weekday: what a fraction of a "hari kerja" is of."""
        days = [sum(e - s for s, e in intervals) for intervals in self.hours if intervals]
        return sum(days) / len(days)

    # --- moments ---------------------------------------------------------------------

    def is_working_time(self, moment: datetime) -> bool:
        t = _stamp(moment, "moment")
        day = self._local_date(moment)
        return any(s <= t < e for s, e in _spans(self, day))

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if working time, else the start of the next working interval."""
        return self.add_working_minutes(moment, 0)

    def working_minutes_between(self, a: datetime, b: datetime) -> float:
        """Working minutes from ``a`` to ``b``: the elapsed working time of a step.

        Antisymmetric: if ``b`` is before ``a`` the result is negative (minus the time from
        ``b`` to ``a``), so a clock running backwards shows up instead of reading as zero.
        """
        ta, tb = _stamp(a, "a"), _stamp(b, "b")
        if tb < ta:
            return -self.working_minutes_between(b, a)
        if self.always_open:
            return (tb - ta) / _US_PER_MINUTE
        total = 0
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            for s, e in _spans(self, day):
                lo, hi = max(s, ta), min(e, tb)
                if hi > lo:
                    total += hi - lo
            day = _next_day(day)
        return total / _US_PER_MINUTE

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` of working time after ``start``.

        A start outside working time first moves to the next working moment; a result that
        falls exactly on the end of a working interval stays there (12:00, not 13:00).
        """
        t = _stamp(start, "start")
        remaining = _microseconds(minutes)
        if self.always_open:
            return self._moment(t + remaining)
        day = self._local_date(start)
        for _ in range(_MAX_DAYS):
            for s, e in _spans(self, day):
                if e <= t:
                    continue
                begin = max(s, t)
                if remaining <= e - begin:
                    return self._moment(begin + remaining)
                remaining -= e - begin
            day = _next_day(day)
        raise CalendarError(f"no working time within {_MAX_DAYS // 366} years of {start}")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time of day, ``days`` working days later.

        A start outside working time first moves to the next working moment, so a step
        ready on Saturday is counted from Monday 07:30.
        """
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise CalendarError(f"working days must be a whole number >= 0, got {days!r}")
        local = self.next_working_moment(start)
        day = local.date()
        counted = 0
        for _ in range(_MAX_DAYS):
            if counted == days:
                return datetime.combine(day, local.timetz())
            day = _next_day(day)
            if self.is_working_day(day):
                counted += 1
        raise CalendarError(f"no {days} working days within {_MAX_DAYS // 366} years of {start}")

    def due_at(self, standard: Standard, ready_at: datetime) -> datetime | None:
        """When a step that became ready at ``ready_at`` breaches ``standard``; None if none.

        Working minutes and working days follow this calendar; "N x 24 jam" is plain
        elapsed time; months land on the same day of the month (clamped to its last day).
        A fraction of a working day is that fraction of :attr:`working_day_minutes`.
        """
        _stamp(ready_at, "ready_at")
        kind = standard.kind
        if kind is StandardKind.NONE:
            return None
        if kind is StandardKind.WORKING_MINUTES:
            return self.add_working_minutes(ready_at, standard.amount)
        if kind is StandardKind.WORKING_DAYS:
            whole = math.floor(standard.amount)
            due = self.add_working_days(ready_at, whole)
            fraction = standard.amount - whole
            if fraction:
                due = self.add_working_minutes(due, fraction * self.working_day_minutes)
            return due
        if kind is StandardKind.CALENDAR:
            return self._moment(_stamp(ready_at, "ready_at") + _microseconds(standard.amount))
        if kind is StandardKind.CALENDAR_MONTHS:
            return _add_months(ready_at.astimezone(self.time_zone), int(standard.amount))
        raise CalendarError(f"unknown standard kind {kind!r}")  # pragma: no cover

    # --- helpers ---------------------------------------------------------------------

    def _local_date(self, day: date) -> date:
        if isinstance(day, datetime):
            _stamp(day, "day")
            return day.astimezone(self.time_zone).date()
        if not isinstance(day, date):
            raise CalendarError(f"expected a date, got {day!r}")
        return day

    def _moment(self, stamp: int) -> datetime:
        try:
            return (_EPOCH + stamp * _MICROSECOND).astimezone(self.time_zone)
        except OverflowError as exc:
            raise CalendarError("date out of range") from exc


def from_config(config: Mapping[str, Any]) -> WorkCalendar:
    """Build a calendar from deployment or process configuration (as read from TOML/JSON).

    Keys: ``time_zone`` (IANA name), ``hours`` (weekday -> list of "HH:MM-HH:MM"; a
    weekday not listed is not worked; English or Indonesian day names), ``extra_holidays``
    and ``cancelled_holidays`` (ISO dates), ``national_holidays`` and ``cuti_bersama``
    (booleans, default true), ``always`` (24x7; excludes hours and holidays). Keys left out
    keep the national defaults. Anything invalid raises :class:`CalendarError` naming the key.
    """
    if not isinstance(config, Mapping):
        raise CalendarError(f"calendar configuration must be a mapping, got {config!r}")
    unknown = sorted(str(k) for k in config if k not in _CONFIG_KEYS)
    if unknown:
        known = ", ".join(sorted(_CONFIG_KEYS))
        raise CalendarError(f"calendar configuration: unknown key {unknown[0]!r} (known: {known})")
    tz = _zone(config.get("time_zone", _DEFAULT_TZ), "time_zone")
    if _flag(config, "always", False):
        clashing = sorted(k for k in config if k not in ("always", "time_zone"))
        if clashing:
            key = clashing[0]
            raise CalendarError(f"{key}: a calendar with always = true takes no {key}")
        return WorkCalendar.always(tz)
    hours = _hours(config["hours"]) if "hours" in config else ASN_HOURS
    return WorkCalendar(
        hours=hours,
        time_zone=tz,
        extra_holidays=_dates(config.get("extra_holidays", ()), "extra_holidays"),
        cancelled_holidays=_dates(config.get("cancelled_holidays", ()), "cancelled_holidays"),
        national_holidays=_flag(config, "national_holidays", True),
        cuti_bersama=_flag(config, "cuti_bersama", True),
    )


_CONFIG_KEYS = frozenset(
    {"time_zone", "hours", "extra_holidays", "cancelled_holidays", "national_holidays",
     "cuti_bersama", "always"}
)
_INTERVAL = re.compile(r"\s*([0-9]{1,2})[:.]([0-9]{2})\s*-\s*([0-9]{1,2})[:.]([0-9]{2})\s*")


@functools.lru_cache(maxsize=128)
def _national(year: int, cuti_bersama: bool) -> Mapping[date, str]:
    """One year's national holidays (and cuti bersama), loaded once per process."""
    categories = ("public", "government") if cuti_bersama else ("public",)
    found = holidays.country_holidays("ID", years=year, categories=categories, language="id")
    return MappingProxyType({day: str(name) for day, name in found.items()})


@functools.lru_cache(maxsize=8192)
def _spans(cal: WorkCalendar, day: date) -> tuple[tuple[int, int], ...]:
    """The working intervals of one local day as epoch microseconds; () if not worked."""
    if not cal.is_working_day(day):
        return ()
    return tuple(
        (_wall(day, s, cal.time_zone), _wall(day, e, cal.time_zone))
        for s, e in cal.hours[day.weekday()]
    )


def _wall(day: date, minute: int, tz: ZoneInfo) -> int:
    if minute == 1440:
        day, minute = _next_day(day), 0
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return (local - _EPOCH) // _MICROSECOND


def _stamp(moment: datetime, name: str) -> int:
    if not isinstance(moment, datetime):
        raise CalendarError(f"{name}: expected a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(f"{name}: {moment.isoformat()} has no time zone")
    return (moment - _EPOCH) // _MICROSECOND


def _microseconds(minutes: float) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int | float):
        raise CalendarError(f"minutes must be a number, got {minutes!r}")
    if not math.isfinite(minutes) or minutes < 0:
        raise CalendarError(f"minutes must be finite and >= 0, got {minutes!r}")
    return round(minutes * _US_PER_MINUTE)


def _next_day(day: date) -> date:
    try:
        return day + timedelta(days=1)
    except OverflowError as exc:
        raise CalendarError("date out of range") from exc


def _add_months(local: datetime, months: int) -> datetime:
    years, month0 = divmod(local.month - 1 + months, 12)
    year = local.year + years
    if year > 9999:
        raise CalendarError("date out of range")
    day = min(local.day, _stdcal.monthrange(year, month0 + 1)[1])
    return local.replace(year=year, month=month0 + 1, day=day)


def _zone(value: object, key: str) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str) or not value.strip():
        raise CalendarError(f"{key}: expected a time zone name such as 'Asia/Jakarta'")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"{key}: unknown time zone {value!r}") from exc


def _flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise CalendarError(f"{key}: expected true or false, got {value!r}")
    return value


def _dates(values: object, key: str) -> frozenset[date]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise CalendarError(f"{key}: expected a list of dates, got {values!r}")
    days: set[date] = set()
    for i, value in enumerate(values):
        if isinstance(value, datetime):
            raise CalendarError(f"{key}[{i}]: expected a date, got a date and time {value}")
        if isinstance(value, date):
            days.add(value)
            continue
        if not isinstance(value, str):
            raise CalendarError(f"{key}[{i}]: expected a date 'YYYY-MM-DD', got {value!r}")
        try:
            days.add(date.fromisoformat(value.strip()))
        except ValueError as exc:
            raise CalendarError(f"{key}[{i}]: {value!r} is not a date 'YYYY-MM-DD'") from exc
    return frozenset(days)


def _hours(value: object) -> tuple[tuple[Interval, ...], ...]:
    if not isinstance(value, Mapping):
        raise CalendarError(f"hours: expected weekday -> list of 'HH:MM-HH:MM', got {value!r}")
    week: list[tuple[Interval, ...] | None] = [None] * 7
    for raw_day, raw_intervals in value.items():
        name = str(raw_day).strip().lower()
        if name not in _WEEKDAY_ALIASES:
            raise CalendarError(f"hours.{raw_day}: not a weekday (mon ... sun, senin ... minggu)")
        index = _WEEKDAY_ALIASES[name]
        if week[index] is not None:
            raise CalendarError(f"hours.{raw_day}: {WEEKDAY_KEYS[index]} is given twice")
        week[index] = _day_intervals(raw_intervals, f"hours.{raw_day}")
    return tuple(intervals or () for intervals in week)


def _day_intervals(value: object, key: str) -> tuple[Interval, ...]:
    items: Sequence[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, Sequence):
        items = value
    else:
        raise CalendarError(f"{key}: expected a list of 'HH:MM-HH:MM', got {value!r}")
    intervals: list[Interval] = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        match = _INTERVAL.fullmatch(item) if isinstance(item, str) else None
        if match is None:
            raise CalendarError(f"{where}: expected 'HH:MM-HH:MM', got {item!r}")
        sh, sm, eh, em = (int(g) for g in match.groups())
        if sm > 59 or em > 59 or sh > 23 or eh > 24 or (eh == 24 and em):
            raise CalendarError(f"{where}: {item!r} is not a time of day")
        intervals.append((sh * 60 + sm, eh * 60 + em))
    intervals.sort()
    result = tuple(intervals)
    _check_intervals(result, key)
    return result


def _check_intervals(intervals: Sequence[Interval], key: str) -> None:
    previous_end = 0
    for interval in intervals:
        if not (
            isinstance(interval, tuple)
            and len(interval) == 2
            and all(isinstance(m, int) and not isinstance(m, bool) for m in interval)
        ):
            raise CalendarError(f"{key}: {interval!r} is not a (start, end) pair of minutes")
        start, end = interval
        if not (0 <= start < end <= 1440):
            raise CalendarError(f"{key}: {_hhmm(start)}-{_hhmm(end)} is not a working interval")
        if start < previous_end:
            raise CalendarError(f"{key}: intervals overlap at {_hhmm(start)}")
        previous_end = end


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
