"""How a failing job is retried: Camunda's ``failedJobRetryTimeCycle``, or a back-off.

A job carries ``retries``, the attempts it has left. Each failure spends one; while some
are left the job is due again after the next interval; when none is left the instance
gets an incident and the job waits, excluded, until someone retries it.

- ``R5/PT5M``: five attempts, five minutes apart (Camunda's form);
- ``PT1M,PT5M,PT30M``: one attempt per interval listed, plus the first;
- nothing: :data:`DEFAULT_RETRIES` attempts with an exponential back-off from
  :data:`FIRST_BACKOFF` (10 s, 40 s, 160 s, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sopflow.errors import TimerError
from sopflow.jobs.model import DEFAULT_RETRIES

__all__ = ["FIRST_BACKOFF", "RetryPolicy", "parse_retry_cycle"]

FIRST_BACKOFF = timedelta(seconds=10)
_MAX_ATTEMPTS = 100


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = DEFAULT_RETRIES
    #: interval before the n-th retry (the last one repeats); empty = exponential back-off
    intervals: tuple[timedelta, ...] = ()

    def delay(self, failures: int) -> timedelta:
        """The wait after the ``failures``-th failure (1 = the first)."""
        if self.intervals:
            return self.intervals[min(failures, len(self.intervals)) - 1]
        factor: int = 4 ** min(failures - 1, 8)
        return FIRST_BACKOFF * factor


def _span(text: str, whole: str) -> timedelta:
    from sopflow.jobs.timers import parse_span

    span = parse_span(text)
    if span.waktu is not None or span.months:
        raise TimerError(whole, "retry intervals are ISO 8601 durations in days or less")
    return span.elapsed


def parse_retry_cycle(text: str | None) -> RetryPolicy:
    if text is None or not text.strip():
        return RetryPolicy()
    stripped = text.strip()
    if stripped.upper().startswith("R"):
        head, _, rest = stripped.partition("/")
        count = head[1:]
        if not count.isdigit() or not 1 <= int(count) <= _MAX_ATTEMPTS or not rest:
            raise TimerError(text, f"write R<attempts 1-{_MAX_ATTEMPTS}>/<duration>, e.g. R5/PT5M")
        return RetryPolicy(int(count), (_span(rest, text),))
    intervals = tuple(_span(part, text) for part in stripped.split(",") if part.strip())
    if not intervals or len(intervals) >= _MAX_ATTEMPTS:
        raise TimerError(text, "write R5/PT5M or a list of durations, e.g. PT1M,PT5M")
    return RetryPolicy(len(intervals) + 1, intervals)
