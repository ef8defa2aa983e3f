"""Figures of one SOP across its instances: per step (a joint step as one row), per
role, and the monitoring form (:mod:`sopflow.reports.stats_form`) built from them; with
``unit`` a kecamatan's own monitoring or a kabupaten's roll-up of the units under it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.reports.stats_form import FormRow, assess
from sopflow.reports.stats_instance import CANCELLED_STATUS, DefinitionLookup, StepPass, _Context
from sopflow.reports.stats_numbers import _round, median, p90
from sopflow.runtime.views import STORED_DAMAGE, iso
from sopflow.sla.monitor import MET, MISSED
from sopflow.sla.policy import BREACHED, SlaPolicy
from sopflow.stores.base import CANCELLED, TERMINATED, StepRow, Store

__all__ = [
    "Figures",
    "ProcessReport",
    "RoleFigures",
    "StepFigures",
    "process_report",
    "processes_in",
]


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


def processes_in(store: Store) -> list[str]:
    """Process ids that have instances, in order of their first instance."""
    seen: dict[str, None] = {}
    for inst in store.instances():
        seen.setdefault(inst.process_id, None)
    return list(seen)

