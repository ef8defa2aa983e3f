"""The few numbers the SLA reports are made of, and how an officer reads them.

Percentiles use the nearest-rank method (p90 of n values = the ceil(0.9 n)-th smallest),
so every figure is a time that really occurred; the median is the usual middle value
(mean of the two middle ones).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

__all__ = [
    "format_minutes",
    "median",
    "p90",
]


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile: the ceil(0.9 n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def format_minutes(minutes: float | None) -> str:
    """Working time as an officer says it: "45 menit", "2 jam 5 menit"."""
    if minutes is None:
        return "-"
    whole = round(minutes)
    if whole < 60:
        return f"{whole} menit"
    hours, rest = divmod(whole, 60)
    return f"{hours} jam" + (f" {rest} menit" if rest else "")


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"

def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)

