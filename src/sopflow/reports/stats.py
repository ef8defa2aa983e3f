"""Figures for SLA reports: per instance, and per SOP across instances.

The figures are what the Permenpan-RB 35/2012 monitoring officer lacks today: how long
each step actually takes in working time, how often it meets its Mutu Baku waktu and how
often its decision sends the file back. From them the monitoring form ("Monitoring
Pelaksanaan SOP AP") is pre-filled for the officer to confirm, by a stated rule:

- *Berjalan dengan baik* when all three hold: (1) at least :data:`GOOD_SHARE_MET` (80%)
  of the passes with a standard met it (or the step has none); (2) the late passes are
  not far late: the p90 overrun is at most :data:`MAX_P90_OVERRUN_SHARE` (half) of the
  standard; (3) at most :data:`MAX_RETURN_SHARE` (a third) of its passes sent the file
  back ("Tidak"): a return says the file that reached the step was incomplete, so an
  occasional one is noted (and the kelengkapan action suggested), not held against a
  step that decided on time;
- otherwise *Tidak berjalan dengan baik*; a step never performed is *Belum dapat dinilai*.

A joint step (one row of the SOP with several Pelaksana, run as one task per lane) is one
row of the report and of the form: its tasks' passes are counted under the row, and the
form names each lane's figures. A pass closed because a sibling branch, a completion
condition or a terminate end event ended it (``outcome`` cancelled or terminated) is
counted as cancelled: neither done nor met nor breached (issue 10).

Working time is counted on each process's calendar. Percentiles use the nearest-rank
method (p90 of n values = the ceil(0.9 n)-th smallest), so every figure is a time that
really occurred; the median is the usual middle value (mean of the two middle ones).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from sopflow.authority.gate import signatures
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.runtime.views import STORED_DAMAGE, GatewayDecision, StepRecord, from_ms, iso
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.monitor import MET, MISSED, assess_completed
from sopflow.sla.policy import AT_RISK, BREACHED, NO_STANDARD, ON_TRACK, SlaPolicy
from sopflow.stores.base import CANCELLED, TERMINATED, StepRow, Store

__all__ = [
    "BELUM_DINILAI",
    "BERJALAN_BAIK",
    "GOOD_SHARE_MET",
    "MAX_P90_OVERRUN_SHARE",
    "MAX_RETURN_SHARE",
    "TIDAK_BERJALAN_BAIK",
    "Figures",
    "FormRow",
    "InstanceReport",
    "ProcessReport",
    "RoleFigures",
    "StepFigures",
    "StepPass",
    "assess",
    "format_minutes",
    "instance_report",
    "median",
    "p90",
    "process_report",
    "processes_in",
]

BERJALAN_BAIK = "Berjalan dengan baik"
TIDAK_BERJALAN_BAIK = "Tidak berjalan dengan baik"
BELUM_DINILAI = "Belum dapat dinilai"
#: Share of passes meeting the standard from which a step "berjalan dengan baik".
GOOD_SHARE_MET = 0.8
#: Rule (2): the p90 overrun may be at most this share of the standard.
MAX_P90_OVERRUN_SHARE = 0.5
#: Rule (3): at most this share of a step's passes may return the file.
MAX_RETURN_SHARE = 1 / 3
CANCELLED_STATUS = "cancelled"

#: Statuses of the process picture (agreed with sopflow.reports.render).
DONE_IN_TIME, DONE_LATE, NOT_REACHED = "done_in_time", "done_late", "not_reached"

DefinitionLookup = Callable[[str], ProcessDefinition]


# ------------------------------------------------------------------------- numbers


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile: the ceil(0.9 n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def format_minutes(minutes: float | None) -> str:
    """Working time as an officer says it: "45 menit", "2 jam 5 menit"."""
    if minutes is None:
        return "-"
    whole = round(minutes)
    if whole < 60:
        return f"{whole} menit"
    hours, rest = divmod(whole, 60)
    return f"{hours} jam" + (f" {rest} menit" if rest else "")


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


# ------------------------------------------------------------------------- one instance


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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


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


# ------------------------------------------------------------------------- one SOP


@dataclass(frozen=True, slots=True)
class Figures:
    """Completed passes of a step (or of all a role's steps) and what they show."""

    count: int
    median_minutes: float | None
    p90_minutes: float | None
    with_standard: int
    met: int
    returns: int
    p90_overrun_minutes: float | None
    open: int
    open_breached: int
    #: the median standard of the passes with one, in the minutes they are counted in
    standard_minutes: float | None = None
    #: passes the engine closed as cancelled or terminated: in none of the figures above
    cancelled: int = 0

    @property
    def share_met(self) -> float | None:
        """Met / passes with a standard; None when no pass had one."""
        return self.met / self.with_standard if self.with_standard else None

    @property
    def share_missed(self) -> float:
        share = self.share_met
        return 0.0 if share is None else 1.0 - share

    @classmethod
    def of(cls, passes: Sequence[StepPass], open_passes: Sequence[StepPass]) -> Figures:
        cancelled = sum(1 for p in passes if p.status == CANCELLED_STATUS)
        passes = [p for p in passes if p.status != CANCELLED_STATUS]
        actual = [p.actual_minutes for p in passes]
        judged = [p for p in passes if p.status in (MET, MISSED)]
        return cls(
            count=len(passes),
            median_minutes=median(actual),
            p90_minutes=p90(actual),
            with_standard=len(judged),
            met=sum(1 for p in judged if p.status == MET),
            returns=sum(1 for p in passes if p.returned),
            p90_overrun_minutes=p90([p.overrun_minutes for p in judged]),
            open=len(open_passes),
            open_breached=sum(1 for p in open_passes if p.status == BREACHED),
            standard_minutes=median(
                [p.standard_minutes for p in judged if p.standard_minutes is not None]
            ),
            cancelled=cancelled,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_minutes": _round(self.median_minutes),
            "p90_minutes": _round(self.p90_minutes),
            "with_standard": self.with_standard,
            "met": self.met,
            "share_met": None if self.share_met is None else round(self.share_met, 4),
            "returns": self.returns,
            "p90_overrun_minutes": _round(self.p90_overrun_minutes),
            "open": self.open,
            "open_breached": self.open_breached,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True, slots=True)
class StepFigures:
    """One row of the SOP: a step, or a joint step with all its tasks' passes."""

    #: the row's (first) task id
    task_id: str
    step_no: int | None
    name: str
    #: the row's role; a joint step's roles joined ("tim, kasi")
    role: str
    standard: str | None
    kelengkapan: tuple[str, ...]
    figures: Figures
    #: every task of the row (a joint step has one per Pelaksana)
    task_ids: tuple[str, ...] = ()
    #: a joint step's figures per lane (task), in the table's order; empty otherwise
    lanes: tuple[RoleFigures, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "task_ids": list(self.task_ids or (self.task_id,)),
            "step_no": self.step_no,
            "name": self.name,
            "role": self.role,
            "standard": self.standard,
            **self.figures.to_dict(),
            "lanes": [lane.to_dict() for lane in self.lanes],
        }


@dataclass(frozen=True, slots=True)
class RoleFigures:
    role: str
    steps: int
    figures: Figures

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "steps": self.steps, **self.figures.to_dict()}


@dataclass(frozen=True, slots=True)
class FormRow:
    """One row of the monitoring form, pre-filled for the monitoring officer to confirm."""

    no: int
    task_id: str
    prosedur: str
    penilaian: str
    catatan: str
    tindakan: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "no": self.no,
            "task_id": self.task_id,
            "prosedur": self.prosedur,
            "penilaian": self.penilaian,
            "catatan": self.catatan,
            "tindakan": self.tindakan,
        }


@dataclass(frozen=True)
class ProcessReport:
    process_id: str
    name: str
    nomor: str | None
    at: datetime
    instances: Mapping[str, int]
    #: bottlenecks first: highest share missed, then highest p90 overrun
    steps: tuple[StepFigures, ...]
    roles: tuple[RoleFigures, ...]
    form: tuple[FormRow, ...]
    definition: ProcessDefinition = field(repr=False)
    #: (instance id, reason) of each instance left out because its stored rows are damaged
    damaged: tuple[tuple[str, str], ...] = ()
    #: (code, name) of the unit the report covers with the units under it; None: all
    unit: tuple[str, str] | None = None

    def share_met(self) -> dict[str, float]:
        """Task id -> share met, for the SOP-wide picture (steps without data left out);
        each task of a joint step gets its own lane's share."""
        out: dict[str, float] = {}
        for s in self.steps:
            parts = (
                zip(s.task_ids, (lane.figures for lane in s.lanes), strict=True)
                if s.lanes else ((s.task_id, s.figures),)
            )
            for task, figures in parts:
                if (share := figures.share_met) is not None:
                    out[task] = share
        return out

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "kind": "process",
            "process_id": self.process_id,
            "name": self.name,
            "nomor": self.nomor,
            "unit": None if self.unit is None else {"kode": self.unit[0], "nama": self.unit[1]},
            "at": iso(self.at, tz),
            "instances": dict(self.instances),
            "steps": [s.to_dict() for s in self.steps],
            "roles": [r.to_dict() for r in self.roles],
            "form": [f.to_dict() for f in self.form],
        }


def _bottleneck_key(s: StepFigures) -> tuple[float, float, int]:
    return (-s.figures.share_missed, -(s.figures.p90_overrun_minutes or 0.0), s.step_no or 0)


def process_report(
    store: Store,
    process_id: str,
    *,
    definitions: DefinitionLookup,
    policy: SlaPolicy | None = None,
    at: datetime,
    definition: ProcessDefinition | None = None,
    excluded: Mapping[str, str] | None = None,
    unit: str | None = None,
) -> ProcessReport:
    """Per step and per role figures of one SOP across all its instances, and the form.

    ``definition`` names steps and orders the form (default: the version of the latest
    instance); passes of steps only older versions have are still counted. ``excluded``
    maps instances that must not be counted (a broken audit chain) to the reason: they
    are left out and listed in ``damaged``, so the report says so. ``unit`` (a code of the
    store's staff directory) keeps the instances of that unit and the units under it: a
    kecamatan's own monitoring, or a kabupaten's roll-up of all its kecamatan.
    """
    policy = policy if policy is not None else SlaPolicy()
    ctx = _Context(definitions, policy)
    instances = store.instances(process_id=process_id)
    scope: frozenset[str] | None = None
    covered: tuple[str, str] | None = None
    if unit is not None:
        from sopflow.authority.kabupaten import unit_scope

        found, scope = unit_scope(store, unit)
        covered = (found.kode, found.nama)
        instances = [i for i in instances if i.instance_id in scope]
    counts: dict[str, int] = {}
    for inst in instances:
        counts[inst.status] = counts.get(inst.status, 0) + 1
    if definition is None:
        if not instances:
            raise ValueError(f"no instances of {process_id} and no definition given")
        definition = definitions(instances[-1].version)
    mine = {i.instance_id for i in instances}
    damaged: dict[str, str] = {k: v for k, v in (excluded or {}).items() if k in mine}
    if damaged:
        instances = [i for i in instances if i.instance_id not in damaged]

    def kept(rows: list[StepRow]) -> list[StepRow]:
        if excluded:
            rows = [r for r in rows if r.instance_id not in damaged]
        return rows if scope is None else [r for r in rows if r.instance_id in scope]

    def completed(instance_id: str | None) -> list[StepRow]:
        return kept(store.completed_steps(process_id=process_id, instance_id=instance_id))

    def open_rows(instance_id: str | None) -> list[StepRow]:
        return kept(store.open_steps(process_id=process_id, instance_id=instance_id))

    def closed(instance_id: str | None) -> list[StepRow]:
        """Rows the engine closed (a sibling branch, a completion condition, a terminate
        end): not completed work, so not in ``completed_steps``, but counted as cancelled.
        One set-based read for the whole process, not one per instance."""
        rows = store.closed_steps(
            process_id=process_id, instance_id=instance_id, outcomes=(CANCELLED, TERMINATED)
        )
        return [r for r in kept(rows) if r.instance_id not in damaged]

    done = _passes(ctx, at, completed, instances, damaged)
    done += _passes(ctx, at, closed, instances, damaged)
    running = _passes(ctx, at, open_rows, instances, damaged)

    by_task: dict[str, list[StepPass]] = {}
    open_by_task: dict[str, list[StepPass]] = {}
    for p in done:
        by_task.setdefault(p.task_id, []).append(p)
    for p in running:
        open_by_task.setdefault(p.task_id, []).append(p)
    def task_figures(task: str) -> Figures:
        return Figures.of(by_task.get(task, []), open_by_task.get(task, []))

    steps: list[StepFigures] = []
    rows: dict[int, list[Step]] = {}
    for s in definition.steps:
        rows.setdefault(s.no, []).append(s)
    for tasks in rows.values():
        first = tasks[0]
        ids = tuple(t.id for t in tasks)
        steps.append(StepFigures(
            first.id, first.no, first.name,
            ", ".join(dict.fromkeys(t.role for t in tasks)), first.waktu, first.kelengkapan,
            Figures.of([p for t in ids for p in by_task.get(t, [])],
                       [p for t in ids for p in open_by_task.get(t, [])]),
            task_ids=ids,
            lanes=tuple(RoleFigures(t.role, 1, task_figures(t.id)) for t in tasks)
            if len(tasks) > 1 else (),
        ))
    known = {s.id for s in definition.steps}
    for task in sorted((set(by_task) | set(open_by_task)) - known):
        sample = (by_task.get(task) or open_by_task[task])[0]
        steps.append(_step_figures(task, sample.step_no, sample.name or task,
                                   sample.role or "", sample.standard, (),
                                   by_task.get(task, []), open_by_task.get(task, [])))

    # per role: each task counts under its own lane's role (a joint step's under each)
    role_tasks: dict[str, set[str]] = {}
    for s in definition.steps:
        role_tasks.setdefault(s.role, set()).add(s.id)
    for sf in steps:
        if sf.task_id not in known:
            role_tasks.setdefault(sf.role, set()).add(sf.task_id)
    roles = []
    for role in sorted(role_tasks):
        tasks_of = role_tasks[role]
        roles.append(RoleFigures(
            role,
            len(tasks_of),
            Figures.of([p for p in done if p.task_id in tasks_of],
                       [p for p in running if p.task_id in tasks_of]),
        ))
    role_share = {r.role: r.figures.share_met for r in roles}
    in_order = sorted(steps, key=lambda s: (s.step_no is None, s.step_no or 0))
    form = tuple(
        assess(sf.step_no if sf.step_no is not None else i, sf, role_share.get(sf.role),
               role_share)
        for i, sf in enumerate(in_order, start=1)
    )
    return ProcessReport(
        process_id=process_id,
        name=definition.header.nama or definition.name,
        nomor=definition.header.nomor,
        at=at,
        instances=counts,
        steps=tuple(sorted(steps, key=_bottleneck_key)),
        roles=tuple(roles),
        form=form,
        definition=definition,
        damaged=tuple(damaged.items()),
        unit=covered,
    )


def _passes(
    ctx: _Context,
    at: datetime,
    read: Callable[[str | None], list[StepRow]],
    instances: Sequence[Any],
    damaged: dict[str, str],
) -> list[StepPass]:
    """Every pass ``read`` gives; when stored data breaks that, instance by instance,
    leaving out (and noting in ``damaged``) each instance that cannot be read."""
    try:
        return [ctx.step_pass(r, at, cancelled_at=None) for r in read(None)]
    except STORED_DAMAGE:
        pass
    out: list[StepPass] = []
    for inst in instances:
        if inst.instance_id in damaged:
            continue
        try:
            out.extend(ctx.step_pass(r, at, cancelled_at=None) for r in read(inst.instance_id))
        except STORED_DAMAGE as exc:
            damaged[inst.instance_id] = str(exc)
    return out


def _step_figures(
    task: str, no: int | None, name: str, role: str, waktu: str | None,
    kelengkapan: tuple[str, ...], passes: Sequence[StepPass], open_passes: Sequence[StepPass],
) -> StepFigures:
    return StepFigures(task, no, name, role, waktu, kelengkapan, Figures.of(passes, open_passes),
                       task_ids=(task,))


def assess(
    no: int,
    sf: StepFigures,
    role_share_met: float | None,
    role_shares: Mapping[str, float | None] | None = None,
) -> FormRow:
    """The form row of one step, by the rule in the module docstring (and docs/sla.md).

    ``no`` is the row number (the step's number in the SOP); ``role_share_met`` is the
    share met across all steps of the step's role, which decides whether adding staff
    to that role is suggested. A joint step is judged on all its tasks' passes; each of
    its lanes is named in the note, and ``role_shares`` (role -> share met across all
    that role's steps) decides the staffing suggestion per lane.
    """
    f = sf.figures
    prosedur = sf.name
    if f.count == 0:
        catatan = "Belum ada pelaksanaan yang selesai tercatat."
        if f.open:
            catatan += f" {f.open} sedang berjalan" + (
                f", {f.open_breached} melewati standar waktu." if f.open_breached else "."
            )
        if f.cancelled:
            catatan += f" {f.cancelled} kali dibatalkan."
        return FormRow(no, sf.task_id, prosedur, BELUM_DINILAI, catatan,
                       "Pastikan langkah ini dilaksanakan dan dicatat.")
    share = f.share_met
    far_late = (
        f.standard_minutes is not None
        and f.p90_overrun_minutes is not None
        and f.p90_overrun_minutes > MAX_P90_OVERRUN_SHARE * f.standard_minutes
    )
    good = (
        (share is None or share >= GOOD_SHARE_MET)
        and not far_late
        and f.returns <= MAX_RETURN_SHARE * f.count
    )
    together = f" oleh {len(sf.lanes)} pelaksana bersama" if sf.lanes else ""
    notes = [
        f"{f.count} kali dilaksanakan{together}; waktu kerja median "
        f"{format_minutes(f.median_minutes)}, p90 {format_minutes(f.p90_minutes)}"
    ]
    if share is None:
        notes.append("tanpa standar waktu")
    else:
        notes.append(
            f"standar {sf.standard}; tepat waktu {f.met} dari {f.with_standard} ({_pct(share)})"
        )
        if f.met < f.with_standard:
            notes.append(f"p90 kelebihan {format_minutes(f.p90_overrun_minutes)}")
    if f.returns:
        notes.append(f"{f.returns} kali dikembalikan (Tidak)")
    if f.open_breached:
        notes.append(f"{f.open_breached} sedang melewati standar waktu")
    if f.cancelled:
        notes.append(f"{f.cancelled} kali dibatalkan")
    for lane in sf.lanes:
        lf = lane.figures
        notes.append(
            f"peran {lane.role}: {lf.count} kali"
            + (f", tepat waktu {lf.met} dari {lf.with_standard} ({_pct(lf.share_met)})"
               if lf.with_standard else "")
        )
    actions: list[str] = []
    if share is not None and share < GOOD_SHARE_MET:
        actions.append(f"Tinjau kembali standar waktu \"{sf.standard}\" dan cara kerja langkah ini")
        # a joint step: the lanes that are late, each with its role's share everywhere
        late = (
            [(lane.role, (role_shares or {}).get(lane.role)) for lane in sf.lanes
             if (lane.figures.share_met or 0.0) < GOOD_SHARE_MET
             and lane.figures.share_met is not None]
            if sf.lanes else [(sf.role, role_share_met)]
        )
        for role, role_share in late:
            if role_share is not None and role_share < GOOD_SHARE_MET:
                actions.append(
                    f"Tambah pelaksana atau atur ulang beban kerja peran {role} "
                    f"(tepat waktu {_pct(role_share)} di semua langkahnya)"
                )
    if far_late and (share is None or share >= GOOD_SHARE_MET):
        actions.append(
            "Cari penyebab keterlambatan yang jauh melewati standar waktu "
            f"(p90 kelebihan {format_minutes(f.p90_overrun_minutes)})"
        )
    if f.returns:
        needed = "; ".join(sf.kelengkapan) or "dokumen yang diperiksa"
        actions.append(
            f"Perjelas kelengkapan yang harus dipenuhi sebelum diajukan ({needed})"
        )
    return FormRow(
        no,
        sf.task_id,
        prosedur,
        BERJALAN_BAIK if good else TIDAK_BERJALAN_BAIK,
        "; ".join(notes) + ".",
        ("; ".join(actions) + ".") if actions else "Tidak ada; pertahankan.",
    )


def processes_in(store: Store) -> list[str]:
    """Process ids that have instances, in order of their first instance."""
    seen: dict[str, None] = {}
    for inst in store.instances():
        seen.setdefault(inst.process_id, None)
    return list(seen)

