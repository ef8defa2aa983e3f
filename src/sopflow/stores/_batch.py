"""One action's writes as a batch of statements (sent in one round trip on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["INSTANCE_REF", "Statement"]

#: the instance's row id, found by its uuid inside the same batch (no round trip for it)
INSTANCE_REF = "(SELECT id FROM sopflow_instances WHERE uuid = ?)"


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a write batch and what its result must be.

    A batch is sent whole before any result is read (PostgreSQL's pipeline mode), so a
    statement cannot use an earlier one's result: later statements find the instance by
    its uuid with ``INSTANCE_REF`` instead. ``expect_one`` is checked once the batch has
    run; a statement that changed another number of rows rolls the batch back with
    ``conflict`` as the ConflictError's message.
    """

    sql: str
    params: Sequence[Any] = ()
    many: bool = False
    expect_one: bool = False
    conflict: str = ""
