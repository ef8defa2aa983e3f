"""Whether credentials let an actor take a step: the rules a BPMN file puts on a task.

Two rules, and a step may have either or both:

- the **lane**: the actor holds the lane's role (sopflow 0.1's rule);
- the **assignment** of other modelers (``camunda:assignee``, ``candidateUsers``,
  ``candidateGroups``, their Flowable and Zeebe spellings): the actor is the assignee, or
  one of the candidate users, or holds one of the candidate groups as a role. That is the
  reading Camunda 7 gives the three attributes together.

When a step is in a lane *and* has an assignment, both must hold: a file that puts a task in
the Camat lane and reserves it for the group ``sekcam`` wants a Sekcam acting in the Camat's
lane, not any Camat. An assignee or candidate written as an expression (``${initiator}``,
``${kasi}``) is evaluated with the expression language over the instance's data.

A step with neither (a file from Camunda, Flowable or SpiffArena whose task is in no lane
and names no one, ``Step.is_open``) is open: the file restricts nobody, and its home engine
lets any authorised user claim and complete it. Here any caller may act; with a staff
directory, :func:`sopflow.runtime.duties.authorize` first requires a position in the
instance's unit, as for every other step.

Every action (claim, release, complete) and the work list apply the same rules.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from sopflow.authority.base import CALLER, KIND_ORDER, Credentials, Holding
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import ExpressionError, PermissionDeniedError

__all__ = ["assigned_users", "check_step_access", "has_assignment", "initiator_data", "may_act"]


def has_assignment(step: Step) -> bool:
    return bool(step.assignee or step.candidate_users or step.candidate_groups)


def _resolve(item: str, data: Mapping[str, object]) -> tuple[str, ...]:
    """A literal id, or the text (or list of texts) an expression gives."""
    from sopflow.definitions._tasks import is_expression
    from sopflow.runtime.expressions import compile_expression

    if not is_expression(item):
        return (item,)
    value = compile_expression(item).evaluate(data)
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    raise ExpressionError(f"gives {type(value).__name__}, not a user or group id", expression=item)


def assigned_users(step: Step, data: Mapping[str, object]) -> tuple[str, ...]:
    """The assignee and candidate users, expressions evaluated."""
    items = ((step.assignee,) if step.assignee else ()) + step.candidate_users
    return tuple(user for item in items for user in _resolve(item, data))


def _assignment_holding(
    step: Step, credentials: Credentials, data: Mapping[str, object]
) -> Holding | None:
    if credentials.actor_id in assigned_users(step, data):
        return Holding(role=step.role or "assignee", kind=CALLER)
    for item in step.candidate_groups:
        for group in _resolve(item, data):
            holding = credentials.holding(group)
            if holding is not None:
                return holding
    return None


def _denied(
    step: Step, credentials: Credentials, instance_id: str, why: str
) -> PermissionDeniedError:
    roles = ", ".join(sorted(credentials.roles)) or "none"
    return PermissionDeniedError(
        f"actor {credentials.actor_id!r} (roles: {roles}) {why}",
        instance_id=instance_id,
        task_id=step.id,
    )


def check_step_access(
    step: Step,
    credentials: Credentials,
    *,
    instance_id: str,
    data: Mapping[str, object] | None = None,
) -> Holding:
    """The holding under which ``credentials`` may act on ``step``, or PermissionDeniedError.

    ``data`` is the instance's data, for assignments written as expressions.
    """
    if step.is_open:
        return _any_holding(credentials)
    holding: Holding | None = None
    if step.lane is not None or not has_assignment(step):
        holding = credentials.holding(step.role)
        if holding is None:
            raise _denied(
                step,
                credentials,
                instance_id,
                f"does not hold role {step.role!r} of lane {step.lane!r}",
            )
    if not has_assignment(step):
        assert holding is not None
        return holding
    try:
        assigned = _assignment_holding(step, credentials, data or {})
    except ExpressionError as exc:
        raise _denied(
            step,
            credentials,
            instance_id,
            f"cannot be matched: the task's assignment {exc.expression!r} {exc.message}",
        ) from None
    if assigned is None:
        raise _denied(
            step, credentials, instance_id, f"is not assigned the task ({_describe(step)})"
        )
    return holding if holding is not None else assigned


def _any_holding(credentials: Credentials) -> Holding:
    """The holding an actor takes an open step under: the definitive one first; a caller
    asserting no role at all acts as itself (trusted-caller mode: any caller)."""
    if not credentials.holdings:
        return Holding(role="", kind=CALLER)
    return min(credentials.holdings, key=lambda h: (KIND_ORDER.get(h.kind, 9), h.role))


def may_act(step: Step, credentials: Credentials, data: Mapping[str, object] | None = None) -> bool:
    """Whether :func:`check_step_access` would let ``credentials`` act (for work lists)."""
    try:
        check_step_access(step, credentials, instance_id="", data=data)
    except PermissionDeniedError:
        return False
    return True


def _describe(step: Step) -> str:
    parts = []
    if step.assignee:
        parts.append(f"assignee {step.assignee}")
    if step.candidate_users:
        parts.append("candidate users " + ", ".join(step.candidate_users))
    if step.candidate_groups:
        parts.append("candidate groups " + ", ".join(step.candidate_groups))
    return "; ".join(parts)


def initiator_data(definition: ProcessDefinition, actor_id: str) -> dict[str, object]:
    """``{variable: actor_id}`` when the start event names ``camunda:initiator``, else {}."""
    variable = _initiator_variable(definition.xml, definition.start_node)
    return {variable: actor_id} if variable else {}


@functools.lru_cache(maxsize=64)
def _initiator_variable(xml: bytes, start_node: str) -> str | None:
    from sopflow.definitions.extensions import NAMESPACES
    from sopflow.definitions.xmlsafe import parse_xml

    root = parse_xml(xml, source="(stored definition)").getroot()
    for elem in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}startEvent"):
        if elem.get("id") != start_node:
            continue
        for prefix in ("camunda", "flowable", "activiti"):
            value = (elem.get(f"{{{NAMESPACES[prefix]}}}initiator") or "").strip()
            if value.isidentifier():
                return value
    return None
