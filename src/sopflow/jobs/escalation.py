"""SLA escalations as jobs: announced at least once, and once per set of workers.

The monitor only enqueues: one ``sla-escalation`` job per (step, status), keyed so two
monitors enqueueing the same change make one job. A worker runs the job: it logs
``sla.at_risk`` / ``sla.breached``, calls the application's hook
(``Engine(on_escalation=...)``), then records the escalation as notified *and* deletes the
job in one transaction. A worker killed while announcing leaves the job leased; the lease
runs out and another worker announces it (the hook may then see it twice: at least once);
once recorded it is never announced again (exactly once per worker set). A hook that
raises is retried with back-off and ends as an incident, like any job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sopflow.jobs.model import SLA_ESCALATION, DoneJob, JobRow, NewJob
from sopflow.logging import get_logger
from sopflow.runtime.views import to_ms
from sopflow.sla.calendar import WorkCalendar

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine
    from sopflow.stores.base import Store

__all__ = ["enqueue_escalations", "run_escalation"]


def enqueue_escalations(store: Store, entries: Sequence[tuple[int, str]], at: int) -> None:
    """One job per (step id, status) not enqueued yet; a worker announces each."""
    from sopflow.stores._jobs import JobStoreMixin

    if not isinstance(store, JobStoreMixin):
        raise TypeError(f"{store.url}: this store keeps no jobs")
    store.add_jobs(
        [
            NewJob(
                SLA_ESCALATION,
                at,
                payload={"step": step, "status": status},
                key=f"sla:{step}:{status}",
            )
            for step, status in entries
        ],
        now=at,
    )


def run_escalation(rt: Engine, job: JobRow, worker: str | None, now: datetime) -> None:
    from sopflow.jobs.dispatch import job_store
    from sopflow.sla.monitor import OpenStepStatus, SlaEvent

    store = job_store(rt)
    step, status = int(job.payload["step"]), str(job.payload["status"])
    done = DoneJob(job.id, worker)
    row = store.scan_step(step)
    if row is None or store.escalation_recorded(step, status):
        store.finish_job(done, now=to_ms(now))  # done meanwhile, or announced already
        return

    def calendar(process_id: str, version: str) -> WorkCalendar:
        calendar_for = getattr(rt.sla, "calendar_for", None)
        if calendar_for is None:
            return WorkCalendar.default()
        found: WorkCalendar = calendar_for(rt.definition(version))
        return found

    event = SlaEvent(status, OpenStepStatus(row, status, to_ms(now), calendar), now)
    get_logger("sopflow.sla").warning(f"sla.{status}", **event.fields())
    hook = getattr(rt, "on_escalation", None)
    if hook is not None:
        hook(event)
    store.finish_job(done, now=to_ms(now), escalation=(step, status))
