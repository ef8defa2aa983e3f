"""The Evaluasi pages: evaluate an SOP against the seven criteria, the stored list, print.

A plain HTML form that POSTs (CSRF token in a hidden field) and redirects to the
printable sheet, so it works without JavaScript; radio buttons for Ya/Tidak and a
textarea per criterion, one column on a phone. The library decides who may evaluate
and checks the answers (:mod:`sopflow.authority.evaluation`); a refused or incomplete
form is shown again with the values given and the field named.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sopflow.authority.base import signed_as
from sopflow.authority.evaluation import (
    evaluator_holding,
    list_evaluations,
    record_evaluation,
    sop_unit,
)
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import EvaluationError, UnknownProcessError
from sopflow.reports.evaluation import CRITERIA, MAX_CATATAN, parse_tanggal
from sopflow.web._auth import Principal
from sopflow.web._context import WebContext
from sopflow.web._deps import Ctx
from sopflow.web._pages import _back, _base, _form, _render, _who
from sopflow.web._problems import status_of

__all__ = ["evaluable", "router"]

router = APIRouter(include_in_schema=False)


def evaluable(ctx: WebContext, who: Principal) -> list[tuple[ProcessDefinition, str]]:
    """The SOPs this person may evaluate, with the position they would sign as."""
    directory = ctx.directory()
    roles = ctx.settings.evaluator_roles
    out = []
    for d in sorted(ctx.engine.catalog, key=lambda d: d.name):
        unit = sop_unit(directory, d)
        if unit is None:
            continue
        holding = evaluator_holding(ctx.credentials(who.nip, unit), unit, directory, roles)
        if holding is not None:
            out.append((d, signed_as(holding.kind, holding.position_name or holding.role)))
    return out


def _said(exc: EvaluationError) -> str:
    """The library's refusal, said in Bahasa Indonesia for the form (the field decides)."""
    field = exc.field or ""
    kind, _, key = field.partition(".")
    label = CRITERIA.get(key, key)
    if kind == "kriteria" and key not in CRITERIA:
        return "Kriteria yang dikirim tidak dikenal; muat ulang halaman."
    if kind == "kriteria" and exc.message.startswith("not answered"):
        return f"Kriteria \u201c{label}\u201d belum dijawab (Ya atau Tidak)."
    if kind == "kriteria":
        return f"Kriteria \u201c{label}\u201d harus dijawab Ya atau Tidak."
    if kind == "catatan" and "characters" in exc.message:
        return f"Catatan \u201c{label}\u201d lebih dari {MAX_CATATAN} karakter (terlalu panjang)."
    if kind == "catatan":
        return f"Catatan \u201c{label}\u201d memuat karakter kendali; hapus karakter itu."
    if field == "tanggal" and "after today" in exc.message:
        return "Tanggal evaluasi tidak boleh setelah hari ini."
    if field == "tanggal":
        return "Tanggal evaluasi tidak valid (HH-BB-TTTT)."
    return f"Evaluasi tidak dapat disimpan: {exc.message}"


def _page(
    request: Request,
    ctx: WebContext,
    who: Principal,
    sop: str | None,
    *,
    status: int = 200,
    error: str | None = None,
    given: dict[str, Any] | None = None,
) -> HTMLResponse:
    mine = evaluable(ctx, who)
    chosen = next(((d, signs) for d, signs in mine if d.process_id == sop), None)
    stored = list_evaluations(ctx.engine, actor=who.actor, roles=ctx.settings.evaluator_roles)
    names = {d.process_id: d.name for d in ctx.engine.catalog}
    return _render(
        request,
        "evaluasi.html",
        status=status,
        mine=mine,
        chosen=chosen,
        criteria=CRITERIA,
        stored=stored,
        names=names,
        error=error,
        given=given or {},
        today=ctx.directory().day(ctx.now()).isoformat(),
        **_base(ctx, who),
    )


@router.get("/evaluasi")
def evaluation_page(request: Request, ctx: Ctx, sop: str | None = None) -> Response:
    who = _who(ctx, request)
    return _page(request, ctx, who, sop)


@router.post("/evaluasi/{process_id}")
async def evaluation_submit(process_id: str, request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    form = await _form(request, who)
    answers = {k[2:]: v for k, v in form.items() if k.startswith("k_") and isinstance(v, str)}
    notes = {k[2:]: v for k, v in form.items() if k.startswith("c_") and isinstance(v, str)}
    tanggal = form.get("tanggal")
    given = {"answers": answers, "notes": notes, "tanggal": tanggal}
    if process_id not in ctx.engine.catalog:
        raise UnknownProcessError(f"no SOP {process_id[:80]!r} in the catalog")
    try:
        stored = record_evaluation(
            ctx.engine,
            process_id,
            actor=who.actor,
            answers=answers,
            catatan=notes,
            tanggal=parse_tanggal(tanggal) if isinstance(tanggal, str) and tanggal else None,
            roles=ctx.settings.evaluator_roles,
            at=ctx.now(),
        )
    except EvaluationError as exc:
        return _page(
            request, ctx, who, process_id, status=status_of(exc), error=_said(exc), given=given
        )
    return _back(request, f"/evaluasi/{stored.id}/cetak")


@router.get("/evaluasi/{number}/cetak")
def evaluation_print(number: int, request: Request, ctx: Ctx) -> Response:
    from sopflow.web._api_evaluations import evaluation_for, print_html

    who = _who(ctx, request)
    e = evaluation_for(ctx, who, number)
    return HTMLResponse(print_html(ctx, request, e, inline_css=False))
