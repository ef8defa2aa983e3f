"""structlog configuration for programs that use sopflow.

The library only ever calls ``structlog.get_logger``; it never configures logging at
import time, so an application embedding sopflow keeps its own pipeline. The CLI calls
:func:`configure_logging` once: a console renderer for people, JSON lines for machines.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

__all__ = ["configure_logging"]


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
