"""Job rows: the durable to-do list of the engine (timers, continuations, external tasks).

A job is written in the same transaction as the state that made it (a token reaching a
timer writes the timer's job with the new state), and done in the same transaction as
the state it makes (the timer's firing deletes the job and writes where the token went).
So a crash between the two never loses a timer nor fires one twice.

Stores know rows, not workflows, exactly as for steps: the values here cross the store
boundary with times in epoch milliseconds. This module imports nothing of sopflow, so
``stores.base`` can use it.

Job kinds (:data:`KINDS`); a new kind registers its handler with
:func:`sopflow.jobs.dispatch.register`:

========================  =======================================================
``timer``                 a token waits at a timer (intermediate catch; boundary
                          and event-subprocess timers use it too): ``node`` is the
                          timer event, ``token`` the waiting token
``start-timer``           a timer start event of a process; no instance yet:
                          ``version`` names the definition, ``key`` keeps it unique
``async``                 an asynchronous continuation: ``payload["at"]`` is
                          ``before`` (the node has not started) or ``after``
``service``               a service/send/business-rule task run by a Python handler
``external``              an external task: taken only by ``fetch_and_lock(topic)``
``sla-escalation``        an SLA status change to announce (``payload``: step, status)
``message`` / ``signal``  a waiting catch (sopflow events): never due by itself
                          (``due_at`` NULL), found by its ``subscription``
``error``                 an uncaught BPMN error waiting to become an incident
========================  =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ASYNC",
    "DEFAULT_RETRIES",
    "EXTERNAL",
    "KINDS",
    "SERVICE",
    "SLA_ESCALATION",
    "START_TIMER",
    "TIMER",
    "DoneJob",
    "IncidentRow",
    "JobRow",
    "NewIncident",
    "NewJob",
]

TIMER, START_TIMER, ASYNC, SERVICE, EXTERNAL, SLA_ESCALATION = (
    "timer",
    "start-timer",
    "async",
    "service",
    "external",
    "sla-escalation",
)
KINDS = (TIMER, START_TIMER, ASYNC, SERVICE, EXTERNAL, SLA_ESCALATION)

#: Attempts a failing job gets before it becomes an incident (Camunda's default).
DEFAULT_RETRIES = 3


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to write. ``due_at`` None = never due by itself (a subscription row)."""

    kind: str
    due_at: int | None
    node: str | None = None
    token: int | None = None
    #: external tasks only: what fetch_and_lock asks for
    topic: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    retries: int = DEFAULT_RETRIES
    #: unique among waiting jobs: a second job with the same key is not written
    key: str | None = None
    #: start timers: the definition version (other jobs belong to their instance)
    version: str | None = None
    #: a waiting message/signal catch: ``message:NAME`` / ``signal:NAME`` (indexed, so
    #: ``engine.correlate`` and ``engine.signal`` find their catchers without a scan)
    subscription: str | None = None


@dataclass(frozen=True, slots=True)
class DoneJob:
    """A job the change consumes; ``worker`` must still hold its lock (None = no lock)."""

    job_id: int
    worker: str | None = None


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    kind: str
    instance_id: str | None
    process_id: str | None
    version: str | None
    node: str | None
    token: int | None
    topic: str | None
    due_at: int | None
    payload: dict[str, Any]
    retries: int
    attempts: int
    locked_by: str | None
    locked_until: int | None
    error: str | None
    incident: int | None
    key: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class NewIncident:
    """Written when a job's retries run out; the job waits, excluded, until retried."""

    message: str
    at: int


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    job_id: int | None
    instance_id: str | None
    process_id: str | None
    kind: str
    node: str | None
    message: str
    at: int
    resolved_at: int | None
    resolved_by: str | None
