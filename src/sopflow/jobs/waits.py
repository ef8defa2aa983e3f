"""Every pass through a node that waits: user tasks, timers, service and external tasks.

User tasks have their step rows; the other waits are in the audit trail as
``wait.began`` / ``wait.ended`` pairs (per node and token), written by the action that
began or ended them. ``sopflow status --json`` lists both as ``waits``, each with its
kind, when it began and ended, and how it ended (completed, fired, cancelled, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sopflow.runtime.views import from_ms, iso

if TYPE_CHECKING:
    from sopflow.jobs.model import IncidentRow
    from sopflow.stores.base import AuditRow, InstanceRow, StepRow

__all__ = ["WaitRecord", "incident_dicts", "waits_of"]


@dataclass(frozen=True, slots=True)
class WaitRecord:
    node: str
    kind: str
    began_at: datetime
    ended_at: datetime | None
    #: how it ended: completed, fired, cancelled, terminated; None while it waits
    outcome: str | None
    token: int | None = None
    due_at: datetime | None = None

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {
            "node": self.node,
            "kind": self.kind,
            "began_at": iso(self.began_at, tz),
            "ended_at": iso(self.ended_at, tz),
            "outcome": self.outcome,
            "token": self.token,
            "due_at": iso(self.due_at, tz),
        }


def _moment(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def waits_of(
    row: InstanceRow, steps: list[StepRow], audit: list[AuditRow], kinds: dict[str, str]
) -> tuple[WaitRecord, ...]:
    """``kinds`` maps a step's task id to its node kind (user_task / manual_task)."""
    closed_at = None if row.ended_at is None else from_ms(row.ended_at)
    found: list[WaitRecord] = []
    for s in steps:
        found.append(
            WaitRecord(
                node=s.task,
                kind=kinds.get(s.task, "user_task"),
                began_at=from_ms(s.ready_at),
                ended_at=None if s.completed_at is None else from_ms(s.completed_at),
                outcome=s.outcome if s.completed_at is not None else None,
                token=s.token,
                due_at=None if s.due_at is None else from_ms(s.due_at),
            )
        )
    open_: dict[tuple[str, object], int] = {}
    for a in audit:
        p = a.payload
        if a.event == "wait.began":
            open_[(str(p["task_id"]), p.get("token"))] = len(found)
            found.append(
                WaitRecord(
                    node=str(p["task_id"]),
                    kind=str(p.get("wait")),
                    began_at=from_ms(a.at),
                    ended_at=None,
                    outcome=None,
                    token=p.get("token"),
                    due_at=_moment(p.get("due_at")),
                )
            )
        elif a.event == "wait.ended":
            index = open_.pop((str(p["task_id"]), p.get("token")), None)
            if index is not None:
                w = found[index]
                found[index] = WaitRecord(
                    w.node, w.kind, w.began_at, from_ms(a.at), p.get("outcome"), w.token, w.due_at
                )
    if closed_at is not None:
        for index, w in enumerate(found):
            if w.ended_at is None:
                found[index] = WaitRecord(
                    w.node, w.kind, w.began_at, closed_at, row.status, w.token, w.due_at
                )
    found.sort(key=lambda w: w.began_at)
    return tuple(found)


def incident_dicts(incidents: list[IncidentRow], tz: tzinfo | None = None) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "task_id": i.node,
            "kind": i.kind,
            "message": i.message,
            "at": iso(from_ms(i.at), tz),
            "resolved_at": None if i.resolved_at is None else iso(from_ms(i.resolved_at), tz),
        }
        for i in incidents
    ]
