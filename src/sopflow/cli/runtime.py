"""Verbs that act on instances: start, inbox, claim, release, complete, status, cancel."""

from __future__ import annotations

import argparse
from typing import Any

from sopflow.cli._common import (
    DISPLAY_TZ,
    add_at,
    add_json,
    add_store_args,
    parse_at,
    parse_data,
    print_json,
    table,
    when,
)
from sopflow.runtime.views import Actor


def open_engine(args: argparse.Namespace) -> Any:
    from sopflow.definitions.catalog import Catalog
    from sopflow.runtime.engine import Engine
    from sopflow.stores import open_store

    return Engine(Catalog.from_directory(args.catalog), open_store(args.db))


def _actor(args: argparse.Namespace) -> Actor:
    return Actor(args.actor, args.role or [])


def _add_actor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actor", required=True, help="who acts (an id, e.g. an NIP or user name)")
    p.add_argument(
        "--role",
        action="append",
        required=True,
        help="a role the actor holds (camat, sekcam, kasubag, kasi, tim, ...); repeatable",
    )


def _start(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    progress = engine.start(
        args.process, actor=_actor(args), data=parse_data(args.data), at=parse_at(args.at)
    )
    if args.json:
        print_json(
            {
                "instance_id": progress.instance_id,
                "status": progress.status,
                "ready": list(progress.ready),
            }
        )
    else:
        print(progress.instance_id)
    return 0


def _inbox(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    items = engine.work_list(
        role=args.role, process_id=args.process, instance_id=args.instance, at=parse_at(args.at)
    )
    if args.json:
        print_json([i.to_dict(DISPLAY_TZ) for i in items])
        return 0
    rows = [
        [
            i.instance_id,
            i.task_id,
            str(i.step_no or ""),
            (i.name or "")[:50],
            i.role or "",
            when(i.ready_at),
            when(i.due_at),
            i.sla_status or "",
            i.claimed_by or "",
        ]
        for i in items
    ]
    headers = ["instance", "task", "no", "name", "role", "ready", "due", "sla", "claimed"]
    print(table(rows, headers) if rows else "no ready steps")
    return 0


def _complete(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    progress = engine.complete(
        args.instance,
        args.task,
        actor=_actor(args),
        data=parse_data(args.data),
        at=parse_at(args.at),
    )
    if args.json:
        print_json(
            {
                "instance_id": progress.instance_id,
                "status": progress.status,
                "ready": list(progress.ready),
                "path": [d.to_dict() for d in progress.path],
            }
        )
    else:
        nxt = ", ".join(progress.ready) or "-"
        print(f"{progress.instance_id}: {progress.status}; ready: {nxt}")
    return 0


def _claim(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    action = engine.claim if args.verb == "claim" else engine.release
    action(args.instance, args.task, actor=_actor(args), at=parse_at(args.at))
    print(
        f"{args.instance}: task {args.task} "
        f"{'claimed by' if args.verb == 'claim' else 'released by'} {args.actor}"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    view = engine.status(args.instance, at=parse_at(args.at))
    if args.json:
        print_json(view.to_dict(DISPLAY_TZ))
        return 0
    print(f"instance {view.instance_id}")
    print(f"process  {view.process_id} (version {view.version[:12]})")
    print(f"status   {view.status}" + (f" ({view.cancel_reason})" if view.cancel_reason else ""))
    print(f"started  {when(view.started_at)} by {view.started_by}")
    for incident in view.incidents:
        if incident.resolved_at is None:
            print(f"incident {incident.id} at {incident.node}: {incident.message}")
    if view.open_steps:
        print("open:")
        for i in view.open_steps:
            due = f", due {when(i.due_at)} ({i.sla_status})" if i.due_at else ""
            print(f"  {i.step_no}. {i.name} [{i.role}] ready {when(i.ready_at)}{due}")
    rows = []
    for h in view.history:
        path = " ".join(f"{d.gateway}->{d.label or d.flow}" for d in h.path)
        rows.append(
            [
                str(h.step_no or ""),
                (h.name or h.task_id)[:48],
                h.role or "",
                h.actor or "",
                when(h.ready_at),
                when(h.completed_at),
                path,
            ]
        )
    if rows:
        print("history:")
        print(table(rows, ["no", "step", "role", "actor", "ready", "done", "path"]))
    waits = [w for w in view.waits if w.kind not in ("user_task", "manual_task")]
    if waits:
        print("waits:")
        print(
            table(
                [[w.node, w.kind, when(w.began_at), when(w.ended_at), w.outcome or "waiting"]
                 for w in waits],
                ["node", "kind", "began", "ended", "how"],
            )
        )
    return 0


def _cancel(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    engine.cancel(
        args.instance,
        reason=args.reason,
        actor=Actor(args.actor, args.role or []),
        at=parse_at(args.at),
    )
    print(f"{args.instance}: cancelled")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "start",
        help="start an instance of a process",
        description="Start an instance; prints its id.",
    )
    p.add_argument("process", help="process id (see `sopflow show`)")
    _add_actor(p)
    p.add_argument("--data", action="append", metavar="K=V", help="initial data (repeatable)")
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_start)

    p = sub.add_parser("inbox", help="list ready steps", description="Ready steps, oldest first.")
    p.add_argument("--role", action="append", help="only steps of this role (repeatable)")
    p.add_argument("--process", help="only this process id")
    p.add_argument("--instance", help="only this instance")
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_inbox)

    for verb, text in (
        ("claim", "take a ready step so colleagues see it is taken"),
        ("release", "give back a step you claimed"),
    ):
        p = sub.add_parser(verb, help=text, description=text.capitalize() + ".")
        p.add_argument("instance")
        p.add_argument("task", help="task id or step number")
        _add_actor(p)
        add_at(p)
        add_store_args(p)
        p.set_defaults(run=_claim)

    p = sub.add_parser(
        "complete", help="complete a ready step", description="Complete a ready step."
    )
    p.add_argument("instance")
    p.add_argument("task", help="task id or step number")
    _add_actor(p)
    p.add_argument(
        "--data",
        action="append",
        metavar="K=V",
        help="task data, e.g. disetujui=ya|tidak|true|false (repeatable)",
    )
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_complete)

    p = sub.add_parser(
        "status",
        help="state, open steps and history of an instance",
        description="State, open steps and history of an instance.",
    )
    p.add_argument("instance")
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_status)

    p = sub.add_parser(
        "cancel", help="cancel an instance", description="Cancel an instance, with a reason."
    )
    p.add_argument("instance")
    p.add_argument("--reason", required=True)
    p.add_argument("--actor", default="cli", help="who cancels (default: cli)")
    p.add_argument("--role", action="append", help="roles of the actor (recorded only)")
    add_at(p)
    add_store_args(p)
    p.set_defaults(run=_cancel)
