"""Checks on the data an application hands the engine (start and complete).

One place for them, so every action refuses the same inputs the same way before
anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sopflow.errors import TaskDataError

__all__ = ["check_data"]


def check_data(
    data: Mapping[str, Any] | None, instance_id: str | None, task: str | None
) -> dict[str, Any]:
    """A plain copy of ``data``, or TaskDataError naming the instance and task."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise TaskDataError(
            "data must be a mapping with text keys", instance_id=instance_id, task_id=task
        )
    try:
        json.dumps(dict(data))
    except (TypeError, ValueError) as exc:
        raise TaskDataError(
            f"data is not JSON-serializable: {exc}", instance_id=instance_id, task_id=task
        ) from None
    return dict(data)
