"""The actions on instances: start, claim, release, complete, cancel.

Every action is: read the instance, check everything (the checks are in
:mod:`sopflow.runtime.action_checks`), let the token machine compute the
whole change, write it in one transaction guarded by the instance revision. A refused
action raises a typed error before anything is written.

When another writer moved the instance on between the read and the write (two officers
completing two parallel steps of one instance at the same moment), the store raises
ConflictError and the action starts again from a fresh read, a bounded number of times:
if the step is still open the second completion lands on top of the first; if it is not
(the same step, done by the other writer), the fresh read says so with
TaskAlreadyCompletedError.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sopflow.authority import gate
from sopflow.errors import (
    ClaimedError,
    ConflictError,
    InstanceClosedError,
    TaskAlreadyCompletedError,
    TaskDataError,
)
from sopflow.runtime import calls
from sopflow.runtime.action_checks import (
    _check_role,
    _check_time,
    _claimed_by_other,
    _load_step_action,
    _open_row,
    _ready,
    _token_of,
    resolve,
)
from sopflow.runtime.advance import advance, machine_for, started
from sopflow.runtime.assignment import initiator_data
from sopflow.runtime.data import check_data
from sopflow.runtime.forms import check_fields, check_form
from sopflow.runtime.records import (
    all_audit,
    context,
    event,
    step_fields,
)
from sopflow.runtime.state import State, load_state
from sopflow.runtime.views import Actor, Progress, to_ms
from sopflow.stores.base import (
    CANCELLED,
    COMPLETED,
    RUNNING,
    Change,
    StepUpdate,
)

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = ["MAX_ATTEMPTS", "cancel", "claim", "complete", "start"]

#: How often an action is tried when other writers keep moving the instance on.
MAX_ATTEMPTS = 8

T = TypeVar("T")


def _retrying(action: Callable[[], T]) -> T:
    for attempt in range(MAX_ATTEMPTS):
        try:
            return action()
        except TaskAlreadyCompletedError:
            raise
        except ConflictError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------- actions
def start(
    rt: Engine,
    process_id: str,
    *,
    actor: Actor,
    data: Mapping[str, Any] | None,
    at: datetime | None,
    unit: str | None = None,
) -> Progress:
    # A start conflicts only when what it throws reaches an instance another writer
    # moved on meanwhile; tried again, it reads that instance as it is now.
    return _retrying(lambda: _start_once(rt, process_id, actor, data, at, unit))


def _start_once(
    rt: Engine,
    process_id: str,
    actor: Actor,
    data: Mapping[str, Any] | None,
    at: datetime | None,
    unit: str | None,
) -> Progress:
    definition = rt.catalog.get(process_id)
    definition.refuse_unless_executable()
    now = rt._now(at)
    unit = gate.start_unit(rt.authority, definition, unit, actor, now)
    instance_id = str(uuid.uuid4())
    values = check_data(data, instance_id, None)
    values = check_fields(definition.start_form, values, instance_id=None, task_id=None)
    state = State([], {**initiator_data(definition, actor.id), **values})
    machine = machine_for(rt, definition, state, instance_id, now)
    machine.start()
    ctx = context(definition, instance_id)
    head = [event("instance.started", now, **ctx, actor=actor.id, unit=unit)]
    new = started(
        rt, definition, state, machine, now, actor.id, head=head, unit=unit, top_level=True
    )
    rt.store.insert_instance(
        new.instance, new.steps, new.audit, new.children, jobs=new.jobs, also=new.also
    )
    audit = [*new.audit, *(a for c in new.children for a in c.audit)]
    rt._emit([*audit, *(a for other in new.also for a in all_audit(other))])
    ready = _ready([], set(), new.steps)
    return Progress(instance_id, new.instance.status, ready, tuple(machine.effects.path))


def complete(
    rt: Engine,
    instance_id: str,
    task: str | int,
    *,
    actor: Actor,
    data: Mapping[str, Any] | None,
    at: datetime | None,
    item: str | None = None,
) -> Progress:
    return _retrying(lambda: _complete_once(rt, instance_id, task, actor, data, at, item))


def _complete_once(
    rt: Engine,
    instance_id: str,
    task: str | int,
    actor: Actor,
    data: Mapping[str, Any] | None,
    at: datetime | None,
    item: str | None,
) -> Progress:
    row, state, definition, open_rows = _load_step_action(rt, instance_id)
    step = resolve(
        definition,
        instance_id,
        task,
        open_rows=open_rows,
        roles=lambda: rt.authority.credentials(actor, unit=None, at=rt._now(at)).roles,
    )
    open_row = _open_row(rt, row, step, open_rows, actor, item)
    now = rt._now(at)
    holding, credentials = _check_role(rt, row, definition, step, actor, now, state.data)
    if _claimed_by_other(rt, row, step, open_row, actor, now):
        raise ClaimedError(
            f"claimed by {open_row.claimed_by!r}; they must release it first",
            instance_id=instance_id,
            task_id=step.id,
        )
    _check_time(row, definition, now, open_row.ready_at)
    submitted = check_data(data, instance_id, step.id)
    submitted = check_form(step, submitted, instance_id=instance_id)
    if step.decision_field is not None:
        value = submitted.get(step.decision_field)
        if not isinstance(value, bool):
            got = "missing" if step.decision_field not in submitted else f"got {value!r}"
            raise TaskDataError(
                f"step {step.no} is a decision: field {step.decision_field!r} must be true (Ya) "
                f"or false (Tidak); {got}",
                instance_id=instance_id,
                task_id=step.id,
            )
    token = _token_of(state, open_row)
    if step.form_variable is not None:  # SpiffArena: the form kept whole, not merged
        state.data[step.form_variable] = submitted
    else:
        state.data.update(submitted)
    machine = machine_for(rt, definition, state, instance_id, now, row=row)
    effects = machine.complete(token)
    head = [
        event(
            "task.completed",
            now,
            **context(definition, instance_id),
            **step_fields(step),
            actor=actor.id,
            data=submitted,
            holding=gate.holding_payload(holding, credentials),
        )
    ]
    done = StepUpdate(step_id=open_row.id, completed_at=to_ms(now), actor=actor.id, data=submitted)
    out = advance(
        rt,
        row,
        definition,
        state,
        machine,
        now,
        actor.id,
        head=head,
        step=step,
        completed=done,
        open_rows=open_rows,
    )
    rt.store.apply(out.change)
    rt._emit(all_audit(out.change))
    gone = {open_row.id, *(r.id for r, _ in out.closed)}
    status = COMPLETED if effects.finished else RUNNING
    ready = () if effects.finished else _ready(open_rows, gone, out.steps)
    return Progress(instance_id, status, ready, tuple(effects.path))


def claim(
    rt: Engine,
    instance_id: str,
    task: str | int,
    actor: Actor,
    at: datetime | None,
    *,
    take: bool,
    item: str | None = None,
) -> Progress:
    return _retrying(lambda: _claim_once(rt, instance_id, task, actor, at, take, item))


def _claim_once(
    rt: Engine,
    instance_id: str,
    task: str | int,
    actor: Actor,
    at: datetime | None,
    take: bool,
    item: str | None,
) -> Progress:
    row, state, definition, open_rows = _load_step_action(rt, instance_id)
    step = resolve(
        definition,
        instance_id,
        task,
        open_rows=open_rows,
        roles=lambda: rt.authority.credentials(actor, unit=None, at=rt._now(at)).roles,
    )
    open_row = _open_row(rt, row, step, open_rows, actor, item)
    now = rt._now(at)
    _check_role(rt, row, definition, step, actor, now, state.data)
    if take and _claimed_by_other(rt, row, step, open_row, actor, now):
        raise ClaimedError(
            f"already claimed by {open_row.claimed_by!r}",
            instance_id=instance_id,
            task_id=step.id,
        )
    if not take and open_row.claimed_by != actor.id:
        holder = open_row.claimed_by
        raise ClaimedError(
            "not claimed" if holder is None else f"claimed by {holder!r}, not by {actor.id!r}",
            instance_id=instance_id,
            task_id=step.id,
        )
    _check_time(row, definition, now, open_row.ready_at)
    name = "task.claimed" if take else "task.released"
    ctx = context(definition, instance_id)
    audit = [event(name, now, **ctx, **step_fields(step), actor=actor.id)]
    rt.store.apply(
        Change(
            instance_id=instance_id,
            expected_revision=row.revision,
            status=RUNNING,
            state=row.state,
            last_action_at=to_ms(now),
            step_updates=[
                StepUpdate(
                    step_id=open_row.id, claimed_by=actor.id if take else None, set_claim=True
                )
            ],
            audit=audit,
        )
    )
    rt._emit(audit)
    return Progress(instance_id, RUNNING, _ready(open_rows, set(), []))


def cancel(
    rt: Engine, instance_id: str, *, reason: str, actor: Actor, at: datetime | None
) -> Progress:
    if not reason or not reason.strip():
        raise TaskDataError("a cancellation needs a reason", instance_id=instance_id)
    return _retrying(lambda: _cancel_once(rt, instance_id, reason.strip(), actor, at))


def _cancel_once(
    rt: Engine, instance_id: str, reason: str, actor: Actor, at: datetime | None
) -> Progress:
    # the instance and its children in one read (one round trip on PostgreSQL)
    row, children = rt.store.load_with_children(instance_id)
    if row.status != RUNNING:
        raise InstanceClosedError(f"instance is {row.status}", instance_id=instance_id)
    if row.parent is not None:
        calls.refuse_child_cancel(rt, row)
    definition = rt.definition(row.version)
    state = load_state(row.state, instance_id, definition)
    now = rt._now(at)
    _check_time(row, definition, now, None)
    gate.check_cancel(rt.authority, rt.store, row=row, definition=definition, actor=actor, now=now)
    waiting = next((t.node for t in state.tokens if definition.step(t.node)), None)
    audit = [
        event(
            "instance.cancelled",
            now,
            **context(definition, instance_id),
            task_id=waiting,
            actor=actor.id,
            reason=reason,
        )
    ]
    change = Change(
        instance_id=instance_id,
        expected_revision=row.revision,
        status=CANCELLED,
        state=row.state,
        last_action_at=to_ms(now),
        ended_at=to_ms(now),
        cancel_reason=reason,
        audit=audit,
        also=[
            change
            for child in children
            if child.status == RUNNING
            for change in calls.cancel_family(rt, child, reason, now, actor.id)
        ],
    )
    rt.store.apply(change)
    rt._emit(all_audit(change))
    return Progress(instance_id, CANCELLED, ())
