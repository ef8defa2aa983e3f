"""structlog configuration for programs that use sopflow.

The library is silent until the application configures logging. sopflow never
configures structlog itself (an application embedding it keeps its own pipeline), and
its modules log through :func:`get_logger`, which drops every event while structlog is
unconfigured: structlog's own default would print each audit event to stdout (a script
completing 540 steps once printed 1,600 lines). Once the application calls
``structlog.configure`` (or :func:`configure_logging`, as the CLI does), sopflow's events
flow through that configuration like any other.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "get_logger"]


def _drop(*args: Any, **kwargs: Any) -> None:
    return None


class _SilentUntilConfigured:
    """A structlog logger that exists only once structlog is configured."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        if not structlog.is_configured():
            return _drop
        return getattr(structlog.get_logger(self._name), method)


def get_logger(name: str = "sopflow") -> Any:
    """sopflow's logger ``name``: silent while the application has not configured structlog."""
    return _SilentUntilConfigured(name)


def configure_logging(
    *, json: bool = False, level: str = "info", stream: TextIO | None = None
) -> None:
    """Route sopflow's structlog events to ``stream`` (stderr by default)."""
    out = stream if stream is not None else sys.stderr
    renderer: structlog.typing.Processor
    if json:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            # sopflow events carry their own `timestamp` (the action time, which may be
            # simulated or back-dated); the moment of logging goes under `logged_at`.
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="logged_at"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
