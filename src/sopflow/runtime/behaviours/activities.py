"""Activities: steps people do, script tasks, plain tasks, embedded subprocesses.

An activity starts once ``startQuantity`` tokens have arrived (BPMN 13.3.2: with the
default of 1 every arriving token starts it, which is the implicit exclusive merge of
several incoming flows) and leaves through :meth:`Machine.leave`, the implicit split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sopflow.definitions.model import Node
from sopflow.errors import DefinitionError
from sopflow.runtime.behaviours.base import Behaviour
from sopflow.runtime.data import check_data
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.runtime.machine import Machine

__all__ = ["Activity", "CallActivity", "PassTask", "ScriptTask", "SubProcess", "UserTask"]


class Activity(Behaviour):
    def keeps_arrival(self, node: Node) -> bool:
        return node.start_quantity > 1

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        if node.start_quantity > 1:
            waiting = m.tokens_at(node, token.scope)
            if len(waiting) < node.start_quantity:
                return  # wait for the others (13.3.2); each arrival counts them again
            for other in waiting:
                if other.id != token.id:
                    m.absorb(other)
            token.flow = None
        m.hook(token, "preScript")  # SpiffArena: as the task becomes ready, before it starts
        self.start(m, token)

    def start(self, m: Machine, token: Token) -> None:
        m.hook(token, "postScript")  # a task with no wait completes as it starts
        m.leave(token)


class PassTask(Activity):
    """A plain task or intermediate none event: the token passes on."""


class UserTask(Activity):
    """A step of the SOP: waits for the person of its lane (user and manual tasks)."""

    def start(self, m: Machine, token: Token) -> None:
        m.wait(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.close(token, outcome=outcome, reason=reason)


class ScriptTask(Activity):
    """Runs the Python handler the application registered; the BPMN script never runs."""

    def start(self, m: Machine, token: Token) -> None:
        handler = m.scripts.get(token.node)
        if handler is None:
            raise DefinitionError(
                "script task has no registered Python handler", element=token.node
            )
        updates = handler(dict(m.variables(token)))
        if updates:
            m.data.update(check_data(updates, m.instance_id, token.node))
        m.hook(token, "postScript")
        m.leave(token)


class SubProcess(Activity):
    """An embedded subprocess: its own scope, done when no token is left in it (13.3.4)."""

    def start(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        if node.start is None:
            raise DefinitionError("embedded subprocess has no start event", element=node.id)
        m.enter(token, node.start)

    def child_completed(self, m: Machine, token: Token) -> None:
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.terminate_scope(token.id, outcome=outcome, reason=reason)


class CallActivity(Activity):
    """Waits for a child instance of another catalog process (BPMN 10.3.5 / 13.3.5).

    The machine only records that a child is wanted; the action starts it in the same
    transaction, and the child's completion completes this token, also in one transaction.
    """

    def start(self, m: Machine, token: Token) -> None:
        m.effects.calls.append(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.effects.ended_calls.append((token.id, outcome, reason))
