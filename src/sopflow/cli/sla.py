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
from typing import Any

from sopflow.cli._common import (
    add_at,
    add_json,
    add_store_args,
    parse_at,
    print_json,
    table,
    when,
)
from sopflow.cli._damage import DAMAGE, report_damaged
from sopflow.cli._errors import clean
from sopflow.errors import (
    CorruptInstanceError,
    InstanceNotFoundError,
    SopflowError,
    UnknownProcessError,
)

#: The longest pause between scans: a week (a longer one is a typing error).
MAX_EVERY = 7 * 24 * 3600.0


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


def _readable(found: Any) -> list[tuple[Any, Any]]:
    """(step, zone) of each scanned step that reads; one stderr line per damaged one."""
    for instance_id, reason in getattr(found, "damaged", ()):
        report_damaged("sla", instance_id, CorruptInstanceError(instance_id, reason))
    zones: dict[str, Any] = {}
    out = []
    for s in found:
        try:
            tz = zones.get(s.version)
            if tz is None:
                tz = zones[s.version] = s.calendar.time_zone
            s.elapsed_minutes  # noqa: B018 - reads the calendar: a broken definition fails here
            out.append((s, tz))
        except DAMAGE as exc:
            report_damaged("sla", s.instance_id, exc)
    return out


def _print_scan(found: Any, args: argparse.Namespace) -> None:
    steps = _readable(found)
    if getattr(args, "unit", None):
        from sopflow.authority.kabupaten import in_units

        kept = {id(s) for s in in_units([s for s, _ in steps], args.store, args.unit)}
        steps = [(s, tz) for s, tz in steps if id(s) in kept]
    if args.json:
        rows = [s.to_dict(tz) for s, tz in steps]
        if args.watch:
            print(json.dumps(rows, ensure_ascii=False), flush=True)
        else:
            print_json(rows)
        return
    if args.watch:
        print(f"-- scan at {when(steps[0][0].at if steps else _now(args))}", flush=True)
    elif args.at:
        print(f"SLA as of {when(_at(args))} (--at), not the real time")
    rows = [
        [
            s.instance_id,
            s.process_id,
            str(s.step_no or ""),
            clean(s.role or ""),
            when(s.ready_at, tz),
            clean(s.standard or "-"),
            when(s.due_at, tz),
            _minutes(s.elapsed_minutes) + (" (kalender)" if s.minutes_kind == "calendar" else ""),
            s.status,
        ]
        for s, tz in steps
    ]
    headers = ["instance", "process", "no", "role", "ready", "standard", "due", "elapsed", "status"]
    print(table(rows, headers) if rows else "no open steps", flush=True)


def _at(args: argparse.Namespace) -> datetime | None:
    """``--at`` read in the zone of the processes the scan covers (see listing_zone)."""
    if args.at is None:
        return None
    from sopflow.cli._common import listing_zone

    instance = getattr(args, "instance", None)
    if instance:  # one instance: its own process's zone
        from sopflow.stores import open_store

        with open_store(args.db) as store:
            process = store.load_instance(instance).process_id
        args_process: str | None = process
    else:
        args_process = getattr(args, "process", None)
    zones = (
        d.header.zona_waktu
        for d in _catalog(args).values()
        if args_process is None or d.process_id == args_process
    )
    return parse_at(args.at, listing_zone(args.at, zones))


def _now(args: argparse.Namespace) -> datetime:
    return _at(args) or datetime.now(UTC)


def _sla(args: argparse.Namespace) -> int:
    monitor = _monitor(args, escalate=args.watch)
    args.store = monitor.store
    at = _at(args)
    if not args.watch:
        _print_scan(monitor.scan(at, process_id=args.process, role=args.role), args)
        return 0
    if not 0 < args.every <= MAX_EVERY:  # also refuses nan; inf and 1e308 overflow sleep()
        raise SopflowError(
            f"--every {args.every}: must be a number of seconds in (0, {MAX_EVERY:.0f}]"
        )
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
    from sopflow.authority.gate import broken_chains, check_chain

    if args.instance:
        check_chain(store, args.instance)  # one instance: refused outright when broken
        if args.unit:
            from sopflow.authority.kabupaten import unit_scope

            if args.instance not in unit_scope(store, args.unit)[1]:
                raise InstanceNotFoundError(
                    f"is not an instance of unit {args.unit} or a unit under it",
                    instance_id=args.instance,
                )
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
        # A broken chain leaves its instance out of the figures, named on stderr.
        excluded = broken_chains(store, process_id=args.process)
        scope = None
        if args.unit:
            from sopflow.authority.kabupaten import unit_scope

            scope = unit_scope(store, args.unit)[1]
        for pid in ids:
            definition = current.get(pid)
            mine = [
                i
                for i in store.instances(process_id=pid)
                if scope is None or i.instance_id in scope
            ]
            if scope is not None and not mine and not args.process:
                continue  # another unit's SOP: nothing of it to monitor here
            if definition is None and not mine:
                where = f"unit {args.unit}" if scope is not None else args.db
                raise UnknownProcessError(f"no instances of process {pid!r} in {where}")
            reports.append(
                process_report(
                    store,
                    pid,
                    definitions=lookup,
                    policy=monitor.policy,
                    at=at,
                    definition=definition,
                    excluded=excluded,
                    unit=args.unit or None,
                )
            )
    for r in reports:
        for instance_id, reason in getattr(r, "damaged", ()):
            report_damaged("report", instance_id, CorruptInstanceError(instance_id, reason))
    text = format_report(reports, args.format, tz=None)  # each in its process's zone
    if args.format == "table":
        from sopflow.cli.incidents import incident_lines

        in_unit = None
        if getattr(args, "unit", None):
            from sopflow.authority.kabupaten import unit_scope

            in_unit = unit_scope(store, args.unit)[1]
        text += incident_lines(store, args.process, args.instance, in_unit)
    if args.output:
        from sopflow.cli._output import write_output

        print(write_output(args.output, text.encode("utf-8")))
    else:
        sys.stdout.write(text)
    return 0


def _catalog(args: argparse.Namespace) -> dict[str, Any]:
    """Process id -> current definition, when the catalog directory exists."""
    from sopflow.cli._common import catalog_directory, open_catalog

    if not catalog_directory(args.catalog).is_dir():
        return {}
    return {d.process_id: d for d in open_catalog(args.catalog)}


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
    p.add_argument("--unit", help="only instances of this unit and the units under it")
    p.add_argument("--watch", action="store_true", help="keep scanning and escalate")
    p.add_argument(
        "--every",
        type=float,
        default=60.0,
        metavar="SECONDS",
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
        "--unit",
        help="only instances of this unit and the units under it (a kabupaten: all its "
        "kecamatan rolled up); needs a staff directory",
    )
    p.add_argument(
        "--format",
        choices=["table", "csv", "json", "html"],
        default="table",
        help="output format (default table); html is one self-contained page",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    add_at(p)
    add_store_args(p)
    p.set_defaults(run=_report)
