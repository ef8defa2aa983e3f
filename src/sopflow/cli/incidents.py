"""``sopflow incidents`` and ``sopflow retry``: jobs whose retries ran out, and resuming them."""

from __future__ import annotations

import argparse
from collections.abc import Collection
from typing import Any

from sopflow.cli._common import add_json, add_store_args, print_json, table, when
from sopflow.runtime.views import Actor, from_ms, iso
from sopflow.stores.base import Store

__all__ = ["incident_lines", "register"]


def _incident_dict(i: Any) -> dict[str, Any]:
    return {
        "id": i.id,
        "instance_id": i.instance_id,
        "process_id": i.process_id,
        "task_id": i.node,
        "kind": i.kind,
        "message": i.message,
        "at": iso(from_ms(i.at)),
        "resolved_at": None if i.resolved_at is None else iso(from_ms(i.resolved_at)),
        "resolved_by": i.resolved_by,
    }


def _incidents(args: argparse.Namespace) -> int:
    from sopflow.authority.cli import viewer
    from sopflow.cli.runtime import open_engine

    engine = open_engine(args)
    found = engine.incidents(
        instance_id=args.instance, open_only=not args.all, actor=viewer(args, engine)
    )
    if args.json:
        print_json([_incident_dict(i) for i in found])
        return 0
    if not found:
        print("no incidents")
        return 0
    rows = [
        [
            str(i.id),
            i.instance_id or "-",
            i.node or "-",
            i.kind,
            when(from_ms(i.at)),
            i.message[:60],
        ]
        for i in found
    ]
    print(table(rows, ["id", "instance", "task", "kind", "at", "message"]))
    return 0


def _retry(args: argparse.Namespace) -> int:
    from sopflow.authority.cli import viewer
    from sopflow.cli.runtime import open_engine

    engine = open_engine(args)
    # trusted-caller mode records who typed it as "cli"; a directory needs the NIP
    actor = viewer(args, engine) or Actor("cli")
    incident = engine.retry(args.incident, retries=args.retries, actor=actor)
    print(
        f"incident {incident.id} resolved: {incident.node or incident.kind} of "
        f"{incident.instance_id} is due again (a worker runs it)"
    )
    return 0


def incident_lines(
    store: Store,
    process_id: str | None,
    instance_id: str | None,
    scope: Collection[str] | None = None,
) -> str:
    """Open incidents for the SLA report (table form), in Bahasa Indonesia: an instance
    stuck on one is not progressing towards its standard.

    ``scope`` is the instances of the report's ``--unit`` (and the units under it): an
    incident of another unit's instance is that unit's to read, as its status is. An
    incident of a start event has no instance and is listed with its process."""
    incidents = getattr(store, "incidents", None)
    if incidents is None:
        return ""
    found = [
        i
        for i in incidents(instance_id=instance_id, open_only=True)
        if (process_id is None or i.process_id == process_id)
        and (scope is None or i.instance_id is None or i.instance_id in scope)
    ]
    if not found:
        return ""
    lines = [f"\nInsiden terbuka: {len(found)} (selesaikan lalu jalankan `sopflow retry ID`)"]
    lines += [
        f"  {i.id}. {when(from_ms(i.at))} {i.process_id or '-'} {i.instance_id or '-'} "
        f"{i.node or i.kind}: {i.message}"
        for i in found
    ]
    return "\n".join(lines) + "\n"


def _number(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not an incident number")
    return int(text)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "incidents",
        help="jobs whose retries ran out (failed handlers, uncaught BPMN errors)",
        description="List open incidents (with --all, resolved ones too).",
    )
    p.add_argument("--instance", help="only this instance")
    p.add_argument("--all", action="store_true", help="include resolved incidents")
    p.add_argument("--actor", help="who reads: an NIP (needed with a staff directory)")
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_incidents)

    p = sub.add_parser(
        "retry",
        help="resolve an incident: its job runs again",
        description="Resolve an incident: its job is due again with fresh retries.",
    )
    p.add_argument("incident", type=_number, help="incident number (see `sopflow incidents`)")
    p.add_argument("--retries", type=int, help="attempts to give it (default: its retry policy)")
    p.add_argument(
        "--actor",
        help="who resolves it: an NIP (needed with a staff directory; without one: cli)",
    )
    add_store_args(p)
    p.set_defaults(run=_retry)
