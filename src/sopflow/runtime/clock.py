"""Where the engine's "now" comes from.

Every action is stamped by a :class:`Clock` so that tests, simulations and entries
recorded after the fact (from a paper log, ``--at``) produce exact, reproducible times.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "ensure_aware"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """Real time (UTC); the default."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def ensure_aware(moment: datetime, what: str = "time") -> datetime:
    """Refuse naive datetimes: an SOP step time without a zone is ambiguous across WIB/WITA/WIT."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        from sopflow.errors import ClockError

        raise ClockError(f"{what} {moment.isoformat()} has no time zone offset")
    return moment
