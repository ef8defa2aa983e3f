"""The SLA picture at kabupaten scale: counted, changed and paged by the database.

``Monitor.scan`` judges every open step in Python, which is right for a kecamatan and
wrong for 1,000,000 open steps (seconds, and about 800 bytes of memory per step). The
three questions an office and an escalation loop ask most are answered here without
moving the open steps out of the database (issue 14):

- :func:`summarize`: how many are breached, at risk, on track, without a standard,
  per process, per unit (the unit an instance was started in) and per role (one GROUP BY);
- :func:`scan_changes`: which steps turned at risk or breached since the last scan (a
  range read of two indexes: the cost follows the changes, not the open steps), with
  the same once-per-step escalation as a full scan;
- :func:`pages`: the listing, page by page (keyset paging on due_at).

The stores answer through ``stores/_slasql.py``; the rule for a status is the one of
``sopflow.sla.policy.open_status``, written once more in SQL there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.runtime.clock import ensure_aware
from sopflow.sla.policy import AT_RISK, BREACHED, NO_STANDARD, ON_TRACK
from sopflow.stores._slasql import SlaSqlMixin
from sopflow.stores.base import Store

if TYPE_CHECKING:
    from sopflow.sla.monitor import Monitor, OpenStepStatus, ScanResult

__all__ = ["SlaSummary", "pages", "scan_changes", "summarize"]

STATUSES = (BREACHED, AT_RISK, ON_TRACK, NO_STANDARD)


def _sql_store(store: Store) -> SlaSqlMixin:
    if not isinstance(store, SlaSqlMixin):
        raise NotImplementedError(f"{type(store).__name__} has no SLA queries in SQL")
    return store


def _ms(at: datetime) -> int:
    return round(ensure_aware(at, "scan time").timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class SlaSummary:
    """Counts of open steps by status, as the database grouped them at ``at``.

    ``groups`` holds (process id, unit, role, status, count); unit is None for an
    instance started without one. The ``by_*`` views add groups up; every status is present.
    """

    at: datetime
    groups: tuple[tuple[str, str | None, str | None, str, int], ...]

    def _by(self, index: int) -> dict[Any, dict[str, int]]:
        out: dict[Any, dict[str, int]] = {}
        for group in self.groups:
            counts = out.setdefault(group[index], dict.fromkeys(STATUSES, 0))
            counts[group[3]] += group[4]
        return out

    def by_process(self) -> dict[str, dict[str, int]]:
        return self._by(0)

    def by_unit(self) -> dict[str | None, dict[str, int]]:
        return self._by(1)

    def by_role(self) -> dict[str | None, dict[str, int]]:
        return self._by(2)

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for group in self.groups:
            out[group[3]] += group[4]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: totals and the three breakdowns (keys as strings)."""
        return {
            "at": self.at.isoformat(),
            "totals": self.totals(),
            "by_process": self.by_process(),
            "by_unit": {str(k) if k is not None else "": v for k, v in self.by_unit().items()},
            "by_role": {str(k) if k is not None else "": v for k, v in self.by_role().items()},
        }


def summarize(store: Store, at: datetime, *, process_id: str | None = None) -> SlaSummary:
    """Count open steps by status per process, unit and role, in one SQL statement."""
    groups = _sql_store(store).sla_summary(_ms(at), process_id=process_id)
    return SlaSummary(ensure_aware(at, "scan time"), tuple(groups))


def scan_changes(
    monitor: Monitor, at: datetime, *, since: datetime | None = None, key: str = "default"
) -> ScanResult:
    """Steps that turned breached or at risk since the last change scan ``key`` (or
    ``since``), most urgent first; escalated once each when the monitor escalates.

    The moment scanned up to is recorded in the store under ``key``, so the next scan,
    in this process or another, starts where this one ended and no change falls
    between two scans. A step made ready with deadlines already before the last
    scan's moment (a back-dated action) is seen by a full ``Monitor.scan`` only.
    """
    from sopflow.sla.monitor import ScanResult

    store = _sql_store(monitor.store)
    now = ensure_aware(at, "scan time")
    now_ms = _ms(now)
    since_ms = _ms(since) if since is not None else store.sla_mark(key)
    breached, at_risk = store.sla_changes(since_ms, now_ms, notified=monitor.escalate)
    result = ScanResult(
        [*breached, *at_risk], (len(breached), len(at_risk), 0), now_ms, monitor.calendar
    )
    if monitor.escalate:
        monitor._escalate(result, now, now_ms)
    if since is None:
        store.set_sla_mark(key, now_ms)
    return result


def pages(
    monitor: Monitor,
    at: datetime,
    *,
    status: str | None = None,
    process_id: str | None = None,
    role: str | None = None,
    size: int = 100,
) -> Iterator[list[OpenStepStatus]]:
    """The open steps page by page in deadline order (no standard last).

    Each page is one keyset query; memory holds one page, whatever the number of
    open steps.
    """
    from sopflow.sla.monitor import OpenStepStatus

    store = _sql_store(monitor.store)
    now_ms = _ms(at)
    after: tuple[int | None, int] | None = None
    while True:
        rows = store.sla_page(
            now_ms, status=status, process_id=process_id, role=role, after=after, limit=size
        )
        if not rows:
            return
        yield [OpenStepStatus(r[:12], str(r[12]), now_ms, monitor.calendar) for r in rows]
        if len(rows) < size:
            return
        after = (rows[-1][7], int(rows[-1][0]))
