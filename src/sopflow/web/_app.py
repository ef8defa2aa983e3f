"""The ASGI application: the API under /api/v1, the pages, the static files, the headers.

``create_app(engine)`` is all an office needs to mount sopflow in its own ASGI
application; ``app_from_environment`` builds one per worker process for
``sopflow serve --workers N`` (uvicorn imports it by name in each worker).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from sopflow.errors import StoreError
from sopflow.runtime.engine import Engine
from sopflow.web._context import WebContext
from sopflow.web._problems import install_handlers
from sopflow.web._settings import WebSettings

__all__ = ["app_from_environment", "create_app", "open_engine"]

#: pages: scripts and styles only from this origin, no inline code, no framing
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; connect-src 'self'"
)
#: SVG pictures and the generated documents carry their own <style>; they run no script
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


#: the largest request body: an SOP step's form data is a few kilobytes
MAX_BODY = 256 * 1024


def _static_dir() -> Path:
    return Path(str(resources.files("sopflow.web").joinpath("static")))


def create_app(engine: Engine, settings: WebSettings | None = None) -> FastAPI:
    """The web application over ``engine`` (whose store must hold a staff directory)."""
    from sopflow.authority.staff import DirectoryAuthority

    if not isinstance(engine.authority, DirectoryAuthority):
        raise StoreError(
            f"{engine.store.url}: sopflow serve needs a staff directory in the store "
            "(sopflow staff import FILE); without one, roles would be taken on trust"
        )
    from sopflow import __version__
    from sopflow.web import (
        _api_evaluations,
        _api_instances,
        _api_jobs,
        _api_processes,
        _api_reports,
        _api_session,
        _pages,
        _pages_evaluasi,
    )

    app = FastAPI(
        title="sopflow",
        version=__version__,
        summary="Indonesian government SOPs run as BPMN processes: work, status, SLA, reports.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: not served
        redoc_url=None,
    )
    app.state.sopflow = WebContext(engine, settings or WebSettings())
    api = APIRouter(prefix="/api/v1")
    api.include_router(_api_session.router)
    api.include_router(_api_processes.router)
    api.include_router(_api_instances.router)
    api.include_router(_api_instances.work_router)
    api.include_router(_api_reports.router)
    api.include_router(_api_reports.directory_router)
    api.include_router(_api_evaluations.router)
    api.include_router(_api_jobs.events_router)
    api.include_router(_api_jobs.external_router)
    api.include_router(_api_jobs.incident_router)
    app.include_router(api)
    app.include_router(_pages.router)
    app.include_router(_pages_evaluasi.router)
    app.mount("/static", StaticFiles(directory=_static_dir()), name="static")
    install_handlers(app, html=_pages.error_page)

    @app.middleware("http")
    async def limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse a body larger than MAX_BODY before anything reads it."""
        length = request.headers.get("content-length", "0")
        if (
            not length.isdigit()
            or int(length) > MAX_BODY
            or ("transfer-encoding" in request.headers and request.method not in ("GET", "HEAD"))
        ):
            from sopflow.web._problems import problem

            return problem(
                413,
                "PayloadTooLarge",
                f"a request body has at most {MAX_BODY} bytes, with a Content-Length",
                instance=request.url.path,
            )
        return await call_next(request)

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        kind = response.headers.get("content-type", "")
        is_page = kind.startswith("text/html") and not request.url.path.startswith(
            (f"{request.scope.get('root_path', '')}/api/", "/api/")
        )
        if is_page or not kind.startswith(("image/svg", "text/html")):
            response.headers["Content-Security-Policy"] = PAGE_CSP
        else:
            response.headers["Content-Security-Policy"] = DOCUMENT_CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("X-Frame-Options", "DENY")
        if "cache-control" not in response.headers and not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        token = getattr(request.state, "new_session", None)
        if token is not None:
            from sopflow.web._api_session import set_session_cookie

            set_session_cookie(request.app.state.sopflow, request, response, token)
        return response

    return app


def open_engine(db: str, catalog: str | None) -> Engine:
    """An engine over the store at ``db`` and the catalog directory (default: shipped)."""
    from sopflow.definitions.catalog import Catalog
    from sopflow.sla.policy import SlaPolicy
    from sopflow.stores import open_store

    cat = Catalog.from_directory(catalog) if catalog else Catalog.builtin()
    store = open_store(db)
    return Engine(cat, store, sla=SlaPolicy())


def settings_from_environment(env: Any = None) -> WebSettings:
    from sopflow.authority.evaluation import EVALUATOR_ROLES

    env = os.environ if env is None else env

    def words(key: str) -> frozenset[str]:
        return frozenset(w for w in env.get(key, "").replace(",", " ").split() if w)

    secure = env.get("SOPFLOW_WEB_SECURE_COOKIES")
    return WebSettings(
        session_minutes=int(env.get("SOPFLOW_WEB_SESSION_MINUTES", 8 * 60)),
        trusted_header=env.get("SOPFLOW_WEB_TRUSTED_HEADER") or None,
        trusted_proxies=words("SOPFLOW_WEB_TRUSTED_PROXIES"),
        admins=words("SOPFLOW_WEB_ADMINS"),
        operators=words("SOPFLOW_WEB_OPERATORS"),
        evaluator_roles=words("SOPFLOW_WEB_EVALUATOR_ROLES") or EVALUATOR_ROLES,
        secure_cookies=None if secure is None else secure == "1",
    )


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker: SOPFLOW_DB, SOPFLOW_CATALOG, SOPFLOW_WEB_*."""
    engine = open_engine(
        os.environ.get("SOPFLOW_DB", "sqlite:///sopflow.db"),
        os.environ.get("SOPFLOW_CATALOG") or None,
    )
    return create_app(engine, settings_from_environment())
