"""One damaged row stays one bad row: listings go on past an instance they cannot read.

A listing (``inbox``, ``sla``, ``report``) first reads everything in one go, the fast
path. When that fails on stored data (a time out of range, text where a number belongs,
step data or a stored definition that does not parse), it reads instance by instance,
prints one line on stderr for each instance it cannot read, naming it, and lists the rest.
Errors that are not about stored data (the database is gone, locked, unreadable) are
raised as they are: retrying instance by instance would only repeat them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sopflow.cli._errors import clean
from sopflow.runtime.views import STORED_DAMAGE

__all__ = ["DAMAGE", "listing", "report_damaged"]

T = TypeVar("T")

DAMAGE = STORED_DAMAGE


def report_damaged(verb: str, instance_id: str, exc: BaseException) -> None:
    """The one line a skipped instance gets on stderr."""
    reason = str(exc)
    prefix = f"instance {instance_id}: "
    if reason.startswith(prefix):
        reason = reason[len(prefix) :]
    print(
        clean(f"sopflow {verb}: skipped damaged instance {instance_id}: {reason}"),
        file=sys.stderr,
    )


def listing(
    verb: str,
    whole: Callable[[], list[T]],
    instance_ids: Callable[[], Sequence[str]],
    one: Callable[[str], list[T]],
    key: Callable[[T], Any] | None = None,
) -> list[T]:
    """``whole()``, or when stored data breaks it, ``one(id)`` for every readable instance.

    ``key`` restores the order ``whole()`` gives (the fallback collects per instance).
    """
    try:
        return whole()
    except DAMAGE:
        pass
    out: list[T] = []
    for instance_id in instance_ids():
        try:
            out.extend(one(instance_id))
        except DAMAGE as exc:
            report_damaged(verb, instance_id, exc)
    return sorted(out, key=key) if key is not None else out
