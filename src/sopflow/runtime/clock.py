"""Where the engine's "now" comes from.

Every action is stamped by a :class:`Clock` so that tests, simulations and entries
recorded after the fact (from a paper log, ``--at``) produce exact, reproducible times.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["EARLIEST", "LATEST", "Clock", "SystemClock", "ensure_aware", "shown_in"]

#: The window an action time must fall in. An SOP step recorded before 1900 or after 2200
#: is a typing error, and refusing it keeps every stored time well inside what
#: ``datetime`` can represent in any zone (year 0 or 10000 once took whole listings down,
#: and a step dated 3000 froze its instance for good).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """Real time (UTC); the default."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def ensure_aware(moment: object, what: str = "time") -> datetime:
    """Refuse what cannot be an action time, before anything is written.

    A naive datetime is ambiguous across WIB/WITA/WIT; a string or a number is a caller's
    mistake that would otherwise surface deep in the engine; a time outside
    :data:`EARLIEST`..:data:`LATEST` would be stored and then break every reader.
    """
    from sopflow.errors import ClockError

    if not isinstance(moment, datetime):
        raise ClockError(f"{what} must be a datetime with a time zone, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ClockError(f"{what} {moment.isoformat()} has no time zone offset")
    if not EARLIEST <= moment < LATEST:
        raise ClockError(
            f"{what} {moment.isoformat()} is outside {EARLIEST.year}..{LATEST.year - 1}"
        )
    return moment


def shown_in(moment: datetime, zone: str | None) -> str:
    """``moment`` as ISO text in a process's zone (its ``zona_waktu``; WIB when None).

    Messages about an instance quote its times in the zone its office works in, beside
    the local time the user typed, not in UTC.
    """
    from zoneinfo import ZoneInfo

    try:
        tz = ZoneInfo(zone or "Asia/Jakarta")
    except (ValueError, KeyError):
        tz = ZoneInfo("Asia/Jakarta")
    return moment.astimezone(tz).isoformat()
