"""What the engine hands back: actors, work items, history and instance views.

These are plain frozen values, safe to pass across threads or serialize; ``to_dict``
gives the JSON shape the CLI prints (timestamps ISO-8601 with an offset).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from sopflow.errors import (
    CorruptDefinitionError,
    CorruptInstanceError,
    DefinitionError,
    RuntimeFault,
    WaktuError,
)

__all__ = ["Actor", "GatewayDecision", "InstanceView", "Progress", "StepRecord", "WorkItem"]


def to_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


#: What a stored time may be, in ms since the epoch: years 2..9998, so that the moment
#: shows in any zone (UTC-12..UTC+14) without leaving what ``datetime`` can represent.
STORED_MIN_MS = round(datetime(2, 1, 1, tzinfo=UTC).timestamp() * 1000)
STORED_MAX_MS = round(datetime(9998, 12, 31, tzinfo=UTC).timestamp() * 1000)


#: What reading one damaged stored instance raises: typed (CorruptInstanceError from
#: :func:`from_ms` or a step's data; DefinitionError for a stored definition that no
#: longer loads) or, for a value a driver hands back with the wrong type, untyped. A
#: listing catches these per instance and goes on (one damaged row stays one bad row).
STORED_DAMAGE: tuple[type[BaseException], ...] = (
    CorruptInstanceError,
    CorruptDefinitionError,
    DefinitionError,
    WaktuError,
    ValueError,
    TypeError,
    OverflowError,
    KeyError,
    IndexError,
)


def from_ms(ms: object) -> datetime:
    """A stored time back as a datetime; a damaged value is a CorruptInstanceError.

    The engine stores only times inside :data:`sopflow.runtime.clock.EARLIEST` ..
    ``LATEST``, but a row written by hand, by an older sopflow or by a damaged page must
    fail as one typed error for one instance, not as a ValueError that takes a whole
    listing down.
    """
    if isinstance(ms, bool) or not isinstance(ms, int):
        raise CorruptInstanceError(None, f"stored time {ms!r} is not a number of milliseconds")
    if not STORED_MIN_MS <= ms <= STORED_MAX_MS:
        raise CorruptInstanceError(None, f"stored time {ms} ms is out of range")
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso(moment: datetime | None, tz: tzinfo | None = None) -> str | None:
    if moment is None:
        return None
    return (moment.astimezone(tz) if tz else moment).isoformat()


@dataclass(frozen=True, slots=True, init=False)
class Actor:
    """Someone acting on an instance: an id and the roles (lane role codes) they hold."""

    id: str
    roles: frozenset[str]

    def __init__(self, id: str, roles: Iterable[str] | str = ()) -> None:
        object.__setattr__(self, "id", check_text(id, "actor id"))
        values = [roles] if isinstance(roles, str) else list(roles)
        object.__setattr__(self, "roles", frozenset(check_text(r, "role") for r in values))


def check_text(value: object, what: str) -> str:
    """A non-empty id that every store keeps and every terminal prints as it is.

    Refused: not a string (``Actor(None)``), empty, a NUL byte (PostgreSQL cannot store
    it), a lone surrogate (no encoding can write it) and control characters (a newline
    or an ANSI escape in an actor id would forge lines of ``status`` and the logs).
    """
    if not isinstance(value, str):
        raise RuntimeFault(f"{what} must be text, not {type(value).__name__}")
    if not value.strip():
        raise RuntimeFault(f"{what} is empty")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 for c in value):
        raise RuntimeFault(f"{what} {value!r} contains a control character or a lone surrogate")
    return value


@dataclass(frozen=True, slots=True)
class GatewayDecision:
    """The flow an exclusive gateway took: part of an instance's path."""

    gateway: str
    flow: str
    label: str | None
    target: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "gateway": self.gateway,
            "flow": self.flow,
            "label": self.label,
            "target": self.target,
        }


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A ready step waiting for someone holding ``role``."""

    instance_id: str
    process_id: str
    version: str
    task_id: str
    step_no: int | None
    name: str | None
    lane: str | None
    role: str | None
    kelengkapan: tuple[str, ...]
    output: tuple[str, ...]
    waktu: str | None
    ready_at: datetime
    due_at: datetime | None
    sla_status: str | None
    claimed_by: str | None
    #: the token (branch) it waits on, the how-manieth pass, the multi-instance item
    token: int | None = None
    pass_no: int | None = None
    item: str | None = None
    #: formKey / formRef / SpiffArena form file, for the application (docs/other-modelers.md)
    form_key: str | None = None
    #: the step's form as a JSON schema (runtime/forms.py), or None
    form: dict[str, Any] | None = None

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "process_id": self.process_id,
            "version": self.version,
            "task_id": self.task_id,
            "step_no": self.step_no,
            "name": self.name,
            "lane": self.lane,
            "role": self.role,
            "kelengkapan": list(self.kelengkapan),
            "output": list(self.output),
            "waktu": self.waktu,
            "ready_at": iso(self.ready_at, tz),
            "due_at": iso(self.due_at, tz),
            "sla_status": self.sla_status,
            "claimed_by": self.claimed_by,
            "token": self.token,
            "pass": self.pass_no,
            "item": self.item,
            "form_key": self.form_key,
            "form": self.form,
        }


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One pass through a step: who, when it became ready, when done, with which data."""

    task_id: str
    step_no: int | None
    name: str | None
    lane: str | None
    role: str | None
    ready_at: datetime
    completed_at: datetime | None
    actor: str | None
    claimed_by: str | None
    data: dict[str, Any] | None
    path: tuple[GatewayDecision, ...]
    waktu: str | None
    due_at: datetime | None
    token: int | None = None
    pass_no: int | None = None
    item: str | None = None
    #: completed / cancelled / terminated once closed, and why when not completed
    outcome: str | None = None
    reason: str | None = None
    #: who completed it as what: "Plh. Camat Cibatu (Nama, NIP ..., dasar Sprin ...)"
    signed_as: str | None = None

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "signed_as": self.signed_as,
            "task_id": self.task_id,
            "step_no": self.step_no,
            "name": self.name,
            "lane": self.lane,
            "role": self.role,
            "ready_at": iso(self.ready_at, tz),
            "completed_at": iso(self.completed_at, tz),
            "actor": self.actor,
            "claimed_by": self.claimed_by,
            "data": self.data,
            "path": [d.to_dict() for d in self.path],
            "waktu": self.waktu,
            "due_at": iso(self.due_at, tz),
            "token": self.token,
            "pass": self.pass_no,
            "item": self.item,
            "outcome": self.outcome,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Progress:
    """The result of an action: where the instance stands now."""

    instance_id: str
    status: str
    ready: tuple[str, ...]
    path: tuple[GatewayDecision, ...] = ()


@dataclass(frozen=True)
class InstanceView:
    instance_id: str
    process_id: str
    version: str
    status: str
    started_at: datetime
    started_by: str
    last_action_at: datetime
    ended_at: datetime | None
    cancel_reason: str | None
    data: dict[str, Any]
    open_steps: tuple[WorkItem, ...] = ()
    history: tuple[StepRecord, ...] = field(default=())
    #: every pass through a waiting node (sopflow.jobs.waits.WaitRecord), and the
    #: instance's incidents (sopflow.jobs.model.IncidentRow), open and resolved
    waits: tuple[Any, ...] = ()
    incidents: tuple[Any, ...] = ()
    #: a call activity's links: the instance that called this one, the ones it called
    parent: str | None = None
    children: tuple[str, ...] = ()

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "process_id": self.process_id,
            "version": self.version,
            "status": self.status,
            "started_at": iso(self.started_at, tz),
            "started_by": self.started_by,
            "last_action_at": iso(self.last_action_at, tz),
            "ended_at": iso(self.ended_at, tz),
            "cancel_reason": self.cancel_reason,
            "data": self.data,
            "open_steps": [w.to_dict(tz) for w in self.open_steps],
            "history": [h.to_dict(tz) for h in self.history],
            "waits": [w.to_dict(tz) for w in self.waits],
            "incidents": _incidents(self.incidents, tz),
            "parent": self.parent,
            "children": list(self.children),
        }


def _incidents(incidents: tuple[Any, ...], tz: tzinfo | None) -> list[dict[str, Any]]:
    from sopflow.jobs.waits import incident_dicts

    return incident_dicts(list(incidents), tz)
