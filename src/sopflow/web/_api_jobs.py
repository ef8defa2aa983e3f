"""/api/v1 messages and signals, external tasks, incidents: the engine's job API over HTTP.

These calls are made by the office's programs (a worker that archives to SRIKANDI, the
e-Kinerja bridge) and by whoever keeps them running, not by an officer doing a step: a
person may make them only when the deployment names their NIP as an operator
(``--operator``, ``WebSettings.operators``). Beyond that the web decides nothing: a
message aimed at an instance, an incident and its retry are refused unless the engine's
visibility rule (``Engine.status(actor=...)``: unit, position, Plh./Plt.) lets the caller
see the instance; a lock held by another worker, a message nobody waits for, an incident
already resolved are the engine's typed refusals, as problem documents.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from sopflow.errors import PermissionDeniedError
from sopflow.jobs.model import IncidentRow
from sopflow.runtime.views import from_ms, iso
from sopflow.web._auth import Principal
from sopflow.web._context import WebContext
from sopflow.web._deps import Acting, Ctx, Viewer
from sopflow.web._models import (
    BpmnErrorIn,
    CorrelateIn,
    DeliveredOut,
    ExternalCompleteIn,
    ExternalFailIn,
    ExternalFailOut,
    ExternalTaskOut,
    FetchIn,
    IncidentOut,
    RetryIn,
    SignalIn,
)

__all__ = [
    "engine_incidents",
    "engine_retry",
    "events_router",
    "external_router",
    "incident_router",
]

#: ids are store row ids: bounded so a huge number is a 422, not a database overflow
TaskId = Annotated[int, Path(ge=1, le=2**62)]
IncidentId = Annotated[int, Path(ge=1, le=2**62)]

events_router = APIRouter(tags=["messages and signals"])
external_router = APIRouter(prefix="/external-tasks", tags=["external tasks"])
incident_router = APIRouter(prefix="/incidents", tags=["incidents"])


def _operator(ctx: WebContext, who: Principal, what: str) -> None:
    if not ctx.is_operator(who.nip):
        raise PermissionDeniedError(
            f"NIP {who.nip} is not an operator of this office (--operator); cannot {what}"
        )


def _sees(ctx: WebContext, who: Principal, instance_id: str) -> None:
    """The engine's visibility rule for ``instance_id``; raises its typed refusal."""
    ctx.engine.status(instance_id, actor=who.actor)


def _delivered(found: Any) -> dict[str, Any]:
    return {"instances": list(found.instances), "started": list(found.started)}


@events_router.post(
    "/messages",
    response_model=DeliveredOut,
    summary="Deliver a message to the instance that waits for it (or start one)",
)
def correlate(body: CorrelateIn, who: Acting, ctx: Ctx) -> Any:
    _operator(ctx, who, f"send message {body.message_name!r}")
    if body.instance_id is not None:
        _sees(ctx, who, body.instance_id)
    found = ctx.engine.correlate(
        body.message_name,
        instance_id=body.instance_id,
        correlation=body.correlation,
        data=body.data,
        all=body.all,
    )
    return _delivered(found)


@events_router.post(
    "/signals", response_model=DeliveredOut, summary="Broadcast a signal to every catch"
)
def signal(body: SignalIn, who: Acting, ctx: Ctx) -> Any:
    _operator(ctx, who, f"broadcast signal {body.name!r}")
    return _delivered(ctx.engine.signal(body.name, body.data))


@external_router.post(
    "/fetch-and-lock",
    response_model=list[ExternalTaskOut],
    summary="Lock up to max_tasks external tasks of a topic for this worker, oldest first",
)
def fetch_and_lock(body: FetchIn, who: Acting, ctx: Ctx) -> Any:
    _operator(ctx, who, f"fetch external tasks of topic {body.topic!r}")
    tasks = ctx.engine.fetch_and_lock(body.topic, body.worker_id, body.max_tasks, body.lock_seconds)
    return [t.to_dict() for t in tasks]


@external_router.post(
    "/{task_id}/complete", status_code=204, summary="The worker did it: the instance goes on"
)
def complete_external(task_id: TaskId, body: ExternalCompleteIn, who: Acting, ctx: Ctx) -> None:
    _operator(ctx, who, f"complete external task {task_id}")
    ctx.engine.complete_external(task_id, body.worker_id, body.data)


@external_router.post(
    "/{task_id}/failure",
    response_model=ExternalFailOut,
    summary="The worker could not do it: retried while retries are left, else an incident",
)
def fail_external(task_id: TaskId, body: ExternalFailIn, who: Acting, ctx: Ctx) -> Any:
    _operator(ctx, who, f"fail external task {task_id}")
    incident = ctx.engine.fail_external(
        task_id, body.worker_id, body.message, body.retries, body.retry_in_seconds
    )
    return {"incident_id": incident}


@external_router.post(
    "/{task_id}/bpmn-error",
    status_code=204,
    summary="A business error thrown from the task (BPMN 2.0 10.5.6)",
)
def bpmn_error(task_id: TaskId, body: BpmnErrorIn, who: Acting, ctx: Ctx) -> None:
    _operator(ctx, who, f"throw an error from external task {task_id}")
    ctx.engine.bpmn_error_external(task_id, body.worker_id, body.code, body.message)


# ----------------------------------------------------------------------------- incidents
# The two engine calls are here and only here: the authority issue gives Engine.incidents
# and Engine.retry an actor; at that merge these two functions change, nothing else.


def engine_incidents(
    ctx: WebContext, who: Principal, instance_id: str | None, open_only: bool
) -> list[IncidentRow]:
    """Incidents the caller may see: of instances the engine lets them see."""
    rows: list[IncidentRow] = ctx.engine.incidents(instance_id=instance_id, open_only=open_only)
    seen: dict[str, bool] = {}
    out = []
    for row in rows:
        if row.instance_id is None:
            if ctx.is_operator(who.nip):  # a start timer's incident belongs to no unit
                out.append(row)
            continue
        if row.instance_id not in seen:
            seen[row.instance_id] = ctx.may_see(who.nip, ctx.store.load_instance(row.instance_id))
        if seen[row.instance_id]:
            out.append(row)
    return out


def engine_retry(
    ctx: WebContext, who: Principal, incident_id: int, retries: int | None
) -> IncidentRow:
    _operator(ctx, who, f"retry incident {incident_id}")
    found = {i.id: i for i in ctx.engine.incidents(open_only=True)}.get(incident_id)
    if found is not None and found.instance_id is not None:
        _sees(ctx, who, found.instance_id)
    resolved: IncidentRow = ctx.engine.retry(incident_id, retries=retries, actor=who.nip)
    return resolved


def incident_out(ctx: WebContext, row: IncidentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "job_id": row.job_id,
        "instance_id": row.instance_id,
        "process_id": row.process_id,
        "kind": row.kind,
        "node": row.node,
        "message": row.message,
        "at": iso(from_ms(row.at)) or "",
        "resolved_at": None if row.resolved_at is None else iso(from_ms(row.resolved_at)),
        "resolved_by": row.resolved_by,
    }


@incident_router.get(
    "", response_model=list[IncidentOut], summary="Incidents of instances I may see, oldest first"
)
def list_incidents(
    who: Viewer,
    ctx: Ctx,
    instance_id: Annotated[str | None, Query(max_length=100)] = None,
    open_only: bool = True,
) -> Any:
    if instance_id is not None:
        _sees(ctx, who, instance_id)
    return [incident_out(ctx, r) for r in engine_incidents(ctx, who, instance_id, open_only)]


@incident_router.post(
    "/{incident_id}/retry",
    response_model=IncidentOut,
    summary="Resolve an incident: its job is due again now",
)
def retry(incident_id: IncidentId, who: Acting, ctx: Ctx, body: RetryIn | None = None) -> Any:
    row = engine_retry(ctx, who, incident_id, body.retries if body else None)
    return incident_out(ctx, row)
