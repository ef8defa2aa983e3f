"""Running one job: the handler of its kind, one transaction, retries and incidents.

A handler is ``handler(engine, job, worker, now)``: it does the job's work and writes
everything the job changes, consuming the job (``DoneJob(job.id, worker)``) in that same
transaction. It raises to fail: a :class:`~sopflow.errors.ConflictError` means another
writer got there first (the job is looked at again), a
:class:`~sopflow.errors.BpmnError` that nothing caught opens an incident at once, and any
other exception spends one retry (:mod:`sopflow.jobs.retry`). A new kind registers its
handler with :func:`register`; the kinds of instances (timer, async, service, external)
share :func:`run_instance_job`, which hands the job to the token machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sopflow.errors import BpmnError, ConflictError, JobNotFoundError
from sopflow.jobs.model import (
    ASYNC,
    EXTERNAL,
    SERVICE,
    TIMER,
    DoneJob,
    JobRow,
    NewIncident,
)
from sopflow.jobs.retry import RetryPolicy, parse_retry_cycle
from sopflow.runtime.views import from_ms, to_ms
from sopflow.stores.base import RUNNING, Change

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine
    from sopflow.stores._jobs import JobStoreMixin

__all__ = ["HANDLERS", "JobHandler", "register", "run_instance_job", "run_job"]

JobHandler = Callable[["Engine", JobRow, "str | None", datetime], None]

#: job kind -> its handler; see :func:`register`
HANDLERS: dict[str, JobHandler] = {}

#: how often a job is re-run when its instance keeps moving on under it
_ATTEMPTS = 8


def register(kind: str, handler: JobHandler) -> None:
    """Make ``handler`` run the jobs of ``kind`` (a new event kind, an application's own)."""
    HANDLERS[kind] = handler


def job_store(rt: Engine) -> JobStoreMixin:
    from sopflow.errors import StoreError
    from sopflow.stores._jobs import JobStoreMixin

    store = rt.store
    if not isinstance(store, JobStoreMixin):
        raise StoreError(f"{store.url}: this store keeps no jobs")
    return store


# ------------------------------------------------------------------ instance jobs
def run_instance_job(rt: Engine, job: JobRow, worker: str | None, now: datetime) -> None:
    """Load the job's instance, let the machine fire it, write the change with the job."""
    from sopflow.runtime.records import all_audit

    change = instance_job_change(rt, job, worker, now)
    if change is None:  # pragma: no cover - closing an instance deletes its jobs
        return
    rt.store.apply(change)
    rt._emit(all_audit(change))


def instance_job_change(
    rt: Engine, job: JobRow, worker: str | None, now: datetime
) -> Change | None:
    """The change firing ``job`` makes (consuming it); None if its instance is closed."""
    return instance_jobs_change(rt, [job], worker, now)


def instance_jobs_change(
    rt: Engine, jobs: list[JobRow], worker: str | None, now: datetime
) -> Change | None:
    """The one change firing ``jobs`` of one instance in order makes (consuming each):
    what one action threw to the same instance twice (a multiple throw's message and
    signal, BPMN 10.5.1) is one write, not two that conflict. None if it is closed."""
    from sopflow.runtime.advance import advance, machine_for
    from sopflow.runtime.state import load_state

    job = jobs[0]
    assert job.instance_id is not None and all(j.instance_id == job.instance_id for j in jobs)
    # the instance and its open steps in one read: a timer that closes a step (a
    # boundary timer, an event-based gateway's timer) needs no second query for them
    row, open_rows = rt.store.load_with_open_steps(job.instance_id)
    if row.status != RUNNING:
        return None
    definition = rt.definition(row.version)
    state = load_state(row.state, job.instance_id, definition)
    at = max(now, from_ms(row.last_action_at))
    machine = machine_for(rt, definition, state, job.instance_id, at, job, row=row)
    for each in jobs:
        token = None if each.token is None else state.token(each.token)
        if each.token is None or token is not None:
            # (a token gone without withdrawing its job — a store written by hand, or
            # an earlier job of this list moving it on — only consumes the job)
            machine.fire(token, each)
    done = [DoneJob(each.id, worker) for each in jobs]
    return advance(
        rt, row, definition, state, machine, at, "engine", done_jobs=done, open_rows=open_rows
    ).change


for _kind in (TIMER, ASYNC, SERVICE, EXTERNAL, "error"):
    register(_kind, run_instance_job)


# ------------------------------------------------------------------ running and failing
def _policy(rt: Engine, job: JobRow) -> RetryPolicy:
    if job.version is not None and job.node is not None:
        try:
            node = rt.definition(job.version).nodes.get(job.node)
        except Exception:  # the definition is gone: the default policy still applies
            node = None
        if node is not None:
            return parse_retry_cycle(node.jobs.retry_cycle)
    return RetryPolicy()


def fail(
    rt: Engine,
    job: JobRow,
    worker: str | None,
    now: datetime,
    message: str,
    *,
    retries: int | None = None,
    retry_in: timedelta | None = None,
) -> int | None:
    """Spend one attempt of ``job``; an incident (its id) when none is left."""
    policy = _policy(rt, job)
    left = job.retries - 1 if retries is None else retries
    store = job_store(rt)
    if left <= 0:
        incident = store.fail_job(
            job.id,
            worker,
            error=message,
            retries=0,
            due_at=job.due_at,
            incident=NewIncident(message, to_ms(now)),
        )
        rt._log.error(
            "job.incident",
            job_id=job.id,
            kind=job.kind,
            instance_id=job.instance_id,
            task_id=job.node,
            incident=incident,
            error=message,
        )
        return incident
    delay = retry_in if retry_in is not None else policy.delay(job.attempts + 1)
    store.fail_job(job.id, worker, error=message, retries=left, due_at=to_ms(now + delay))
    rt._log.warning(
        "job.failed",
        job_id=job.id,
        kind=job.kind,
        instance_id=job.instance_id,
        task_id=job.node,
        retries=left,
        error=message,
    )
    return None


def run_job(rt: Engine, job: JobRow, *, worker: str | None, now: datetime) -> str:
    """Run one leased job; ``done``, ``failed``, ``incident`` or ``skipped`` (taken over)."""
    handler = HANDLERS.get(job.kind)
    store = job_store(rt)
    for _ in range(_ATTEMPTS):
        try:
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            handler(rt, job, worker, now)
            return "done"
        except ConflictError:
            # Another writer moved the instance on, or took the job: look again.
            try:
                fresh = store.job(job.id)
            except JobNotFoundError:
                return "skipped"
            if worker is not None and fresh.locked_by != worker:
                return "skipped"
            job = fresh
        except BpmnError as exc:
            try:
                fail(rt, job, worker, now, f"uncaught {exc}", retries=0)
            except ConflictError:
                return "skipped"
            return "incident"
        except Exception as exc:  # the job's work is application code: record, never crash
            message = f"{type(exc).__name__}: {exc}"
            try:
                incident = fail(rt, job, worker, now, message)
            except ConflictError:
                return "skipped"
            return "failed" if incident is None else "incident"
    return "skipped"


def with_payload(job: JobRow, **payload: Any) -> JobRow:
    """The job as its handler should see it with extra payload (an external result)."""
    return replace(job, payload={**job.payload, **payload})
