"""Errors as RFC 9457 problem details (``application/problem+json``), by typed error.

The ``type`` is ``urn:sopflow:error:<Name>`` and ``error`` the exception's class name
(the same name the CLI and the library raise), so a client branches on it rather than
on the wording. A lost race is 409 (``ConflictError``); acting on a revision that
``If-Match`` named and that has moved on is 412 (``RevisionMismatchError``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from sopflow.errors import (
    AuthenticationError,
    ChainBrokenError,
    ClaimedError,
    ClockError,
    ConflictError,
    CorruptInstanceError,
    CsrfError,
    DefinitionError,
    DirectoryError,
    EvaluationError,
    EvaluationNotFoundError,
    ExpressionError,
    IncidentNotFoundError,
    InstanceClosedError,
    InstanceNotFoundError,
    JobNotFoundError,
    LoginThrottledError,
    MessageAmbiguousError,
    MessageNotCorrelatedError,
    PermissionDeniedError,
    RendererUnavailableError,
    RevisionMismatchError,
    RuntimeFault,
    SopflowError,
    StoreError,
    TaskAlreadyCompletedError,
    TaskDataError,
    TaskNotFoundError,
    UnknownProcessError,
    WaktuError,
)

__all__ = ["PROBLEM", "install_handlers", "problem", "status_of"]

PROBLEM = "application/problem+json"

#: most specific first: the first class the error is an instance of decides
_STATUS: tuple[tuple[type[SopflowError], int], ...] = (
    (RevisionMismatchError, 412),
    (LoginThrottledError, 429),
    (AuthenticationError, 401),
    (CsrfError, 403),
    (PermissionDeniedError, 403),
    (InstanceNotFoundError, 404),
    (UnknownProcessError, 404),
    (TaskAlreadyCompletedError, 409),
    (TaskNotFoundError, 404),
    (ConflictError, 409),
    (ClaimedError, 409),
    (InstanceClosedError, 409),
    (ClockError, 409),
    (TaskDataError, 422),
    (JobNotFoundError, 404),
    (IncidentNotFoundError, 404),
    (MessageNotCorrelatedError, 404),
    (MessageAmbiguousError, 409),
    (RuntimeFault, 400),
    (ChainBrokenError, 409),
    (CorruptInstanceError, 409),
    (RendererUnavailableError, 503),
    (StoreError, 500),
    (DirectoryError, 422),
    (EvaluationNotFoundError, 404),
    (EvaluationError, 422),
    (ExpressionError, 422),
    (WaktuError, 422),
    (DefinitionError, 422),
)


def status_of(exc: SopflowError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


def problem(
    status: int, name: str, detail: str, *, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:sopflow:error:{name}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "error": name,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="sopflow", charset="UTF-8"'
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def sopflow_problem(request: Request, exc: SopflowError) -> JSONResponse:
    status = status_of(exc)
    response = problem(
        status,
        type(exc).__name__,
        str(exc),
        instance=request.url.path,
        instance_id=getattr(exc, "instance_id", None),
        task_id=getattr(exc, "task_id", None),
        field=getattr(exc, "field", None),
    )
    if isinstance(exc, LoginThrottledError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install_handlers(app: FastAPI, *, html: Any = None) -> None:
    """Problem details for the API; ``html(request, status, exc)`` renders page errors."""

    def wants_html(request: Request) -> bool:
        root = str(request.scope.get("root_path", ""))
        return html is not None and not request.url.path.removeprefix(root).startswith("/api/")

    async def on_sopflow(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SopflowError)
        if wants_html(request):
            result: Response = html(request, status_of(exc), exc)
            return result
        return sopflow_problem(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        return problem(
            422, "RequestValidationError", detail, instance=request.url.path, errors=errors
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        name = HTTPStatus(exc.status_code).phrase.replace(" ", "")
        if wants_html(request):
            result: Response = html(request, exc.status_code, exc)
            return result
        return problem(exc.status_code, name, str(exc.detail), instance=request.url.path)

    app.add_exception_handler(SopflowError, on_sopflow)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
