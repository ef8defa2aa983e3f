"""Verbs `sla` (open steps against their standards, once or --watch) and `report`.

Both read the store only: definitions come back from the store by version, so a
monitoring host needs no copy of the BPMN files; ``--catalog`` (when it exists) only
names the current version of an SOP for `report`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sopflow.cli._common import (
    DISPLAY_TZ,
    add_at,
    add_json,
    add_store_args,
    parse_at,
    print_json,
    table,
    when,
)
from sopflow.errors import InstanceNotFoundError, SopflowError, UnknownProcessError


def _monitor(args: argparse.Namespace, *, escalate: bool = False) -> Any:
    from sopflow.sla.monitor import Monitor
    from sopflow.stores import open_store

    hook = _announce_json if escalate and args.json else _announce if escalate else None
    return Monitor(open_store(args.db), on_status_change=hook)


def _announce(event: Any) -> None:
    """--watch: say each new escalation on stdout (the sla.* log events go to stderr)."""
    s = event.step
    print(
        f"! {event.status}: instance {s.instance_id} step {s.step_no} ({s.task}) "
        f"role {s.role or '-'}, due {when(s.due_at)}",
        flush=True,
    )


def _announce_json(event: Any) -> None:
    print(json.dumps({"event": f"sla.{event.status}", **event.fields()}), flush=True)


def _minutes(value: float | None) -> str:
    from sopflow.reports.stats import format_minutes

    return format_minutes(value)


def _print_scan(found: list[Any], args: argparse.Namespace) -> None:
    if args.json:
        rows = [s.to_dict(DISPLAY_TZ) for s in found]
        if args.watch:
            print(json.dumps(rows, ensure_ascii=False), flush=True)
        else:
            print_json(rows)
        return
    if args.watch:
        print(f"-- scan at {when(found[0].at if found else _now(args))}", flush=True)
    rows = [
        [
            s.instance_id,
            s.process_id,
            str(s.step_no or ""),
            s.role or "",
            when(s.ready_at),
            s.standard or "-",
            when(s.due_at),
            _minutes(s.elapsed_minutes),
            s.status,
        ]
        for s in found
    ]
    headers = ["instance", "process", "no", "role", "ready", "standard", "due", "worked", "status"]
    print(table(rows, headers) if rows else "no open steps", flush=True)


def _now(args: argparse.Namespace) -> datetime:
    return parse_at(args.at) or datetime.now(UTC)


def _sla(args: argparse.Namespace) -> int:
    monitor = _monitor(args, escalate=args.watch)
    at = parse_at(args.at)
    if not args.watch:
        _print_scan(monitor.scan(at, process_id=args.process, role=args.role), args)
        return 0
    if args.every <= 0:
        raise SopflowError(f"--every {args.every}: must be a positive number of seconds")
    if args.count is not None and args.count < 1:
        raise SopflowError(f"--count {args.count}: must be at least 1")
    import time

    done = 0
    try:
        while args.count is None or done < args.count:
            if done:
                time.sleep(args.every)
            _print_scan(monitor.scan(at, process_id=args.process, role=args.role), args)
            done += 1
    except KeyboardInterrupt:
        print(f"sopflow sla: stopped after {done} scans", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from sopflow.reports.report import format_report
    from sopflow.reports.stats import instance_report, process_report, processes_in

    monitor = _monitor(args)
    store = monitor.store
    at = _now(args)
    lookup = monitor.definition
    reports: list[Any] = []
    if args.instance:
        row = store.load_instance(args.instance)
        if args.process and row.process_id != args.process:
            raise InstanceNotFoundError(
                f"belongs to process {row.process_id}, not {args.process}",
                instance_id=args.instance,
            )
        reports.append(
            instance_report(store, args.instance, definitions=lookup, policy=monitor.policy, at=at)
        )
    else:
        current = _catalog(args)
        ids = [args.process] if args.process else processes_in(store)
        for pid in ids:
            definition = current.get(pid)
            if definition is None and not store.instances(process_id=pid):
                raise UnknownProcessError(f"no instances of process {pid!r} in {args.db}")
            reports.append(
                process_report(
                    store, pid, definitions=lookup, policy=monitor.policy, at=at,
                    definition=definition,
                )
            )
    text = format_report(reports, args.format, tz=DISPLAY_TZ)
    if args.format == "table":
        from sopflow.cli.incidents import incident_lines

        text += incident_lines(store, args.process, args.instance)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SopflowError(f"{args.output}: cannot write the report: {exc.strerror}") from None
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _catalog(args: argparse.Namespace) -> dict[str, Any]:
    """Process id -> current definition, when the catalog directory exists."""
    if not Path(args.catalog).is_dir():
        return {}
    from sopflow.definitions.catalog import Catalog

    return {d.process_id: d for d in Catalog.from_directory(args.catalog)}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sla",
        help="open steps against their standards, most urgent first",
        description=(
            "List open steps with their standard, due time, working time so far and "
            "status (breached, at_risk, on_track, no_standard), most urgent first. "
            "With --watch, scan repeatedly until Ctrl-C or --count scans; each step that "
            "becomes at_risk or breached is announced once (a line starting with '!', "
            "and a structlog event sla.at_risk / sla.breached, shown with "
            "--log-level warning), even across restarts and several watchers."
        ),
    )
    p.add_argument("--process", help="only this process id")
    p.add_argument("--role", help="only steps of this role")
    p.add_argument("--watch", action="store_true", help="keep scanning and escalate")
    p.add_argument(
        "--every", type=float, default=60.0, metavar="SECONDS",
        help="seconds between scans with --watch (default 60)",
    )
    p.add_argument("--count", type=int, metavar="N", help="with --watch: stop after N scans")
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_sla)

    p = sub.add_parser(
        "report",
        help="SLA report per SOP or per instance (table, csv, json, html)",
        description=(
            "Per SOP: per step and per role figures (count, median and p90 working time, "
            "share met, returns), bottlenecks first, and the pre-filled Permenpan-RB "
            "35/2012 monitoring form. Per instance (--instance): each pass against its "
            "standard. Without --process or --instance: every SOP in the store."
        ),
    )
    p.add_argument("--process", help="only this process id")
    p.add_argument("--instance", help="report one instance")
    p.add_argument(
        "--format", choices=["table", "csv", "json", "html"], default="table",
        help="output format (default table); html is one self-contained page",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    add_at(p)
    add_store_args(p)
    p.set_defaults(run=_report)
