"""External tasks: service tasks done by the office's own programs (Camunda's pattern).

A worker program asks for work by topic (``fetch_and_lock``), gets the tasks with the
instance data and a lock until a moment, and answers with ``complete_external``,
``fail_external`` or ``bpmn_error_external``. A lock that runs out makes the task
available to the next fetch; an answer from a worker that no longer holds the task is a
:class:`~sopflow.errors.JobLockedError` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sopflow.errors import ConflictError, JobLockedError, JobNotFoundError, TaskDataError
from sopflow.jobs.dispatch import fail, job_store, run_instance_job, with_payload
from sopflow.jobs.model import EXTERNAL, JobRow
from sopflow.runtime.views import from_ms, to_ms

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = [
    "ExternalTask",
    "complete",
    "extend_lock",
    "fetch_and_lock",
    "report_error",
    "report_failure",
]

_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class ExternalTask:
    """A locked external task as its worker sees it."""

    id: int
    topic: str
    instance_id: str
    process_id: str | None
    task_id: str
    data: dict[str, Any]
    retries: int
    locked_until: datetime
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "instance_id": self.instance_id,
            "process_id": self.process_id,
            "task_id": self.task_id,
            "data": self.data,
            "retries": self.retries,
            "locked_until": self.locked_until.isoformat(),
            "error": self.error,
        }


def _lock_ms(lock_for: timedelta | float) -> int:
    seconds = lock_for.total_seconds() if isinstance(lock_for, timedelta) else float(lock_for)
    if not seconds > 0:
        raise TaskDataError(f"lock_for must be positive, got {lock_for!r}")
    return round(seconds * 1000)


def fetch_and_lock(
    rt: Engine,
    topic: str,
    worker_id: str,
    max_tasks: int,
    lock_for: timedelta | float,
    at: datetime | None,
) -> list[ExternalTask]:
    from sopflow.runtime.state import load_state

    if not worker_id:
        raise TaskDataError("an external worker needs an id")
    now = rt._now(at)
    rows = job_store(rt).claim_jobs(
        worker_id,
        now=to_ms(now),
        lease_ms=_lock_ms(lock_for),
        limit=max_tasks,
        kinds=[EXTERNAL],
        topic=topic,
    )
    tasks = []
    for job in rows:
        assert job.instance_id is not None and job.node is not None
        instance = rt.store.load_instance(job.instance_id)
        state = load_state(instance.state, job.instance_id, rt.definition(instance.version))
        tasks.append(
            ExternalTask(
                id=job.id,
                topic=topic,
                instance_id=job.instance_id,
                process_id=job.process_id,
                task_id=job.node,
                data=dict(state.data),
                retries=job.retries,
                locked_until=from_ms(job.locked_until or 0),
                error=job.error,
            )
        )
    return tasks


def _held(rt: Engine, task_id: int | str, worker_id: str) -> JobRow:
    try:
        job = job_store(rt).job(int(task_id))
    except (TypeError, ValueError):
        raise JobNotFoundError(f"external task id {task_id!r} is not a number") from None
    if job.kind != EXTERNAL:
        raise JobNotFoundError(f"job {job.id} is not an external task")
    if job.locked_by != worker_id:
        holder = "nobody" if job.locked_by is None else "another worker"
        raise JobLockedError(
            f"external task {job.id} is locked by {holder}, not by {worker_id!r}",
            instance_id=job.instance_id,
            task_id=job.node,
        )
    return job


def _run(
    rt: Engine,
    task_id: int | str,
    worker_id: str,
    at: datetime | None,
    held: JobRow | None = None,
    **payload: Any,
) -> None:
    """Fire the external task's job; ``held`` is the row the caller just checked (its
    first attempt reads it no second time: one round trip less per completion)."""
    for attempt in range(_ATTEMPTS):
        job = held if attempt == 0 and held is not None else _held(rt, task_id, worker_id)
        try:
            run_instance_job(rt, with_payload(job, **payload), worker_id, rt._now(at))
            return
        except ConflictError:
            continue  # the instance moved on under us (a step completed): again
    raise ConflictError(f"external task {task_id}: the instance kept changing; try again")


def complete(
    rt: Engine,
    task_id: int | str,
    worker_id: str,
    data: Mapping[str, Any] | None,
    at: datetime | None,
) -> None:
    from sopflow.runtime.data import check_data

    job = _held(rt, task_id, worker_id)
    result = check_data(data, job.instance_id or "", job.node)
    _run(rt, task_id, worker_id, at, job, result=result)


def report_failure(
    rt: Engine,
    task_id: int | str,
    worker_id: str,
    message: str,
    retries: int,
    retry_in: timedelta | float,
    at: datetime | None,
) -> int | None:
    """Record a failure; ``retries`` left (0 = an incident, its id returned)."""
    job = _held(rt, task_id, worker_id)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise TaskDataError(f"retries must be a whole number >= 0, got {retries!r}")
    delay = retry_in if isinstance(retry_in, timedelta) else timedelta(seconds=float(retry_in))
    return fail(rt, job, worker_id, rt._now(at), message, retries=retries, retry_in=delay)


def report_error(
    rt: Engine, task_id: int | str, worker_id: str, code: str, message: str, at: datetime | None
) -> None:
    """A business error: thrown from the task (an incident until something catches it)."""
    from sopflow.errors import BpmnError

    job = _held(rt, task_id, worker_id)
    try:
        _run(rt, task_id, worker_id, at, job, error={"code": code, "message": message})
    except BpmnError as exc:
        fail(rt, job, worker_id, rt._now(at), f"uncaught {exc}", retries=0)


def extend_lock(
    rt: Engine, task_id: int | str, worker_id: str, lock_for: timedelta | float, at: datetime | None
) -> datetime:
    """A worker still at it keeps the task ``lock_for`` longer (from now); the new end."""
    job = _held(rt, task_id, worker_id)
    until = to_ms(rt._now(at)) + _lock_ms(lock_for)
    if job_store(rt).extend_leases(worker_id, until=until, job_id=job.id) != 1:
        raise JobLockedError(f"external task {job.id} is no longer locked by {worker_id!r}")
    return from_ms(until)
