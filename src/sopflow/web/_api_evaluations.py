"""/api/v1 SOP evaluations (Permenpan-RB 35/2012): the criteria, record, list, one, print.

A thin layer over :mod:`sopflow.authority.evaluation`: the library decides who may
record and read, checks the answers and signs the record; this module only shapes.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from sopflow.authority.evaluation import list_evaluations, may_read, record_evaluation
from sopflow.errors import EvaluationNotFoundError, SopflowError, UnitAccessError
from sopflow.reports.evaluation import CRITERIA, Evaluation, parse_tanggal
from sopflow.web._auth import Principal
from sopflow.web._context import WebContext
from sopflow.web._deps import Acting, Ctx, Viewer
from sopflow.web._models import CriterionDef, EvaluationIn, EvaluationOut

__all__ = ["evaluation_for", "print_html", "router"]

router = APIRouter(tags=["evaluations"])


def evaluation_for(ctx: WebContext, who: Principal, number: int) -> Evaluation:
    """One stored evaluation, if this person may read its SOP's evaluations."""
    found: Evaluation = ctx.store.evaluation(number)
    try:
        definition = ctx.engine.definition(found.version)
    except SopflowError:  # a version no longer readable: nobody is shown it
        definition = None
    if definition is None or not may_read(
        ctx.engine, who.actor, definition, roles=ctx.settings.evaluator_roles, at=ctx.now()
    ):
        # the same answer as for a number that does not exist: a number is no secret,
        # but what another unit's SOP was judged is not this person's to learn
        raise EvaluationNotFoundError(f"no evaluation number {number}", field="id")
    return found


def _sop_name(ctx: WebContext, e: Evaluation) -> str:
    try:
        return ctx.engine.definition(e.version).name
    except SopflowError:  # shown as its id
        return e.process_id


def print_html(ctx: WebContext, request: Request, e: Evaluation, *, inline_css: bool) -> str:
    """The printable evaluation sheet; with ``inline_css`` for the API's document CSP."""
    from sopflow.web._pages import render_text

    css = (
        resources.files("sopflow.web").joinpath("static", "cetak.css").read_text("utf-8")
        if inline_css
        else None
    )
    directory = ctx.directory()
    unit = directory.units.get(e.unit)
    return render_text(
        request,
        "evaluasi_cetak.html",
        e=e,
        sop=_sop_name(ctx, e),
        unit_name=unit.nama if unit is not None else e.unit,
        inline_css=css,
    )


@router.get(
    "/evaluation-criteria",
    response_model=list[CriterionDef],
    summary="The seven criteria an SOP is evaluated against, in the table's order",
)
def criteria(who: Viewer) -> Any:
    return [{"kriteria": k, "uraian": v} for k, v in CRITERIA.items()]


@router.post(
    "/processes/{process_id}/evaluations",
    status_code=201,
    response_model=EvaluationOut,
    summary="Record an evaluation of the SOP (evaluator positions only)",
)
def record(
    process_id: Annotated[str, Path(max_length=200)], body: EvaluationIn, who: Acting, ctx: Ctx
) -> Any:
    """Every criterion answered Ya/Tidak; signed with the evaluator's position. Refused
    (403 EvaluatorError) for anyone without an evaluator position over the SOP's unit."""
    stored = record_evaluation(
        ctx.engine,
        process_id,
        actor=who.actor,
        answers=dict(body.kriteria),
        catatan=dict(body.catatan),
        tanggal=None if body.tanggal is None else parse_tanggal(body.tanggal),
        version=body.version,
        roles=ctx.settings.evaluator_roles,
        at=ctx.now(),
    )
    return stored.to_dict()


@router.get(
    "/evaluations",
    response_model=list[EvaluationOut],
    responses={200: {"content": {"text/csv": {}}}},
    summary="Stored evaluations this person may read, newest first",
)
def evaluations(
    who: Viewer,
    ctx: Ctx,
    process_id: Annotated[str | None, Query(max_length=200)] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """With ``format=csv``: one row per criterion of each evaluation (the sheet agencies
    file together with the monitoring form)."""
    if process_id is not None and process_id not in ctx.engine.catalog:
        raise UnitAccessError(f"no SOP {process_id!r} whose evaluations this person may read")
    found = list_evaluations(
        ctx.engine,
        actor=who.actor,
        process_id=process_id,
        roles=ctx.settings.evaluator_roles,
        at=ctx.now(),
    )
    if format == "json":
        return [e.to_dict() for e in found]
    from sopflow.reports.report import csv_cell

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "process_id", "unit", "tanggal", "nip", "jabatan", "kriteria", "ya", "catatan",
         "nilai"]
    )
    for e in found:
        for a in e.answers:
            writer.writerow(
                [csv_cell(v) for v in (
                    e.id, e.process_id, e.unit, e.tanggal.isoformat(), e.nip, e.penilai,
                    a.label, "Ya" if a.ya else "Tidak", a.catatan, f"{e.score:.4f}",
                )]
            )
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get(
    "/evaluations/{number}",
    response_model=EvaluationOut,
    responses={200: {"content": {"text/html": {}}}},
    summary="One stored evaluation; format=html is the printable sheet",
)
def one(
    number: Annotated[int, Path(ge=1, le=2**53)],
    who: Viewer,
    ctx: Ctx,
    request: Request,
    format: Literal["json", "html"] = "json",
) -> Any:
    e = evaluation_for(ctx, who, number)
    if format == "html":
        return Response(
            print_html(ctx, request, e, inline_css=True), media_type="text/html; charset=utf-8"
        )
    return e.to_dict()
