"""The ``sopflow`` command line: a thin layer over the public API.

Each verb lives in its own module under ``sopflow.cli`` and exposes
``register(subparsers)``; the module's ``run(args)`` returns the exit status.
Exit status: 0 success, 1 a finding or an error the user caused, 2 a usage error.
Every :class:`~sopflow.errors.SopflowError` becomes one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sopflow.errors import SopflowError

__all__ = ["main"]

#: verb modules, in the order ``--help`` lists them
VERB_MODULES: tuple[str, ...] = (
    "sopflow.cli.catalog",
    "sopflow.cli.runtime",
    "sopflow.cli.document",
    "sopflow.cli.compile",
    "sopflow.cli.render",
    "sopflow.cli.sla",
    "sopflow.cli.worker",
    "sopflow.cli.incidents",
    "sopflow.cli.events",
)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its message to one line plus usage."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sopflow",
        description="Run Indonesian government SOPs as BPMN processes, with SLA monitoring.",
    )
    parser.add_argument("--log-json", action="store_true", help="write log events as JSON lines")
    parser.add_argument(
        "--log-level",
        default="error",
        choices=["debug", "info", "warning", "error"],
        help="lowest log level written to stderr; 'info' shows the audit trail (default: error)",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True
    for name in VERB_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from sopflow.logging import configure_logging

    configure_logging(json=args.log_json, level=args.log_level)
    try:
        status: int = args.run(args)
    except SopflowError as exc:
        print(f"sopflow {args.verb}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sopflow {args.verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
