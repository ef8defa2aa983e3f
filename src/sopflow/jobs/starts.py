"""Timer start events: a process that starts itself (BPMN 2.0 10.5.2, 13.5.1).

A definition with a timer start event gets one ``start-timer`` job, keyed by its version
and start event, the first time a worker or ``run_due`` sees it in the catalog. Each
firing starts an instance at that start event and writes the timer's next occurrence in
the same transaction; when the timer is over, a job that is never due stays as the
record of it, so a restarted worker does not schedule the timer anew. A newer version
of the process withdraws the older version's start timers (as Camunda does on deploy).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sopflow.definitions.model import ProcessDefinition
from sopflow.jobs.model import START_TIMER, DoneJob, JobRow, NewJob
from sopflow.jobs.timers import first_due, next_due
from sopflow.runtime.views import from_ms, to_ms

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = ["run_start_timer", "schedule_start_timers"]

#: who the audit trail says started an instance its timer started
TIMER_ACTOR = "timer"


def _key(definition: ProcessDefinition, node: str) -> str:
    return f"start-timer:{definition.version}:{node}"


def schedule_start_timers(rt: Engine, now: datetime) -> int:
    """Write the start-timer jobs of the catalog's definitions; how many were new or kept."""
    from sopflow.jobs.dispatch import job_store
    from sopflow.jobs.effects import job_context

    store = job_store(rt)
    count = 0
    for definition in rt.catalog:
        if not definition.executable:
            continue  # a picture-only process has no timer to arm (BPMN 2.0, 10.2)
        node = definition.nodes[definition.start_node]
        timer = node.jobs.timer
        if timer is None:
            continue
        ctx = job_context(rt, definition, now)
        due = first_due(timer, start=now, data={}, calendar=ctx.calendar, hari=ctx.hari)
        rt.store.ensure_definition(
            definition.version, definition.process_id, definition.source, definition.xml
        )
        store.drop_jobs(
            kind=START_TIMER, version_not=definition.version, process_id=definition.process_id
        )
        store.add_jobs(
            [
                NewJob(
                    START_TIMER,
                    None if due is None else to_ms(due),
                    node.id,
                    payload={"n": 0},
                    key=_key(definition, node.id),
                    version=definition.version,
                )
            ],
            now=to_ms(now),
        )
        count += 1
    return count


def run_start_timer(rt: Engine, job: JobRow, worker: str | None, now: datetime) -> None:
    from sopflow.authority.gate import event_start_unit
    from sopflow.jobs.effects import job_context
    from sopflow.runtime import records
    from sopflow.runtime.advance import machine_for, started
    from sopflow.runtime.state import State

    assert job.version is not None and job.node is not None
    definition = rt.definition(job.version)
    node = definition.nodes[job.node]
    assert node.jobs.timer is not None
    ctx = job_context(rt, definition, now, job)
    fired = int(job.payload.get("n", 0)) + 1
    following = next_due(
        node.jobs.timer,
        previous=from_ms(job.due_at if job.due_at is not None else to_ms(now)),
        fired=fired,
        data={},
        calendar=ctx.calendar,
        hari=ctx.hari,
    )
    unit = event_start_unit(rt.authority, definition, None)
    instance_id = str(uuid.uuid4())
    state = State([], {})
    machine = machine_for(rt, definition, state, instance_id, now, job)
    machine.start(at_node=node.id)
    ctx_fields = records.context(definition, instance_id)
    head = [
        records.event(
            "instance.started",
            now,
            **ctx_fields,
            actor=TIMER_ACTOR,
            task_id=node.id,
            **({"unit": unit} if unit else {}),
        )
    ]
    new = started(
        rt, definition, state, machine, now, TIMER_ACTOR, head=head, unit=unit, top_level=True
    )
    follow = NewJob(
        START_TIMER,
        None if following is None else to_ms(following),
        node.id,
        payload={"n": fired},
        key=job.key,
        version=job.version,
    )
    rt.store.insert_instance(
        new.instance,
        new.steps,
        new.audit,
        new.children,
        jobs=[*new.jobs, follow],
        done_job=DoneJob(job.id, worker),
        also=new.also,
    )
    audit = [*new.audit, *(a for c in new.children for a in c.audit)]
    audit += [a for other in new.also for a in records.all_audit(other)]
    rt._emit(audit)
