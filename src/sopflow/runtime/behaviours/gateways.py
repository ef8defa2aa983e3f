"""Gateways: exclusive, parallel and inclusive (BPMN 13.4).

A join counts tokens per incoming flow *in the same scope* and consumes one from each,
so a join inside a return loop only ever sees the tokens of the current pass: the
earlier passes' tokens were consumed when it fired (the trap of SpiffWorkflow #341 and
Flowable #4166 needs a task tree that remembers old passes; the state here does not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sopflow.definitions.model import Flow, Node
from sopflow.errors import GatewayError
from sopflow.runtime.behaviours.base import Behaviour
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.runtime.machine import Machine

__all__ = ["ExclusiveGateway", "InclusiveGateway", "ParallelGateway"]


class ExclusiveGateway(Behaviour):
    """Merge: every token passes (13.4.2). Split: the first flow whose condition holds,
    in document order, else the default; neither is a GatewayError naming the gateway."""

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        flows = node.outgoing
        if len(flows) == 1 and flows[0].condition is None:
            m.take(token, [flows[0]])
            return
        default: Flow | None = None
        for flow in flows:
            if flow.is_default:
                default = flow
            elif flow.condition is None or m.holds(flow, node, token):
                m.decided(node, flow)
                m.take(token, [flow])
                return
        if default is None:
            raise GatewayError(
                "no condition holds and there is no default flow",
                element=node.id,
                instance_id=m.instance_id,
            )
        m.decided(node, default)
        m.take(token, [default])


def _one_per_flow(m: Machine, node: Node, scope: int | None) -> list[Token] | None:
    """The oldest waiting token of each incoming flow, or None if a flow has none."""
    chosen: dict[str, Token] = {}
    for waiting in m.tokens_at(node, scope):
        if waiting.flow is not None and waiting.flow not in chosen:
            chosen[waiting.flow] = waiting
    if any(flow not in chosen for flow in node.incoming):
        return None
    return list(chosen.values())


class ParallelGateway(Behaviour):
    """Join: fires when every incoming flow holds a token of the scope, consuming one of
    each (13.4.1); split: a token down every outgoing flow (no conditions: load error)."""

    def keeps_arrival(self, node: Node) -> bool:
        return len(node.incoming) > 1

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        if len(node.incoming) > 1:
            joined = _one_per_flow(m, node, token.scope)
            if joined is None:
                return  # wait for the other branches
            for waiting in joined:
                m.absorb(waiting)
            token = m.emit(node, token.scope)
        m.take(token, list(node.outgoing))


class InclusiveGateway(Behaviour):
    """Split: every flow whose condition holds, else the default (13.4.3). Join: fires
    once it holds tokens and no token of its scope can still reach it without passing
    through it; it consumes one token from each incoming flow that has one."""

    def keeps_arrival(self, node: Node) -> bool:
        return len(node.incoming) > 1

    def activate(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        if len(node.incoming) > 1:
            return  # the join decides in settle(), once the agenda is empty
        self._split(m, node, token)

    def settle(self, m: Machine, token: Token) -> bool:
        node = m.node(token)
        if len(node.incoming) <= 1 or m.could_still_arrive(node, token.scope):
            return False
        chosen: dict[str, Token] = {}
        for waiting in m.tokens_at(node, token.scope):
            if waiting.flow is not None and waiting.flow not in chosen:
                chosen[waiting.flow] = waiting
        for waiting in chosen.values():
            m.absorb(waiting)
        self._split(m, node, m.emit(node, token.scope))
        return True

    def _split(self, m: Machine, node: Node, token: Token) -> None:
        taken: list[Flow] = []
        default: Flow | None = None
        for flow in node.outgoing:
            if flow.is_default:
                default = flow
            elif flow.condition is None or m.holds(flow, node, token):
                if flow.condition is not None or len(node.outgoing) > 1:
                    m.decided(node, flow)
                taken.append(flow)
        if not taken and default is not None:
            m.decided(node, default)
            taken.append(default)
        if not taken:
            raise GatewayError(
                "no condition holds and there is no default flow",
                element=node.id,
                instance_id=m.instance_id,
            )
        m.take(token, taken)
