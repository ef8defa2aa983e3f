"""The engine's job methods (mixed into :class:`~sopflow.runtime.engine.Engine`).

``run_due`` is how tests and simulations drive time; :class:`~sopflow.jobs.worker.Worker`
(``sopflow worker``) is the same loop in real time; the external-task methods are what
an office's own integration programs call.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sopflow.jobs import escalation, external, starts
from sopflow.jobs.context import ServiceHandler
from sopflow.jobs.dispatch import _policy, job_store, register, run_job
from sopflow.jobs.external import ExternalTask
from sopflow.jobs.model import (
    ASYNC,
    SERVICE,
    SLA_ESCALATION,
    START_TIMER,
    TIMER,
    IncidentRow,
    JobRow,
)
from sopflow.runtime.views import Actor, from_ms, to_ms

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine
    from sopflow.sla.monitor import SlaEvent

__all__ = ["EngineJobs"]

register(START_TIMER, starts.run_start_timer)
register(SLA_ESCALATION, escalation.run_escalation)

#: How long ``run_due`` holds a job it runs (it runs it at once; only a crash matters).
RUN_DUE_LEASE = timedelta(minutes=5)


class EngineJobs:
    """Jobs, external tasks and incidents of an engine's store."""

    service_handlers: dict[str, ServiceHandler]
    external_tasks: bool
    on_escalation: Callable[[SlaEvent], object] | None

    def _init_jobs(
        self,
        service_handlers: Mapping[str, ServiceHandler] | None,
        external_tasks: bool,
        on_escalation: Callable[[SlaEvent], object] | None,
    ) -> None:
        self.service_handlers = dict(service_handlers or {})
        self.external_tasks = external_tasks
        self.on_escalation = on_escalation
        self._start_timers_at: datetime | None = None

    def _engine(self) -> Engine:
        return self  # type: ignore[return-value]

    def job_kinds(self) -> tuple[str, ...]:
        """The job kinds this engine's workers run: service jobs only with handlers."""
        # "error": an uncaught error waiting to become an incident (sopflow events)
        kinds = [TIMER, START_TIMER, ASYNC, SLA_ESCALATION, "error"]
        if self.service_handlers:
            kinds.append(SERVICE)
        return tuple(kinds)

    def schedule_start_timers(self, at: datetime | None = None) -> int:
        """Write the start-timer jobs of the catalog (done once by workers and run_due)."""
        rt = self._engine()
        now = rt._now(at)
        self._start_timers_at = now
        return starts.schedule_start_timers(rt, now)

    def run_due(self, at: datetime | None = None) -> int:
        """Fire every job due at ``at`` (default: the clock's now), in due order, each in
        its own transaction, including jobs that fall due by those firings; how many ran.

        Each job fires at its own due time (as if a worker had been running all along),
        so a simulation driven by a fake clock sees exact times; ``sopflow worker`` fires
        at the real moment it runs a job.
        """
        rt = self._engine()
        now = rt._now(at)
        if self._start_timers_at is None:
            self.schedule_start_timers(now)
        worker = f"run_due:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        store = job_store(rt)
        ran = 0
        while True:
            batch = store.claim_jobs(
                worker,
                now=to_ms(now),
                lease_ms=round(RUN_DUE_LEASE.total_seconds() * 1000),
                limit=1,
                kinds=self.job_kinds(),
            )
            if not batch:
                return ran
            job = batch[0]
            # As if a worker had run all along: each job fires at its due time, so a
            # chain of timers inside the window all fire, each from the one before.
            fire_at = now if job.due_at is None else min(now, from_ms(job.due_at))
            if run_job(rt, job, worker=worker, now=fire_at) != "skipped":
                ran += 1

    def jobs(self, *, instance_id: str | None = None, kind: str | None = None) -> list[JobRow]:
        """Waiting jobs (external tasks and incidents' jobs included), in due order."""
        return job_store(self._engine()).jobs(instance_id=instance_id, kind=kind)

    # ------------------------------------------------------------ external tasks
    def fetch_and_lock(
        self,
        topic: str,
        worker_id: str,
        max_tasks: int = 1,
        lock_for: timedelta | float = 300.0,
        *,
        at: datetime | None = None,
    ) -> list[ExternalTask]:
        """Lock up to ``max_tasks`` external tasks of ``topic`` for ``lock_for`` (seconds
        or a timedelta), oldest first; a task whose lock ran out is offered again."""
        return external.fetch_and_lock(self._engine(), topic, worker_id, max_tasks, lock_for, at)

    def complete_external(
        self,
        task_id: int | str,
        worker_id: str,
        data: Mapping[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> None:
        """The worker did it: the instance goes on with ``data`` merged into its data."""
        external.complete(self._engine(), task_id, worker_id, data, at)

    def extend_lock(
        self,
        task_id: int | str,
        worker_id: str,
        lock_for: timedelta | float,
        *,
        at: datetime | None = None,
    ) -> datetime:
        """Keep a locked external task ``lock_for`` longer, counted from now."""
        return external.extend_lock(self._engine(), task_id, worker_id, lock_for, at)

    def fail_external(
        self,
        task_id: int | str,
        worker_id: str,
        message: str,
        retries: int,
        retry_in: timedelta | float = 0.0,
        *,
        at: datetime | None = None,
    ) -> int | None:
        """The worker could not do it: offered again after ``retry_in`` while ``retries``
        are left; with 0 the instance gets an incident (its id is returned)."""
        return external.report_failure(
            self._engine(), task_id, worker_id, message, retries, retry_in, at
        )

    def bpmn_error_external(
        self,
        task_id: int | str,
        worker_id: str,
        code: str,
        message: str = "",
        *,
        at: datetime | None = None,
    ) -> None:
        """A business error thrown from the task (BPMN 10.5.6)."""
        external.report_error(self._engine(), task_id, worker_id, code, message, at)

    # ------------------------------------------------------------ incidents
    def incidents(
        self,
        *,
        instance_id: str | None = None,
        open_only: bool = True,
        actor: Actor | str | None = None,
        at: datetime | None = None,
    ) -> list[IncidentRow]:
        """Jobs whose retries ran out (open ones unless told), oldest first.

        With a staff directory and an ``actor`` (an NIP), only the incidents of instances
        the actor may read (docs/authority.md, "Incidents"); asking for one instance the
        actor may not read raises UnitAccessError, recorded on the instance."""
        from sopflow.authority.incidents import visible_incidents

        rt = self._engine()
        found = job_store(rt).incidents(instance_id=instance_id, open_only=open_only)
        return visible_incidents(
            rt, found, actor=_as_actor(actor), instance_id=instance_id, now=rt._now(at)
        )

    def retry(
        self,
        incident_id: int,
        *,
        retries: int | None = None,
        actor: Actor | str | None = None,
        at: datetime | None = None,
    ) -> IncidentRow:
        """Resolve an incident: its job is due now again, with ``retries`` attempts
        (default: its node's retry policy). Returns the resolved incident.

        With a staff directory, ``actor`` (an NIP) must hold a role the process names in
        the instance's unit or a parent unit; a refusal is a recorded PermissionDeniedError.
        No actor is the application itself, trusted as ``status`` trusts it (recorded as
        ``engine``)."""
        from sopflow.authority.incidents import check_retry

        rt = self._engine()
        now = rt._now(at)
        store = job_store(rt)
        open_ = {i.id: i for i in store.incidents(open_only=True)}
        found = open_.get(incident_id)
        if found is None:
            from sopflow.errors import IncidentNotFoundError

            raise IncidentNotFoundError(f"no open incident {incident_id}")
        who = _as_actor(actor)
        check_retry(rt, found, who, now)
        by = "engine" if who is None else who.id
        attempts = retries
        if attempts is None:
            attempts = (
                _policy(rt, store.job(found.job_id)).retries if found.job_id is not None else 1
            )
        resolved = store.resolve_incident(incident_id, by=by, at=to_ms(now), retries=attempts)
        rt._log.info(
            "incident.resolved",
            incident=incident_id,
            instance_id=resolved.instance_id,
            task_id=resolved.node,
            actor=by,
            timestamp=now.isoformat(),
        )
        return resolved


def _as_actor(actor: Actor | str | None) -> Actor | None:
    return Actor(actor) if isinstance(actor, str) else actor
