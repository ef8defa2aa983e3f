"""Delivering messages and signals: find the catchers, fire each one, start instances.

A waiting catch is a subscription row (a job that is never due by itself, see
:mod:`sopflow.stores._events`); delivering to it is firing that job with the message's
data, through the same code that fires a timer (:func:`sopflow.jobs.dispatch.
run_instance_job`): one transaction consumes the row and moves the instance on. A start
event that catches the message or signal starts a new instance at that start event.

Correlation (``correlation={"nomor_surat": "123"}``) compares the named fields of the
waiting instance's data by equality — Camunda's correlation keys, made plain. Only the
instances that wait for the message are read, never the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import CONDITIONAL, MESSAGE, Node, NodeKind, ProcessDefinition
from sopflow.errors import (
    ConflictError,
    JobNotFoundError,
    MessageAmbiguousError,
    MessageNotCorrelatedError,
)
from sopflow.events import payloads
from sopflow.jobs.model import JobRow
from sopflow.runtime import records
from sopflow.runtime.state import State, load_state
from sopflow.stores.base import RUNNING, Change, NewChild

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = [
    "conditional_starts",
    "deliver",
    "matching_waits",
    "start_events",
    "start_instance",
    "thrown_changes",
]

#: attempts at one delivery when its instance keeps moving under it
_ATTEMPTS = 8


def _subscribers(rt: Engine, key: str, instance_id: str | None) -> list[JobRow]:
    find = getattr(rt.store, "subscribers", None)
    return [] if find is None else list(find(key, instance_id=instance_id))


def matching_waits(
    rt: Engine,
    kind: str,
    name: str,
    *,
    instance_id: str | None = None,
    correlation: Mapping[str, Any] | None = None,
    exclude: str | None = None,
) -> list[JobRow]:
    """The waiting catches of ``kind``/``name`` whose instance data match ``correlation``."""
    found = []
    for job in _subscribers(rt, f"{kind}:{name}", instance_id):
        if job.instance_id is None or job.instance_id == exclude:
            continue
        if correlation:
            row = rt.store.load_instance(job.instance_id)
            if row.status != RUNNING:
                continue
            data = load_state(row.state, row.instance_id, rt.definition(row.version)).data
            if any(key not in data or data[key] != value for key, value in correlation.items()):
                continue
        found.append(job)
    return found


def start_events(rt: Engine, kind: str, name: str) -> list[tuple[ProcessDefinition, Node]]:
    """Start events of the catalog's processes (top level) that catch ``kind``/``name``."""
    found = []
    for definition in rt.catalog:
        if not definition.executable:
            continue  # a picture-only process catches nothing (BPMN 2.0, 10.2)
        for node in definition.nodes.values():
            if node.kind is not NodeKind.START or node.scope is not None:
                continue
            # a "multiple" start event starts on any one of its definitions (10.5.1): the
            # node is handed on with ``event`` the one that matched
            for event in node.definitions:
                if event.kind == kind and event.name == name:
                    found.append((definition, replace(node, event=event)))
                    break
    return found


def conditional_starts(rt: Engine, data: Mapping[str, Any]) -> list[tuple[ProcessDefinition, Node]]:
    """Conditional start events of the catalog's processes (top level) whose condition
    holds on ``data`` (BPMN 10.5.5), each process once (its first such start event).

    Every condition is evaluated before anything starts, so one that cannot be (a
    field it reads is missing, a value of the wrong type) is a TaskDataError naming
    the process and the element, and nothing is started."""
    from sopflow.errors import ExpressionError, TaskDataError
    from sopflow.runtime.expressions import compile_expression

    found = []
    for definition in rt.catalog:
        if not definition.executable:
            continue  # a picture-only process starts nothing (BPMN 2.0, 10.2)
        for node in definition.nodes.values():
            event = node.event
            if not (
                node.kind is NodeKind.START
                and node.scope is None
                and event is not None
                and event.kind == CONDITIONAL
                and event.condition is not None
            ):
                continue
            try:
                held = compile_expression(event.condition).evaluate_bool(data)
            except ExpressionError as exc:
                raise TaskDataError(
                    f"process {definition.process_id}, start event {node.id}: the condition "
                    f"cannot be evaluated on this data: {exc}"
                ) from None
            if held:
                found.append((definition, node))
                break
    return found


def deliver(rt: Engine, job: JobRow, data: dict[str, Any], now: datetime) -> bool:
    """Fire the waiting catch ``job`` with ``data``, in one transaction; False when it
    was consumed or withdrawn first (by another delivery, or its token moving on)."""
    from sopflow.jobs.dispatch import run_instance_job, with_payload

    for _ in range(_ATTEMPTS):
        try:
            current = rt.store.job(job.id)  # type: ignore[attr-defined]
        except JobNotFoundError:
            return False
        try:
            run_instance_job(rt, with_payload(current, data=data), None, now)
            return True
        except ConflictError:
            continue
    raise ConflictError(
        f"the catch of job {job.id} kept moving under the delivery", instance_id=job.instance_id
    )


def new_instance(
    rt: Engine,
    definition: ProcessDefinition,
    node: Node,
    data: dict[str, Any],
    now: datetime,
    actor: str,
    unit: str | None = None,
    arrived: tuple[int, ...] = (),
) -> list[NewChild]:
    """A new instance started at the start event ``node``, with its call children, in
    ``unit`` (else the process's default unit, as ``start`` decides it). ``arrived``: the
    definitions of a parallel multiple start event that have occurred (default: the one
    ``node.event`` is); the instance waits at it for the others (10.5.2)."""
    from sopflow.authority.gate import event_start_unit
    from sopflow.runtime.advance import machine_for, started

    unit = event_start_unit(rt.authority, definition, unit)
    instance_id = str(uuid.uuid4())
    first, conversation = payloads.start_data(node, data)
    state = State([], first, correlations=conversation)
    machine = machine_for(rt, definition, state, instance_id, now)
    if node.parallel and not arrived and node.event in node.events:
        arrived = (node.events.index(node.event),)
    machine.start(at_node=node.id, arrived=arrived)
    assert node.event is not None
    head = [
        records.event(
            "instance.started",
            now,
            **records.context(definition, instance_id),
            actor=actor,
            task_id=node.id,
            **{node.event.kind: node.event.name or node.event.condition},
            **({"unit": unit} if unit else {}),
        )
    ]
    return started(rt, definition, state, machine, now, actor, head=head, unit=unit).as_child()


def start_instance(
    rt: Engine,
    definition: ProcessDefinition,
    node: Node,
    data: dict[str, Any],
    now: datetime,
    actor: str,
    unit: str | None = None,
) -> str:
    """Start an instance at ``node`` (a message or signal start event) and write it."""
    first, *rest = new_instance(rt, definition, node, data, now, actor, unit)
    rt.store.insert_instance(first.instance, first.steps, first.audit, rest, jobs=first.jobs)
    rt._emit([*first.audit, *(a for c in rest for a in c.audit)])
    return first.instance.instance_id


def thrown_changes(
    rt: Engine, thrower: str, thrown: list[tuple[str, str, dict[str, Any]]], now: datetime
) -> tuple[list[Change], list[NewChild]]:
    """What the messages and signals an action threw do to other instances, written in
    that action's transaction: the catches they fire, the instances they start.

    A thrown message goes where ``engine.correlate`` would send it without correlation:
    to its one waiting catch (or start event); none is a MessageNotCorrelatedError of
    the throwing action. A thrown signal reaches every catch and start event.
    """
    from sopflow.jobs.dispatch import instance_jobs_change, with_payload

    changes: list[Change] = []
    children: list[NewChild] = []
    #: per instance reached, its catches to fire in throw order: one change each
    reached: dict[str, list[JobRow]] = {}
    #: per parallel multiple start event, the instances to start: their triggers, data
    gathering: dict[
        tuple[str, str], list[tuple[ProcessDefinition, Node, set[int], dict[str, Any]]]
    ] = {}
    for kind, name, data in thrown:
        waits = matching_waits(rt, kind, name, exclude=thrower)
        if kind == MESSAGE:
            waits = payloads.correlated(rt, waits, data)
        starts = start_events(rt, kind, name) if kind != MESSAGE or not waits else []
        if kind == MESSAGE:
            if not waits and not starts:
                raise MessageNotCorrelatedError(
                    f"message {name!r} thrown, but no instance or start event waits for it",
                    instance_id=thrower,
                )
            if len(waits) + len(starts) > 1:
                raise MessageAmbiguousError(
                    f"message {name!r} thrown, and {len(waits) + len(starts)} catches wait "
                    "for it; a thrown message goes to one",
                    instance_id=thrower,
                )
        for job in waits:
            if job.instance_id is not None:
                reached.setdefault(job.instance_id, []).append(with_payload(job, data=data))
        for definition, node in starts:
            if node.parallel and node.event in node.events:
                # several triggers of one parallel multiple start event thrown by one
                # action start one instance that has them all (10.5.2), not one each
                group = gathering.setdefault((definition.version, node.id), [])
                index = node.events.index(node.event)
                if not group or index in group[-1][2]:
                    group.append((definition, node, set(), {}))
                group[-1][2].add(index)
                group[-1][3].update(data if isinstance(data, dict) else {})
                continue
            children += new_instance(rt, definition, node, data, now, "engine")
    for groups in gathering.values():
        for definition, node, indexes, merged in groups:
            arrived = tuple(sorted(indexes))
            children += new_instance(rt, definition, node, merged, now, "engine", None, arrived)
    for jobs in reached.values():
        change = instance_jobs_change(rt, jobs, None, now)
        if change is not None:
            changes.append(change)
    return changes, children
