"""/api/v1/instances and /api/v1/work-items: status, history, actions, work lists.

Every handler hands the person to the engine as the actor; the engine's authority
(unit, position, Plh./Plt., separation of duties) decides, and its typed refusal comes
back as a problem document. ``If-Match`` (the revision, the ETag of GET) turns a stale
view into 412 before the engine is asked; a race lost inside the engine is 409.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from sopflow.runtime.views import iso
from sopflow.stores.base import InstanceRow
from sopflow.web._context import WebContext
from sopflow.web._deps import (
    Acting,
    Ctx,
    IfMatch,
    Viewer,
    WorkShaper,
    check_if_match,
    due_key,
    progress_out,
    task_ref,
    work_out,
)
from sopflow.web._models import (
    CancelIn,
    ClaimIn,
    CompleteIn,
    InstanceOut,
    InstancePage,
    ProgressOut,
    StepRecordOut,
    WorkItemOut,
)

__all__ = ["instance_out", "router", "work_router"]

router = APIRouter(prefix="/instances", tags=["instances"])
work_router = APIRouter(prefix="/work-items", tags=["work items"])
SVG = "image/svg+xml"


def row_out(ctx: WebContext, row: InstanceRow, unit: str | None) -> dict[str, Any]:
    from sopflow.runtime.views import from_ms

    definition = ctx.engine.definition(row.version)
    tz = ctx.zone(definition)
    return {
        "instance_id": row.instance_id,
        "process_id": row.process_id,
        "status": row.status,
        "started_at": iso(from_ms(row.started_at), tz),
        "started_by": row.started_by,
        "last_action_at": iso(from_ms(row.last_action_at), tz),
        "ended_at": None if row.ended_at is None else iso(from_ms(row.ended_at), tz),
        "revision": row.revision,
        "unit": unit,
    }


def instance_out(ctx: WebContext, instance_id: str, nip: str) -> tuple[dict[str, Any], int]:
    view = ctx.engine.status(instance_id, actor=ctx_actor(nip))
    definition = ctx.engine.definition(view.version)
    out = view.to_dict(ctx.zone(definition))
    out["open_steps"] = [work_out(ctx, w, nip) for w in view.open_steps]
    revision = ctx.store.load_instance(instance_id).revision
    out["revision"] = revision
    out["unit"] = ctx.unit_of(instance_id)
    return out, revision


def ctx_actor(nip: str) -> Any:
    from sopflow.runtime.views import Actor

    return Actor(nip)


@router.get("", response_model=InstancePage, summary="Instances I may see, newest first")
def list_instances(
    who: Viewer,
    ctx: Ctx,
    process_id: Annotated[str | None, Query(max_length=200)] = None,
    status: Literal["running", "completed", "cancelled"] | None = None,
    unit: Annotated[str | None, Query(max_length=64, description="this unit and below")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    units: dict[str, str] = ctx.store.instance_units()
    directory = ctx.directory()
    rows = []
    for row in ctx.store.instances(process_id=process_id, status=status):
        where = units.get(row.instance_id)
        if unit is not None and (
            where is None or unit not in directory.units or not directory.within(where, unit)
        ):
            continue
        if ctx.may_see(who.nip, row, where):
            rows.append((row, where))
    rows.sort(key=lambda r: (-r[0].started_at, r[0].instance_id))
    page = rows[offset : offset + limit]
    return {
        "items": [row_out(ctx, row, where) for row, where in page],
        "total": len(rows),
        "limit": limit,
        "offset": offset,
    }


@router.get("/{instance_id}", response_model=InstanceOut, summary="Status, open steps, history")
def read_instance(instance_id: str, who: Viewer, ctx: Ctx, response: Response) -> Any:
    out, revision = instance_out(ctx, instance_id, who.nip)
    response.headers["ETag"] = f'"{revision}"'
    return out


@router.get(
    "/{instance_id}/history", response_model=list[StepRecordOut], summary="Every pass of every step"
)
def read_history(instance_id: str, who: Viewer, ctx: Ctx) -> Any:
    out, _ = instance_out(ctx, instance_id, who.nip)
    return out["history"]


@router.get(
    "/{instance_id}/picture.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}},
    summary="The process picture with this instance's position and path",
)
def read_instance_picture(instance_id: str, who: Viewer, ctx: Ctx) -> Response:
    from sopflow.reports.render import instance_step_status, render_process_svg

    view = ctx.engine.status(instance_id, actor=who.actor)
    definition = ctx.engine.definition(view.version)
    svg = render_process_svg(definition, step_status=instance_step_status(view))
    return Response(svg, media_type=SVG)


@router.post("/{instance_id}/cancel", response_model=ProgressOut, summary="Stop an instance")
def cancel_instance(
    instance_id: str, body: CancelIn, who: Acting, ctx: Ctx, if_match: IfMatch = None
) -> Any:
    check_if_match(ctx, instance_id, if_match)
    return progress_out(ctx, ctx.engine.cancel(instance_id, reason=body.reason, actor=who.actor))


@router.post("/{instance_id}/steps/{task}/claim", response_model=ProgressOut, summary="Take a step")
def claim_step(
    instance_id: str,
    task: str,
    who: Acting,
    ctx: Ctx,
    body: ClaimIn | None = None,
    if_match: IfMatch = None,
) -> Any:
    check_if_match(ctx, instance_id, if_match)
    item = body.item if body else None
    progress = ctx.engine.claim(instance_id, task_ref(task), actor=who.actor, item=item)
    return progress_out(ctx, progress)


@router.post(
    "/{instance_id}/steps/{task}/release", response_model=ProgressOut, summary="Give a step back"
)
def release_step(
    instance_id: str,
    task: str,
    who: Acting,
    ctx: Ctx,
    body: ClaimIn | None = None,
    if_match: IfMatch = None,
) -> Any:
    check_if_match(ctx, instance_id, if_match)
    item = body.item if body else None
    progress = ctx.engine.release(instance_id, task_ref(task), actor=who.actor, item=item)
    return progress_out(ctx, progress)


@router.post(
    "/{instance_id}/steps/{task}/complete",
    response_model=ProgressOut,
    summary="Complete a step with its form's data (checked against the step's form)",
)
def complete_step(
    instance_id: str,
    task: str,
    body: CompleteIn,
    who: Acting,
    ctx: Ctx,
    if_match: IfMatch = None,
) -> Any:
    check_if_match(ctx, instance_id, if_match)
    progress = ctx.engine.complete(
        instance_id, task_ref(task), actor=who.actor, data=body.data, item=body.item
    )
    return progress_out(ctx, progress)


@work_router.get(
    "",
    response_model=list[WorkItemOut],
    response_model_by_alias=True,
    summary="Steps waiting: mine (default), or all open steps of a unit I may see",
)
def list_work(
    who: Viewer,
    ctx: Ctx,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    process_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    if unit is None:
        items = ctx.engine.work_list(actor=who.actor, process_id=process_id)
    else:
        directory = ctx.directory()
        if unit not in directory.units:
            from sopflow.errors import DirectoryError

            raise DirectoryError(f"unit {unit!r} is not in the directory", field="unit")
        units: dict[str, str] = ctx.store.instance_units()
        items = []
        seen: dict[str, bool] = {}
        for w in ctx.engine.work_list(process_id=process_id):
            where = units.get(w.instance_id)
            if where is None or not directory.within(where, unit):
                continue
            if w.instance_id not in seen:
                seen[w.instance_id] = ctx.may_see(
                    who.nip, ctx.store.load_instance(w.instance_id), where
                )
            if seen[w.instance_id]:
                items.append(w)
    shape = WorkShaper(ctx, who.nip, many=len(items) > 20)
    return [shape(w) for w in sorted(items, key=due_key)]
