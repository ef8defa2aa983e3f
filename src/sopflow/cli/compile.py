"""``sopflow compile``: an SOP table (TOML) to a BPMN file that follows the convention.

``--check`` exists because shipped BPMN files are generated: CI recompiles each table and
fails when someone edited a table without recompiling (or the BPMN without the table).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from sopflow.cli._output import check_output, write_output
from sopflow.errors import SopflowError

__all__ = ["CompileOutputError", "register"]


class CompileOutputError(SopflowError):
    """The BPMN output cannot be written, or (with --check) differs from the table."""


def _run(args: argparse.Namespace) -> int:
    from sopflow.definitions.compiler import compile_table
    from sopflow.definitions.table import parse_table

    output: str | None = args.output
    if output == "-":
        output = None
    if args.check and output is None:
        raise CompileOutputError("--check needs -o OUT.bpmn (the file to compare with)")
    if args.json and output is None:
        raise CompileOutputError("--json needs -o OUT.bpmn (the BPMN itself goes to the file)")
    table = parse_table(Path(args.table))
    data = compile_table(table)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    target = check_output(output)
    status = "written"
    if args.check:
        try:
            current = target.read_bytes()
        except OSError as exc:
            raise CompileOutputError(f"{target}: cannot read: {exc.strerror or exc}") from None
        if current != data:
            raise CompileOutputError(
                f"{target} is not what {args.table} compiles to; "
                f"run: sopflow compile {args.table} -o {target}"
            )
        status = "up to date"
    else:
        line = write_output(target, data)
        status = "written" if line.startswith("wrote") else "unchanged"
    if args.json:
        summary = {
            "table": args.table,
            "output": str(target),
            "status": status,
            "process_id": table.process_id,
            "lanes": len(table.pelaksana),
            "steps": len(table.langkah),
            "decisions": [s.no for s in table.langkah if s.keputusan is not None],
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        what = "up to date" if status == "up to date" else line
        print(f"{what} ({table.process_id}, {len(table.langkah)} steps)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile an SOP table (TOML) into a BPMN file",
        description=(
            "Compile an SOP table (docs/table-format.md) into a BPMN file following the "
            "sopflow convention, with lanes and a complete diagram. The same table always "
            "gives the same bytes."
        ),
    )
    parser.add_argument("table", metavar="TABLE", help="the SOP table file (.toml)")
    parser.add_argument(
        "-o", "--output", metavar="OUT",
        help="BPMN file to write (default: standard output)",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 when OUT differs from what TABLE compiles to",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(run=_run)
