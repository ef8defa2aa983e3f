"""Events without definitions, and the terminate end event."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sopflow.runtime.behaviours.base import TERMINATED, Behaviour
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.runtime.machine import Machine

__all__ = ["EndEvent", "StartEvent", "TerminateEndEvent"]


class StartEvent(Behaviour):
    """A none start event: the token leaves at once (13.5.1)."""


class EndEvent(Behaviour):
    """A none end event consumes the token; the scope ends when it had the last one."""

    def activate(self, m: Machine, token: Token) -> None:
        m.consume(token)


class TerminateEndEvent(Behaviour):
    """Ends its scope at once: every other token of it is terminated (13.5.6).

    At the top level that is the whole instance; inside a subprocess only that
    subprocess, which then completes normally towards its outgoing flows.
    """

    def activate(self, m: Machine, token: Token) -> None:
        reason = f"terminate end event {token.node}"
        for other in list(m.state.in_scope(token.scope)):
            if other.id != token.id and m.state.token(other.id) is not None:
                m.terminate(other, outcome=TERMINATED, reason=reason)
        m.consume(token)
