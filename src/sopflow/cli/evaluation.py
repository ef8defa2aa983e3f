"""``sopflow evaluate`` and ``sopflow evaluations``: the SOP evaluation from a terminal.

Thin over :mod:`sopflow.authority.evaluation`, the same calls the web layer makes, so
the command line, the API and the Evaluasi page refuse and accept the same people.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from sopflow.cli._common import add_json, add_store_args, print_json, table
from sopflow.errors import EvaluationError

__all__ = ["register"]


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    """``key=value`` words (``--jawab sinergi=tidak``); a word without ``=`` is refused."""
    out: dict[str, str] = {}
    for word in values or []:
        key, sep, value = word.partition("=")
        if not sep or not key.strip():
            raise EvaluationError(f"{word[:60]!r} is not KRITERIA=NILAI", field=what)
        out[key.strip()] = value
    return out


def _roles(args: argparse.Namespace) -> Any:
    from sopflow.authority.evaluation import EVALUATOR_ROLES

    return frozenset(args.evaluator_role) if args.evaluator_role else EVALUATOR_ROLES


def _evaluate(args: argparse.Namespace) -> int:
    from sopflow.authority.evaluation import record_evaluation
    from sopflow.cli.runtime import open_engine
    from sopflow.reports.evaluation import parse_tanggal
    from sopflow.runtime.views import Actor

    engine = open_engine(args)
    answers: dict[str, object] = dict(_pairs(args.jawab, "jawab"))
    for key in args.ya or []:
        answers[key] = True
    for key in args.tidak or []:
        answers[key] = False
    tanggal: date | None = None if args.tanggal is None else parse_tanggal(args.tanggal)
    e = record_evaluation(
        engine,
        args.process_id,
        actor=Actor(args.actor, args.role or []),
        answers=answers,
        catatan=_pairs(args.catatan, "catatan"),
        tanggal=tanggal,
        roles=_roles(args),
    )
    if args.json:
        print_json(e.to_dict())
    else:
        print(
            f"evaluation {e.id} of {e.process_id} ({e.unit}) stored: {e.ya} of "
            f"{len(e.answers)} Ya ({e.score:.0%}), signed {e.penilai}"
        )
    return 0


def _evaluations(args: argparse.Namespace) -> int:
    from sopflow.authority.cli import viewer
    from sopflow.authority.evaluation import list_evaluations
    from sopflow.cli.runtime import open_engine

    engine = open_engine(args)
    found = list_evaluations(
        engine, actor=viewer(args, engine), process_id=args.process, roles=_roles(args)
    )
    if args.json:
        print_json([e.to_dict() for e in found])
        return 0
    if not found:
        print("no evaluations")
        return 0
    rows = [
        [str(e.id), e.tanggal.isoformat(), e.process_id, e.unit, e.nip, f"{e.ya}/{len(e.answers)}"]
        for e in found
    ]
    print(table(rows, ["id", "tanggal", "sop", "unit", "penilai", "ya"]))
    return 0


def _common(p: Any) -> None:
    p.add_argument(
        "--evaluator-role",
        action="append",
        metavar="PERAN",
        help="peran of the evaluating positions (repeatable; default: organisasi)",
    )
    add_json(p)
    add_store_args(p)


def register(sub: Any) -> None:
    from sopflow.reports.evaluation import CRITERIA

    p = sub.add_parser(
        "evaluate",
        help="record an evaluation of an SOP against the seven Permenpan-RB 35/2012 criteria",
        description="Record an SOP evaluation: every criterion Ya or Tidak, with catatan. "
        f"Criteria: {' '.join(CRITERIA)}.",
    )
    p.add_argument("process_id", help="the SOP (process id)")
    p.add_argument("--actor", required=True, help="the evaluator's NIP")
    p.add_argument("--role", action="append", help="trusted-caller mode only: a role held")
    p.add_argument("--ya", action="append", metavar="KRITERIA", help="a criterion met")
    p.add_argument("--tidak", action="append", metavar="KRITERIA", help="a criterion not met")
    p.add_argument("--jawab", action="append", metavar="KRITERIA=ya|tidak", help="an answer")
    p.add_argument("--catatan", action="append", metavar="KRITERIA=TEKS", help="a catatan")
    p.add_argument("--tanggal", help="the evaluation day, YYYY-MM-DD (default: today)")
    _common(p)
    p.set_defaults(run=_evaluate)

    p = sub.add_parser(
        "evaluations",
        help="stored SOP evaluations, newest first",
        description="List stored SOP evaluations the reader may see, newest first.",
    )
    p.add_argument("--process", help="only this SOP")
    p.add_argument("--actor", help="who reads: an NIP (needed with a staff directory)")
    _common(p)
    p.set_defaults(run=_evaluations)
