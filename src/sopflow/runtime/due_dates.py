"""Due dates written the Camunda way (``camunda:dueDate``, ``followUpDate``) for steps
without a waktu.

An SOP step's standard is its waktu (Mutu Baku); a file from another modeler may instead
give ``dueDate="P2D"`` (an ISO 8601 duration, counted from when the step became ready, on
the calendar clock as Camunda counts it) or an absolute ISO date-time. ``followUpDate`` is
the moment the step is at risk. When a step has both a waktu and a due date, the waktu wins
and ``sopflow validate`` reports the conflict. An expression due date (``${deadline}``) is
refused at load (the SLA is computed from the definition alone); ``data`` lets a caller
that has the instance data evaluate one anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sopflow.definitions.model import Step

__all__ = ["attribute_deadlines"]


def _moment(text: str, ready_at: datetime, data: Mapping[str, object] | None) -> datetime | None:
    from sopflow.definitions._tasks import is_expression
    from sopflow.definitions._warnings import iso_duration_minutes
    from sopflow.errors import ExpressionError
    from sopflow.runtime.expressions import compile_expression

    if is_expression(text):
        if data is None:
            return None
        try:
            value = compile_expression(text).evaluate(data)
        except ExpressionError:
            return None
        if not isinstance(value, str):
            return None
        text = value.strip()
    minutes = iso_duration_minutes(text)
    if minutes is not None:
        return ready_at + timedelta(minutes=minutes)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ready_at.tzinfo)
    return moment


def attribute_deadlines(
    step: Step, ready_at: datetime, data: Mapping[str, object] | None = None
) -> tuple[datetime | None, datetime | None]:
    """(due_at, at_risk_at) from the step's dueDate / followUpDate, for a step with no waktu."""
    due = _moment(step.due_date, ready_at, data) if step.due_date else None
    risk = _moment(step.follow_up_date, ready_at, data) if step.follow_up_date else None
    if due is not None and risk is not None and risk > due:
        risk = due
    return due, risk
