"""From one machine run to what the store writes: one place for every action.

Every action that moves tokens — start, complete, a job firing, a message or signal
delivered, a child instance finishing — runs the token machine and then has the same
things to write: the steps it opened and closed, the audit trail, the jobs it made or
withdrew, the child instances it started (call activities), the children it ended and
the parent it continued. Writing them in one function keeps every entry point complete:
an action added later cannot forget the jobs of a call activity's child, or the parent
of an instance an event finished.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.jobs.effects import job_change, job_context, live_jobs, wait_audit
from sopflow.jobs.model import DoneJob, JobRow, NewJob
from sopflow.runtime import records
from sopflow.runtime.machine import Effects, Machine
from sopflow.runtime.state import State, dump_state
from sopflow.runtime.views import to_ms
from sopflow.stores.base import (
    CANCELLED,
    COMPLETED,
    RUNNING,
    AuditRow,
    Change,
    InstanceRow,
    NewChild,
    NewInstance,
    NewStep,
    StepRow,
    StepUpdate,
)

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = ["Advanced", "Started", "advance", "machine_for", "started"]


def machine_for(
    rt: Engine,
    definition: ProcessDefinition,
    state: State,
    instance_id: str,
    now: datetime,
    job: JobRow | None = None,
    *,
    row: InstanceRow | None = None,
) -> Machine:
    """A machine for one action at ``now`` (the job it runs for, if any). ``row`` is
    the instance when it is running already: a called one passes errors its scopes do
    not catch to its caller when the caller catches them."""
    outer = None
    if row is not None and row.parent is not None:
        from sopflow.runtime import calls

        parent = row

        def outer(kind: str, code: str) -> bool:
            return calls.parent_catches(rt, parent, kind, code)

    return Machine(
        definition,
        state,
        instance_id=instance_id,
        scripts=rt.script_handlers,
        jobs=job_context(rt, definition, now, job),
        outer=outer,
    )


@dataclass(frozen=True, slots=True)
class Started:
    """A new instance, ready for ``Store.insert_instance`` (or as a ``NewChild``)."""

    instance: NewInstance
    steps: list[NewStep]
    audit: list[AuditRow]
    jobs: list[NewJob]
    children: list[NewChild]
    #: changes of instances already waiting that its start's throws reach (top level only)
    also: list[Change] = field(default_factory=list)

    def as_child(self) -> list[NewChild]:
        """This instance and its own children, in insertion order (parents first)."""
        return [NewChild(self.instance, self.steps, self.audit, self.jobs), *self.children]


def started(
    rt: Engine,
    definition: ProcessDefinition,
    state: State,
    machine: Machine,
    now: datetime,
    actor: str,
    *,
    head: Sequence[AuditRow],
    parent: str | None = None,
    parent_token: int | None = None,
    unit: str | None = None,
    depth: int = 0,
    origin: str | None = None,
    top_level: bool = False,
) -> Started:
    """What a machine that started a new instance wrote, with its call children.

    ``unit`` is the instance's unit (its children belong to it too); ``depth`` and
    ``origin`` bound call activities nested in one action (calls.MAX_CALL_DEPTH).
    ``top_level`` says the instance is inserted by its own action (a start, a start
    timer), so what its throws do to waiting instances can go with the insert.
    """
    from sopflow.runtime import calls

    instance_id = machine.instance_id
    effects = machine.effects
    rt.store.ensure_definition(
        definition.version, definition.process_id, definition.source, definition.xml
    )
    children = calls.start_children(
        rt, definition, instance_id, machine, now, actor, unit, depth=depth, origin=origin
    )
    also: list[Change] = []
    if effects.thrown:
        caught, begun = _thrown_at_start(rt, definition, instance_id, effects, now, top_level)
        children += begun
        also += caught
    steps = records.new_steps(rt, definition, state, effects, now, instance_id)
    # the wait that ended (a timer fired) reads before what it led to
    audit = [*head, *wait_audit(definition, instance_id, effects, now)]
    audit += records.effect_events(definition, instance_id, effects, steps, [], now, None, actor)
    finished = effects.finished
    instance = NewInstance(
        instance_id=instance_id,
        process_id=definition.process_id,
        version=definition.version,
        status=COMPLETED if finished else RUNNING,
        state=dump_state(state),
        started_at=to_ms(now),
        started_by=actor,
        last_action_at=to_ms(now),
        ended_at=to_ms(now) if finished else None,
        parent=parent,
        parent_token=parent_token,
    )
    return Started(instance, steps, audit, live_jobs(effects, state), children, also)


def _thrown_at_start(
    rt: Engine,
    definition: ProcessDefinition,
    instance_id: str,
    effects: Effects,
    now: datetime,
    top_level: bool,
) -> tuple[list[Change], list[NewChild]]:
    """Messages and signals thrown in the action that creates the instance: the instances
    they start and the waiting instances they reach are written with it, in its
    transaction; a message nobody waits for is refused as from any action.

    An instance created inside another action (a call activity's child, an instance a
    message started) is a child row of that action's change, whose own ``also`` these
    changes would have to join: not done, so such a throw reaching a waiting instance
    is refused, never dropped."""
    from sopflow.errors import RuntimeFault
    from sopflow.events.delivery import thrown_changes

    caught, begun = thrown_changes(rt, instance_id, effects.thrown, now)
    if caught and not top_level:
        raise RuntimeFault(
            f"process {definition.process_id}: a message or signal thrown while the instance "
            f"starts inside another action reaches {len(caught)} waiting instance(s); put a "
            "step, or camunda:asyncBefore on the throw event, before it (nothing was written)"
        )
    return caught, begun


@dataclass(frozen=True, slots=True)
class Advanced:
    """An action on a running instance: its change, the steps it opened and closed."""

    change: Change
    steps: list[NewStep]
    closed: list[tuple[StepRow, StepUpdate]]


def advance(
    rt: Engine,
    row: InstanceRow,
    definition: ProcessDefinition,
    state: State,
    machine: Machine,
    now: datetime,
    actor: str,
    *,
    head: Sequence[AuditRow] = (),
    step: Step | None = None,
    completed: StepUpdate | None = None,
    done_jobs: Sequence[DoneJob] = (),
    open_rows: list[StepRow] | None = None,
) -> Advanced:
    """The change of ``machine``'s run on the running instance ``row``, with its family.

    ``completed`` is the step the action completed; its path is filled in here, once the
    call activities the machine reached have run too.
    """
    from sopflow.runtime import calls

    instance_id = row.instance_id
    effects: Effects = machine.effects
    children = calls.start_children(rt, definition, instance_id, machine, now, actor)
    if open_rows is None:
        # only steps the run closed need their rows (one query less for most jobs)
        open_rows = rt.store.open_steps(instance_id=instance_id) if effects.closed else []
    steps = records.new_steps(rt, definition, state, effects, now, instance_id)
    closed = records.closings(effects, open_rows, now)
    # the wait that ended (a timer fired) reads before what it led to
    audit = [*head, *wait_audit(definition, instance_id, effects, now)]
    audit += records.effect_events(
        definition, instance_id, effects, steps, closed, now, step, actor
    )
    also = calls.ended_children(rt, instance_id, effects, now, actor)
    if effects.finished:
        also += calls.continue_parent(rt, row, state.data, now, actor, effects.escalated)
    status, reason = COMPLETED if effects.finished else RUNNING, None
    if effects.raised is not None:
        kind, code, *_ = effects.raised
        status, reason = CANCELLED, f"{kind} {code!r} passed to the calling instance"
        also += calls.raised_to_parent(rt, row, effects.raised, now, actor)
        audit.append(
            records.event(
                "instance.cancelled",
                now,
                **records.context(definition, instance_id),
                actor=actor,
                reason=reason,
            )
        )
    if effects.escalated and not effects.finished:
        changes, ended = calls.escalated_to_parent(rt, row, effects.escalated, now, actor)
        also += changes
        if ended and status == RUNNING:
            status, reason = CANCELLED, "an escalation ended the calling activity"
    if effects.thrown:
        from sopflow.events.delivery import thrown_changes

        caught, begun = thrown_changes(rt, instance_id, effects.thrown, now)
        also += caught
        children += begun
    finished = status != RUNNING
    updates = [update for _, update in closed]
    if completed is not None:
        updates.insert(0, replace(completed, path=tuple(d.flow for d in effects.path)))
    change = Change(
        instance_id=instance_id,
        expected_revision=row.revision,
        status=status,
        state=dump_state(state),
        last_action_at=max(row.last_action_at, to_ms(now)),
        ended_at=to_ms(now) if finished else None,
        cancel_reason=reason,
        step_updates=updates,
        new_steps=steps,
        audit=audit,
        done_jobs=list(done_jobs),
        children=children,
        also=also,
        **job_change(effects, state),
    )
    return Advanced(change, steps, closed)
