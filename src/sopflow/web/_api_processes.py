"""/api/v1/processes: the catalog's SOPs, their table, BPMN, picture, document; start one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from sopflow.definitions.model import ProcessDefinition
from sopflow.web._context import WebContext
from sopflow.web._deps import Acting, Ctx, Viewer, called_names, progress_out
from sopflow.web._models import ProcessOut, ProcessSummary, ProgressOut, StartIn

__all__ = ["SVG", "router", "summary"]

router = APIRouter(prefix="/processes", tags=["processes"])
SVG = "image/svg+xml"


def summary(d: ProcessDefinition) -> dict[str, Any]:
    return {
        "process_id": d.process_id,
        "name": d.name,
        "nomor": d.header.nomor,
        "kecamatan": d.header.kecamatan,
        "pemerintah": d.header.pemerintah,
        "version": d.version,
        "steps": len(d.steps),
        "executable": d.executable,
    }


def _definition(ctx: WebContext, process_id: str) -> ProcessDefinition:
    return ctx.engine.catalog.get(process_id)


@router.get("", response_model=list[ProcessSummary], summary="The SOPs of the catalog")
def list_processes(who: Viewer, ctx: Ctx) -> Any:
    return [summary(d) for d in sorted(ctx.engine.catalog, key=lambda d: d.process_id)]


@router.get("/{process_id}", response_model=ProcessOut, summary="An SOP as its table")
def read_process(process_id: str, who: Viewer, ctx: Ctx) -> Any:
    return _definition(ctx, process_id).to_dict()


@router.get(
    "/{process_id}/bpmn",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
    summary="The BPMN 2.0 file",
)
def read_bpmn(process_id: str, who: Viewer, ctx: Ctx) -> Response:
    return Response(_definition(ctx, process_id).xml, media_type="application/xml")


@router.get(
    "/{process_id}/picture.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}},
    summary="The process picture (heat: share of passes within the standard per step)",
)
def read_picture(process_id: str, who: Viewer, ctx: Ctx, heat: bool = False) -> Response:
    from sopflow.reports.render import render_process_svg

    definition = _definition(ctx, process_id)
    if not heat:
        return Response(render_process_svg(definition), media_type=SVG)
    from sopflow.web._api_reports import process_report_for

    report = process_report_for(ctx, who, definition)
    return Response(render_process_svg(definition, share_met=report.share_met()), media_type=SVG)


@router.get(
    "/{process_id}/document",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}},
    summary="The official SOP document (Permenpan-RB 35/2012) as HTML",
)
def read_document(process_id: str, who: Viewer, ctx: Ctx) -> Response:
    from sopflow.reports.document import render_html

    definition = _definition(ctx, process_id)
    html = render_html(definition, called=called_names(ctx, definition))
    return Response(html, media_type="text/html; charset=utf-8")


@router.get(
    "/{process_id}/document.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}},
        503: {"description": "no headless Chromium on the server (RendererUnavailableError)"},
    },
    summary="The official SOP document as PDF (A4 landscape, printed by headless Chromium)",
)
def read_document_pdf(process_id: str, who: Viewer, ctx: Ctx) -> Response:
    from sopflow.reports.document import render_html
    from sopflow.reports.pdf import html_to_pdf

    definition = _definition(ctx, process_id)
    pdf = html_to_pdf(render_html(definition, called=called_names(ctx, definition)))
    name = f"SOP-{definition.process_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.post(
    "/{process_id}/instances",
    response_model=ProgressOut,
    status_code=201,
    summary="Start an instance (in the SOP's kecamatan unless ``unit`` is given)",
)
def start_instance(process_id: str, body: StartIn, who: Acting, ctx: Ctx) -> Any:
    progress = ctx.engine.start(process_id, actor=who.actor, data=body.data, unit=body.unit)
    return progress_out(ctx, progress)
