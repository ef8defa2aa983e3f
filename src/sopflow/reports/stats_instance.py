"""Figures of one instance: each pass through a step, judged against its standard.

:class:`StepPass` is also the unit the per-SOP figures (:mod:`sopflow.reports.stats_sop`)
count; :class:`_Context` works out each version's calendar and return flows once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from sopflow.authority.gate import signatures
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.reports.stats_numbers import _round
from sopflow.runtime.views import GatewayDecision, StepRecord, from_ms, iso
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.monitor import MISSED, assess_completed
from sopflow.sla.policy import AT_RISK, BREACHED, NO_STANDARD, ON_TRACK, SlaPolicy
from sopflow.stores.base import CANCELLED, TERMINATED, StepRow, Store

__all__ = [
    "CANCELLED_STATUS",
    "DefinitionLookup",
    "InstanceReport",
    "StepPass",
    "instance_report",
]


CANCELLED_STATUS = "cancelled"

#: Statuses of the process picture (agreed with sopflow.reports.render).
DONE_IN_TIME, DONE_LATE, NOT_REACHED = "done_in_time", "done_late", "not_reached"

DefinitionLookup = Callable[[str], ProcessDefinition]

@dataclass(frozen=True, slots=True)
class StepPass:
    """One pass of an instance through a step, judged against its standard."""

    task_id: str
    step_no: int | None
    name: str | None
    role: str | None
    actor: str | None
    ready_at: datetime
    completed_at: datetime | None
    standard: str | None
    due_at: datetime | None
    #: the standard as working minutes from ready to due (None without a standard)
    standard_minutes: float | None
    #: working minutes from ready to done, or to the report's moment while open
    actual_minutes: float
    #: met, missed, no_standard (completed); on_track, at_risk, breached, no_standard
    #: (open); cancelled (left open by a cancelled instance, or closed by the engine
    #: because a sibling branch, a completion condition or a terminate end ended it)
    status: str
    overrun_minutes: float
    returned: bool = False
    path: tuple[GatewayDecision, ...] = ()

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "step_no": self.step_no,
            "name": self.name,
            "role": self.role,
            "actor": self.actor,
            "ready_at": iso(self.ready_at, tz),
            "completed_at": iso(self.completed_at, tz),
            "standard": self.standard,
            "due_at": iso(self.due_at, tz),
            "standard_minutes": _round(self.standard_minutes),
            "actual_minutes": _round(self.actual_minutes),
            "status": self.status,
            "overrun_minutes": _round(self.overrun_minutes),
            "returned": self.returned,
        }


@dataclass(frozen=True)
class InstanceReport:
    instance_id: str
    process_id: str
    process_name: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    at: datetime
    steps: tuple[StepPass, ...]
    definition: ProcessDefinition = field(repr=False)
    policy: SlaPolicy = field(repr=False)

    @property
    def total_minutes(self) -> float:
        """Working time of all passes along the path taken."""
        return sum(p.actual_minutes for p in self.steps)

    @property
    def standard_total_minutes(self) -> float:
        """Sum of the standards along the path taken (passes without one add nothing)."""
        return sum(p.standard_minutes or 0.0 for p in self.steps)

    @property
    def without_standard(self) -> int:
        return sum(1 for p in self.steps if p.standard_minutes is None)

    def step_status(self) -> dict[str, str]:
        """Task id -> picture status of its latest pass (the renderer's keys)."""
        out: dict[str, str] = {}
        for p in self.steps:
            if p.status == CANCELLED_STATUS:  # not done: the picture shows it not reached
                out.pop(p.task_id, None)
            elif p.completed_at is not None:
                out[p.task_id] = DONE_LATE if p.status == MISSED else DONE_IN_TIME
            elif p.status in (AT_RISK, BREACHED):
                out[p.task_id] = p.status
            elif p.status in (ON_TRACK, NO_STANDARD):
                out[p.task_id] = ON_TRACK
            else:  # left open by a cancelled instance
                out.pop(p.task_id, None)
        return out

    def records(self) -> list[StepRecord]:
        """The passes as the engine's history records (what the timeline draws)."""
        return [
            StepRecord(
                task_id=p.task_id,
                step_no=p.step_no,
                name=p.name,
                lane=(self.definition.step(p.task_id) or _NO_STEP).lane,
                role=p.role,
                ready_at=p.ready_at,
                completed_at=p.completed_at,
                actor=p.actor,
                claimed_by=None,
                data=None,
                path=p.path,
                waktu=p.standard,
                due_at=p.due_at,
                outcome=_outcome(p),
            )
            for p in self.steps
        ]

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "kind": "instance",
            "instance_id": self.instance_id,
            "process_id": self.process_id,
            "process_name": self.process_name,
            "status": self.status,
            "started_at": iso(self.started_at, tz),
            "ended_at": iso(self.ended_at, tz),
            "at": iso(self.at, tz),
            "total_minutes": _round(self.total_minutes),
            "standard_total_minutes": _round(self.standard_total_minutes),
            "steps_without_standard": self.without_standard,
            "steps": [p.to_dict(tz) for p in self.steps],
        }


_NO_STEP = Step(id="", no=0, name="", lane=None, role="")


def _outcome(p: StepPass) -> str | None:
    if p.status == CANCELLED_STATUS:
        return CANCELLED
    return None if p.completed_at is None else "completed"


def _return_flows(definition: ProcessDefinition) -> frozenset[str]:
    """Flow ids that send a file back: each decision's "Tidak" flow."""
    flows = set()
    for d in definition.decisions:
        gateway = definition.nodes.get(d.gateway_id)
        if gateway is None:
            continue
        for f in gateway.outgoing:
            if (d.no_target is not None and f.target == d.no_target) or (
                (f.name or "").strip().lower() == "tidak"
            ):
                flows.add(f.id)
    return frozenset(flows)


class _Context:
    """Definitions, calendars and return flows per version, each worked out once."""

    def __init__(self, definitions: DefinitionLookup, policy: SlaPolicy) -> None:
        self.definitions = definitions
        self.policy = policy
        self._cal: dict[str, WorkCalendar] = {}
        self._returns: dict[str, frozenset[str]] = {}
        self._flows: dict[str, dict[str, GatewayDecision]] = {}

    def calendar(self, version: str) -> WorkCalendar:
        found = self._cal.get(version)
        if found is None:
            found = self.policy.calendar_for(self.definitions(version))
            self._cal[version] = found
        return found

    def returns(self, row: StepRow) -> bool:
        flows = self._returns.get(row.version)
        if flows is None:
            flows = _return_flows(self.definitions(row.version))
            self._returns[row.version] = flows
        return any(f in flows for f in row.path)

    def path(self, row: StepRow) -> tuple[GatewayDecision, ...]:
        index = self._flows.get(row.version)
        if index is None:
            definition = self.definitions(row.version)
            index = {
                f.id: GatewayDecision(node.id, f.id, f.name, f.target)
                for node in definition.nodes.values()
                for f in node.outgoing
            }
            self._flows[row.version] = index
        return tuple(index.get(f, GatewayDecision("?", f, None, "?")) for f in row.path)

    def step_pass(self, row: StepRow, now: datetime, *, cancelled_at: int | None) -> StepPass:
        definition = self.definitions(row.version)
        step = definition.step(row.task)
        cal = self.calendar(row.version)
        common: dict[str, Any] = {
            "task_id": row.task,
            "step_no": row.step_no,
            "name": step.name if step else None,
            "role": row.role,
            "actor": row.actor,
            "ready_at": from_ms(row.ready_at),
            "standard": row.standard,
            "due_at": None if row.due_at is None else from_ms(row.due_at),
        }
        if row.completed_at is not None and row.outcome in (CANCELLED, TERMINATED):
            ready, closed = from_ms(row.ready_at), from_ms(row.completed_at)
            return StepPass(
                **common,
                completed_at=closed,
                standard_minutes=(
                    None if row.due_at is None
                    else cal.working_minutes_between(ready, from_ms(row.due_at))
                ),
                actual_minutes=max(0.0, cal.working_minutes_between(ready, closed)),
                status=CANCELLED_STATUS,
                overrun_minutes=0.0,
                path=self.path(row),
            )
        if row.completed_at is not None:
            done = assess_completed(row, cal)
            return StepPass(
                **common,
                completed_at=from_ms(row.completed_at),
                standard_minutes=done.standard_minutes,
                actual_minutes=done.actual_minutes,
                status=done.status,
                overrun_minutes=done.overrun_minutes,
                returned=self.returns(row),
                path=self.path(row),
            )
        ready = from_ms(row.ready_at)
        until = now if cancelled_at is None else min(now, from_ms(cancelled_at))
        standard = (
            None if row.due_at is None
            else cal.working_minutes_between(ready, from_ms(row.due_at))
        )
        overrun = 0.0
        if row.due_at is not None and until > from_ms(row.due_at):
            overrun = max(0.0, cal.working_minutes_between(from_ms(row.due_at), until))
        if cancelled_at is not None:
            status = CANCELLED_STATUS
        else:
            status = self.policy.status(row.due_at, row.risk_at, now)
        return StepPass(
            **common,
            completed_at=None,
            standard_minutes=standard,
            actual_minutes=max(0.0, cal.working_minutes_between(ready, until)),
            status=status,
            overrun_minutes=overrun,
        )


def instance_report(
    store: Store,
    instance_id: str,
    *,
    definitions: DefinitionLookup,
    policy: SlaPolicy | None = None,
    at: datetime,
) -> InstanceReport:
    """Each pass of one instance: role, actor, ready, done, standard, working time, status."""
    policy = policy if policy is not None else SlaPolicy()
    row = store.load_instance(instance_id)
    ctx = _Context(definitions, policy)
    cancelled_at = row.ended_at if row.status == CANCELLED else None
    signed = signatures(store, instance_id)  # "Plh. Camat Cibatu (..., NIP ..., dasar ...)"
    steps = tuple(
        replace(p, actor=signed.get(r.id, p.actor))
        for r in store.steps(instance_id)
        for p in (ctx.step_pass(r, at, cancelled_at=cancelled_at),)
    )
    definition = definitions(row.version)
    return InstanceReport(
        instance_id=row.instance_id,
        process_id=row.process_id,
        process_name=definition.header.nama or definition.name,
        status=row.status,
        started_at=from_ms(row.started_at),
        ended_at=None if row.ended_at is None else from_ms(row.ended_at),
        at=at,
        steps=steps,
        definition=definition,
        policy=policy,
    )

