"""Waiting message and signal catches of the SQL stores (mixed into SqlStore).

A catch that waits for a message or signal is a job row that is never due by itself
(``due_at`` NULL) with a ``subscription`` (``message:NAME`` / ``signal:NAME``, schema 7,
indexed). It is written, consumed and withdrawn exactly like a timer's job — in the
transaction of the state that made it — so a subscription never outlives its token and
a message consumed by one caller is not there for a second one (the DELETE of the
consuming change matches no row: a ConflictError, and that caller looks again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sopflow.jobs.model import JobRow
from sopflow.stores._jobs import _JOB_SELECT, _job_row

__all__ = ["EventStoreMixin"]


class EventStoreMixin:
    """``subscribers``; needs SqlStore's ``_read``."""

    if TYPE_CHECKING:

        def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...

    def subscribers(self, subscription: str, *, instance_id: str | None = None) -> list[JobRow]:
        """The waiting catches of ``subscription`` (oldest first), of one instance or all."""
        sql = _JOB_SELECT + " WHERE j.subscription = ?"
        params: list[Any] = [subscription]
        if instance_id is not None:
            sql += " AND i.uuid = ?"
            params.append(instance_id)
        return [_job_row(r) for r in self._read(sql + " ORDER BY j.id", params)]
