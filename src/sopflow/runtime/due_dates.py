"""Due dates written the Camunda way (``camunda:dueDate``, ``followUpDate``) for steps
without a waktu.

An SOP step's standard is its waktu (Mutu Baku); a file from another modeler may instead
give ``dueDate="P2D"`` (an ISO 8601 duration, counted from when the step became ready, on
the calendar clock as Camunda counts it) or an absolute ISO date or date-time.
``followUpDate`` is the moment the step is at risk. When a step has both a waktu and a due
date, the waktu wins and ``sopflow validate`` reports the conflict.

A due date may also be an expression (``${tenggat}``, ``#{tenggat}``, ``=tenggat``) of the
safe expression language (docs/expressions.md: names, literals, arithmetic; no function or
method calls). It is checked when the file is loaded and evaluated on the instance data
(with the local variables of a multi-instance body around the step) at the moment the step
opens, since that is when Camunda evaluates it and when sopflow stores the step's
deadline. Its value must be an ISO duration, date or date-time text, or a ``datetime`` /
``date``; anything else (a missing name, a number, "besok") refuses the action that opened
the step with a :class:`~sopflow.errors.TaskDataError` naming the instance and the task,
and nothing is written: a step must never open with its deadline silently dropped.
Expressions outside the language (``${dateTime().plusDays(2).toDate()}``) are refused at
load (definitions/_tasks.py), naming the element.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from datetime import date, datetime

from sopflow.definitions.model import Step

__all__ = ["attribute_deadlines"]


def _moment(
    text: str,
    what: str,
    step: Step,
    ready_at: datetime,
    data: Mapping[str, object] | None,
    instance_id: str | None,
) -> datetime | None:
    from sopflow.definitions._tasks import is_expression
    from sopflow.errors import ExpressionError, TaskDataError
    from sopflow.runtime.expressions import compile_expression

    value: object = text
    if is_expression(text):
        if data is None:
            return None  # a caller without the instance data (a picture, a forecast)
        try:
            value = compile_expression(text).evaluate(data)
        except ExpressionError as exc:
            raise TaskDataError(
                f"{what} {text!r} cannot be evaluated: {exc.message}",
                instance_id=instance_id,
                task_id=step.id,
            ) from None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=ready_at.tzinfo)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=ready_at.tzinfo)
    moment = _parse(value.strip(), ready_at) if isinstance(value, str) else None
    if moment is None:
        got = f"{value!r}" if isinstance(value, str) else type(value).__name__
        raise TaskDataError(
            f"{what} {text!r} gave {got}, which is neither an ISO 8601 duration (P2D), "
            "date (2026-03-02) nor date-time (2026-03-02T16:00:00+07:00)",
            instance_id=instance_id,
            task_id=step.id,
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=ready_at.tzinfo)


def _parse(text: str, ready_at: datetime) -> datetime | None:
    """``ready_at`` plus an ISO duration (months on the calendar, the rest elapsed), or an
    ISO date / date-time (a bare date is its midnight); None when it is neither."""
    from sopflow.definitions._tasks import is_due_text
    from sopflow.errors import TimerError
    from sopflow.jobs.timers import parse_span

    if not is_due_text(text):
        return None
    if text[:1] == "P":
        try:
            span = parse_span(text)
        except TimerError:
            return None
        return _add_months(ready_at, span.months) + span.elapsed
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it is shorter), as Camunda."""
    if not months:
        return moment
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def attribute_deadlines(
    step: Step,
    ready_at: datetime,
    data: Mapping[str, object] | None = None,
    *,
    instance_id: str | None = None,
) -> tuple[datetime | None, datetime | None]:
    """(due_at, at_risk_at) from the step's dueDate / followUpDate, for a step with no waktu.

    ``data`` is what the step sees when it opens; without it an expression gives no date.
    """
    due = (
        _moment(step.due_date, "dueDate", step, ready_at, data, instance_id)
        if step.due_date
        else None
    )
    risk = (
        _moment(step.follow_up_date, "followUpDate", step, ready_at, data, instance_id)
        if step.follow_up_date
        else None
    )
    if due is not None and risk is not None and risk > due:
        risk = due
    return due, risk
