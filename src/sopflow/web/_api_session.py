"""/api/v1/session: log in (NIP and password), who am I, log out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sopflow.web._auth import (
    SESSION_COOKIE,
    Principal,
    client_address,
    login,
    logout,
)
from sopflow.web._context import WebContext
from sopflow.web._deps import Acting, Ctx, Viewer
from sopflow.web._models import LoginIn, SessionOut

__all__ = ["router", "session_out", "set_session_cookie"]

router = APIRouter(prefix="/session", tags=["session"])


def set_session_cookie(ctx: WebContext, request: Request, response: Response, token: str) -> None:
    secure = ctx.settings.secure_cookies
    if secure is None:
        secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ctx.settings.session_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=secure,
        path=str(request.scope.get("root_path") or "") or "/",
    )


def session_out(ctx: WebContext, who: Principal) -> dict[str, Any]:
    return {
        "nip": who.nip,
        "nama": who.name,
        "csrf_token": who.csrf,
        "positions": [
            {
                "role": h.role,
                "kind": h.kind,
                "position": h.position,
                "position_name": h.position_name,
                "unit": h.unit,
                "basis": h.basis,
            }
            for h in ctx.holdings(who.nip)
        ],
        "admin": ctx.is_admin(who.nip),
    }


@router.post("", response_model=SessionOut, status_code=201, summary="Log in")
def create_session(body: LoginIn, request: Request, response: Response, ctx: Ctx) -> Any:
    """Check NIP and password; sets the HttpOnly session cookie and returns the CSRF token
    to send as ``X-CSRF-Token`` on every state-changing call made with that cookie."""
    token, session = login(ctx, body.nip, body.password, client_address(request))
    set_session_cookie(ctx, request, response, token)
    who = Principal(session.nip, None, "cookie", csrf=session.csrf)
    out = session_out(ctx, who)
    out["nama"] = ctx.directory().people[session.nip].nama
    return out


@router.get("", response_model=SessionOut, summary="Who is logged in")
def read_session(who: Viewer, ctx: Ctx) -> Any:
    return session_out(ctx, who)


@router.delete("", status_code=204, summary="Log out")
def delete_session(who: Acting, request: Request, ctx: Ctx) -> Response:
    logout(ctx, request)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path=str(request.scope.get("root_path") or "") or "/")
    return response
