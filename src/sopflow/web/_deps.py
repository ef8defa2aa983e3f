"""FastAPI dependencies: the shared context, the principal, CSRF, If-Match, conversions."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from sopflow.authority.base import signed_as
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import RevisionMismatchError
from sopflow.runtime.views import Progress, WorkItem
from sopflow.web._auth import Principal, authenticate, check_csrf
from sopflow.web._context import WebContext

__all__ = [
    "Acting",
    "Ctx",
    "Viewer",
    "WorkShaper",
    "check_if_match",
    "progress_out",
    "task_ref",
    "work_out",
]


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.sopflow
    return ctx


Ctx = Annotated[WebContext, Depends(context)]


def principal(request: Request, ctx: Ctx) -> Principal:
    found = authenticate(ctx, request)
    if found.token is not None:
        request.state.new_session = found.token  # set as cookie by the middleware
    return found


def acting(request: Request, who: Annotated[Principal, Depends(principal)]) -> Principal:
    """The principal of a state-changing API call: with a cookie, the CSRF header too."""
    check_csrf(who, request, None)
    return who


Viewer = Annotated[Principal, Depends(principal)]
Acting = Annotated[Principal, Depends(acting)]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="the instance revision (ETag of GET /instances/{id})"),
]


def check_if_match(ctx: WebContext, instance_id: str, if_match: str | None) -> None:
    """412 when ``If-Match`` names a revision the instance has moved past."""
    if if_match is None or if_match.strip() == "*":
        return
    current = ctx.store.load_instance(instance_id).revision
    wanted = {int(n) for n in re.findall(r'"?(\d{1,18})"?', if_match)}
    if current not in wanted:
        raise RevisionMismatchError(
            f"revision {current} is current, If-Match named {if_match.strip()[:40]!r}",
            instance_id=instance_id,
        )


def task_ref(task: str) -> str | int:
    """A step number ("10") or a task id ("Activity_10")."""
    return int(task) if task.isdigit() and len(task) < 6 else task


class WorkShaper:
    """Shapes the work items of one request: each instance's unit and each (role, unit)
    holding are read once, not once per item (a Sekcam's list can hold a hundred steps)."""

    def __init__(self, ctx: WebContext, nip: str | None, many: bool = False) -> None:
        self.ctx, self.nip = ctx, nip
        self._units: dict[str, str] | None = ctx.store.instance_units() if many else None
        self._held: dict[tuple[str | None, str | None], str | None] = {}

    def unit(self, instance_id: str) -> str | None:
        if self._units is not None:
            return self._units.get(instance_id)
        return self.ctx.unit_of(instance_id)

    def __call__(self, item: WorkItem) -> dict[str, Any]:
        ctx = self.ctx
        definition = ctx.engine.definition(item.version)
        out = item.to_dict(ctx.zone(definition))
        unit = self.unit(item.instance_id)
        out["unit"] = unit
        if self.nip is not None:
            key = (item.role, unit)
            if key not in self._held:
                holding = ctx.acting_as(self.nip, item.role, unit)
                self._held[key] = (
                    signed_as(holding.kind, holding.position_name)
                    if holding is not None and holding.position_name
                    else None
                )
            if self._held[key] is not None:
                out["acting_as"] = self._held[key]
        return out


def work_out(ctx: WebContext, item: WorkItem, nip: str | None = None) -> dict[str, Any]:
    return WorkShaper(ctx, nip)(item)


def progress_out(ctx: WebContext, progress: Progress) -> dict[str, Any]:
    return {
        "instance_id": progress.instance_id,
        "status": progress.status,
        "ready": list(progress.ready),
        "path": [d.to_dict() for d in progress.path],
        "revision": ctx.store.load_instance(progress.instance_id).revision,
    }


def due_key(item: WorkItem) -> tuple[int, float, float]:
    """Oldest due first; steps without a standard after them, oldest ready first."""
    due = item.due_at.timestamp() if item.due_at is not None else 0.0
    return (item.due_at is None, due, item.ready_at.timestamp())


def called_names(ctx: WebContext, definition: ProcessDefinition) -> dict[str, str]:
    return {d.process_id: d.name for d in ctx.engine.catalog}
