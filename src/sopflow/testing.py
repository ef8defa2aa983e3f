"""Helpers for testing code that uses sopflow (in the spirit of ``structlog.testing``).

- :class:`FakeClock`: a clock you move by hand, so due dates and histories are exact;
- :class:`SimulatedStaff`: officers who hold each role and work ready steps, with
  chosen durations and decisions, on that clock;
- :func:`capture_events`: the audit events an action emitted, as dicts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog.testing

from sopflow.runtime.clock import ensure_aware
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor, WorkItem

__all__ = ["FakeClock", "SimulatedStaff", "StepLog", "capture_events"]


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | str = "2025-08-04T08:00:00+07:00") -> None:
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        self._now = ensure_aware(moment, "FakeClock start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by timedelta keyword arguments (minutes=30)."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a FakeClock does not go backwards")
        self._now = self._now + step
        return self._now

    def set(self, moment: datetime | str) -> datetime:
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        self._now = ensure_aware(value, "FakeClock time")
        return self._now


@contextmanager
def capture_events() -> Iterator[list[MutableMapping[str, Any]]]:
    """Collect the structlog events emitted inside the block (audit trail included)."""
    with structlog.testing.capture_logs() as events:
        yield events


@dataclass(frozen=True)
class StepLog:
    """What a simulated officer did: the step, who, when and the decision."""

    item: WorkItem
    actor: str
    completed_at: datetime
    data: dict[str, Any]


@dataclass
class SimulatedStaff:
    """Officers holding each role, working an instance's ready steps on a FakeClock.

    ``duration(item)`` says how long a step takes (default: 30 minutes);
    ``decide(item)`` returns the decision for a deciding step (default: approve).
    A step becomes done at ``clock.now() + duration``; the clock is moved there.
    """

    engine: Engine
    clock: FakeClock
    duration: Callable[[WorkItem], timedelta] = field(default=lambda item: timedelta(minutes=30))
    decide: Callable[[WorkItem], bool] = field(default=lambda item: True)
    names: Mapping[str, str] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def actor(self, role: str) -> Actor:
        """An officer of ``role``; for an open step (no role: anyone may act), one with none."""
        if not role:
            return Actor(self.names.get("", "anyone.sim"))
        return Actor(self.names.get(role, f"{role}.sim"), {role})

    def work(
        self,
        instance_id: str,
        *,
        max_steps: int = 10_000,
        on_step: Callable[[StepLog], None] | None = None,
    ) -> list[StepLog]:
        """Complete ready steps until the instance ends (or ``max_steps`` is reached)."""
        log: list[StepLog] = []
        for _ in range(max_steps):
            items = self.engine.work_list(instance_id=instance_id, at=self.clock.now())
            if not items:
                break
            item = items[0]
            definition = self.engine.definition(item.version)
            step = definition.step(item.task_id)
            data: dict[str, Any] = {}
            if step is not None and step.decision_field is not None:
                data[step.decision_field] = bool(self.decide(item))
            self.clock.advance(self.duration(item))
            actor = self.actor(item.role or "")
            self.engine.complete(
                instance_id, item.task_id, actor=actor, data=data, at=self.clock.now()
            )
            entry = StepLog(item, actor.id, self.clock.now(), data)
            log.append(entry)
            if on_step is not None:
                on_step(entry)
        return log
