"""``sopflow correlate``, ``sopflow signal``, ``sopflow conditions``: deliver a message
or a signal, or evaluate the catalog's conditional start events on some data.

Thin layers over :meth:`Engine.correlate`, :meth:`Engine.signal` and
:meth:`Engine.evaluate_start_conditions`; a message nobody
waits for, or one that matches several catches without ``--all``, is one line on
stderr and exit status 1, and nothing is changed.
"""

from __future__ import annotations

import argparse
from typing import Any

from sopflow.cli._common import add_at, add_json, add_store_args, parse_at, parse_data, print_json

__all__ = ["register"]


def _report(delivered: Any, args: argparse.Namespace, what: str) -> int:
    if args.json:
        print_json({"instances": list(delivered.instances), "started": list(delivered.started)})
        return 0
    for instance_id in delivered.instances:
        print(f"{what} delivered to {instance_id}")
    for instance_id in delivered.started:
        print(f"{what} started {instance_id}")
    if not len(delivered):
        print(f"{what} reached no instance")
    return 0


def _correlate(args: argparse.Namespace) -> int:
    from sopflow.cli.runtime import open_engine

    engine = open_engine(args)
    delivered = engine.correlate(
        args.message,
        instance_id=args.instance,
        correlation=parse_data(args.key) or None,
        data=parse_data(args.data),
        all=args.all,
        at=parse_at(args.at),
        unit=args.unit,
    )
    return _report(delivered, args, f"message {args.message!r}")


def _signal(args: argparse.Namespace) -> int:
    from sopflow.cli.runtime import open_engine

    engine = open_engine(args)
    delivered = engine.signal(
        args.name, parse_data(args.data), at=parse_at(args.at), unit=args.unit
    )
    return _report(delivered, args, f"signal {args.name!r}")


def _conditions(args: argparse.Namespace) -> int:
    from sopflow.cli.runtime import open_engine

    engine = open_engine(args)
    delivered = engine.evaluate_start_conditions(
        parse_data(args.data), at=parse_at(args.at), unit=args.unit, actor=args.actor
    )
    return _report(delivered, args, "start conditions")


_UNIT_HELP = "unit of an instance a start event begins (default: the SOP's kecamatan)"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "correlate",
        help="deliver a message to the instance waiting for it",
        description=(
            "Deliver MESSAGE to the one catch that waits for it (or start an instance at "
            "its message start event). Several matches need --all."
        ),
    )
    p.add_argument("message", help="the message's name (bpmn:message name=...)")
    p.add_argument("--instance", help="only this instance")
    p.add_argument(
        "--key",
        action="append",
        metavar="K=V",
        help="correlation: the waiting instance's field K equals V (repeatable)",
    )
    p.add_argument("--data", action="append", metavar="K=V", help="data it brings (repeatable)")
    p.add_argument("--all", action="store_true", help="deliver to every match")
    p.add_argument("--unit", metavar="CODE", help=_UNIT_HELP)
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_correlate)

    p = sub.add_parser(
        "signal",
        help="broadcast a signal to every instance waiting for it",
        description="Broadcast signal NAME: every waiting catch and signal start event.",
    )
    p.add_argument("name", help="the signal's name (bpmn:signal name=...)")
    p.add_argument("--data", action="append", metavar="K=V", help="data it brings (repeatable)")
    p.add_argument("--unit", metavar="CODE", help=_UNIT_HELP)
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_signal)

    p = sub.add_parser(
        "conditions",
        help="start every process whose conditional start event holds on the data",
        description=(
            "Evaluate the conditional start events of the catalog's processes on the "
            "data given (--data K=V); start one instance of each process whose holds."
        ),
    )
    p.add_argument("--data", action="append", metavar="K=V", help="the data (repeatable)")
    p.add_argument("--unit", metavar="CODE", help=_UNIT_HELP)
    p.add_argument("--actor", metavar="NIP", help="who asked, for the audit trail")
    add_at(p)
    add_json(p)
    add_store_args(p)
    p.set_defaults(run=_conditions)
