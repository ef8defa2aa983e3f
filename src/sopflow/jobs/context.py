"""What the token machine needs to make jobs: the action's time, the calendar, handlers.

An action builds one :class:`JobContext` and hands it to its
:class:`~sopflow.runtime.machine.Machine`; behaviours read it through ``m.jobs`` (a timer
computes its due time from ``now`` on ``calendar``; a service task finds its handler).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sopflow.jobs.model import JobRow
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.durations import HariPolicy

__all__ = ["JobContext", "ServiceHandler", "Waited"]

#: A Python function the application registers for a service, send or business-rule
#: task: gets a copy of the instance data, returns the fields to update (or None);
#: raises :class:`sopflow.BpmnError` for a business error, anything else for a failure.
ServiceHandler = Callable[[dict[str, Any]], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Waited:
    """A token began or ended waiting at a node that waits for time or the outside.

    Written to the audit trail as ``wait.began`` / ``wait.ended``, from which
    ``status`` lists every pass through a waiting node. ``kind`` is the node's wait
    kind (``timer``, ``external``, ``service``, ... ; user tasks have their step rows).
    """

    token: int
    node: str
    kind: str
    began: bool
    outcome: str | None = None
    due_at: int | None = None


@dataclass(slots=True)
class JobContext:
    now: datetime
    calendar: WorkCalendar = field(default_factory=WorkCalendar.default)
    hari: HariPolicy = HariPolicy.WORKING_DAYS
    services: Mapping[str, ServiceHandler] = field(default_factory=dict)
    #: a service task without a handler here becomes an external task (topic = its id)
    external_by_default: bool = False
    #: the job this action runs, if it is one
    job: JobRow | None = None

    @classmethod
    def default(cls) -> JobContext:
        return cls(now=datetime.now(UTC))

    @property
    def now_ms(self) -> int:
        return round(self.now.timestamp() * 1000)
