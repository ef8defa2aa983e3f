"""Picture verbs: ``sopflow render`` (a process or an instance as SVG) and ``sopflow demo``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from sopflow.cli._common import add_at, add_store_args, parse_at
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import DefinitionError

__all__ = ["register"]


def _definition(target: str, catalog: str) -> ProcessDefinition:
    path = Path(target)
    if path.suffix == ".bpmn" or path.is_file() or os.sep in target:
        from sopflow.definitions.loader import load_definition

        return load_definition(path)
    from sopflow.cli._common import open_catalog

    return open_catalog(catalog).get(target)


def _write(text: str, out: str) -> int:
    if out == "-":
        sys.stdout.write(text + "\n")
        return 0
    from sopflow.cli._output import write_output

    print(write_output(out, text.encode("utf-8")))
    return 0


def _render(args: argparse.Namespace) -> int:
    from sopflow.reports.render import instance_step_status, render_process_svg

    if args.timeline and not args.instance:
        print("sopflow render: error: --timeline needs --instance", file=sys.stderr)
        return 2
    definition = _definition(args.target, args.catalog)
    if not args.instance and not args.share_met:
        return _write(render_process_svg(definition, title=args.title), args.out)

    from sopflow.runtime.engine import Engine
    from sopflow.sla.policy import SlaPolicy
    from sopflow.stores import open_store

    policy = SlaPolicy()
    with open_store(args.db) as store:
        if args.share_met:
            from sopflow.sla.monitor import MET, Monitor

            judged: dict[str, list[bool]] = {}
            monitor = Monitor(store, policy=policy)
            for c in monitor.completed(process_id=definition.process_id):
                if c.standard_minutes is not None:
                    judged.setdefault(c.row.task, []).append(c.status == MET)
            share = {task: sum(v) / len(v) for task, v in judged.items()}
            return _write(
                render_process_svg(definition, share_met=share, title=args.title), args.out
            )
        engine = Engine(_One(definition), store, sla=policy)
        view = engine.status(args.instance, at=parse_at(args.at))
        if view.process_id != definition.process_id:
            raise DefinitionError(
                f"instance {args.instance} runs process {view.process_id}, "
                f"not {definition.process_id}",
                file=definition.source,
            )
        # Draw the version the instance runs on, which may be older than the file.
        drawn = engine.definition(view.version)
        if args.timeline:
            from datetime import UTC, datetime

            from sopflow.reports.timeline import render_timeline_svg

            now = parse_at(args.at) or datetime.now(UTC)
            svg = render_timeline_svg(
                view.history, definition=drawn, policy=policy, now=now, title=args.title
            )
        else:
            svg = render_process_svg(
                drawn, step_status=instance_step_status(view), title=args.title
            )
        return _write(svg, args.out)


class _One:
    """A catalog of one definition: the engine only needs ``get`` and iteration."""

    def __init__(self, definition: ProcessDefinition) -> None:
        self.definition = definition

    def get(self, process_id: str) -> ProcessDefinition:
        from sopflow.errors import UnknownProcessError

        if process_id != self.definition.process_id:
            raise UnknownProcessError(f"no process {process_id!r}")
        return self.definition

    def __iter__(self) -> Any:
        return iter((self.definition,))


def _demo(args: argparse.Namespace) -> int:
    from sopflow.demo import run_demo

    if args.weeks < 1 or args.weeks > 26:
        print("sopflow demo: error: --weeks must be between 1 and 26", file=sys.stderr)
        return 2
    run_demo(db=args.db, out=args.out, seed=args.seed, weeks=args.weeks)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "render",
        help="draw a process (or one instance's progress) as SVG",
        description="Draw a process from its own BPMN diagram as a self-contained SVG. "
        "With --instance, each step is coloured by that instance's status (done in time, "
        "done late, open on track / at risk / breached, not reached); with --timeline, "
        "the instance's steps on a time axis against their standards; with --share-met, "
        "each step by the share of its completed passes within the standard.",
    )
    p.add_argument("target", metavar="FILE|PROCESS", help="a .bpmn file or a process id")
    p.add_argument(
        "-o", "--out", default="-", metavar="OUT.svg", help="output file (default: stdout)"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--instance", metavar="I", help="colour by this instance's step status")
    mode.add_argument(
        "--share-met", action="store_true", help="colour by share met across all instances"
    )
    p.add_argument("--timeline", action="store_true", help="with --instance: draw the timeline")
    p.add_argument("--title", help="heading of the picture (default: the SOP name)")
    add_at(p)
    add_store_args(p)
    p.set_defaults(run=_render)

    p = sub.add_parser(
        "demo",
        help="simulate four kecamatan offices working their SOPs, then report",
        description="Simulated staff work the four shipped SOPs over a few weeks on the "
        "Indonesian work calendar in a fresh SQLite database; then the SLA scan, the "
        "per-SOP monitoring figures and an HTML report with the pictures.",
    )
    p.add_argument(
        "--db",
        default=None,
        help="sqlite:///FILE or memory:// (default: sqlite:///sopflow-demo.db in the current "
        "directory; deleted and recreated; sopflow.db is refused)",
    )
    p.add_argument("--out", default="demo-report.html", help="HTML report (default: %(default)s)")
    p.add_argument("--seed", type=int, default=2025, help="random seed (default: %(default)s)")
    p.add_argument("--weeks", type=int, default=3, help="simulated weeks (default: %(default)s)")
    p.set_defaults(run=_demo)
