"""``sopflow document``: the printable SOP document, or the SOP table, from a BPMN file.

The BPMN file is the single source, so the signed paper is regenerated rather than
edited by hand; ``--format table`` closes the loop back to the table ``sopflow compile``
reads.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sopflow.cli._common import DEFAULT_CATALOG, print_json
from sopflow.cli._output import write_output
from sopflow.definitions.model import ProcessDefinition
from sopflow.definitions.table import SopTable, parse_table, write_table
from sopflow.errors import SopflowError

__all__ = ["load_source", "register"]

FORMATS = ("html", "table", "pdf")
_SUFFIX_FORMAT = {".html": "html", ".htm": "html", ".toml": "table", ".pdf": "pdf"}


class OutputError(SopflowError):
    """The output file cannot be written."""


def load_source(source: str, catalog: str) -> ProcessDefinition:
    """A BPMN file, an SOP table file (compiled on the fly), or a process id in the catalog.

    A table is accepted so an office can proof-read the document before it commits BPMN.
    """
    path = Path(source)
    if path.suffix.lower() == ".toml":
        from sopflow.definitions.compiler import compile_table
        from sopflow.definitions.loader import load_definition_bytes
        from sopflow.definitions.table import parse_table

        return load_definition_bytes(compile_table(parse_table(path)), source=str(path))
    if path.suffix.lower() in (".bpmn", ".xml") or path.is_file():
        from sopflow.definitions.loader import load_definition

        return load_definition(path)
    from sopflow.cli._common import open_catalog

    return open_catalog(catalog).get(source)


def _called_names(source: ProcessDefinition | SopTable, catalog: str) -> dict[str, str]:
    """Names of the SOPs a table's panggil rows run, from the catalog when it loads."""
    if not isinstance(source, SopTable) or not any(s.panggil for s in source.langkah):
        return {}
    from sopflow.definitions.catalog import Catalog

    try:
        return {d.process_id: d.header.nama or d.name for d in Catalog.from_directory(catalog)}
    except SopflowError:
        return {}  # the document still names each call by its process id


def _run(args: argparse.Namespace) -> int:
    from sopflow.reports.document import render_html, render_pdf, render_table

    fmt: str = args.format or _SUFFIX_FORMAT.get(Path(args.output or "").suffix.lower(), "html")
    if fmt == "pdf" and not args.output:
        raise OutputError("--format pdf needs -o FILE.pdf (PDF is not written to a terminal)")
    if args.json and (not args.output or args.output == "-"):
        raise OutputError("--json needs -o OUT (the document itself would fill standard output)")
    # a table is drawn as it stands (rows done together, per item or by another SOP
    # included); the catalog only names the SOPs its panggil rows run
    definition: ProcessDefinition | SopTable
    if Path(args.source).suffix.lower() == ".toml":
        definition = parse_table(Path(args.source))
    else:
        definition = load_source(args.source, args.catalog)
    called = _called_names(definition, args.catalog)
    data: bytes
    if fmt == "table":
        data = (write_table(definition) if isinstance(definition, SopTable)
                else render_table(definition)).encode("utf-8")
    elif fmt == "pdf":
        data = render_pdf(definition, called=called)
    else:
        data = render_html(definition, called=called).encode("utf-8")
    if args.output and args.output != "-":
        line = write_output(args.output, data)
        if not args.json:
            print(line)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    if args.json:
        print_json({
            "process_id": definition.process_id,
            "source": definition.source,
            "format": fmt,
            "output": args.output or "-",
            "bytes": len(data),
        })
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "document",
        help="write the SOP document (HTML/PDF, A4 landscape) or the SOP table from a BPMN",
        description=(
            "Generate the Permenpan-RB 35/2012 SOP document (identity sheet, flowchart "
            "table with Mutu Baku, signature block) from a BPMN file, an SOP table, or a "
            "process id of the catalog; --format table writes the SOP table that "
            "`sopflow compile` reads."
        ),
    )
    parser.add_argument("source", metavar="FILE|PROCESS",
                        help="a .bpmn file, a .toml SOP table, or a process id in --catalog")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="file to write (default: standard output; required for pdf)")
    parser.add_argument(
        "--format", choices=FORMATS, default=None,
        help="html (default; print from a browser), table (TOML for `sopflow compile`), "
             "pdf (needs the optional WeasyPrint extra); guessed from OUT's suffix",
    )
    parser.add_argument(
        "--catalog", default=os.environ.get("SOPFLOW_CATALOG", DEFAULT_CATALOG),
        help=f"directory of BPMN files (default: $SOPFLOW_CATALOG or {DEFAULT_CATALOG}/)",
    )
    parser.add_argument("--json", action="store_true",
                        help="print what was written as JSON (on standard output after -o)")
    parser.set_defaults(run=_run)
