"""The lifecycle every element kind implements (after Zeebe's BpmnElementProcessor).

``activate`` runs when a token arrives at the element; ``complete`` when the element's
own work is done (a step completed by a person; elements that do not wait complete
inside ``activate``); ``terminate`` when its scope is ended around it (a terminate end
event, a cancelled branch). Containers — the embedded subprocess today, the
multi-instance body and the call activity next — also get ``child_completed`` when the
last token of their scope is gone. A behaviour holds no state: everything it changes
goes through the :class:`~sopflow.runtime.machine.Machine` it is handed, so the
machine's effects are the whole story of an action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import Node
from sopflow.jobs.model import JobRow
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.runtime.machine import Machine

__all__ = ["CANCELLED", "TERMINATED", "Behaviour"]

#: Outcomes of a step row closed without being completed.
CANCELLED, TERMINATED = "cancelled", "terminated"


class Behaviour:
    """Defaults: pass straight through, nothing to terminate, no children."""

    def keeps_arrival(self, node: Node) -> bool:
        """Does a token here wait for others (a join), so its arrival flow matters?"""
        return False

    def activate(self, m: Machine, token: Token) -> None:
        m.leave(token)

    def complete(self, m: Machine, token: Token) -> None:
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        """Nothing of its own to close; the machine removes the token."""

    def child_completed(self, m: Machine, token: Token) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no child scope")

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        """A job of this element fell due (a timer, a service task's work, a message).

        ``token`` is the token the job waits with (None for a job of no token). Kinds
        that make jobs override this; the default means a job reached the wrong node.
        """
        raise NotImplementedError(f"{type(self).__name__} runs no {job.kind} job")

    def inner_completed(self, m: Machine, token: Token, local: dict[str, Any]) -> None:
        """One instance of a loop or multi-instance body completed (bodies only)."""
        raise NotImplementedError(f"{type(self).__name__} has no instances")
