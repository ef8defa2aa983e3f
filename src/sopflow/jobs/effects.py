"""From a machine's job effects to the store: the jobs an action writes, its wait events.

Every action that runs the token machine (start, complete, a job firing) calls these, so
a job is always written in the transaction of the state that made it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import ProcessDefinition
from sopflow.jobs.context import JobContext
from sopflow.jobs.model import JobRow, NewJob
from sopflow.sla.durations import HariPolicy
from sopflow.stores.base import AuditRow

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine
    from sopflow.runtime.machine import Effects
    from sopflow.runtime.state import State

__all__ = ["job_change", "job_context", "live_jobs", "wait_audit"]


def job_context(
    rt: Engine, definition: ProcessDefinition, now: datetime, job: JobRow | None = None
) -> JobContext:
    """The action's time, the process's work calendar (the SLA's), the engine's handlers."""
    from sopflow.sla.calendar import WorkCalendar

    calendar_for = getattr(rt.sla, "calendar_for", None)
    calendar = calendar_for(definition) if calendar_for is not None else WorkCalendar.default()
    return JobContext(
        now=now,
        calendar=calendar,
        hari=getattr(rt.sla, "hari", HariPolicy.WORKING_DAYS),
        services=getattr(rt, "service_handlers", {}),
        external_by_default=bool(getattr(rt, "external_tasks", False)),
        job=job,
    )


def live_jobs(effects: Effects, state: State) -> list[NewJob]:
    """New jobs whose token is still there at the end of the action."""
    return [j for j in effects.new_jobs if j.token is None or state.token(j.token) is not None]


def job_change(effects: Effects, state: State) -> dict[str, Any]:
    """The Change fields of the machine's job effects."""
    return {"new_jobs": live_jobs(effects, state), "drop_jobs_of": list(effects.drop_jobs_of)}


def wait_audit(
    definition: ProcessDefinition, instance_id: str, effects: Effects, now: datetime
) -> list[AuditRow]:
    """``wait.began`` / ``wait.ended`` events: what ``status`` lists as passes."""
    from sopflow.runtime.records import context as _context
    from sopflow.runtime.records import event as _event
    from sopflow.runtime.views import from_ms

    ctx = _context(definition, instance_id)
    out = []
    for w in effects.waits:
        fields: dict[str, Any] = {"task_id": w.node, "wait": w.kind, "token": w.token}
        if w.began:
            due = None if w.due_at is None else from_ms(w.due_at).isoformat()
            out.append(_event("wait.began", now, **ctx, **fields, due_at=due))
        else:
            out.append(_event("wait.ended", now, **ctx, **fields, outcome=w.outcome))
    return out
