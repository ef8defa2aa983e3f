"""structlog configuration for programs that use sopflow.

The library is silent until the application configures logging. sopflow never
configures structlog itself (an application embedding it keeps its own pipeline), and
its modules log through :func:`get_logger`, which drops every event while structlog is
unconfigured: structlog's own default would print each audit event to stdout (a script
completing 540 steps once printed 1,600 lines). Once the application calls
``structlog.configure`` (or :func:`configure_logging`, as the CLI does), sopflow's events
flow through that configuration like any other.

structlog itself is imported only when something is to be logged: an application that
never imported it cannot have configured it, and the CLI's configuration is applied on
the first event (a listing that logs nothing never loads structlog; issue 14).
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import structlog

__all__ = ["configure_logging", "get_logger"]

#: the standard library's level names (``logging.getLevelNamesMapping()``), here so that
#: a CLI start that logs nothing need not import ``logging`` to check ``--log-level``
_LEVELS = {
    "CRITICAL": 50,
    "FATAL": 50,
    "ERROR": 40,
    "WARN": 30,
    "WARNING": 30,
    "INFO": 20,
    "DEBUG": 10,
    "NOTSET": 0,
}


def _drop(*args: Any, **kwargs: Any) -> None:
    return None


class _SilentUntilConfigured:
    """A structlog logger that exists only once structlog is configured."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        global _deferred
        if _deferred is not None:
            # The first events of a server come from several threads at once: one
            # configures, the others wait for it instead of dropping their events.
            with _configuring:
                if _deferred is not None:
                    structlog = _loaded_structlog()
                    if structlog is None or not structlog.is_configured():  # else: theirs
                        _configure(**_deferred)
                    _deferred = None
        structlog = _loaded_structlog()
        if structlog is None or not structlog.is_configured():
            return _drop
        return getattr(structlog.get_logger(self._name), method)


#: a configuration asked for by ``configure_logging(..., on_first_event=True)``
_deferred: dict[str, Any] | None = None
_configuring = threading.Lock()


def _loaded_structlog() -> Any:
    """structlog if something imported it, fully initialized, else None.

    ``sys.modules`` holds a module from the moment its import begins: another thread
    may be importing structlog right now. The import statement waits for that import
    to finish; reading ``sys.modules`` alone would hand out a half-built module.
    """
    if "structlog" not in sys.modules:
        return None
    import structlog

    return structlog


def get_logger(name: str = "sopflow") -> Any:
    """sopflow's logger ``name``: silent while the application has not configured structlog."""
    return _SilentUntilConfigured(name)


def configure_logging(
    *,
    json: bool = False,
    level: str = "info",
    stream: TextIO | None = None,
    on_first_event: bool = False,
) -> None:
    """Route sopflow's structlog events to ``stream`` (stderr by default).

    ``on_first_event``: configure when sopflow first logs, not now (the CLI: importing
    structlog and its console renderer is a large part of a short command's start);
    if structlog is configured already, now, as without it.
    """
    global _deferred
    _LEVELS[level.upper()]  # an unknown level is refused now
    loaded = _loaded_structlog()
    if on_first_event and (loaded is None or not loaded.is_configured()):
        _deferred = {"json": json, "level": level, "stream": stream}
        return
    _deferred = None
    _configure(json=json, level=level, stream=stream)


def _configure(*, json: bool, level: str, stream: TextIO | None) -> None:
    import structlog

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
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
