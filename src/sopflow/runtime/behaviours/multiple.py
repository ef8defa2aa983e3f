"""Events with several definitions, "multiple" events (BPMN 2.0 10.5.1, 13.5.2).

The standard: a catch event with several definitions is triggered by any one of them
("Multiple") or only once all of them have occurred (``parallelMultiple="true"``,
"Parallel Multiple"); a throw event with several throws every one of them. sopflow runs
them for messages and signals (the loader refuses the rest by name):

- the catch waits with one subscription row per definition; the first to arrive ends
  the wait (the others are withdrawn with the token). A parallel one keeps which have
  arrived in the instance state (:attr:`State.held`, bound to its token, so it goes
  with the token) and leaves when the last one does;
- the throw throws each definition in order, as the single throw event throws one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sopflow.definitions.model import MESSAGE, SIGNAL, EventDefinition, Node
from sopflow.events.payloads import receive, wrapped
from sopflow.jobs.context import Waited
from sopflow.jobs.model import NewJob
from sopflow.runtime import triggers
from sopflow.runtime.behaviours.base import Behaviour
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.jobs.model import JobRow
    from sopflow.runtime.machine import Machine

__all__ = ["ON", "MultipleCatchEvent", "MultipleThrowEvent", "arrived_key"]

#: the job payload key naming which definition a subscription row is for
ON = "on"


def arrived_key(node: Node, index: int) -> str:
    """What :attr:`State.held` keeps for definition ``index`` of ``node`` having arrived."""
    return f"{node.id}#{index}"


def subscribe_all(m: Machine, token: Token, node: Node) -> None:
    """One subscription row per definition not yet arrived; ``payload[ON]`` says which."""
    for index, event in enumerate(node.events):
        if m.state.holding(token.id, arrived_key(node, index)):
            continue
        m.schedule(
            token,
            NewJob(
                event.kind,
                None,
                node.id,
                payload={ON: index},
                subscription=triggers.subscription(event.kind, event.name),
            ),
        )


def _all_arrived(m: Machine, token: Token, node: Node) -> bool:
    return all(m.state.holding(token.id, arrived_key(node, i)) for i in range(len(node.events)))


def _forget_arrivals(m: Machine, token: Token, node: Node) -> None:
    for i in range(len(node.events)):
        m.state.hold(token.id, arrived_key(node, i), False)


def which(node: Node, job: JobRow) -> int | None:
    """The definition of ``node`` a delivered job is for (a signal of the instance itself
    comes without a row: the first definition of that signal)."""
    index = job.payload.get(ON)
    if isinstance(index, int) and 0 <= index < len(node.events):
        return index
    name = job.payload.get("signal")
    for i, event in enumerate(node.events):
        if event.kind == SIGNAL and event.name == name:
            return i
    return None


class MultipleCatchEvent(Behaviour):
    """An intermediate catch event with several message or signal definitions."""

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        if node.parallel and _all_arrived(m, token, node):
            _forget_arrivals(m, token, node)  # a parallel start event all of whose triggers came
            m.leave(token)
            return
        subscribe_all(m, token, node)
        m.waited(Waited(token.id, node.id, "multiple", True))

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        if token is None or token.node != job.node:
            return  # a row its token left behind: nothing waits for it here
        node = m.node(token)
        data = job.payload.get("data")
        index = which(node, job)
        event = None if index is None else node.events[index]
        if event is not None and event.kind == MESSAGE:
            # as the single catch takes it (13.5.2): merged, and a payload that is no
            # dict refused (a multiple event names no messageVariable), never dropped
            receive(m, _as_single(node, event), data)
        elif isinstance(data, dict) and data and not wrapped(data):
            m.data.update(data)  # what a signal without parts carries
        if node.parallel:
            if index is not None:
                m.state.hold(token.id, arrived_key(node, index), True)
            if not _all_arrived(m, token, node):
                return  # 10.5.1 Parallel Multiple: all of them are required
            _forget_arrivals(m, token, node)
        m.withdraw(token)
        m.waited(Waited(token.id, node.id, "multiple", False, "received"))
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.withdraw(token)
        m.waited(Waited(token.id, token.node, "multiple", False, outcome))


class MultipleThrowEvent(Behaviour):
    """An intermediate throw or end event with several message or signal definitions:
    each is thrown, in the order the file gives them; an end event then ends the token."""

    def activate(self, m: Machine, token: Token) -> None:
        from sopflow.events.payloads import thrown_body

        node = m.node(token)
        for event in node.events:
            single = _as_single(node, event)
            if event.kind == MESSAGE:
                m.effects.thrown.append((MESSAGE, event.name or "", thrown_body(m, token, single)))
            else:
                m.effects.thrown.append((SIGNAL, event.name or "", triggers.thrown_payload(m)))
                triggers.signal_self(m, token, event.name or "")
        if m.state.token(token.id) is not None:
            m.leave(token)


def _as_single(node: Node, event: EventDefinition) -> Node:
    """``node`` as the single-definition event ``event`` (for the message helpers)."""
    return replace(node, event=event, events=())
