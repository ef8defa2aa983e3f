"""The pages, in Bahasa Indonesia: Tugas saya, a step, Mulai SOP, Pemantauan, Masuk.

Plain HTML forms that POST and redirect (so every core action works without
JavaScript); htmx, when it loads, only boosts links and forms. Jinja2 escapes every
value it prints. The handlers call the same engine methods as the API, as the person.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import AuthenticationError, LoginThrottledError, SopflowError
from sopflow.reports.monthly import MonthShare, monthly_share
from sopflow.runtime.views import StepRecord, WorkItem
from sopflow.web._auth import (
    CSRF_FIELD,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    Principal,
    authenticate,
    check_csrf,
    check_prelogin,
    client_address,
    login,
    logout,
)
from sopflow.web._context import WebContext
from sopflow.web._deps import Ctx, WorkShaper, due_key, task_ref, work_out
from sopflow.web._problems import status_of

__all__ = ["error_page", "render_text", "router"]

router = APIRouter(include_in_schema=False)

_env = Environment(
    loader=PackageLoader("sopflow.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)

SLA_LABELS = {
    "on_track": "sesuai waktu",
    "at_risk": "hampir lewat waktu",
    "breached": "lewat waktu",
    "no_standard": "tanpa standar waktu",
}
STATUS_LABELS = {"running": "berjalan", "completed": "selesai", "cancelled": "dibatalkan"}


def _local(moment: datetime | None, definition: ProcessDefinition, ctx: WebContext) -> str:
    if moment is None:
        return "-"
    tz = ctx.zone(definition)
    local = moment.astimezone(tz)
    return f"{local:%d-%m-%Y %H:%M} {local.tzname() or ''}".strip()


def render_text(request: Request, template: str, **values: Any) -> str:
    """A template rendered (every value escaped by Jinja2's autoescape)."""
    root = str(request.scope.get("root_path", ""))
    return _env.get_template(template).render(
        root=root, sla_labels=SLA_LABELS, status_labels=STATUS_LABELS, **values
    )


def _render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(render_text(request, template, **values), status_code=status)


def _back(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(str(request.scope.get("root_path", "")) + path, status_code=303)


def error_page(request: Request, status: int, exc: Exception) -> Response:
    if isinstance(exc, AuthenticationError) and not isinstance(exc, LoginThrottledError):
        return _back(request, "/masuk")
    detail = str(exc) if isinstance(exc, SopflowError) else str(getattr(exc, "detail", exc))
    name = type(exc).__name__
    return _render(
        request, "error.html", status=status, status_code=status, name=name, detail=detail, who=None
    )


def _who(ctx: WebContext, request: Request) -> Principal:
    who = authenticate(ctx, request)
    if who.token is not None:
        request.state.new_session = who.token
    return who


async def _form(request: Request, who: Principal) -> FormData:
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_csrf(who, request, token if isinstance(token, str) else None)
    return form


def _base(ctx: WebContext, who: Principal) -> dict[str, Any]:
    return {"who": who, "csrf": who.csrf, "holdings": ctx.holdings(who.nip)}


# ----------------------------------------------------------------------------- login


@router.get("/masuk")
def login_page(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    response = _render(request, "login.html", who=None, prelogin=token, message=None)
    response.set_cookie(
        PRELOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/masuk")
def login_submit(
    request: Request,
    ctx: Ctx,
    nip: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    from sopflow.web._api_session import set_session_cookie

    check_prelogin(request, csrf)
    try:
        token, _ = login(ctx, nip, password, client_address(request))
    except AuthenticationError as exc:
        status = status_of(exc)
        message = (
            "Terlalu banyak percobaan gagal; coba lagi nanti."
            if isinstance(exc, LoginThrottledError)
            else "NIP atau kata sandi salah, atau NIP tidak memegang jabatan."
        )
        return _render(
            request, "login.html", status=status, who=None, prelogin=csrf, message=message, nip=nip
        )
    response = _back(request, "/")
    set_session_cookie(ctx, request, response, token)
    response.delete_cookie(PRELOGIN_COOKIE)
    return response


@router.post("/keluar")
async def logout_submit(request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    await _form(request, who)
    logout(ctx, request)
    response = _back(request, "/masuk")
    response.delete_cookie(SESSION_COOKIE, path=str(request.scope.get("root_path") or "") or "/")
    return response


# ----------------------------------------------------------------------------- tugas saya


@router.get("/")
def my_work(request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    items = sorted(ctx.engine.work_list(actor=who.actor), key=due_key)
    rows = []
    shape = WorkShaper(ctx, who.nip, many=len(items) > 20)
    for w in items:
        definition = ctx.engine.definition(w.version)
        out = shape(w)
        out["due_local"] = _local(w.due_at, definition, ctx)
        out["sop"] = definition.name
        out["nomor"] = _case_label(ctx, w.instance_id)
        rows.append(out)
    return _render(request, "tugas.html", items=rows, **_base(ctx, who))


def _case_label(ctx: WebContext, instance_id: str) -> str:
    from sopflow.runtime.state import load_state

    row = ctx.store.load_instance(instance_id)
    try:
        data = load_state(row.state, instance_id, ctx.engine.definition(row.version)).data
    except SopflowError:
        return instance_id[:8]
    label = data.get("nomor_demo") or data.get("nomor")
    return str(label) if label else instance_id[:8]


@router.post("/tugas/{instance_id}/{task}/ambil")
async def claim_page(instance_id: str, task: str, request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    await _form(request, who)
    ctx.engine.claim(instance_id, task_ref(task), actor=who.actor)
    return _back(request, "/")


@router.post("/tugas/{instance_id}/{task}/lepas")
async def release_page(instance_id: str, task: str, request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    await _form(request, who)
    ctx.engine.release(instance_id, task_ref(task), actor=who.actor)
    return _back(request, "/")


# ----------------------------------------------------------------------------- a step


def _returned_note(history: list[StepRecord], item: WorkItem) -> StepRecord | None:
    """The latest "Tidak" with a catatan that sent the instance back before this step."""
    found = None
    for record in history:
        data = record.data or {}
        if (
            record.completed_at is not None
            and record.completed_at <= item.ready_at
            and data.get("disetujui") is False
            and data.get("catatan")
        ):
            found = record
    return found


@router.get("/tugas/{instance_id}/{task}")
def step_page(instance_id: str, task: str, request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    view = ctx.engine.status(instance_id, actor=who.actor)
    definition = ctx.engine.definition(view.version)
    ref = task_ref(task)
    item = next(
        (w for w in view.open_steps if w.task_id == ref or (w.step_no == ref and w.step_no)),
        None,
    )
    history = list(view.history)
    step = definition.step(item.task_id) if item else None
    returned = _returned_note(history, item) if item else None
    fields = _fields(item, step.decision_field if step else None) if item else []
    return _render(
        request,
        "langkah.html",
        view=view,
        sop=definition.name,
        item=work_out(ctx, item, who.nip) if item else None,
        step=step,
        fields=fields,
        decision=step.decision_field if step else None,
        due_local=_local(item.due_at, definition, ctx) if item else "-",
        ready_local=_local(item.ready_at, definition, ctx) if item else "-",
        history=[
            {
                "record": h,
                "ready": _local(h.ready_at, definition, ctx),
                "done": _local(h.completed_at, definition, ctx),
            }
            for h in history
        ],
        returned=returned,
        returned_done=_local(returned.completed_at, definition, ctx) if returned else "",
        nomor=_case_label(ctx, instance_id),
        **_base(ctx, who),
    )


def _fields(item: WorkItem, decision: str | None) -> list[dict[str, Any]]:
    schema = item.form or {}
    required = set(schema.get("required", ()))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        if name == decision:
            continue
        out.append(
            {
                "name": name,
                "label": prop.get("title") or name,
                "type": prop.get("type", "string"),
                "format": prop.get("format"),
                "enum": prop.get("enum"),
                "labels": prop.get("x-labels", {}),
                "required": name in required,
                "default": prop.get("default"),
            }
        )
    return out


def _submitted(item: WorkItem, decision: str | None, form: FormData) -> dict[str, Any]:
    """The form's text as the schema's types; the engine checks the values themselves."""
    schema = item.form or {}
    data: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        raw = form.get(f"f_{name}") if name != decision else form.get("keputusan")
        if not isinstance(raw, str) or raw == "":
            continue
        kind = prop.get("type")
        if kind == "boolean":
            data[name] = raw in ("ya", "true", "on")
        elif kind == "integer" and raw.strip().lstrip("-").isdigit() and len(raw) < 20:
            data[name] = int(raw)
        else:
            data[name] = raw
    note = form.get("catatan")
    if isinstance(note, str) and note.strip():
        data["catatan"] = note.strip()
    return data


@router.post("/tugas/{instance_id}/{task}/selesai")
async def complete_page(instance_id: str, task: str, request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    form = await _form(request, who)
    items = ctx.engine.work_list(instance_id=instance_id)
    ref = task_ref(task)
    item = next((w for w in items if w.task_id == ref or w.step_no == ref), None)
    if item is None:
        # not open any more: the engine says why (completed by someone else, unknown ...)
        ctx.engine.complete(instance_id, ref, actor=who.actor, data={})
        return _back(request, "/")
    step = ctx.engine.definition(item.version).step(item.task_id)
    decision = step.decision_field if step else None
    ctx.engine.complete(
        instance_id, item.task_id, actor=who.actor, data=_submitted(item, decision, form)
    )
    return _back(request, "/")


# ----------------------------------------------------------------------------- mulai SOP


def _startable(ctx: WebContext, who: Principal) -> list[ProcessDefinition]:
    """SOPs whose first step one of my positions takes, in the SOP's kecamatan (shown
    only; the engine checks the start itself)."""
    directory = ctx.directory()
    out = []
    for d in sorted(ctx.engine.catalog, key=lambda d: d.name):
        if not d.executable:  # a picture-only process (isExecutable="false") never starts
            continue
        first = d.step_by_no(1) or (d.steps[0] if d.steps else None)
        unit = directory.find_unit(d.header.kecamatan or "")
        if first is not None and ctx.acting_as(who.nip, first.role, unit.kode if unit else None):
            out.append(d)
    return out


@router.get("/mulai")
def start_page(request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    return _render(request, "mulai.html", sops=_startable(ctx, who), **_base(ctx, who))


@router.post("/mulai/{process_id}")
async def start_submit(process_id: str, request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    await _form(request, who)
    progress = ctx.engine.start(process_id, actor=who.actor)
    return _back(request, f"/instansi/{progress.instance_id}")


@router.get("/instansi/{instance_id}")
def instance_page(instance_id: str, request: Request, ctx: Ctx) -> Response:
    who = _who(ctx, request)
    view = ctx.engine.status(instance_id, actor=who.actor)
    definition = ctx.engine.definition(view.version)
    return _render(
        request,
        "instansi.html",
        view=view,
        sop=definition.name,
        nomor=_case_label(ctx, instance_id),
        open_steps=[
            {**work_out(ctx, w, who.nip), "due_local": _local(w.due_at, definition, ctx)}
            for w in view.open_steps
        ],
        history=[
            {
                "record": h,
                "ready": _local(h.ready_at, definition, ctx),
                "done": _local(h.completed_at, definition, ctx),
            }
            for h in view.history
        ],
        **_base(ctx, who),
    )


# ----------------------------------------------------------------------------- pemantauan


def _months(
    ctx: WebContext, who: Principal, d: ProcessDefinition, seen: dict[str, bool]
) -> list[MonthShare]:
    """The SOP's completed passes in instances this person may see, per month."""
    rows = []
    for row in ctx.store.completed_steps(process_id=d.process_id):
        if row.instance_id not in seen:
            seen[row.instance_id] = ctx.may_see(who.nip, ctx.store.load_instance(row.instance_id))
        if seen[row.instance_id]:
            rows.append(row)
    return monthly_share(rows, ctx.zone(d))


@router.get("/pemantauan")
def monitoring_page(request: Request, ctx: Ctx, unit: str | None = None) -> Response:
    from markupsafe import Markup

    from sopflow.reports.monthly import render_monthly_svg
    from sopflow.web._api_reports import form_rows, open_steps, process_report_for

    who = _who(ctx, request)
    directory = ctx.directory()
    if unit is not None and unit not in directory.units:
        unit = None
    steps = open_steps(ctx, who, unit)
    order = {"breached": 0, "at_risk": 1, "on_track": 2, "no_standard": 3}
    counts = {k: sum(1 for s in steps if s["status"] == k) for k in order}
    sops: list[dict[str, Any]] = []
    seen: dict[str, bool] = {}
    # the evaluation beside the monitoring form: the latest this person may read, and
    # a link to evaluate for those who may (web/_pages_evaluasi.py)
    from sopflow.authority.evaluation import list_evaluations
    from sopflow.web._pages_evaluasi import evaluable

    latest: dict[str, Any] = {}
    for e in list_evaluations(ctx.engine, actor=who.actor, roles=ctx.settings.evaluator_roles):
        latest.setdefault(e.process_id, e)
    may_evaluate = {d.process_id for d, _ in evaluable(ctx, who)}
    for d in sorted(ctx.engine.catalog, key=lambda d: d.name):
        try:
            report = process_report_for(ctx, who, d)
        except SopflowError:
            continue
        months = _months(ctx, who, d, seen)
        sops.append(
            {
                "definition": d,
                "form": form_rows(report),
                "instances": dict(report.instances),
                "months": months,
                "evaluation": latest.get(d.process_id),
                "may_evaluate": d.process_id in may_evaluate,
                "chart": Markup(
                    render_monthly_svg(
                        months,
                        title=f"Bagian langkah sesuai standar waktu per bulan: {d.name}",
                        ident=f"grafik-{len(sops) + 1}",
                    )
                ),
            }
        )
    for s in steps:
        due = datetime.fromisoformat(s["due_at"]) if s["due_at"] else None
        if due is not None and s["process_id"] in ctx.engine.catalog:
            due = due.astimezone(ctx.zone(ctx.engine.catalog.get(s["process_id"])))
        s["due_local"] = f"{due:%d-%m-%Y %H:%M} {due.tzname() or ''}".strip() if due else "-"
        s["nomor"] = _case_label(ctx, s["instance_id"])
        s["sop"] = (
            ctx.engine.catalog.get(s["process_id"]).name
            if s["process_id"] in ctx.engine.catalog
            else s["process_id"]
        )
    units = sorted({h.unit for h in ctx.holdings(who.nip) if h.unit})
    return _render(
        request,
        "pemantauan.html",
        steps=steps,
        counts=counts,
        sops=sops,
        unit=unit,
        units=[directory.units[u] for u in units if u in directory.units],
        **_base(ctx, who),
    )
