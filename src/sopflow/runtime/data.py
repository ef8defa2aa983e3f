"""Checks on the data an application hands the engine (start and complete).

One place for them, so every action refuses the same inputs the same way before
anything is written: what is stored must read back as the same JSON on SQLite and
PostgreSQL, and print as valid JSON (``status --json``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from sopflow.errors import TaskDataError

__all__ = ["MAX_DEPTH", "check_data"]

#: Deepest nesting accepted (a form is a few levels deep). Deep data hits Python's
#: recursion limit in the JSON encoder (a RecursionError, not a typed error).
MAX_DEPTH = 100


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL byte"
    if any(0xD800 <= ord(c) < 0xE000 for c in text):
        return "contains a lone surrogate (not valid Unicode text)"
    return None


def _walk(data: Mapping[str, Any]) -> str | None:
    """The first reason ``data`` cannot be stored, or None; iterative, so depth is safe."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where or 'value'}: {value} is not a finite number"
        if isinstance(value, str):
            bad = _bad_text(value)
            if bad:
                return f"{where or 'value'}: text {bad}"
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"{where or 'data'}: key {key!r} is not text"
                bad = _bad_text(key)
                if bad:
                    return f"key {key!r} {bad}"
                stack.append((f"{where}.{key}" if where else key, item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return None


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
    reason = _walk(data)
    if reason is not None:
        raise TaskDataError(f"data {reason}", instance_id=instance_id, task_id=task)
    try:
        json.dumps(dict(data), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TaskDataError(
            f"data is not JSON-serializable: {exc}", instance_id=instance_id, task_id=task
        ) from None
    return dict(data)
