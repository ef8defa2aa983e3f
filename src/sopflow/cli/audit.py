"""``sopflow audit verify``: recompute the hash chains of stored instances."""

from __future__ import annotations

import argparse
from typing import Any

from sopflow.cli._common import add_json, print_json
from sopflow.errors import StoreError


def _verify(args: argparse.Namespace) -> int:
    from sopflow.stores import open_store

    with open_store(args.db) as opened:
        store: Any = opened
        if not hasattr(store, "verify_chain"):
            raise StoreError(f"{args.db}: this store keeps no hash chain")
        if args.instance:
            reports = [store.verify_chain(args.instance)]
        else:
            reports = store.verify_chains(process_id=args.process)
    broken = [r for r in reports if not r.ok]
    if args.json:
        print_json(
            [
                {
                    "instance_id": r.instance_id,
                    "ok": r.ok,
                    "entries": r.entries,
                    "head": r.head,
                    "first_bad": r.first_bad,
                    "reason": r.reason,
                    "unsealed": r.unsealed,
                }
                for r in reports
            ]
        )
    else:
        for r in reports:
            if not r.ok:
                print(f"{r.instance_id}: BROKEN at {r.first_bad}: {r.reason}")
            elif r.unsealed:
                print(f"{r.instance_id}: written before the chain existed (not verifiable)")
            elif args.instance or args.verbose:
                print(f"{r.instance_id}: ok ({r.entries} rows, head {(r.head or '')[:16]})")
        print(f"{len(reports)} instance(s) checked, {len(broken)} broken")
    return 1 if broken else 0


def register(sub: Any) -> None:
    import os

    from sopflow.cli._common import DEFAULT_DB

    audit = sub.add_parser(
        "audit",
        help="check the audit trail's hash chain",
        description="Check that stored audit and step rows were not changed outside sopflow.",
    )
    verbs = audit.add_subparsers(dest="audit_verb", metavar="ACTION")
    verbs.required = True
    p = verbs.add_parser("verify", help="recompute the chain; name the first row that differs")
    p.add_argument("instance", nargs="?", help="one instance (default: every instance)")
    p.add_argument("--process", help="only instances of this process")
    p.add_argument("-v", "--verbose", action="store_true", help="list every instance")
    add_json(p)
    p.add_argument(
        "--db",
        default=os.environ.get("SOPFLOW_DB", DEFAULT_DB),
        help=f"store URL (default: $SOPFLOW_DB or {DEFAULT_DB})",
    )
    p.set_defaults(run=_verify)
    register_kabupaten(sub)


def _kabupaten(args: argparse.Namespace) -> int:
    import json
    import sys
    from datetime import datetime

    from sopflow.authority.gate import check_report_chains
    from sopflow.authority.kabupaten import compare_units, format_comparison
    from sopflow.cli._common import DISPLAY_TZ, parse_at
    from sopflow.stores import open_store

    at = parse_at(args.at) or datetime.now(DISPLAY_TZ)
    with open_store(args.db) as opened:
        store: Any = opened
        if not hasattr(store, "has_directory") or not store.has_directory():
            raise StoreError(f"{args.db}: no staff directory, so instances have no units")
        check_report_chains(store)
        rows, total = compare_units(store, store.load_directory(), args.unit, at=at)
    if args.json:
        data = {"unit": total.to_dict(), "kecamatan": [r.to_dict() for r in rows]}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(format_comparison(rows, total))
    return 0


def register_kabupaten(sub: Any) -> None:
    import os

    from sopflow.cli._common import DEFAULT_DB, add_at

    p = sub.add_parser(
        "kabupaten",
        help="compare the kecamatan of a kabupaten: cases, steps on time, late steps",
        description=(
            "Per-kecamatan comparison rolled up to the unit given (the Bagian Organisasi's "
            "monitoring across units, Permenpan-RB 35/2012). Needs a staff directory."
        ),
    )
    p.add_argument(
        "unit", nargs="?", help="unit code of a kabupaten or kecamatan (default: every kecamatan)"
    )
    add_at(p)
    add_json(p)
    p.add_argument(
        "--db",
        default=os.environ.get("SOPFLOW_DB", DEFAULT_DB),
        help=f"store URL (default: $SOPFLOW_DB or {DEFAULT_DB})",
    )
    p.set_defaults(run=_kabupaten)
