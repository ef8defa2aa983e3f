"""How a verb's failure reaches the person at the terminal: one line, exit status 1.

Typed errors (:class:`~sopflow.errors.SopflowError`) carry their own message; what a
driver or the operating system raises (a damaged SQLite page, a full disk, a dropped
table, stdout on a full device) is turned into one line here too, so no input a user
can give ends in a traceback. Every line is cleaned before printing: a store URL's
password is masked, a multi-line driver message is joined, and control characters (a
newline or an ANSI escape in an actor id) are shown escaped, never obeyed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys

from sopflow.errors import SopflowError
from sopflow.stores import redact_url

__all__ = ["clean", "run_guarded"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` safe to print on one terminal line: control characters escaped."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _one_line(message: str, args: argparse.Namespace) -> str:
    db = getattr(args, "db", None)
    if isinstance(db, str) and db:
        message = message.replace(db, redact_url(db))
    parts = [line.strip() for line in message.splitlines() if line.strip()]
    return clean(" | ".join(parts) or "failed")


def _is_driver_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.split(".")[0] in ("sqlite3", "psycopg", "psycopg_pool")


def _quiet_stdout() -> None:
    """After stdout failed (a closed pipe, a full device), stop Python flushing it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass


def _say(verb: str, message: str) -> None:
    with contextlib.suppress(OSError):  # stderr gone too: nothing left to tell
        print(f"sopflow {verb}: error: {message}", file=sys.stderr)


def run_guarded(args: argparse.Namespace) -> int:
    """Run the verb; any failure becomes one line on stderr and a non-zero status."""
    verb = getattr(args, "verb", "?")
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except SopflowError as exc:
        _say(verb, _one_line(str(exc), args))
        return 1
    except KeyboardInterrupt:
        print(f"sopflow {verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except OSError as exc:
        if exc.filename is None and getattr(exc, "errno", None) is not None:
            _quiet_stdout()
        what = f"{exc.filename}: " if exc.filename else ""
        _say(verb, _one_line(f"{what}{exc.strerror or exc}", args))
        return 1
    except Exception as exc:
        if os.environ.get("SOPFLOW_DEBUG"):
            raise
        kind = (
            "database error" if _is_driver_error(exc) else f"internal error ({type(exc).__name__})"
        )
        _say(verb, _one_line(f"{kind}: {exc}", args))
        return 1
    return status
