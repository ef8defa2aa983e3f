"""Event behaviours: catches, throws, boundary events, event gateways, event subprocesses.

A catch that waits for a message or signal writes a subscription row with the action
(:func:`sopflow.runtime.triggers.subscribe`); ``engine.correlate`` / ``engine.signal``
find the row and fire it like a job, so a delivery is one transaction that consumes the
row and moves the token. Timers are the jobs branch's timer jobs throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sopflow.definitions.model import (
    CONDITIONAL,
    ERROR,
    ESCALATION,
    LINK,
    MESSAGE,
    SIGNAL,
    Node,
    NodeKind,
)
from sopflow.events.payloads import item_body, thrown_body
from sopflow.jobs.context import Waited
from sopflow.runtime import triggers
from sopflow.runtime.behaviours.activities import Activity
from sopflow.runtime.behaviours.base import Behaviour
from sopflow.runtime.behaviours.events import StartEvent
from sopflow.runtime.behaviours.multiple import MultipleCatchEvent
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.jobs.model import JobRow
    from sopflow.runtime.machine import Machine

__all__ = [
    "BoundaryEvent",
    "CatchEvent",
    "EventGateway",
    "EventStart",
    "EventSubProcess",
    "ReceiveTask",
    "ThrowEvent",
]


def _kind(node: Node) -> str:
    assert node.event is not None
    return node.event.kind


def _how(job: JobRow) -> str:
    return "fired" if job.kind == "timer" else "received"


class CatchEvent(Behaviour):
    """An intermediate message, signal, conditional or link catch event (13.5.2)."""

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        kind = _kind(node)
        if kind == LINK:
            m.leave(token)
        elif kind == CONDITIONAL:
            if triggers.holds(m, token, node):
                m.leave(token)
            else:
                m.waited(Waited(token.id, node.id, CONDITIONAL, True))
        else:
            triggers.subscribe(m, token, node)
            m.waited(Waited(token.id, node.id, kind, True))

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        if token is None or token.node != job.node:
            return  # a row its token left behind: nothing waits for it here
        triggers.take_data(m, job)
        m.withdraw(token)
        m.waited(Waited(token.id, token.node, _kind(m.node(token)), False, _how(job)))
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.withdraw(token)
        node = m.node(token)
        if _kind(node) != LINK:
            m.waited(Waited(token.id, node.id, _kind(node), False, outcome))


class ReceiveTask(Activity):
    """Waits for its message (10.3.3); boundary events may sit on it like any task."""

    def start(self, m: Machine, token: Token) -> None:
        triggers.subscribe(m, token, m.node(token))
        m.waited(Waited(token.id, token.node, "receive_task", True))

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        if token is None or token.node != job.node:
            return  # a row its token left behind: nothing waits for it here
        triggers.take_data(m, job)
        m.withdraw(token)
        m.waited(Waited(token.id, token.node, "receive_task", False, "received"))
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.withdraw(token)
        m.waited(Waited(token.id, token.node, "receive_task", False, outcome))


class ThrowEvent(Behaviour):
    """Message, signal, escalation, error and link throws; as end events, they end the
    token after throwing (13.5.6)."""

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        assert node.event is not None
        kind, name = node.event.kind, node.event.name
        if kind == LINK:
            target = next(
                n
                for n in m.definition.nodes.values()
                if n.kind is NodeKind.CATCH_EVENT
                and n.scope == node.scope
                and n.event is not None
                and n.event.kind == LINK
                and n.event.name == name
            )
            m.state.remove(token)
            m.place(target.id, token.scope)
            return
        carried = item_body(m, token, node)  # SpiffArena's payloadExpression
        if kind in (MESSAGE, SIGNAL):
            if kind == MESSAGE:
                body = thrown_body(m, token, node)
            else:
                body = triggers.thrown_payload(m) if carried is None else carried
            m.effects.thrown.append((kind, name or "", body))
            if kind == SIGNAL:
                triggers.signal_self(m, token, name or "", carried)
        elif kind in (ERROR, ESCALATION) and not triggers.throw(
            m, token, kind, name, carried=carried
        ):
            return
        if m.state.token(token.id) is not None:
            m.leave(token)

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        """An uncaught error's job: throw again, now inside a job (an incident)."""
        if token is None or token.node != job.node:
            return
        m.withdraw(token)
        node = m.node(token)
        assert node.event is not None
        triggers.throw(
            m, token, node.event.kind, node.event.name, carried=item_body(m, token, node)
        )

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.withdraw(token)


class BoundaryEvent(Behaviour):
    """Attached to an activity (10.5.4, 13.5.3): its token leaves at once."""

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        node = m.definition.nodes[job.node or ""]
        if token is None or token.node != node.attached_to:
            return  # the activity ended in a way that left the job: nothing to catch
        triggers.take_data(m, job)
        if not node.interrupting:
            triggers.rearm(m, token, node, job)
        triggers.occur(m, token, node, f"{node.event.kind if node.event else 'timer'} event")


class EventStart(StartEvent):
    """A start event; one of an event subprocess fires it (13.5.4). A top-level parallel
    multiple start event waits, as a parallel multiple catch, for the definitions that
    have not yet occurred (10.5.2), then the process goes on from it."""

    def activate(self, m: Machine, token: Token) -> None:
        if m.node(token).parallel:
            _PARALLEL.activate(m, token)
        else:
            super().activate(m, token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        if m.node(token).parallel:
            _PARALLEL.terminate(m, token, outcome=outcome, reason=reason)

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        if token is not None and token.node == job.node and m.node(token).parallel:
            _PARALLEL.fire(m, token, job)
            return
        node = m.definition.nodes[job.node or ""]
        esp = m.definition.nodes[node.scope or ""]
        owner = esp.scope
        if (token is None) != (owner is None) or (token is not None and token.node != owner):
            return  # its scope ended in a way that left the job
        if triggers.interrupted(m, token):
            return  # an interrupting event subprocess is ending this scope already
        triggers.take_data(m, job)
        if not esp.interrupting:
            triggers.rearm(m, token, node, job)
        what = "timer" if node.jobs.timer is not None else _kind(node)
        triggers.start_event_subprocess(m, token, esp, f"{what} event {node.id}")


class EventSubProcess(Behaviour):
    """An event subprocess's own token: done when its inner tokens are (13.5.4)."""

    def child_completed(self, m: Machine, token: Token) -> None:
        m.consume(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.terminate_scope(token.id, outcome=outcome, reason=reason)


class EventGateway(Behaviour):
    """Waits for the first of the events after it; the others are withdrawn (13.4.5)."""

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        for flow in node.outgoing:
            triggers.arm(m, token, m.definition.nodes[flow.target])
        m.waited(Waited(token.id, node.id, "event_gateway", True))

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        assert token is not None
        target = m.definition.nodes[job.node or ""]
        triggers.take_data(m, job)
        m.withdraw(token)
        m.waited(Waited(token.id, token.node, "event_gateway", False, f"{_how(job)} {target.id}"))
        m.state.remove(token)
        m.leave(m.emit(target, token.scope))

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.withdraw(token)
        m.waited(Waited(token.id, token.node, "event_gateway", False, outcome))


_PARALLEL = MultipleCatchEvent()
