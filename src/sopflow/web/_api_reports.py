"""/api/v1 SLA summary, reports (per SOP, per instance, the monitoring form), directory."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from sopflow.authority.directory import Assignment
from sopflow.authority.nip import normalize_nip
from sopflow.authority.policy import rules_of
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import DirectoryError, PermissionDeniedError, UnitAccessError
from sopflow.reports.stats import ProcessReport
from sopflow.runtime.duties import visible
from sopflow.runtime.views import iso
from sopflow.web._auth import Principal
from sopflow.web._context import WebContext
from sopflow.web._deps import Acting, Ctx, Viewer
from sopflow.web._models import (
    AssignmentIn,
    DirectoryOut,
    EndAssignmentIn,
    SlaChanges,
    SlaSummary,
)

__all__ = ["directory_router", "open_steps", "process_report_for", "router"]

router = APIRouter(tags=["sla and reports"])
directory_router = APIRouter(prefix="/directory", tags=["directory"])
Format = Literal["json", "csv", "html"]
_MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
_FORMATS: dict[int | str, dict[str, Any]] = {200: {"content": {m: {} for m in _MEDIA.values()}}}


def _check_sop_unit(ctx: WebContext, who: Principal, definition: ProcessDefinition) -> None:
    """A report over all of an SOP's instances: for holders in its kecamatan or above,
    and for its evaluators (the Bagian Organisasi judges the SOP on these figures;
    docs/authority.md, "Who evaluates an SOP")."""
    from sopflow.authority.evaluation import evaluator_holding

    directory = ctx.directory()
    unit = directory.find_unit(definition.header.kecamatan or "")
    kode = unit.kode if unit is not None else None
    credentials = ctx.credentials(who.nip, kode)
    if not visible(credentials, kode, directory, rules_of(definition)) and (
        kode is None
        or evaluator_holding(credentials, kode, directory, ctx.settings.evaluator_roles) is None
    ):
        raise UnitAccessError(
            f"NIP {who.nip} holds no position in unit {kode} of SOP {definition.process_id}"
        )


def process_report_for(ctx: WebContext, who: Principal, definition: ProcessDefinition) -> Any:
    from sopflow.reports.stats import process_report

    _check_sop_unit(ctx, who, definition)
    policy = ctx.engine.sla
    return process_report(
        ctx.store,
        definition.process_id,
        definitions=ctx.engine.definition,
        policy=policy if hasattr(policy, "calendar_for") else None,  # type: ignore[arg-type]
        at=ctx.now(),
        definition=definition,
    )


def _formatted(reports: list[Any], fmt: str) -> Response:
    from sopflow.reports.report import format_report

    return Response(format_report(reports, fmt, tz=None), media_type=_MEDIA[fmt])


@router.get(
    "/processes/{process_id}/report",
    response_class=Response,
    responses=_FORMATS,
    summary="Figures of one SOP across its instances, with the monitoring form",
)
def process_report(process_id: str, who: Viewer, ctx: Ctx, format: Format = "json") -> Response:
    definition = ctx.engine.catalog.get(process_id)
    return _formatted([process_report_for(ctx, who, definition)], format)


def form_rows(report: ProcessReport) -> list[dict[str, Any]]:
    return [row.to_dict() for row in report.form]


@router.get(
    "/processes/{process_id}/monitoring-form",
    response_class=Response,
    responses=_FORMATS,
    summary="The Permenpan-RB 35/2012 monitoring form, pre-filled from the figures",
)
def monitoring_form(process_id: str, who: Viewer, ctx: Ctx, format: Format = "json") -> Response:
    definition = ctx.engine.catalog.get(process_id)
    report = process_report_for(ctx, who, definition)
    rows = form_rows(report)
    if format == "json":
        return Response(json.dumps(rows, ensure_ascii=False), media_type=_MEDIA["json"])
    if format == "csv":
        from sopflow.reports.report import csv_cell

        out = io.StringIO()
        writer = csv.writer(out)
        keys = ["no", "task_id", "prosedur", "penilaian", "catatan", "tindakan"]
        writer.writerow(keys)
        writer.writerows([[csv_cell(r[k]) for k in keys] for r in rows])
        return Response(out.getvalue(), media_type=_MEDIA["csv"])
    return _formatted([report], "html")


@router.get(
    "/instances/{instance_id}/report",
    response_class=Response,
    responses=_FORMATS,
    summary="Each pass of one instance: who, when, standard, working time, status",
)
def instance_report(instance_id: str, who: Viewer, ctx: Ctx, format: Format = "json") -> Response:
    from sopflow.reports.stats import instance_report as make

    ctx.engine.status(instance_id, actor=who.actor)  # the engine's visibility rule
    policy = ctx.engine.sla
    report = make(
        ctx.store,
        instance_id,
        definitions=ctx.engine.definition,
        policy=policy if hasattr(policy, "calendar_for") else None,  # type: ignore[arg-type]
        at=ctx.now(),
    )
    return _formatted([report], format)


def open_steps(ctx: WebContext, who: Principal, unit: str | None) -> list[dict[str, Any]]:
    """Open steps of running instances this person may see, most urgent first."""
    monitor = _monitor(ctx)
    return _visible_steps(ctx, who, unit, monitor.scan(at=ctx.now()))


def _monitor(ctx: WebContext) -> Any:
    from sopflow.sla.monitor import Monitor

    policy = ctx.engine.sla
    return Monitor(
        ctx.store,
        policy=policy if hasattr(policy, "calendar_for") else None,  # type: ignore[arg-type]
        definitions=ctx.engine.definition,
        clock=ctx.engine.clock,
        escalate=False,  # the web only shows; escalation is the monitor loop's (docs/sla.md)
    )


def _visible_steps(
    ctx: WebContext, who: Principal, unit: str | None, steps: Any
) -> list[dict[str, Any]]:
    """The steps of instances this person may see (and of ``unit`` and below), shaped."""
    directory = ctx.directory()
    if unit is not None and unit not in directory.units:
        raise DirectoryError(f"unit {unit!r} is not in the directory", field="unit")
    units: dict[str, str] = ctx.store.instance_units()
    seen: dict[str, bool] = {}
    out = []
    for s in steps:
        where = units.get(s.instance_id)
        if unit is not None and (where is None or not directory.within(where, unit)):
            continue
        if s.instance_id not in seen:
            seen[s.instance_id] = ctx.may_see(
                who.nip, ctx.store.load_instance(s.instance_id), where
            )
        if not seen[s.instance_id]:
            continue
        tz = s.calendar.time_zone
        out.append(
            {
                "instance_id": s.instance_id,
                "process_id": s.process_id,
                "task_id": s.task,
                "step_no": s.step_no,
                "role": s.role,
                "status": s.status,
                "standard": s.standard,
                "ready_at": iso(s.ready_at, tz) or "",
                "due_at": iso(s.due_at, tz),
                "claimed_by": s.claimed_by,
                "unit": where,
            }
        )
    return out


@router.get("/sla/summary", response_model=SlaSummary, summary="Open steps by SLA status")
def sla_summary(
    who: Viewer, ctx: Ctx, unit: Annotated[str | None, Query(max_length=64)] = None
) -> Any:
    steps = open_steps(ctx, who, unit)
    counts: dict[str, int] = {}
    per: dict[str, dict[str, int]] = {}
    for s in steps:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
        mine = per.setdefault(s["process_id"], {})
        mine[s["status"]] = mine.get(s["status"], 0) + 1
    return {"at": iso(ctx.now()), "counts": counts, "per_process": per, "open_steps": steps}


@router.get(
    "/sla/changes",
    response_model=SlaChanges,
    summary="Open steps that turned at risk or breached in (since, until], paged",
)
def sla_changes(
    who: Viewer,
    ctx: Ctx,
    since: Annotated[datetime, Query(description="ISO-8601 with offset; exclusive")],
    until: Annotated[
        datetime | None,
        Query(description="inclusive; default now. Page on with the first answer's until"),
    ] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    """The indexed change scan of the store (``sopflow.sla.summary.scan_changes``, two
    index ranges: the cost follows the changes, not the open steps). Read-only: it moves
    no scan mark and escalates nothing, so a dashboard polling it changes no one's mail."""
    from sopflow.errors import TaskDataError
    from sopflow.sla.summary import scan_changes

    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise TaskDataError(f"{name}: a time needs its UTC offset (e.g. +07:00)")
    end = until if until is not None else ctx.now()
    if end < since:
        raise TaskDataError("until: before since")
    steps = _visible_steps(ctx, who, unit, scan_changes(_monitor(ctx), end, since=since))
    return {
        "since": since.isoformat(),
        "until": end.isoformat(),
        "items": steps[offset : offset + limit],
        "total": len(steps),
        "limit": limit,
        "offset": offset,
    }


# ----------------------------------------------------------------------------- directory


@directory_router.get("", response_model=DirectoryOut, summary="Units, positions, pegawai")
def read_directory(who: Viewer, ctx: Ctx) -> Any:
    d = ctx.directory()
    return {
        "units": [{"kode": u.kode, "nama": u.nama, "induk": u.induk} for u in d.units.values()],
        "positions": [
            {"kode": p.kode, "nama": p.nama, "unit": p.unit, "peran": p.peran}
            for p in d.positions.values()
        ],
        "people": [{"nip": p.nip, "nama": p.nama} for p in d.people.values()],
        "assignments": [
            {
                "nip": a.nip,
                "jabatan": a.jabatan,
                "mulai": a.mulai.isoformat(),
                "selesai": None if a.selesai is None else a.selesai.isoformat(),
                "jenis": a.jenis,
                "dasar": a.dasar,
            }
            for a in d.assignments
        ],
    }


def _admin(ctx: WebContext, who: Principal) -> None:
    if not ctx.is_admin(who.nip):
        raise PermissionDeniedError(f"NIP {who.nip} is not an administrator of the directory")


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DirectoryError(f"{text!r} is not a date (YYYY-MM-DD)", field=what) from None


@directory_router.post(
    "/assignments", status_code=201, response_model=DirectoryOut, summary="Record an assignment"
)
def add_assignment(body: AssignmentIn, who: Acting, ctx: Ctx) -> Any:
    """A new SK or Surat Perintah (administrators only); the whole directory is checked."""
    _admin(ctx, who)
    ctx.store.assign(
        Assignment(
            nip=normalize_nip(body.nip),
            jabatan=body.jabatan,
            mulai=_day(body.mulai, "mulai"),
            selesai=None if body.selesai is None else _day(body.selesai, "selesai"),
            jenis=body.jenis,
            dasar=body.dasar,
        )
    )
    return read_directory(who, ctx)


@directory_router.post(
    "/assignments/end", response_model=DirectoryOut, summary="End an assignment on a day"
)
def end_assignment(body: EndAssignmentIn, who: Acting, ctx: Ctx) -> Any:
    _admin(ctx, who)
    ctx.store.end_assignment(normalize_nip(body.nip), body.jabatan, _day(body.selesai, "selesai"))
    return read_directory(who, ctx)
