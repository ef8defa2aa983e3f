"""What the engine answers without changing anything: work lists, history, status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.authority import gate
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime import worklist
from sopflow.runtime.records import path_of
from sopflow.runtime.state import load_state
from sopflow.runtime.views import (
    Actor,
    GatewayDecision,
    InstanceView,
    StepRecord,
    WorkItem,
    from_ms,
)
from sopflow.runtime.worklist import work_item
from sopflow.stores.base import RUNNING, InstanceRow, StepRow

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = ["history", "status", "work_list"]


def work_list(
    rt: Engine,
    *,
    role: str | Iterable[str] | None,
    process_id: str | None,
    instance_id: str | None,
    at: datetime | None,
    user: str | None = None,
    actor: Actor | None = None,
) -> list[WorkItem]:
    return worklist.work_list(
        rt,
        role=role,
        process_id=process_id,
        instance_id=instance_id,
        now=rt._now(at),
        user=user,
        actor=actor,
    )


def _path(
    rt: Engine, definition: ProcessDefinition, flow_ids: tuple[str, ...]
) -> tuple[GatewayDecision, ...]:
    index = rt._flows.get(definition.version)
    if index is None:
        index = {
            f.id: (node.id, f.name, f.target)
            for node in definition.nodes.values()
            for f in node.outgoing
        }
        rt._flows[definition.version] = index
    return path_of(index, flow_ids)


def history(rt: Engine, instance_id: str) -> list[StepRecord]:
    row = rt.store.load_instance(instance_id)
    return _history(rt, row, rt.definition(row.version), rt.store.steps(instance_id))


def _history(
    rt: Engine, row: InstanceRow, definition: ProcessDefinition, steps: list[StepRow]
) -> list[StepRecord]:
    """The history of ``row`` from step rows already read (``status`` shares them with
    its waits: on PostgreSQL every read is a round trip)."""
    signed = gate.signatures(rt.store, row.instance_id)
    records = []
    for r in steps:
        step = definition.step(r.task)
        records.append(
            StepRecord(
                task_id=r.task,
                step_no=r.step_no,
                name=step.name if step else None,
                lane=step.lane if step else None,
                role=r.role,
                ready_at=from_ms(r.ready_at),
                completed_at=None if r.completed_at is None else from_ms(r.completed_at),
                actor=r.actor,
                claimed_by=r.claimed_by,
                data=r.data,
                path=_path(rt, definition, r.path),
                waktu=r.standard,
                due_at=None if r.due_at is None else from_ms(r.due_at),
                token=r.token,
                pass_no=r.pass_no,
                item=r.item,
                outcome=r.outcome,
                reason=r.reason,
                signed_as=signed.get(r.id),
            )
        )
    return records


def status(
    rt: Engine, instance_id: str, *, at: datetime | None, actor: Actor | None = None
) -> InstanceView:
    row = rt.store.load_instance(instance_id)
    definition = rt.definition(row.version)
    now = rt._now(at)
    gate.check_visible(rt.authority, rt.store, row=row, definition=definition, actor=actor, now=now)
    gate.check_chain(rt.store, instance_id)
    state = load_state(row.state, instance_id, definition)
    steps = rt.store.steps(instance_id)  # read once, for the history and the waits
    open_steps = (
        tuple(work_item(rt, r, now) for r in rt.store.open_steps(instance_id=instance_id))
        if row.status == RUNNING
        else ()
    )
    return InstanceView(
        instance_id=row.instance_id,
        process_id=row.process_id,
        version=row.version,
        status=row.status,
        started_at=from_ms(row.started_at),
        started_by=row.started_by,
        last_action_at=from_ms(row.last_action_at),
        ended_at=None if row.ended_at is None else from_ms(row.ended_at),
        cancel_reason=row.cancel_reason,
        data=state.data,
        open_steps=open_steps,
        history=tuple(_history(rt, row, definition, steps)),
        **_jobs_view(rt, row, definition, steps),
        parent=row.parent,
        children=tuple(c.instance_id for c in rt.store.children(instance_id)),
    )


def _jobs_view(
    rt: Engine, row: InstanceRow, definition: ProcessDefinition, steps: list[StepRow]
) -> dict[str, Any]:
    """The waits and incidents of ``status`` (sopflow.jobs)."""
    from sopflow.jobs.waits import waits_of

    kinds = {n.id: n.kind.value for n in definition.nodes.values()}
    waits = waits_of(row, steps, rt.store.audit(row.instance_id), kinds)
    incidents = getattr(rt.store, "incidents", None)
    found = incidents(instance_id=row.instance_id, open_only=False) if incidents else []
    return {"waits": waits, "incidents": tuple(found)}
