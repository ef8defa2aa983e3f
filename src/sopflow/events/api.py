"""The engine's event methods (mixed into :class:`~sopflow.runtime.engine.Engine`).

``correlate`` delivers a message from outside (the Bupati's disposition letter arrived,
SRIKANDI sent a reply) to the one instance that waits for it, or starts an instance at
a message start event; ``signal`` broadcasts to every waiting catch and signal start
event. Both are BPMN 2.0 10.5.4 / 13.5: a message has one receiver, a signal many.
``evaluate_start_conditions`` is "the data changed" for conditional start events
(10.5.5), which no instance exists yet to notice: the caller says when, with the data,
as Camunda 7's ``createConditionEvaluation().setVariables(...).evaluateStartConditions()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import MESSAGE, SIGNAL
from sopflow.errors import MessageAmbiguousError, MessageNotCorrelatedError, TaskDataError
from sopflow.events import delivery, payloads
from sopflow.runtime.data import check_data

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = ["Delivered", "EngineEvents"]


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a correlation or signal reached: instances moved on, instances started."""

    instances: tuple[str, ...] = ()
    started: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.instances) + len(self.started)


def _name(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise TaskDataError(f"a {what} needs a name")
    return name.strip()


class EngineEvents:
    """Messages, signals and start conditions delivered from outside the engine."""

    def _events_engine(self) -> Engine:
        from sopflow.runtime.engine import Engine

        assert isinstance(self, Engine)
        return self

    def correlate(
        self,
        message_name: str,
        *,
        instance_id: str | None = None,
        correlation: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        all: bool = False,
        at: datetime | None = None,
        unit: str | None = None,
    ) -> Delivered:
        """Deliver message ``message_name`` to the catch that waits for it.

        ``instance_id`` and ``correlation`` (field -> value, compared by equality with
        the waiting instance's data) narrow the waiting catches; without a waiting
        match, a start event of that message starts a new instance with ``data``. No
        match raises MessageNotCorrelatedError and several MessageAmbiguousError
        (unless ``all``), and nothing is changed either way: a message that arrives
        before its instance waits for it is refused, not kept.

        An instance a start event begins belongs to ``unit`` (a unit code), else to the
        process's default unit, the rule ``start`` follows; with a directory and no unit
        to decide, DirectoryError and nothing starts.
        """
        rt = self._events_engine()
        name = _name(message_name, "message")
        now = rt._now(at)
        payload = check_data(data, instance_id, None)
        waits = delivery.matching_waits(
            rt, MESSAGE, name, instance_id=instance_id, correlation=correlation
        )
        waits = payloads.correlated(rt, waits, payload)  # correlation properties, 8.4.7
        starts = (
            [] if waits or instance_id is not None else delivery.start_events(rt, MESSAGE, name)
        )
        target = f"instance {instance_id}" if instance_id else "any instance"
        if correlation:
            target += f" with {dict(correlation)!r}"
        if not waits and not starts:
            raise MessageNotCorrelatedError(
                f"message {name!r}: nothing waits for it ({target}) and no start event catches it",
                instance_id=instance_id,
            )
        if len(waits) + len(starts) > 1 and not all:
            raise MessageAmbiguousError(
                f"message {name!r} matches {len(waits) + len(starts)} catches ({target}); "
                "narrow it with instance_id or correlation, or pass all=True",
                instance_id=instance_id,
            )
        reached = [
            job.instance_id
            for job in waits
            if delivery.deliver(rt, job, payload, now) and job.instance_id is not None
        ]
        if waits and not reached:
            raise MessageNotCorrelatedError(
                f"message {name!r}: the catch that waited for it moved on first",
                instance_id=instance_id,
            )
        begun = [
            delivery.start_instance(rt, definition, node, payload, now, "engine", unit)
            for definition, node in starts
        ]
        rt._log.info("message.correlated", message=name, instances=reached, started=begun)
        return Delivered(tuple(reached), tuple(begun))

    def signal(
        self,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        at: datetime | None = None,
        unit: str | None = None,
    ) -> Delivered:
        """Broadcast signal ``name``: every waiting signal catch (intermediate, boundary,
        event-subprocess start) fires, every signal start event starts an instance
        (in ``unit``, else the process's default unit, as for ``correlate``).
        A signal nobody waits for reaches nothing; that is not an error (10.5.4)."""
        rt = self._events_engine()
        signal_name = _name(name, "signal")
        now = rt._now(at)
        payload = check_data(data, None, None)
        reached = [
            job.instance_id
            for job in delivery.matching_waits(rt, SIGNAL, signal_name)
            if delivery.deliver(rt, job, payload, now) and job.instance_id is not None
        ]
        begun = [
            delivery.start_instance(rt, definition, node, payload, now, "engine", unit)
            for definition, node in delivery.start_events(rt, SIGNAL, signal_name)
        ]
        rt._log.info("signal.broadcast", signal=signal_name, instances=reached, started=begun)
        return Delivered(tuple(reached), tuple(begun))

    def evaluate_start_conditions(
        self,
        data: Mapping[str, Any],
        *,
        at: datetime | None = None,
        unit: str | None = None,
        actor: str | None = None,
    ) -> Delivered:
        """Start one instance, with ``data``, of every catalog process whose conditional
        start event's condition holds on ``data`` (BPMN 10.5.5); return what started.

        Every condition is evaluated before anything starts: one that cannot be (a field
        it reads is missing) raises TaskDataError naming the process and the start
        event, and nothing starts. No condition holding starts nothing, which is not an
        error (the data simply did not meet any condition). Each instance belongs to
        ``unit``, else the process's default unit, as for ``correlate`` and ``signal``;
        ``actor`` (an NIP, default ``engine``) is written as who started it in the
        audit trail, with no holding checked (the caller is trusted, as for signals).
        """
        rt = self._events_engine()
        now = rt._now(at)
        payload = check_data(data, None, None)
        who = actor.strip() if isinstance(actor, str) and actor.strip() else "engine"
        begun = [
            delivery.start_instance(rt, definition, node, payload, now, who, unit)
            for definition, node in delivery.conditional_starts(rt, payload)
        ]
        rt._log.info("conditions.evaluated", started=begun)
        return Delivered((), tuple(begun))
