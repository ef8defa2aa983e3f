"""Timer events: the intermediate timer catch event, and the timer computation all share.

A token reaching a timer writes the timer's job with the action (BPMN 2.0 10.5.5 and
13.5.3: the event waits until the time condition holds); the job's firing moves it on.
:func:`schedule_timer` and :func:`reschedule_cycle` are the two steps any timer takes —
boundary and event-subprocess timers use them too — so every timer, whatever its
element, reads ISO 8601 and waktu the same way, on the process's work calendar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sopflow.definitions.jobspec import TimerDefinition
from sopflow.definitions.model import Node
from sopflow.errors import TaskDataError, TimerError
from sopflow.jobs.context import Waited
from sopflow.jobs.model import TIMER, JobRow, NewJob
from sopflow.jobs.timers import first_due, next_due
from sopflow.runtime.behaviours.base import Behaviour
from sopflow.runtime.state import Token
from sopflow.runtime.views import from_ms, to_ms

if TYPE_CHECKING:
    from sopflow.runtime.machine import Machine

__all__ = ["TimerCatchEvent", "reschedule_cycle", "schedule_timer", "timer_of"]


def timer_of(node: Node) -> TimerDefinition:
    timer = node.jobs.timer
    if timer is None:  # pragma: no cover - the loader gives every timer node its timer
        raise TimerError(node.id, "the node has no timer definition")
    return timer


def schedule_timer(
    m: Machine, token: Token | None, node: Node, *, kind: str = TIMER, **payload: object
) -> int | None:
    """Write the job of ``node``'s timer, starting now; its due time (ms), None if it
    never fires (a cycle whose end has passed). A timer text that cannot be read with
    this instance's data is a TaskDataError of the action that reached it."""
    timer = timer_of(node)
    try:
        due = first_due(
            timer, start=m.jobs.now, data=m.data, calendar=m.jobs.calendar, hari=m.jobs.hari
        )
    except TimerError as exc:
        raise TaskDataError(f"{node.id}: {exc}", instance_id=m.instance_id) from None
    if due is None:
        return None
    due_ms = to_ms(due)
    m.schedule(token, NewJob(kind, due_ms, node.id, payload={"n": 0, **payload}))
    if token is not None:
        m.waited(Waited(token.id, node.id, "timer", True, due_at=due_ms))
    return due_ms


def reschedule_cycle(m: Machine, token: Token | None, node: Node, job: JobRow) -> int | None:
    """After a cycle timer fired: its next occurrence (counted from the one that fired),
    written as a new job; None when the cycle is over."""
    fired = int(job.payload.get("n", 0)) + 1
    previous = from_ms(job.due_at if job.due_at is not None else m.jobs.now_ms)
    try:
        due = next_due(
            timer_of(node),
            previous=previous,
            fired=fired,
            data=m.data,
            calendar=m.jobs.calendar,
            hari=m.jobs.hari,
        )
    except TimerError as exc:
        raise TaskDataError(f"{node.id}: {exc}", instance_id=m.instance_id) from None
    if due is None:
        return None
    due_ms = to_ms(due)
    m.schedule(token, NewJob(job.kind, due_ms, node.id, payload={**job.payload, "n": fired}))
    return due_ms


class TimerCatchEvent(Behaviour):
    """An intermediate timer catch event: waits for its date, duration or (the first
    occurrence of its) cycle, then leaves (13.5.3)."""

    def activate(self, m: Machine, token: Token) -> None:
        if schedule_timer(m, token, m.node(token)) is None:
            m.leave(token)  # a cycle already over: nothing to wait for

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        assert token is not None
        m.waited(Waited(token.id, token.node, "timer", False, "fired"))
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.withdraw(token)
        m.waited(Waited(token.id, token.node, "timer", False, outcome))
