"""Call activities: child instances started, continued and cancelled with their parent.

A child instance is a full instance of another catalog process — its own steps, SLA
and status — linked to its parent by ``parent`` / ``parent_token``. Everything that
crosses the link happens inside the one transaction of the action that caused it:

- a call activity reached by a parent's action starts the child (and any grandchild the
  child reaches at once) in the parent's transaction;
- a child's last step completes the call activity's token in the parent, in the child's
  transaction, and so on up the family;
- cancelling an instance cancels its running children and theirs, in one transaction;
- a running child is not cancelled on its own (:func:`refuse_child_cancel`): its
  parent's call activity waits for it, and BPMN 2.0 (13.3.5) gives a called process no
  way to end its caller other than completing or throwing. Zeebe refuses the same
  ("cancel the root process instance instead"); so does sopflow, naming the root.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import Call, ProcessDefinition
from sopflow.errors import ChildInstanceError, RuntimeFault
from sopflow.runtime import records
from sopflow.runtime.data import check_data
from sopflow.runtime.machine import Effects, Machine
from sopflow.runtime.state import State, Token, load_state
from sopflow.runtime.views import from_ms, to_ms
from sopflow.stores.base import (
    CANCELLED,
    COMPLETED,
    RUNNING,
    AuditRow,
    Change,
    InstanceRow,
    NewChild,
)

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = [
    "MAX_CALL_DEPTH",
    "cancel_family",
    "continue_parent",
    "map_in",
    "map_out",
    "refuse_child_cancel",
    "start_children",
]

#: child instances one action may start inside each other. A process that calls itself
#: before any step waits (SpiffWorkflow's call_activity_level_3 test file does) would
#: otherwise nest without end; a real SOP chain is a few levels deep.
MAX_CALL_DEPTH = 32


def map_in(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    """What the child starts with: camunda:in mappings, or everything with all."""
    data = dict(variables) if call.all_in else {}
    for source, target in call.inputs:
        if source in variables:
            data[target] = variables[source]
    return data


def map_out(call: Call, child: dict[str, Any]) -> dict[str, Any]:
    """What the parent gets back: camunda:out mappings, or everything with all."""
    data = dict(child) if call.all_out else {}
    for source, target in call.outputs:
        if source in child:
            data[target] = child[source]
    return data


def start_children(
    rt: Engine,
    definition: ProcessDefinition,
    instance_id: str,
    machine: Machine,
    now: datetime,
    actor: str,
    unit: str | None = None,
    *,
    depth: int = 0,
    origin: str | None = None,
) -> list[NewChild]:
    """Start a child for every call the machine reached; a child that runs to its end
    at once continues the parent's token right away (which may call again).

    A child belongs to its parent's unit (``unit``; read from the store when not given),
    so the same officials see and act on both. Nesting deeper than
    :data:`MAX_CALL_DEPTH` in one action is a RuntimeFault naming the call activity.
    """
    from sopflow.runtime.advance import machine_for, started

    children: list[NewChild] = []
    effects = machine.effects
    if effects.calls and unit is None:
        unit_of = getattr(rt.store, "instance_unit", None)
        unit = unit_of(instance_id) if unit_of is not None else None
    while effects.calls:
        token = effects.calls.pop(0)
        call = definition.nodes[token.node].call
        assert call is not None
        if depth >= MAX_CALL_DEPTH:
            raise RuntimeFault(
                f"call activity calls {call.process!r} {MAX_CALL_DEPTH} levels deep in one "
                "action: a process that calls itself (or a chain that calls back) before any "
                "step waits never ends; nothing was started",
                instance_id=origin or instance_id,
                task_id=token.node,
            )
        child_definition = rt.catalog.get(call.process)
        child_definition.refuse_unless_executable("called")  # the catalog refuses it first
        child_id = str(uuid.uuid4())
        state = State([], check_data(map_in(call, machine.variables(token)), child_id, None))
        child = machine_for(rt, child_definition, state, child_id, now)
        child.outer = _catches_in(machine, token)
        child.start()
        head = [
            records.event(
                "instance.started",
                now,
                **records.context(child_definition, child_id),
                actor=actor,
                parent=instance_id,
                called_by=token.node,
                **({"unit": unit} if unit is not None else {}),
            )
        ]
        new = started(
            rt,
            child_definition,
            state,
            child,
            now,
            actor,
            head=head,
            parent=instance_id,
            parent_token=token.id,
            unit=unit,
            depth=depth + 1,
            origin=origin or instance_id,
        )
        # What the child threw up reaches its call activity in this same machine.
        _escalate_at(machine, token, child.effects.escalated)
        if child.effects.raised is not None:
            machine.throw(token, *child.effects.raised)
        ended = any(e[0] == token.id for e in effects.ended_calls)
        effects.ended_calls = [e for e in effects.ended_calls if e[0] != token.id]
        if ended:
            instance = replace(new.instance, status=CANCELLED, ended_at=to_ms(now))
            new = replace(new, instance=instance)
        children += new.as_child()
        if new.instance.status == COMPLETED:
            machine.state.data.update(map_out(call, state.data))
            machine.complete(token)
    return children


def _catches_in(machine: Machine, token: Any) -> Any:
    """A child started in its parent's action: does the parent (this machine, from the
    call activity's token, or its own callers) catch what the child throws up?"""
    from sopflow.runtime.triggers import find_catcher

    def catches(kind: str, code: str) -> bool:
        if find_catcher(machine, token, kind, code) is not None:
            return True
        return machine.outer is not None and machine.outer(kind, code)

    return catches


def continue_parent(
    rt: Engine,
    row: InstanceRow,
    data: dict[str, Any],
    now: datetime,
    actor: str,
    escalations: list[tuple[str, str, dict[str, Any] | None]] | None = None,
) -> list[Change]:
    """The child ``row`` finished: complete its call activity in the parent (and up);
    the escalations it threw on the way reach the call activity first, in the same
    change (an interrupting catch ends the call activity instead)."""
    from sopflow.runtime.advance import advance, machine_for

    if row.parent is None or row.parent_token is None:
        return []
    parent = rt.store.load_instance(row.parent)
    if parent.status != RUNNING:
        return []
    definition = rt.definition(parent.version)
    state = load_state(parent.state, parent.instance_id, definition)
    token = state.token(row.parent_token)
    if token is None or definition.nodes[token.node].call is None:
        return []
    call = definition.nodes[token.node].call
    assert call is not None
    state.data.update(map_out(call, data))
    machine = machine_for(rt, definition, state, parent.instance_id, now, row=parent)
    _escalate_at(machine, token, escalations or [])
    ended = [e for e in machine.effects.ended_calls if e[0] == token.id]
    machine.effects.ended_calls = [e for e in machine.effects.ended_calls if e[0] != token.id]
    if not ended:
        machine.complete(token)
    head = [
        records.event(
            "call.completed",
            now,
            **records.context(definition, parent.instance_id),
            task_id=token.node,
            child=row.instance_id,
            actor=actor,
        )
    ]
    return [advance(rt, parent, definition, state, machine, now, actor, head=head).change]


def _call_token(rt: Engine, row: InstanceRow) -> tuple[InstanceRow, Any, Any] | None:
    """The running parent of ``row``, its state and the call activity's token."""
    if row.parent is None or row.parent_token is None:
        return None
    parent = rt.store.load_instance(row.parent)
    if parent.status != RUNNING:
        return None
    state = load_state(parent.state, parent.instance_id, rt.definition(parent.version))
    token = state.token(row.parent_token)
    if token is None:
        return None
    return parent, state, token


def refuse_child_cancel(rt: Engine, row: InstanceRow) -> None:
    """Raise ChildInstanceError when ``row`` is the child of a running parent.

    Only the refusal path reads upwards (one read per level, a few levels deep); a child
    whose parent is no longer running (stored by hand, or a parent ended by an older
    release) may still be cancelled, so nothing is left that cannot be ended.
    """
    found = _call_token(rt, row)
    if found is None:
        return
    parent, _state, token = found
    root = parent
    seen = {row.instance_id}
    while root.parent is not None and root.instance_id not in seen:
        seen.add(root.instance_id)
        above = rt.store.load_instance(root.parent)
        if above.status != RUNNING:
            break
        root = above
    raise ChildInstanceError(
        f"started by call activity {token.node} of instance {parent.instance_id}; a child "
        f"is not cancelled on its own: cancel the root instance {root.instance_id}, "
        "which cancels its children",
        instance_id=row.instance_id,
        parent_id=parent.instance_id,
        root_id=root.instance_id,
    )


def parent_catches(rt: Engine, row: InstanceRow, kind: str, code: str) -> bool:
    """Does the calling instance of ``row`` (or one above it) catch this error (13.5.6:
    the search goes on from the call activity)?"""
    from sopflow.runtime.advance import machine_for
    from sopflow.runtime.triggers import find_catcher

    found = _call_token(rt, row)
    if found is None:
        return False
    parent, state, token = found
    definition = rt.definition(parent.version)
    machine = machine_for(rt, definition, state, parent.instance_id, from_ms(0))
    if find_catcher(machine, token, kind, code) is not None:
        return True
    return parent_catches(rt, parent, kind, code)


def _escalate_at(
    machine: Machine, token: Token, escalations: list[tuple[str, str, dict[str, Any] | None]]
) -> None:
    """A child's uncaught escalations reach its call activity in order, until one of
    them ends the call (an interrupting boundary event caught it)."""
    for code, message, carried in escalations:
        if not any(e[0] == token.id for e in machine.effects.ended_calls):
            machine.throw(token, "escalation", code, message, carried)


def raised_to_parent(
    rt: Engine,
    row: InstanceRow,
    raised: tuple[str, str, str, dict[str, Any] | None],
    now: datetime,
    actor: str,
) -> list[Change]:
    """The child ``row`` passed an error up: throw it at its call activity, in the
    child's transaction (the child is cancelled by its own change)."""
    from sopflow.runtime.advance import advance, machine_for

    found = _call_token(rt, row)
    if found is None:  # pragma: no cover - parent_catches said there was one
        return []
    parent, state, token = found
    definition = rt.definition(parent.version)
    machine = machine_for(rt, definition, state, parent.instance_id, now, row=parent)
    kind, code, message, carried = raised
    machine.throw(token, kind, code, message, carried)
    # The call activity's child is this one, cancelled by its own change already.
    machine.effects.ended_calls = [e for e in machine.effects.ended_calls if e[0] != token.id]
    head = [
        records.event(
            f"call.{kind}",
            now,
            **records.context(definition, parent.instance_id),
            task_id=token.node,
            child=row.instance_id,
            code=code,
            actor=actor,
        )
    ]
    return [advance(rt, parent, definition, state, machine, now, actor, head=head).change]


def escalated_to_parent(
    rt: Engine,
    row: InstanceRow,
    escalations: list[tuple[str, str, dict[str, Any] | None]],
    now: datetime,
    actor: str,
) -> tuple[list[Change], bool]:
    """The child ``row`` threw escalations its scopes do not catch: throw them at its
    call activity, in one change of the parent. True when that ends the call activity
    (an interrupting catch): the child is then cancelled by its own change."""
    from sopflow.runtime.advance import advance, machine_for

    found = _call_token(rt, row)
    if found is None:  # pragma: no cover - parent_catches said there was one
        return [], False
    parent, state, token = found
    definition = rt.definition(parent.version)
    machine = machine_for(rt, definition, state, parent.instance_id, now, row=parent)
    _escalate_at(machine, token, escalations)
    before = len(machine.effects.ended_calls)
    machine.effects.ended_calls = [e for e in machine.effects.ended_calls if e[0] != token.id]
    head = [
        records.event(
            "call.escalation",
            now,
            **records.context(definition, parent.instance_id),
            task_id=token.node,
            child=row.instance_id,
            code=code,
            actor=actor,
        )
        for code, _message, _carried in escalations
    ]
    change = advance(rt, parent, definition, state, machine, now, actor, head=head).change
    return [change], len(machine.effects.ended_calls) != before


def ended_children(
    rt: Engine, instance_id: str, effects: Effects, now: datetime, actor: str
) -> list[Change]:
    """Children whose call activity a terminate end or a completion condition ended."""
    if not effects.ended_calls:
        return []
    by_token = {c.parent_token: c for c in rt.store.children(instance_id) if c.status == RUNNING}
    changes: list[Change] = []
    for token_id, _outcome, reason in effects.ended_calls:
        child = by_token.get(token_id)
        if child is not None:
            changes += cancel_family(rt, child, reason, now, actor)
    return changes


def cancel_family(
    rt: Engine, row: InstanceRow, reason: str, now: datetime, actor: str
) -> list[Change]:
    """Cancel a running instance and, depth first, every running child of it."""
    definition = rt.definition(row.version)
    audit: list[AuditRow] = [
        records.event(
            "instance.cancelled",
            now,
            **records.context(definition, row.instance_id),
            actor=actor,
            reason=reason,
        )
    ]
    below: list[Change] = []
    for child in rt.store.children(row.instance_id):
        if child.status == RUNNING:
            below += cancel_family(rt, child, reason, now, actor)
    return [
        Change(
            instance_id=row.instance_id,
            expected_revision=row.revision,
            status=CANCELLED,
            state=row.state,
            last_action_at=max(row.last_action_at, to_ms(now)),
            ended_at=to_ms(now),
            cancel_reason=reason,
            audit=audit,
        ),
        *below,
    ]
