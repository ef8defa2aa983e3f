"""What an action on a step checks before anything is written: which step and open row
it names (a joint step's number, a multi-instance item), that the instance is running,
the time, the actor's role and claim, and the token waiting there.

Each check raises a typed error naming the instance and task; :mod:`sopflow.runtime.actions`
calls them in order and writes only when all pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.authority import gate
from sopflow.authority.base import Credentials, Holding
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import (
    ClockError,
    CorruptInstanceError,
    InstanceClosedError,
    TaskAlreadyCompletedError,
    TaskNotFoundError,
)
from sopflow.runtime.clock import shown_in
from sopflow.runtime.state import State, Token, load_state
from sopflow.runtime.views import Actor, from_ms, to_ms
from sopflow.stores.base import (
    COMPLETED,
    RUNNING,
    InstanceRow,
    NewStep,
    StepRow,
)

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine


__all__ = ["resolve"]


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
