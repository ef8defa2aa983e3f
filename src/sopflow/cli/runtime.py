"""Verbs that act on instances: start, inbox, claim, release, complete, status, cancel.

Times are read and shown in the zone of the process they concern (``zona_waktu``: WITA
for Long Ikis), WIB when the SOP names none. Listings go on past a damaged instance
(one line on stderr naming it), see :func:`sopflow.cli._damage.listing`.
"""

from __future__ import annotations

import argparse
from datetime import tzinfo
from typing import Any

from sopflow.cli._common import (
    add_at,
    add_data,
    add_json,
    add_store_args,
    listing_zone,
    open_catalog,
    parse_at,
    parse_data,
    print_json,
    table,
    when,
    zone,
)
from sopflow.cli._damage import listing
from sopflow.cli._errors import clean
from sopflow.definitions.model import DECISION_FIELD
from sopflow.errors import CorruptInstanceError
from sopflow.runtime.views import Actor


def open_engine(args: argparse.Namespace) -> Any:
    from sopflow.runtime.engine import Engine
    from sopflow.stores import open_store

    return Engine(open_catalog(args.catalog), open_store(args.db))


def _reading_engine(args: argparse.Namespace) -> Any:
    """What a listing reads with: the catalog's files are parsed only when they decide
    something, i.e. the zone of an ``--at`` given without an offset.

    Every step a listing shows belongs to an instance whose definition the store holds
    (byte for byte, by version), and its names and zone come from that definition, so
    parsing and checking every BPMN file of the catalog (most of ``sopflow inbox``'s
    start, issue 14) changes nothing in what is printed; nor does importing the engine
    (token machine, jobs, events) or re-running the XSD and SpiffWorkflow's parser on
    stored bytes whose sha256 is checked (:class:`~sopflow.runtime.worklist.StoredReader`).
    """
    from sopflow.cli._common import _has_no_offset, catalog_directory

    if args.at is not None and _has_no_offset(args.at) and not args.instance:
        return open_engine(args)
    from sopflow.runtime.worklist import StoredReader
    from sopflow.stores import open_store

    if not catalog_directory(args.catalog).is_dir():
        open_catalog(args.catalog)  # the same one-line error as the other verbs
    return StoredReader(open_store(args.db))


def _actor(args: argparse.Namespace) -> Actor:
    return Actor(args.actor, args.role or [])


def _viewer(args: argparse.Namespace, engine: Any) -> Actor | None:
    """Who reads (inbox, status); a store with a staff directory needs to know."""
    from sopflow.authority.cli import viewer

    return viewer(args, engine)


def _add_actor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actor", required=True, help="who acts: an NIP (or a user name)")
    p.add_argument(
        "--role",
        "--as",
        action="append",
        help="trusted-caller mode: a role the actor holds (camat, sekcam, kasi, ...); with a "
        "staff directory: chooses among the positions (role or jabatan code) the NIP holds",
    )


def _definition_of(engine: Any, instance_id: str) -> Any:
    return engine.definition(engine.store.load_instance(instance_id).version)


def _instance_zone(engine: Any, instance_id: str) -> tzinfo:
    return zone(_definition_of(engine, instance_id).header.zona_waktu)


class _Zones:
    """Process id -> zone, looked up once per process of a listing."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._by_version: dict[str, tzinfo] = {}

    def of(self, version: str) -> tzinfo:
        found = self._by_version.get(version)
        if found is None:
            found = zone(self.engine.definition(version).header.zona_waktu)
            self._by_version[version] = found
        return found


def _start(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    tz = zone(engine.catalog.get(args.process).header.zona_waktu)
    progress = engine.start(
        args.process,
        actor=_actor(args),
        data=parse_data(args.data, args.data_json),
        at=parse_at(args.at, tz, action=True),
        unit=args.unit,
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
    engine = _reading_engine(args)
    if args.instance:
        tz = _instance_zone(engine, args.instance)
    else:
        tz = listing_zone(
            args.at,
            (
                d.header.zona_waktu
                for d in engine.catalog
                if args.process is None or d.process_id == args.process
            ),
        )
    at = parse_at(args.at, tz)
    viewer = _viewer(args, engine)

    def one(instance_id: str | None) -> list[Any]:
        items: list[Any] = engine.work_list(
            role=args.role,
            process_id=args.process,
            instance_id=instance_id,
            at=at,
            actor=viewer,
        )
        return items

    def running() -> list[str]:
        return [
            r.instance_id
            for r in engine.store.instances(process_id=args.process, status="running")
            if args.instance is None or r.instance_id == args.instance
        ]

    items = listing("inbox", lambda: one(args.instance), running, one, key=lambda i: i.ready_at)
    zones = _Zones(engine)
    if args.json:
        print_json([i.to_dict(zones.of(i.version)) for i in items])
        return 0
    rows = []
    for i in items:
        tz = zones.of(i.version)
        rows.append(
            [
                i.instance_id,
                i.task_id,
                str(i.step_no or ""),
                clean((i.name or "")[:50]),
                clean(i.role or ""),
                when(i.ready_at, tz),
                when(i.due_at, tz),
                i.sla_status or "",
                clean(i.claimed_by or ""),
            ]
        )
    if at is not None:
        print(f"SLA as of {when(at)} (--at), not the real time")
    headers = ["instance", "task", "no", "name", "role", "ready", "due", "sla", "claimed"]
    print(table(rows, headers) if rows else "no ready steps")
    return 0


def _booleans(definition: Any, task: str) -> frozenset[str]:
    """The fields ``--data`` reads as booleans for this step: its decision field."""
    step = None
    if task.strip().isdigit():
        step = definition.step_by_no(int(task))
    if step is None:
        step = definition.step(task.strip())
    field = getattr(step, "decision_field", None)
    return frozenset({DECISION_FIELD, field} if field else {DECISION_FIELD})


def _complete(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    definition = _definition_of(engine, args.instance)
    progress = engine.complete(
        args.instance,
        args.task,
        actor=_actor(args),
        data=parse_data(args.data, args.data_json, booleans=_booleans(definition, args.task)),
        at=parse_at(args.at, zone(definition.header.zona_waktu), action=True),
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
    at = parse_at(args.at, _instance_zone(engine, args.instance), action=True)
    action(args.instance, args.task, actor=_actor(args), at=at)
    print(
        f"{args.instance}: task {args.task} "
        f"{'claimed by' if args.verb == 'claim' else 'released by'} {clean(args.actor)}"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    tz = _instance_zone(engine, args.instance)
    try:
        view = engine.status(args.instance, at=parse_at(args.at, tz), actor=_viewer(args, engine))
    except CorruptInstanceError as exc:
        if exc.instance_id:
            raise
        raise CorruptInstanceError(args.instance, exc.reason) from None
    if args.json:
        print_json(view.to_dict(tz))
        return 0
    if engine.authority.trusted_caller:
        print("mode     trusted caller: no staff directory, roles are taken as given")
    print(f"instance {view.instance_id}")
    print(f"process  {view.process_id} (version {view.version[:12]})")
    reason = f" ({clean(view.cancel_reason)})" if view.cancel_reason else ""
    print(f"status   {view.status}{reason}")
    print(f"started  {when(view.started_at, tz)} by {clean(view.started_by)}")
    for incident in view.incidents:
        if incident.resolved_at is None:
            print(f"incident {incident.id} at {incident.node}: {clean(incident.message)}")
    if view.open_steps:
        print("open:")
        for i in view.open_steps:
            due = f", due {when(i.due_at, tz)} ({i.sla_status})" if i.due_at else ""
            name, role = clean(i.name or ""), clean(i.role or "")
            print(f"  {i.step_no}. {name} [{role}] ready {when(i.ready_at, tz)}{due}")
    rows = []
    for h in view.history:
        path = " ".join(f"{d.gateway}->{d.label or d.flow}" for d in h.path)
        rows.append(
            [
                str(h.step_no or ""),
                clean((h.name or h.task_id)[:48]),
                clean(h.role or ""),
                clean(h.signed_as or h.actor or ""),
                when(h.ready_at, tz),
                when(h.completed_at, tz),
                clean(path),
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
                [
                    [
                        w.node,
                        w.kind,
                        when(w.began_at, tz),
                        when(w.ended_at, tz),
                        w.outcome or "waiting",
                    ]
                    for w in waits
                ],
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
        at=parse_at(args.at, _instance_zone(engine, args.instance), action=True),
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
    p.add_argument("--unit", help="unit code of the instance (default: the SOP's kecamatan)")
    add_data(p, "initial data; text stays text, plain numbers are numbers (repeatable)")
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_start)

    p = sub.add_parser("inbox", help="list ready steps", description="Ready steps, oldest first.")
    p.add_argument("--role", action="append", help="only steps of this role (repeatable)")
    p.add_argument("--process", help="only this process id")
    p.add_argument("--instance", help="only this instance")
    p.add_argument("--actor", help="only steps this NIP may take now (needed with a directory)")
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
    add_data(p, "task data, e.g. disetujui=ya|tidak (the decision field); repeatable")
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
    p.add_argument("--actor", help="who reads: an NIP (needed with a staff directory)")
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
    p.add_argument("--role", "--as", action="append", help="chooses among the actor's positions")
    add_at(p)
    add_store_args(p)
    p.set_defaults(run=_cancel)
