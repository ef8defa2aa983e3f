"""The actions on instances: start, claim, release, complete, cancel.

Every action is: read the instance, check everything, let the token machine compute the
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
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sopflow.authority import gate
from sopflow.authority.base import Credentials, Holding
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import (
    ClaimedError,
    ClockError,
    ConflictError,
    CorruptInstanceError,
    InstanceClosedError,
    TaskAlreadyCompletedError,
    TaskDataError,
    TaskNotFoundError,
)
from sopflow.runtime import calls
from sopflow.runtime.advance import advance, machine_for, started
from sopflow.runtime.assignment import initiator_data
from sopflow.runtime.clock import shown_in
from sopflow.runtime.data import check_data
from sopflow.runtime.forms import check_fields, check_form
from sopflow.runtime.records import (
    all_audit,
    context,
    event,
    step_fields,
)
from sopflow.runtime.state import State, Token, load_state
from sopflow.runtime.views import Actor, Progress, from_ms, to_ms
from sopflow.stores.base import (
    CANCELLED,
    COMPLETED,
    RUNNING,
    Change,
    InstanceRow,
    NewStep,
    StepRow,
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


# ---------------------------------------------------------------------------------- checks
def resolve(
    definition: ProcessDefinition,
    instance_id: str,
    task: str | int,
    *,
    open_rows: Sequence[StepRow] = (),
    roles: Callable[[], frozenset[str]] | None = None,
) -> Step:
    """The step ``task`` names: a task id, or a step number.

    The tasks of a joint step (a row with several Pelaksana, compiled to a parallel
    split with one task per lane) share the row's number, so a number alone may name
    several: then the one whose role the actor holds (``roles``, asked only here) and
    that is open (``open_rows``) is meant. When that still leaves none or several, the
    number is refused with the task ids to choose from.
    """
    step: Step | None = None
    if isinstance(task, int) or (isinstance(task, str) and task.strip().isdigit()):
        no = int(task)
        step = definition.step_by_no(no)
        joint = [s for s in definition.steps if s.no == no]
        if step is None and len(joint) > 1:
            return _joint_task(definition, instance_id, no, joint, open_rows, roles)
    if step is None and isinstance(task, str):
        step = definition.step(task.strip())
    if step is None:
        known = ", ".join(f"{s.no}={s.id}" for s in definition.steps)
        raise TaskNotFoundError(
            f"no step {task!r} in process {definition.process_id} (steps: {known})",
            instance_id=instance_id,
            task_id=str(task),
        )
    return step


def _joint_task(
    definition: ProcessDefinition,
    instance_id: str,
    no: int,
    joint: list[Step],
    open_rows: Sequence[StepRow],
    roles: Callable[[], frozenset[str]] | None,
) -> Step:
    held = roles() if roles is not None else frozenset()
    open_ids = {r.task for r in open_rows}
    mine = [s for s in joint if s.role in held]
    mine_open = [s for s in mine if s.id in open_ids]
    if len(mine_open) == 1:
        return mine_open[0]
    if not mine_open and len(mine) == 1:
        return mine[0]  # done or not reached yet: the open-row check says which
    if not mine:
        why = "the actor holds none of their roles"
    elif mine_open:
        why = "the actor holds the role of several open ones"
    else:
        why = "the actor holds the role of several, none open"
    tasks = ", ".join(
        f"{s.id} ({s.role}, {'open' if s.id in open_ids else 'not open'})" for s in joint
    )
    raise TaskNotFoundError(
        f"step {no} of process {definition.process_id} is a joint step of {len(joint)} "
        f"tasks and {why}: name one by its task id ({tasks})",
        instance_id=instance_id,
        task_id=str(no),
    )


def _open_row(
    rt: Engine,
    row: InstanceRow,
    step: Step,
    open_rows: list[StepRow],
    actor: Actor,
    item: str | None = None,
) -> StepRow:
    """The open row of ``step`` to act on: of that multi-instance ``item`` when given;
    else the one ``actor`` claimed, else the oldest unclaimed one, else the oldest."""
    rows = [r for r in open_rows if r.task == step.id and (item is None or r.item == item)]
    if rows:
        mine = [r for r in rows if r.claimed_by == actor.id]
        free = [r for r in rows if r.claimed_by is None]
        return (mine or free or rows)[0]
    if item is not None and any(r.task == step.id for r in open_rows):
        items = ", ".join(sorted(str(r.item) for r in open_rows if r.task == step.id))
        raise TaskNotFoundError(
            f"step {step.no} has no open instance for item {item!r} (open: {items})",
            instance_id=row.instance_id,
            task_id=step.id,
        )
    # Only on the error path: read the whole history to say what happened.
    done = [r for r in rt.store.steps(row.instance_id) if r.task == step.id and r.completed_at]
    if done:
        last = done[-1]
        how = "completed" if last.outcome in (None, COMPLETED) else last.outcome
        zone = rt.definition(row.version).header.zona_waktu
        raise TaskAlreadyCompletedError(
            f"step {step.no} is not ready: already {how} by {last.actor or 'the engine'} at "
            f"{shown_in(from_ms(last.completed_at or 0), zone)}",
            instance_id=row.instance_id,
            task_id=step.id,
        )
    raise TaskNotFoundError(
        f"step {step.no} is not ready (not reached yet)",
        instance_id=row.instance_id,
        task_id=step.id,
    )


def _load_step_action(
    rt: Engine, instance_id: str
) -> tuple[InstanceRow, State, ProcessDefinition, list[StepRow]]:
    """An action on a step reads the instance and its open steps in one store call
    (one statement on the SQL stores: the round-trip bound of docs/stores.md)."""
    row, open_rows = rt.store.load_with_open_steps(instance_id)
    if row.status != RUNNING:
        raise InstanceClosedError(f"instance is {row.status}", instance_id=instance_id)
    definition = rt.definition(row.version)
    return row, load_state(row.state, instance_id, definition), definition, open_rows


def _check_time(
    row: InstanceRow, definition: ProcessDefinition, now: datetime, ready_at: int | None
) -> None:
    at = to_ms(now)
    zone = definition.header.zona_waktu  # times in the office's zone
    if ready_at is not None and at < ready_at:
        raise ClockError(
            f"action dated {shown_in(now, zone)} is before the step became ready "
            f"({shown_in(from_ms(ready_at), zone)})",
            instance_id=row.instance_id,
        )
    if at < row.last_action_at:
        raise ClockError(
            f"action dated {shown_in(now, zone)} is before the instance's last action "
            f"({shown_in(from_ms(row.last_action_at), zone)})",
            instance_id=row.instance_id,
        )


def _check_role(
    rt: Engine,
    row: InstanceRow,
    definition: ProcessDefinition,
    step: Step,
    actor: Actor,
    now: datetime,
    data: Mapping[str, Any],
) -> tuple[Holding, Credentials]:
    """Unit, role, assignment, separation of duties: the rules of authority/gate.py.

    ``data`` is the instance data, for assignments written as expressions. A refusal is
    stored as an audit row of the instance, not only logged.
    """
    return gate.check_action(
        rt.authority,
        rt.store,
        row=row,
        definition=definition,
        step=step,
        actor=actor,
        now=now,
        data=data,
    )


def _claimed_by_other(
    rt: Engine, row: InstanceRow, step: Step, open_row: StepRow, actor: Actor, now: datetime
) -> bool:
    """Claimed by someone else who still holds the position (a lapsed claim is free)."""
    return (
        open_row.claimed_by is not None
        and open_row.claimed_by != actor.id
        and not gate.claim_lapsed(
            rt.authority, rt.store, row=row, step=step, claimer=open_row.claimed_by, now=now
        )
    )


def _token_of(state: State, row: StepRow) -> Token:
    """The token waiting at an open step row (0.1 rows name no token: match the node)."""
    if row.token is not None:
        found = state.token(row.token)
    else:
        found = next((t for t in state.tokens if t.node == row.task and t.flow is None), None)
    if found is None:
        raise CorruptInstanceError(row.instance_id, f"open step {row.task} has no token")
    return found


def _ready(open_rows: list[StepRow], gone: set[int], new_steps: list[NewStep]) -> tuple[str, ...]:
    return tuple(r.task for r in open_rows if r.id not in gone) + tuple(s.task for s in new_steps)


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
    definition = rt.catalog.get(process_id)
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
    new = started(rt, definition, state, machine, now, actor.id, head=head, unit=unit)
    rt.store.insert_instance(new.instance, new.steps, new.audit, new.children, jobs=new.jobs)
    rt._emit([*new.audit, *(a for c in new.children for a in c.audit)])
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
