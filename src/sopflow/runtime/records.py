"""What an action writes down: the machine's effects as step rows and audit events.

The token machine reports what happened (steps opened, steps closed with an outcome,
gateway decisions, the end of the instance); this module turns that into the store's
rows — one NewStep per step that became ready, one StepUpdate per step a terminate end or
a completion condition closed — and the audit events that describe them, each carrying
the same keys so a log pipeline can index them blindly.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import DefinitionError
from sopflow.runtime.machine import Effects
from sopflow.runtime.state import State, Token
from sopflow.runtime.views import GatewayDecision, to_ms
from sopflow.stores.base import AuditRow, Change, NewStep, StepRow, StepUpdate

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = [
    "all_audit",
    "closings",
    "context",
    "effect_events",
    "event",
    "new_steps",
    "path_of",
    "step_fields",
]


def step_fields(step: Step) -> dict[str, Any]:
    """The step keys every audit event about a step carries."""
    return {"task_id": step.id, "step_no": step.no, "role": step.role}


def event(event: str, at: datetime, **fields: Any) -> AuditRow:
    # Every event carries the same keys, so a log pipeline can index them blindly.
    payload = {"task_id": None, "step_no": None, "role": None, "actor": None, **fields}
    payload["timestamp"] = at.isoformat()
    return AuditRow(at=to_ms(at), event=event, payload=payload)


def context(definition: ProcessDefinition, instance_id: str) -> dict[str, Any]:
    return {
        "instance_id": instance_id,
        "process_id": definition.process_id,
        "version": definition.version,
    }


def _visible(state: State, token: Token) -> dict[str, Any]:
    """The instance data and the local variables of every loop body around ``token``
    (Machine.variables, read from the state once the action has run)."""
    local: dict[str, Any] = {}
    current: Token | None = token
    while current is not None:
        found = state.scopes.get(current.id, {}).get("vars")
        if found:
            local = {**found, **local}
        current = None if current.scope is None else state.token(current.scope)
    return {**state.data, **local} if local else state.data


def new_steps(
    rt: Engine,
    definition: ProcessDefinition,
    state: State,
    effects: Effects,
    now: datetime,
    instance_id: str | None = None,
) -> list[NewStep]:
    steps = []
    for token, item in effects.opened:
        if state.token(token.id) is not token:
            continue  # opened and ended within the same action (its id may be reused)
        step = definition.step(token.node)
        if step is None:  # pragma: no cover - the loader makes every user/manual task a step
            raise DefinitionError("task is not a step", element=token.node)
        # a due-date expression reads what the step sees as it opens (due_dates.py)
        due, risk = rt.sla.deadlines(
            definition, step, now, _visible(state, token), instance_id=instance_id
        )
        steps.append(
            NewStep(
                task=step.id,
                step_no=step.no,
                role=step.role,
                ready_at=to_ms(now),
                due_at=None if due is None else to_ms(due),
                risk_at=None if risk is None else to_ms(risk),
                standard=step.waktu,
                token=token.id,
                item=item,
            )
        )
    return steps


def closings(
    effects: Effects, open_rows: list[StepRow], now: datetime
) -> list[tuple[StepRow, StepUpdate]]:
    out = []
    for closed in effects.closed:
        row = next(
            (
                r
                for r in open_rows
                if r.token == closed.token or (r.token is None and r.task == closed.node)
            ),
            None,
        )
        if row is not None:
            out.append(
                (
                    row,
                    StepUpdate(
                        step_id=row.id,
                        completed_at=to_ms(now),
                        outcome=closed.outcome,
                        reason=closed.reason,
                    ),
                )
            )
    return out


def effect_events(
    definition: ProcessDefinition,
    instance_id: str,
    effects: Effects,
    new_steps: list[NewStep],
    closings: list[tuple[StepRow, StepUpdate]],
    now: datetime,
    step: Step | None,
    actor: str,
) -> list[AuditRow]:
    ctx = context(definition, instance_id)
    audit = [
        event(
            "gateway.decided",
            now,
            **ctx,
            gateway=d.gateway,
            flow=d.flow,
            label=d.label,
            target=d.target,
            **(step_fields(step) if step else {}),
            actor=actor,
        )
        for d in effects.path
    ]
    for row, update in closings:
        audit.append(
            event(
                f"task.{update.outcome}",
                now,
                **ctx,
                task_id=row.task,
                step_no=row.step_no,
                role=row.role,
                reason=update.reason,
            )
        )
    for new in new_steps:
        audit.append(
            event("task.ready", now, **ctx, task_id=new.task, step_no=new.step_no, role=new.role)
        )
    if effects.finished:
        audit.append(event("instance.completed", now, **ctx, actor=actor))
    return audit


def all_audit(change: Change) -> list[AuditRow]:
    """The audit rows of a change and of everything written with it, to log."""
    rows = list(change.audit)
    for child in change.children:
        rows += child.audit
    for other in change.also:
        rows += all_audit(other)
    return rows


def path_of(
    index: dict[str, tuple[str, str | None, str]], flows: tuple[str, ...]
) -> tuple[GatewayDecision, ...]:
    out = []
    for fid in flows:
        gateway, label, target = index.get(fid, ("?", None, "?"))
        out.append(GatewayDecision(gateway, fid, label, target))
    return tuple(out)
