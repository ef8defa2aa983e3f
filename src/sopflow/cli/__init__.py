"""The ``sopflow`` command line: a thin layer over the public API.

Each verb lives in its own module under ``sopflow.cli`` and exposes
``register(subparsers)``; the module's ``run(args)`` returns the exit status.
Exit status: 0 success, 1 a finding or an error the user caused, 2 a usage error.
Every :class:`~sopflow.errors.SopflowError` becomes one line on stderr, never a traceback.

Start-up is lazy: ``VERBS`` names each verb's module and its one-line help, so
``sopflow --help`` imports no verb module at all and ``sopflow inbox`` imports only
``sopflow.cli.runtime`` (docs/performance.md). A new verb goes into ``VERBS``;
tests/test_perf_startup.py checks the table against what the modules register.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: verb -> (module that registers it, its one-line help), in the order ``--help`` lists them
VERBS: dict[str, tuple[str, str]] = {
    "validate": ("sopflow.cli.catalog", "check BPMN files against BPMN 2.0 and the SOP rules"),
    "show": (
        "sopflow.cli.catalog",
        "print an SOP as its table (No | Kegiatan | Pelaksana | Mutu Baku | Keterangan)",
    ),
    "start": ("sopflow.cli.runtime", "start an instance of a process"),
    "inbox": ("sopflow.cli.runtime", "list ready steps"),
    "claim": ("sopflow.cli.runtime", "take a ready step so colleagues see it is taken"),
    "release": ("sopflow.cli.runtime", "give back a step you claimed"),
    "complete": ("sopflow.cli.runtime", "complete a ready step"),
    "status": ("sopflow.cli.runtime", "state, open steps and history of an instance"),
    "cancel": ("sopflow.cli.runtime", "cancel an instance"),
    "document": (
        "sopflow.cli.document",
        "write the SOP document (HTML/PDF, A4 landscape) or the SOP table from a BPMN",
    ),
    "compile": ("sopflow.cli.compile", "compile an SOP table (TOML) into a BPMN file"),
    "render": ("sopflow.cli.render", "draw a process (or one instance's progress) as SVG"),
    "demo": (
        "sopflow.cli.render",
        "simulate four kecamatan offices working their SOPs, then report",
    ),
    "sla": ("sopflow.cli.sla", "open steps against their standards, most urgent first"),
    "report": ("sopflow.cli.sla", "SLA report per SOP or per instance (table, csv, json, html)"),
    "staff": (
        "sopflow.cli.staff",
        "the staff directory: units, jabatan, pegawai, penugasan (Plh/Plt)",
    ),
    "audit": ("sopflow.cli.audit", "check the audit trail's hash chain"),
    "kabupaten": (
        "sopflow.cli.audit",
        "compare the kecamatan of a kabupaten: cases, steps on time, late steps",
    ),
    "serve": (
        "sopflow.cli.serve",
        "serve the REST API, the tasklist and the dashboard (sopflow[web])",
    ),
    "worker": (
        "sopflow.cli.worker",
        "run due jobs: timers, asynchronous continuations, SLA escalations",
    ),
    "incidents": (
        "sopflow.cli.incidents",
        "jobs whose retries ran out (failed handlers, uncaught BPMN errors)",
    ),
    "retry": ("sopflow.cli.incidents", "resolve an incident: its job runs again"),
    "evaluate": (
        "sopflow.cli.evaluation",
        "record an evaluation of an SOP against the seven Permenpan-RB 35/2012 criteria",
    ),
    "evaluations": ("sopflow.cli.evaluation", "stored SOP evaluations, newest first"),
    "correlate": ("sopflow.cli.events", "deliver a message to the instance waiting for it"),
    "signal": ("sopflow.cli.events", "broadcast a signal to every instance waiting for it"),
    "conditions": (
        "sopflow.cli.events",
        "start every process whose conditional start event holds on the data",
    ),
}

#: verb modules, in the order ``--help`` lists them
VERB_MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for module, _ in VERBS.values()))


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its message to one line plus usage."""


def _verb_of(argv: Sequence[str]) -> str | None:
    """The verb argv names (the first word that is not a global option), if any."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--log-level":
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def build_parser(verb: str | None = None, *, every: bool = True) -> argparse.ArgumentParser:
    """The parser; with ``every=False`` only ``verb``'s module is imported.

    The other verbs are still listed (name and help, from ``VERBS``) so ``--help`` and
    argparse's "invalid choice" message read as before.
    """
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
    wanted = VERBS.get(verb or "", ("", ""))[0]
    for name in VERB_MODULES:
        if every or name == wanted:
            importlib.import_module(name).register(sub)
    for name, (_, text) in VERBS.items():
        if name not in sub.choices:
            sub.add_parser(name, help=text, add_help=False)
    if not every:
        # Keep --help's order: the registered module's verbs were added first.
        order = {name: i for i, name in enumerate(VERBS)}
        sub._choices_actions.sort(key=lambda a: order.get(a.dest, len(order)))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_verb_of(words), every=False)
    args = parser.parse_args(words)
    from sopflow.cli._errors import run_guarded
    from sopflow.logging import configure_logging

    configure_logging(json=args.log_json, level=args.log_level, on_first_event=True)
    return run_guarded(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
