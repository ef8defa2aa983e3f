"""Whether credentials let an actor take a step: the rules a BPMN file puts on a task.

The lane's role is the rule sopflow 0.1 knew. Rules from other modelers' attributes
(candidate groups and users, assignee) and separation of duties belong here too, so
every action (claim, release, complete) applies the same ones.
"""

from __future__ import annotations

from sopflow.authority.base import Credentials, Holding
from sopflow.definitions.model import Step
from sopflow.errors import PermissionDeniedError

__all__ = ["check_step_access"]


def check_step_access(step: Step, credentials: Credentials, *, instance_id: str) -> Holding:
    """The holding under which ``credentials`` may act on ``step``, or PermissionDeniedError."""
    holding = credentials.holding(step.role)
    if holding is None:
        roles = ", ".join(sorted(credentials.roles)) or "none"
        raise PermissionDeniedError(
            f"actor {credentials.actor_id!r} (roles: {roles}) does not hold role "
            f"{step.role!r} of lane {step.lane!r}",
            instance_id=instance_id,
            task_id=step.id,
        )
    return holding
