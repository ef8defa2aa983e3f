#!/usr/bin/env python3
"""Fuzz the SOP table parser for longer than the test suite does.

The suite runs the same properties with a bounded number of examples
(tests/test_table.py: ``test_any_text_is_a_table_or_a_table_error`` and the round trips);
this runs them for as many examples as asked, outside ``make test``::

    .venv/bin/python scripts/fuzz_table.py                  # 20,000 examples each
    .venv/bin/python scripts/fuzz_table.py --examples 200000 --seed 7

Properties: any text is either a table or a ``TableError`` naming its source (never
another exception, never a hang); a table read back from its canonical text is the same
table with the same text; every valid table compiles, the same bytes each time. A
failure prints the smallest input hypothesis found and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _tables import sop_tables, toml_noise  # noqa: E402
from sopflow.definitions.compiler import compile_table  # noqa: E402
from sopflow.definitions.table import SopTable, parse_table, write_table  # noqa: E402
from sopflow.errors import TableError  # noqa: E402


def text_is_a_table_or_an_error(text: str) -> None:
    try:
        table = parse_table(text, source="fuzz.toml")
    except TableError as error:
        assert str(error).startswith("fuzz.toml"), str(error)
    else:
        assert parse_table(write_table(table)) == table


def table_round_trips_and_compiles(table: SopTable) -> None:
    text = write_table(table)
    assert parse_table(text) == table
    assert write_table(parse_table(text)) == text
    assert compile_table(table) == compile_table(parse_table(text))


def main() -> int:
    parser = argparse.ArgumentParser(description="fuzz the SOP table parser")
    parser.add_argument("--examples", type=int, default=20_000, help="examples per property")
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    args = parser.parse_args()
    config = settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    failed = False
    for name, prop, strategy in (
        ("any text", text_is_a_table_or_an_error, toml_noise()),
        ("round trip", table_round_trips_and_compiles, sop_tables(max_steps=10, extended=True)),
    ):
        test = config(given(strategy)(prop))
        if args.seed is not None:
            test = seed(args.seed)(test)
        try:
            test()
        except Exception as error:  # hypothesis re-raises the minimal failing example
            print(f"FAIL {name}: {type(error).__name__}: {error}", file=sys.stderr)
            failed = True
        else:
            print(f"ok   {name}: {args.examples} examples")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
