"""The SLA monitor: where every open step stands against its Mutu Baku standard.

A scan reads the step-timing table in ONE query (``Store.scan_open``) and compares "now"
with the ``due_at`` / ``risk_at`` stored when each step became ready; no instance is
loaded and no calendar arithmetic runs per row. Working time elapsed needs the calendar,
so it is computed lazily, only for the rows someone looks at (a printed list, a hook).

Escalation: with ``on_status_change`` (or ``escalate=True``) each scan records which
steps it has notified as ``at_risk`` or ``breached`` in the store (``INSERT ... ON
CONFLICT DO NOTHING``), so the hook runs once per step and status even when several
monitor processes share one database. The record is written after the hook returns:
a hook that raises, or a watcher killed while its hook runs, records nothing, so the
next scan tries again rather than losing the escalation (at least once; two watchers
scanning at the very same moment may both call their hook).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any, overload

from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import WaktuError
from sopflow.logging import get_logger
from sopflow.runtime.clock import Clock, SystemClock, ensure_aware
from sopflow.runtime.views import STORED_MAX_MS, STORED_MIN_MS, from_ms, iso
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.durations import StandardKind, parse_waktu
from sopflow.sla.policy import (
    AT_RISK,
    BREACHED,
    NO_STANDARD,
    ON_TRACK,
    SlaPolicy,
    open_status,
)
from sopflow.stores.base import StepRow, Store

if TYPE_CHECKING:
    from sopflow.sla.summary import SlaSummary

__all__ = [
    "MET",
    "MISSED",
    "CalendarSource",
    "CompletedStepStatus",
    "Monitor",
    "OpenStepStatus",
    "ScanResult",
    "SlaEvent",
    "assess_completed",
]

MET, MISSED = "met", "missed"


#: (process_id, version) -> the calendar that process counts working time on.
CalendarSource = Callable[[str, str], WorkCalendar]


def _time_ok(value: object, optional: bool) -> bool:
    if value is None:
        return optional
    return type(value) is int and STORED_MIN_MS <= value <= STORED_MAX_MS


def _times_ok(row: Sequence[Any]) -> bool:
    """ready_at, due_at, risk_at of a scan row are what the engine writes (epoch ms)."""
    return _time_ok(row[6], False) and _time_ok(row[7], True) and _time_ok(row[8], True)


@lru_cache(maxsize=1024)
def counts_calendar_time(waktu: str | None) -> bool:
    """Whether a standard counts elapsed time day and night ("2 x 24 jam", "1 bulan").

    Such a step's elapsed and remaining time are calendar minutes: the standard's own
    kind, so "2 x 24 jam" twenty hours in shows 1,200 minutes elapsed, not the 30
    working minutes inside office hours.
    """
    try:
        kind = parse_waktu(waktu).kind
    except WaktuError:
        return False
    return kind in (StandardKind.CALENDAR, StandardKind.CALENDAR_MONTHS)


class ScanResult(Sequence["OpenStepStatus"]):
    """The steps of one scan, most urgent first; each built when it is read.

    A scan of 100,000 open steps only classifies row tuples; the objects a caller
    actually looks at (often just the first screenful) are made on access.
    """

    __slots__ = ("_calendars", "_counts", "_now_ms", "_rows", "damaged")

    def __init__(
        self,
        rows: list[Sequence[Any]],
        counts: tuple[int, int, int],
        now_ms: int,
        calendars: CalendarSource,
        damaged: Sequence[tuple[str, str]] = (),
    ) -> None:
        #: (instance id, reason) of each open step the scan skipped: stored times that
        #: are not numbers or out of range. One damaged row stays one bad row.
        self.damaged = tuple(damaged)
        self._rows = rows
        self._counts = counts  # how many are breached, at risk, on track (in that order)
        self._now_ms = now_ms
        self._calendars = calendars

    def __len__(self) -> int:
        return len(self._rows)

    def _status(self, index: int) -> str:
        breached, at_risk, on_track = self._counts
        if index < breached:
            return BREACHED
        if index < breached + at_risk:
            return AT_RISK
        if index < breached + at_risk + on_track:
            return ON_TRACK
        return NO_STANDARD

    @overload
    def __getitem__(self, index: int) -> OpenStepStatus: ...

    @overload
    def __getitem__(self, index: slice) -> list[OpenStepStatus]: ...

    def __getitem__(self, index: int | slice) -> OpenStepStatus | list[OpenStepStatus]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._rows)))]
        if index < 0:
            index += len(self._rows)
        if not 0 <= index < len(self._rows):
            raise IndexError("scan result index out of range")
        return OpenStepStatus(self._rows[index], self._status(index), self._now_ms, self._calendars)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a view of rows, like a list

    def __repr__(self) -> str:
        return f"<ScanResult of {len(self._rows)} open steps: {self.counts()}>"

    def counts(self) -> dict[str, int]:
        """How many open steps have each status."""
        breached, at_risk, on_track = self._counts
        return {
            BREACHED: breached,
            AT_RISK: at_risk,
            ON_TRACK: on_track,
            NO_STANDARD: len(self._rows) - breached - at_risk - on_track,
        }


class OpenStepStatus:
    """One open step as a scan saw it.

    Built straight from the scan's row tuple, so building 100,000 of them costs little;
    times become datetimes and elapsed working time is computed only when read.
    """

    __slots__ = ("_calendars", "_elapsed", "_now_ms", "_row", "status")

    def __init__(
        self, row: Sequence[Any], status: str, now_ms: int, calendars: CalendarSource
    ) -> None:
        self._row = row
        self.status = status
        self._now_ms = now_ms
        self._calendars = calendars
        self._elapsed: float | None = None

    # -- stored fields -------------------------------------------------------------
    @property
    def step_id(self) -> int:
        return int(self._row[0])

    @property
    def instance_id(self) -> str:
        return str(self._row[1])

    @property
    def process_id(self) -> str:
        return str(self._row[2])

    @property
    def task(self) -> str:
        return str(self._row[3])

    @property
    def step_no(self) -> int | None:
        return self._row[4]  # type: ignore[no-any-return]

    @property
    def role(self) -> str | None:
        return self._row[5]  # type: ignore[no-any-return]

    @property
    def ready_at(self) -> datetime:
        return from_ms(self._row[6])

    @property
    def due_at(self) -> datetime | None:
        return None if self._row[7] is None else from_ms(self._row[7])

    @property
    def risk_at(self) -> datetime | None:
        return None if self._row[8] is None else from_ms(self._row[8])

    @property
    def standard(self) -> str | None:
        """The waktu text as the SOP writes it ("15 Menit"); None when the step has none."""
        return self._row[9]  # type: ignore[no-any-return]

    @property
    def claimed_by(self) -> str | None:
        return self._row[10]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return str(self._row[11])

    @property
    def at(self) -> datetime:
        """The moment the scan judged the step at."""
        return from_ms(self._now_ms)

    # -- computed on demand --------------------------------------------------------
    @property
    def calendar(self) -> WorkCalendar:
        return self._calendars(self.process_id, self.version)

    @property
    def minutes_kind(self) -> str:
        """``calendar`` for a day-and-night standard ("2 x 24 jam"), else ``working``."""
        return "calendar" if counts_calendar_time(self.standard) else "working"

    def _between(self, start: datetime, end: datetime) -> float:
        if counts_calendar_time(self.standard):
            return (end - start).total_seconds() / 60.0
        return self.calendar.working_minutes_between(start, end)

    @property
    def elapsed_minutes(self) -> float:
        """Minutes since the step became ready, in the standard's own kind (working or
        calendar minutes, see :attr:`minutes_kind`)."""
        if self._elapsed is None:
            self._elapsed = max(0.0, self._between(self.ready_at, self.at))
        return self._elapsed

    @property
    def standard_minutes(self) -> float | None:
        """The standard as minutes from ready to due (None without a standard)."""
        due = self.due_at
        if due is None:
            return None
        return self._between(self.ready_at, due)

    @property
    def remaining_minutes(self) -> float | None:
        """Minutes left until due; negative once breached (minutes overdue)."""
        due = self.due_at
        if due is None:
            return None
        return self._between(self.at, due)

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """The JSON shape of ``sopflow sla --json`` (computes elapsed time)."""
        remaining = self.remaining_minutes
        return {
            "instance_id": self.instance_id,
            "process_id": self.process_id,
            "task_id": self.task,
            "step_no": self.step_no,
            "role": self.role,
            "ready_at": iso(self.ready_at, tz),
            "standard": self.standard,
            "due_at": iso(self.due_at, tz),
            "status": self.status,
            "elapsed_minutes": round(self.elapsed_minutes, 1),
            "minutes_kind": self.minutes_kind,
            "remaining_minutes": None if remaining is None else round(remaining, 1),
            "claimed_by": self.claimed_by,
        }

    def __repr__(self) -> str:
        return (
            f"OpenStepStatus({self.instance_id}, {self.task}, step {self.step_no}, "
            f"{self.status}, due {self.due_at})"
        )


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """What the escalation hook receives: a step that has just become at risk or breached."""

    status: str
    step: OpenStepStatus
    at: datetime

    def fields(self) -> dict[str, Any]:
        """The structlog fields of ``sla.at_risk`` / ``sla.breached``."""
        s = self.step
        return {
            "instance_id": s.instance_id,
            "process_id": s.process_id,
            "task_id": s.task,
            "step_no": s.step_no,
            "role": s.role,
            "standard": s.standard,
            "ready_at": s.ready_at.isoformat(),
            "due_at": None if s.due_at is None else s.due_at.isoformat(),
            "timestamp": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CompletedStepStatus:
    """A completed pass through a step: met or missed its standard, and by how much."""

    row: StepRow
    status: str  # met, missed, no_standard
    actual_minutes: float
    standard_minutes: float | None
    overrun_minutes: float

    @property
    def ready_at(self) -> datetime:
        return from_ms(self.row.ready_at)

    @property
    def completed_at(self) -> datetime:
        return from_ms(self.row.completed_at or 0)

    @property
    def due_at(self) -> datetime | None:
        return None if self.row.due_at is None else from_ms(self.row.due_at)


def assess_completed(row: StepRow, calendar: WorkCalendar) -> CompletedStepStatus:
    """Met when done by the due moment; the overrun is working minutes past it (else 0)."""
    if row.completed_at is None:
        raise ValueError(f"step {row.task} of instance {row.instance_id} is not completed")
    ready, done = from_ms(row.ready_at), from_ms(row.completed_at)

    def between(start: datetime, end: datetime) -> float:
        if counts_calendar_time(row.standard):  # "2 x 24 jam": the standard's own kind
            return (end - start).total_seconds() / 60.0
        return calendar.working_minutes_between(start, end)

    actual = max(0.0, between(ready, done))
    if row.due_at is None:
        return CompletedStepStatus(row, NO_STANDARD, actual, None, 0.0)
    due = from_ms(row.due_at)
    standard = between(ready, due)
    if row.completed_at <= row.due_at:
        return CompletedStepStatus(row, MET, actual, standard, 0.0)
    overrun = max(0.0, between(due, done))
    return CompletedStepStatus(row, MISSED, actual, standard, overrun)


class Monitor:
    """Scan open steps, judge them against their standards, escalate changes once.

    ``definitions`` maps a version to its definition (e.g. ``Engine.definition``) and is
    only used to find a process's calendar (its ``zona_waktu``); by default definitions
    are read back from the store. ``escalate`` defaults to "a hook was given"; set it to
    also record and log escalations without a hook (``sopflow sla --watch``).
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: SlaPolicy | None = None,
        on_status_change: Callable[[SlaEvent], object] | None = None,
        escalate: bool | None = None,
        definitions: Callable[[str], ProcessDefinition] | None = None,
        clock: Clock | None = None,
        enqueue: bool = False,
    ) -> None:
        self.store = store
        #: escalations become jobs a worker announces (sopflow.jobs.escalation)
        self.enqueue = enqueue
        self.policy = policy if policy is not None else SlaPolicy()
        self.on_status_change = on_status_change
        self.escalate = (on_status_change is not None or enqueue) if escalate is None else escalate
        self.clock: Clock = clock or SystemClock()
        self._definitions = definitions
        self._calendars: dict[tuple[str, str], WorkCalendar] = {}
        self._loaded: dict[str, ProcessDefinition] = {}
        self._log = get_logger("sopflow.sla")

    # -- calendars -----------------------------------------------------------------
    def definition(self, version: str) -> ProcessDefinition:
        if self._definitions is not None:
            return self._definitions(version)
        if version in self._loaded:
            return self._loaded[version]
        from sopflow.definitions.loader import load_definition_bytes
        from sopflow.errors import DefinitionError

        xml = self.store.definition_xml(version)
        if xml is None:
            raise DefinitionError(f"definition version {version[:12]} is not in the store")
        found = load_definition_bytes(xml, source=f"stored definition {version[:12]}")
        self._loaded[version] = found
        return found

    def calendar(self, process_id: str, version: str) -> WorkCalendar:
        """The calendar a process counts working time on (cached per version)."""
        key = (process_id, version)
        found = self._calendars.get(key)
        if found is None:
            found = self.policy.calendars.get(process_id)
            if found is None:
                found = self.policy.calendar_for(self.definition(version))
            self._calendars[key] = found
        return found

    # -- scanning ------------------------------------------------------------------
    def scan(
        self,
        at: datetime | None = None,
        *,
        process_id: str | None = None,
        role: str | None = None,
    ) -> ScanResult:
        """Every open step of running instances with its status, most urgent first."""
        now = ensure_aware(at if at is not None else self.clock.now(), "scan time")
        now_ms = round(now.timestamp() * 1000)
        rows = self.store.scan_open(process_id=process_id, role=role, notified=self.escalate)
        calendars = self.calendar
        # Rows come in due_at order; one bucket per status keeps that order within a
        # status and puts the most urgent first without sorting 100,000 rows again.
        buckets: dict[str, list[Sequence[Any]]] = {
            BREACHED: [],
            AT_RISK: [],
            ON_TRACK: [],
            NO_STANDARD: [],
        }
        damaged: list[tuple[str, str]] = []
        for row in rows:
            if not _times_ok(row):
                damaged.append((str(row[1]), f"step {row[3]}: stored times {row[6:9]!r}"))
                self._log.warning("sla.damaged_row", instance_id=str(row[1]), task_id=str(row[3]))
                continue
            buckets[open_status(row[7], row[8], now_ms)].append(row)
        breached, at_risk, on_track, none = buckets.values()
        out = ScanResult(
            breached + at_risk + on_track + none,
            (len(breached), len(at_risk), len(on_track)),
            now_ms,
            calendars,
            damaged,
        )
        if self.escalate:
            self._escalate(out, now, now_ms)
        return out

    # -- SQL-side views for large stores (sopflow.sla.summary, docs/performance.md) --
    def summary(self, at: datetime | None = None, *, process_id: str | None = None) -> SlaSummary:
        """Counts by status per process, unit and role, computed by the database."""
        from sopflow.sla.summary import summarize

        return summarize(
            self.store, at if at is not None else self.clock.now(), process_id=process_id
        )

    def changes(
        self, at: datetime | None = None, *, since: datetime | None = None, key: str = "default"
    ) -> ScanResult:
        """Steps that turned at risk or breached since the last change scan; escalated."""
        from sopflow.sla.summary import scan_changes

        return scan_changes(self, at if at is not None else self.clock.now(), since=since, key=key)

    def _escalate(self, steps: ScanResult, now: datetime, now_ms: int) -> None:
        wanted: list[tuple[int, str]] = []
        changed: dict[tuple[int, str], OpenStepStatus] = {}
        for s in steps:
            notified = s._row[12] or 0
            if s.status == BREACHED and notified < 2:
                wanted.append((s.step_id, BREACHED))
                changed[(s.step_id, BREACHED)] = s
                if notified < 1 and s._row[8] is not None:
                    # Passed through at_risk unseen: record it too, so it is never
                    # announced after the breach.
                    wanted.append((s.step_id, AT_RISK))
            elif s.status == AT_RISK and notified < 1:
                wanted.append((s.step_id, AT_RISK))
                changed[(s.step_id, AT_RISK)] = s
        if not wanted:
            return
        if self.enqueue:
            from sopflow.jobs.escalation import enqueue_escalations

            # Passed through unseen: recorded now, never announced; the rest are jobs
            # (a worker announces each, then records it: jobs/escalation.py).
            self.store.claim_escalations([k for k in wanted if k not in changed], now_ms)
            enqueue_escalations(self.store, [k for k in wanted if k in changed], now_ms)
            return
        if self.on_status_change is None:
            for key in self.store.claim_escalations(wanted, now_ms):
                step = changed.get(key)
                if step is not None:
                    self._log.warning(f"sla.{key[1]}", **SlaEvent(key[1], step, now).fields())
            return
        # The hook runs BEFORE the escalation is recorded: a watcher killed inside the
        # hook records nothing, and the next scan announces the step again (at least
        # once). Recording first lost such escalations for good.
        done: set[int] = set()
        for key, step in changed.items():
            event = SlaEvent(key[1], step, now)
            try:
                self.on_status_change(event)
            except Exception as exc:  # the hook is application code: keep scanning
                self._log.error("sla.hook_failed", **event.fields(), status=key[1], error=repr(exc))
                continue
            done.add(key[0])
            self._log.warning(f"sla.{key[1]}", **event.fields())
        if done:
            self.store.claim_escalations([k for k in wanted if k[0] in done], now_ms)

    def watch(
        self,
        *,
        every: float,
        count: int | None = None,
        at: datetime | None = None,
        on_scan: Callable[[Sequence[OpenStepStatus]], object] | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> int:
        """Scan every ``every`` seconds (``count`` times, or until interrupted)."""
        if every <= 0:
            raise ValueError("every must be positive")
        done = 0
        while count is None or done < count:
            if done:
                sleep(every)
            result = self.scan(at)
            done += 1
            if on_scan is not None:
                on_scan(result)
        return done

    # -- completed steps -----------------------------------------------------------
    def completed(
        self, *, process_id: str | None = None, instance_id: str | None = None
    ) -> list[CompletedStepStatus]:
        """Completed passes: met or missed, with the overrun (working minutes past due)."""
        return [
            assess_completed(r, self.calendar(r.process_id, r.version))
            for r in self.store.completed_steps(process_id=process_id, instance_id=instance_id)
        ]
