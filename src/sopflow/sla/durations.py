"""Reading the Waktu column of a step's Mutu Baku into a :class:`Standard`.

SOP tables are typed by hand, so the same standard appears as "1 Hari Kerja", "1hari kerja"
or "1 (satu) hari kerja". The parser accepts the spellings found in signed SOPs and refuses
everything else loudly: a standard silently read as "none" would hide every breach of it.

Meaning of the units (see docs/sla.md):

- ``menit``, ``jam``: working minutes (the clock stops outside working hours);
- ``hari kerja``: working days; bare ``hari`` too, unless the deployment's
  :class:`HariPolicy` says calendar days; ``hari kalender``: calendar days;
- ``minggu``/``pekan``: five working days;
- ``bulan``: calendar months, ``tahun``: twelve of them;
- ``N x 24 jam``: N whole calendar days of elapsed time, weekends included.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from sopflow.errors import WaktuError

__all__ = [
    "MAX_YEARS",
    "HariPolicy",
    "Standard",
    "StandardKind",
    "parse_waktu",
]

#: Standards longer than this (approximately, on the national schedule) are typing errors.
MAX_YEARS = 10

#: Longer cells are not a waktu text but a misplaced column; refusing them also bounds work.
_MAX_TEXT = 120

# Rough conversions used only to reject absurd sizes: 7.5 working hours a day, five
# working days in seven.
_WORKING_MINUTES_PER_DAY = 450.0
_CALENDAR_DAYS_PER_WORKING_DAY = 7.0 / 5.0
_DAYS_PER_MONTH = 365.25 / 12.0


class StandardKind(StrEnum):
    """How the amount of a standard is counted; also names its unit."""

    NONE = "none"
    WORKING_MINUTES = "working_minutes"
    WORKING_DAYS = "working_days"
    CALENDAR = "calendar"  # elapsed minutes, day and night
    CALENDAR_MONTHS = "calendar_months"


class HariPolicy(StrEnum):
    """Whether a bare "hari" counts working days (the default) or calendar days.

    The regulation does not fix it; most agencies mean working days. "hari kerja" is
    always working days and "hari kalender" always calendar days, whatever the policy.
    """

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"


_UNIT_NAMES = {
    StandardKind.WORKING_MINUTES: "minutes",
    StandardKind.WORKING_DAYS: "days",
    StandardKind.CALENDAR: "minutes",
    StandardKind.CALENDAR_MONTHS: "months",
    StandardKind.NONE: "",
}


@dataclass(frozen=True, slots=True)
class Standard:
    """A step's standard time.

    ``amount`` is the limit (upper bound of a range) in the unit of ``kind``: minutes for
    WORKING_MINUTES and CALENDAR, days for WORKING_DAYS, months for CALENDAR_MONTHS.
    ``target`` is the lower bound of a range ("5-10 menit" -> target 5, amount 10): what
    the SOP hopes for, while only ``amount`` is a breach. ``text`` is the cell as written.
    """

    kind: StandardKind
    amount: float = 0.0
    target: float | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        shown = self.text if self.text is not None else repr(self)
        if self.kind is StandardKind.NONE:
            if self.amount != 0 or self.target is not None:
                raise WaktuError(shown, "a standard of kind NONE has no amount")
            return
        if not math.isfinite(self.amount) or self.amount <= 0:
            raise WaktuError(shown, "the duration must be positive")
        if self.target is not None and not (0 <= self.target < self.amount):
            raise WaktuError(shown, "a range must go from a smaller to a larger duration")
        if self.kind is StandardKind.CALENDAR_MONTHS and not float(self.amount).is_integer():
            raise WaktuError(shown, "months must be whole; write the time in days instead")
        if _approx_calendar_days(self.kind, self.amount) > MAX_YEARS * 365.25:
            raise WaktuError(shown, f"longer than {MAX_YEARS} years; probably a typing error")

    @property
    def has_standard(self) -> bool:
        return self.kind is not StandardKind.NONE

    @property
    def unit(self) -> str:
        """The unit of ``amount`` and ``target`` ("minutes", "days", "months"; "" for none)."""
        return _UNIT_NAMES[self.kind]

    def at_target(self) -> Standard | None:
        """The lower bound as a standard of its own, so it can be given to ``due_at`` too."""
        if self.target is None or self.target == 0:
            return None
        return Standard(self.kind, self.target, None, self.text)

    def describe(self) -> str:
        """A short label for reports: Indonesian as the SOP says it, English in brackets."""
        if self.kind is StandardKind.NONE:
            return "tanpa standar waktu (no time standard)"
        span = _span(self.target, self.amount, 1.0)
        if self.kind is StandardKind.WORKING_MINUTES:
            if _whole(self.target, self.amount, 60.0):
                hours = _span(self.target, self.amount, 60.0)
                return f"{hours} jam kerja ({span} working minutes)"
            return f"{span} menit kerja ({span} working minutes)"
        if self.kind is StandardKind.WORKING_DAYS:
            plural = "s" if self.target is not None or self.amount != 1 else ""
            return f"{span} hari kerja ({span} working day{plural})"
        if self.kind is StandardKind.CALENDAR_MONTHS:
            plural = "s" if self.target is not None or self.amount != 1 else ""
            return f"{span} bulan ({span} calendar month{plural})"
        hours = _span(self.target, self.amount, 60.0)
        if _whole(self.target, self.amount, 1440.0):
            days = _span(self.target, self.amount, 1440.0)
            return f"{days} x 24 jam ({hours} calendar hours)"
        if _whole(self.target, self.amount, 60.0):
            return f"{hours} jam kalender ({hours} calendar hours)"
        return f"{span} menit kalender ({span} calendar minutes)"


NO_STANDARD = Standard(StandardKind.NONE)


def parse_waktu(text: str | None, *, hari: HariPolicy = HariPolicy.WORKING_DAYS) -> Standard:
    """Read a Mutu Baku waktu cell; raise :class:`WaktuError` quoting it if it cannot be read.

    An empty cell, "-" and "sesuai jadwal" (set by a schedule outside the SOP) are read
    as "no standard", which is different from an unreadable text.
    """
    if text is None:
        return NO_STANDARD
    if not isinstance(text, str):
        raise WaktuError(repr(text), "not a text")
    if len(text) > _MAX_TEXT:
        raise WaktuError(text[:_MAX_TEXT] + "...", "too long to be a waktu text")
    norm = _normalise(text)
    if norm in _NO_STANDARD_TEXTS:
        return Standard(StandardKind.NONE, text=text)
    if _NEGATIVE.match(norm):
        raise WaktuError(text, "a duration cannot be negative")

    times = _TIMES.fullmatch(norm)
    if times:
        factor = _number(times["factor"])
        if _number(times["hours"]) != 24:
            raise WaktuError(text, 'only "N x 24 jam" is understood (N calendar days)')
        return Standard(StandardKind.CALENDAR, factor * 1440.0, None, text)

    if _COMPOUND.fullmatch(norm):  # "2 jam", also "1 jam 30 menit"
        kinds: set[StandardKind] = set()
        total = 0.0
        for part in _SINGLE.finditer(norm):
            kind, factor = _unit(part["unit"], hari, text)
            kinds.add(kind)
            total += _number(part["n"]) * factor
        if len(kinds) != 1:
            raise WaktuError(text, "its parts count time in different ways")
        return Standard(kinds.pop(), total, None, text)

    ranged = _RANGE.fullmatch(norm)
    if ranged:
        kind, factor = _unit(ranged["unit"], hari, text)
        low_factor = factor
        if ranged["lowunit"]:
            low_kind, low_factor = _unit(ranged["lowunit"], hari, text)
            if low_kind is not kind:
                raise WaktuError(text, "a range must count both ends the same way")
        low = _number(ranged["low"]) * low_factor
        high = _number(ranged["high"]) * factor
        if low == high:
            raise WaktuError(text, "a range from a duration to itself is empty")
        if low > high:
            raise WaktuError(text, "a range must go from the smaller to the larger duration")
        return Standard(kind, high, low, text)

    if not _HAS_DIGIT.search(norm):
        raise WaktuError(text, "no number in it")
    raise WaktuError(text, "unknown unit or form (menit, jam, hari, hari kerja, minggu, bulan)")


# --- grammar -------------------------------------------------------------------------

_NO_STANDARD_TEXTS = frozenset(
    {"", "-", "sesuai jadwal", "sesuai kebutuhan", "tentatif", "tidak ditentukan"}
)

_NUM = r"[0-9]+(?:[.,][0-9]+)?"
_UNIT = (
    r"menit|mnt|jam|hari\s*kerja|hari\s*kalender|hari|minggu|pekan|bulan|tahun"
)
_SINGLE = re.compile(rf"(?P<n>{_NUM})\s*(?P<unit>{_UNIT})")
_RANGE = re.compile(
    rf"(?P<low>{_NUM})\s*(?P<lowunit>{_UNIT})?\s*-\s*(?P<high>{_NUM})\s*(?P<unit>{_UNIT})"
)
_COMPOUND = re.compile(rf"(?:{_NUM}\s*(?:{_UNIT})\s*)+")
_TIMES = re.compile(rf"(?P<factor>{_NUM})\s*(?:x|kali)\s*(?P<hours>{_NUM})\s*jam")
_NEGATIVE = re.compile(r"-\s*[0-9]")
_HAS_DIGIT = re.compile(r"[0-9]")

# Words that qualify a limit without changing it: "maksimal 3 hari", "± 10 menit".
_QUALIFIER = re.compile(
    r"^(?:±|\+/-|kurang\s+lebih|lebih\s+kurang|kira-kira|maksimal|maksimum|maks\.?|"
    r"paling\s+lama|selambat-lambatnya|dalam\s+waktu)\s*"
)
# "3 (tiga) hari": the number spelt out in brackets, as letters and official forms do.
_NUMBER_WORDS = (
    r"nol|satu|se|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|belas|"
    r"puluh|ratus|seratus|ribu|seribu|setengah|koma"
)
_SPELT = re.compile(rf"\(\s*(?:(?:{_NUMBER_WORDS})[\s-]*)+\)")
_RANGE_WORD = re.compile(r"\s*(?:sampai\s+dengan|s\s*\.\s*d\s*\.?|s/d|sampai|hingga)\s*")


def _normalise(text: str) -> str:
    s = text.lower().replace("\u00a0", " ")
    for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212":
        s = s.replace(dash, "-")
    s = s.replace("\u00d7", "x")
    s = _SPELT.sub(" ", s)
    s = " ".join(s.split())
    s = _RANGE_WORD.sub(" - ", s)
    s = " ".join(s.split())
    s = s.rstrip(".;: ")
    s = _QUALIFIER.sub("", s)
    return s.strip()


def _number(raw: str) -> float:
    return float(raw.replace(",", "."))


def _unit(raw: str, hari: HariPolicy, text: str) -> tuple[StandardKind, float]:
    unit = " ".join(raw.replace("hari", "hari ").split())
    if unit in ("menit", "mnt"):
        return StandardKind.WORKING_MINUTES, 1.0
    if unit == "jam":
        return StandardKind.WORKING_MINUTES, 60.0
    if unit == "hari kerja":
        return StandardKind.WORKING_DAYS, 1.0
    if unit == "hari kalender":
        return StandardKind.CALENDAR, 1440.0
    if unit == "hari":
        if hari is HariPolicy.CALENDAR_DAYS:
            return StandardKind.CALENDAR, 1440.0
        return StandardKind.WORKING_DAYS, 1.0
    if unit in ("minggu", "pekan"):
        return StandardKind.WORKING_DAYS, 5.0
    if unit == "bulan":
        return StandardKind.CALENDAR_MONTHS, 1.0
    if unit == "tahun":
        return StandardKind.CALENDAR_MONTHS, 12.0
    raise WaktuError(text, f"unknown unit {raw!r}")  # pragma: no cover - grammar is closed


def _approx_calendar_days(kind: StandardKind, amount: float) -> float:
    if kind is StandardKind.WORKING_MINUTES:
        return amount / _WORKING_MINUTES_PER_DAY * _CALENDAR_DAYS_PER_WORKING_DAY
    if kind is StandardKind.WORKING_DAYS:
        return amount * _CALENDAR_DAYS_PER_WORKING_DAY
    if kind is StandardKind.CALENDAR:
        return amount / 1440.0
    if kind is StandardKind.CALENDAR_MONTHS:
        return amount * _DAYS_PER_MONTH
    return 0.0


def _fmt(value: float) -> str:
    """Indonesian number style: decimal comma, no trailing zeros."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".").replace(".", ",")


def _whole(low: float | None, high: float, divisor: float) -> bool:
    """Whether both ends are whole multiples of ``divisor`` (and not zero)."""
    ends = [high] if low is None else [low, high]
    return all(end > 0 and end % divisor == 0 for end in ends)


def _span(low: float | None, high: float, divisor: float) -> str:
    if low is None:
        return _fmt(high / divisor)
    return f"{_fmt(low / divisor)}–{_fmt(high / divisor)}"
