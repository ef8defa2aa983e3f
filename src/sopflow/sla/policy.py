"""The SLA policy: from a step's waktu to its due date, and from due dates to a status.

Deadlines are computed once, when a step becomes ready, and stored with the step
(``due_at`` and ``risk_at``, the moment ``at_risk`` of the standard is used). A monitor
scan then only compares those instants with "now": no workflow is loaded and no
calendar arithmetic runs per open step, so 100,000 open steps scan in one query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import CalendarError
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.durations import HariPolicy, Standard, StandardKind, parse_waktu

__all__ = ["AT_RISK", "BREACHED", "NO_STANDARD", "ON_TRACK", "SlaPolicy", "open_status"]

ON_TRACK, AT_RISK, BREACHED, NO_STANDARD = "on_track", "at_risk", "breached", "no_standard"


@dataclass
class SlaPolicy:
    """How a deployment reads standards and counts working time.

    ``calendar`` is the deployment's default (the national ASN calendar in WIB);
    ``calendars`` overrides it per process id; a process whose SOP names a
    ``zona_waktu`` (Long Ikis: Asia/Makassar) gets the default calendar in that zone
    unless overridden. ``at_risk`` is the share of the standard after which an open step
    is at risk.
    """

    calendar: WorkCalendar = field(default_factory=WorkCalendar.default)
    calendars: Mapping[str, WorkCalendar] = field(default_factory=dict)
    at_risk: float = 0.8
    hari: HariPolicy = HariPolicy.WORKING_DAYS
    _zoned: dict[str, WorkCalendar] = field(default_factory=dict, init=False, repr=False)
    _standards: dict[str | None, Standard] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.at_risk <= 1:
            raise CalendarError(f"at_risk must be in (0, 1], got {self.at_risk}")

    def calendar_for(self, definition: ProcessDefinition) -> WorkCalendar:
        found = self.calendars.get(definition.process_id)
        if found is not None:
            return found
        zone = definition.header.zona_waktu
        if not zone:
            return self.calendar
        cal = self._zoned.get(zone)
        if cal is None:
            cal = self.calendar.with_time_zone(zone)
            self._zoned[zone] = cal
        return cal

    def standard(self, waktu: str | None) -> Standard:
        found = self._standards.get(waktu)
        if found is None:
            found = parse_waktu(waktu, hari=self.hari)
            self._standards[waktu] = found
        return found

    def deadlines(
        self,
        definition: ProcessDefinition,
        step: Step,
        ready_at: datetime,
        data: Mapping[str, object] | None = None,
        *,
        instance_id: str | None = None,
    ) -> tuple[datetime | None, datetime | None]:
        """(due_at, at_risk_at) of a step that becomes ready at ``ready_at``.

        ``data`` (what the step sees when it opens) evaluates a due-date expression of a
        step without waktu; a caller without it gets no date for such a step.
        """
        standard = self.standard(step.waktu)
        if standard.kind is StandardKind.NONE:
            from sopflow.runtime.due_dates import attribute_deadlines

            # camunda:dueDate / followUpDate, or none
            return attribute_deadlines(step, ready_at, data, instance_id=instance_id)
        cal = self.calendar_for(definition)
        if standard.kind is StandardKind.WORKING_MINUTES:
            # one walk of the calendar each, instead of measuring the span afterwards
            return (
                cal.add_working_minutes(ready_at, standard.amount),
                cal.add_working_minutes(ready_at, standard.amount * self.at_risk),
            )
        due = cal.due_at(standard, ready_at)
        if due is None:
            return None, None
        if standard.kind in (StandardKind.CALENDAR, StandardKind.CALENDAR_MONTHS):
            return due, ready_at + (due - ready_at) * self.at_risk
        total = cal.working_minutes_between(ready_at, due)
        return due, cal.add_working_minutes(ready_at, total * self.at_risk)

    def status(self, due_at: int | None, risk_at: int | None, now: datetime) -> str:
        """Status of an open step from its stored deadlines (epoch ms)."""
        return open_status(due_at, risk_at, now.timestamp() * 1000)


def open_status(due_at: float | None, risk_at: float | None, now: float) -> str:
    """The one rule for an open step: compare "now" with its stored deadlines (epoch ms).

    A step without a standard is never breached; the monitor, the work list and the
    pictures all judge open steps with this function.
    """
    if due_at is None:
        return NO_STANDARD
    if now >= due_at:
        return BREACHED
    if risk_at is not None and now >= risk_at:
        return AT_RISK
    return ON_TRACK
