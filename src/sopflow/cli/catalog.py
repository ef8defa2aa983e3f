"""Catalog verbs: ``sopflow validate PATH...`` and ``sopflow show FILE|PROCESS``.

``validate`` is what an office runs after editing a file in a modeler (and what CI runs
on ``bpmn/``): every problem of every file, one line each, in the ``file:line: element:
message`` form editors understand. ``show`` prints the SOP the way the regulation lays
it out, so a reader can compare the BPMN file with the signed paper SOP.
"""

from __future__ import annotations

import argparse
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

from sopflow.cli._common import DEFAULT_CATALOG, print_json
from sopflow.definitions.catalog import expand_paths, validate_paths
from sopflow.definitions.loader import load_definition
from sopflow.definitions.model import ProcessDefinition, SopHeader

__all__ = ["register", "render_sop"]

COLUMNS = ("No", "Kegiatan", "Pelaksana", "Kelengkapan", "Waktu", "Output", "Keterangan")
#: narrowest a wrapped column gets, whatever the terminal width
_MIN_WIDTH = {"No": 2, "Waktu": 8}
_MIN_OTHER = 8
_SEP = " | "


def register(subparsers: Any) -> None:
    validate = subparsers.add_parser(
        "validate",
        help="check BPMN files against BPMN 2.0 and the SOP rules",
        description="Check BPMN files (directories: their *.bpmn files) and print every "
        "problem as file:line: element: message. Exit 0 when all are usable, 1 otherwise.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="a .bpmn file or a directory")
    validate.add_argument("--json", action="store_true", help="print the result as JSON")
    validate.add_argument(
        "--db",
        default=None,
        help="also say whether this store has a staff directory or "
        "runs in trusted-caller mode (docs/authority.md)",
    )
    validate.set_defaults(run=run_validate)

    show = subparsers.add_parser(
        "show",
        help="print an SOP as its table (No | Kegiatan | Pelaksana | Mutu Baku | Keterangan)",
        description="Print an SOP from a BPMN file, or from the catalog by process id.",
    )
    show.add_argument("target", metavar="FILE|PROCESS", help="a .bpmn file or a process id")
    show.add_argument(
        "--catalog",
        default=os.environ.get("SOPFLOW_CATALOG", DEFAULT_CATALOG),
        help=f"directory of BPMN files (default: $SOPFLOW_CATALOG or {DEFAULT_CATALOG}/)",
    )
    show.add_argument("--json", action="store_true", help="print the definition as JSON")
    show.add_argument(
        "--width", type=int, default=None, help="wrap to this many columns (default: terminal)"
    )
    show.set_defaults(run=run_show)


def run_validate(args: argparse.Namespace) -> int:
    """Errors (the file is refused) and warnings (it loads; look at it), each with its code."""
    from sopflow.definitions._warnings import file_warnings
    from sopflow.definitions.extensions import Finding, code_of

    files, _ = expand_paths(args.paths)
    problems = validate_paths(args.paths)
    findings = [
        Finding(p.file, p.line, p.element, code_of(p), "error", p.message) for p in problems
    ]
    for file in files:
        findings += file_warnings(file)
    mode = None
    if args.db is not None:
        from sopflow.authority.cli import store_mode

        mode = store_mode(args.db)
    if args.json:
        print_json(
            {
                "ok": not problems,
                "files": [str(f) for f in files],
                "problems": [f.to_dict() for f in findings],
                **({"authority": mode} if mode is not None else {}),
            }
        )
    elif findings:
        for finding in findings:
            print(finding)
    if mode is not None and not args.json:
        print(mode["line"])
    if not args.json and not problems:
        print(f"ok: {len(files)} files" if len(files) != 1 else "ok: 1 file")
    return 1 if problems else 0


def _resolve(target: str, catalog: str) -> ProcessDefinition:
    path = Path(target)
    if path.suffix == ".bpmn" or path.is_file() or os.sep in target:
        return load_definition(path)
    from sopflow.cli._common import open_catalog

    return open_catalog(catalog).get(target)


def run_show(args: argparse.Namespace) -> int:
    definition = _resolve(args.target, args.catalog)
    if args.json:
        print_json(definition.to_dict())
        return 0
    width = args.width if args.width else shutil.get_terminal_size((120, 24)).columns
    print(render_sop(definition, width=max(width, 40)))
    return 0


# ---------------------------------------------------------------------------------------
# Rendering


def _header_lines(definition: ProcessDefinition) -> list[str]:
    header: SopHeader = definition.header
    lines = [f"SOP: {header.nama or definition.name}  ({definition.process_id})"]
    scalars = (
        ("Nomor", header.nomor),
        ("Pemerintah", header.pemerintah),
        ("Kecamatan", header.kecamatan),
        ("Unit", header.unit),
        ("Tanggal pembuatan", header.tanggal_pembuatan),
        ("Tanggal revisi", header.tanggal_revisi),
        ("Tanggal efektif", header.tanggal_efektif),
        ("Zona waktu", header.zona_waktu),
    )
    lines += [f"{label}: {value}" for label, value in scalars if value]
    signer = [
        header.disahkan_oleh_jabatan,
        header.disahkan_oleh_nama,
        header.disahkan_oleh_pangkat,
        f"NIP {header.disahkan_oleh_nip}" if header.disahkan_oleh_nip else None,
    ]
    if any(signer):
        lines.append("Disahkan oleh: " + ", ".join(s for s in signer if s))
    lists = (
        ("Dasar hukum", header.dasar_hukum),
        ("Kualifikasi pelaksana", header.kualifikasi_pelaksana),
        ("Keterkaitan", header.keterkaitan),
        ("Peralatan/perlengkapan", header.peralatan_perlengkapan),
        ("Peringatan", header.peringatan),
        ("Pencatatan dan pendataan", header.pencatatan_pendataan),
    )
    for label, items in lists:
        if items:
            lines.append(f"{label}:")
            lines += [f"  - {item}" for item in items]
    lines.append(f"Versi: {definition.version[:12]}  Sumber: {definition.source}")
    if not definition.executable:  # BPMN 2.0, 10.2: kept for its picture and document
        lines.append('Tidak dijalankan (isExecutable="false"): hanya gambar dan dokumen SOP')
    return lines


def _cells(definition: ProcessDefinition) -> list[list[list[str]]]:
    """Each row's cells as lists of logical lines (one per list item)."""
    rows: list[list[list[str]]] = []
    for step in definition.steps:

        def items(values: tuple[str, ...]) -> list[str]:
            return [f"- {v}" for v in values] if len(values) > 1 else list(values)

        rows.append(
            [
                [str(step.no)],
                [step.name],
                [step.lane or "-"],
                items(step.kelengkapan),
                [step.waktu] if step.waktu else [],
                items(step.output),
                [step.keterangan] if step.keterangan else [],
            ]
        )
    return rows


def _widths(rows: list[list[list[str]]], total: int) -> list[int]:
    natural = [
        max([len(name)] + [len(line) for row in rows for line in row[i]])
        for i, name in enumerate(COLUMNS)
    ]
    available = total - len(_SEP) * (len(COLUMNS) - 1)
    if sum(natural) <= available:
        return natural
    # a column never gets narrower than its heading, so headings never wrap
    minimum = [
        min(n, max(len(c), _MIN_WIDTH.get(c, _MIN_OTHER)))
        for n, c in zip(natural, COLUMNS, strict=True)
    ]
    # Water-filling: short columns keep their natural width, long ones share the rest
    # equally, Kegiatan (the activity text people read first) counting double.
    weight = [2.0 if c == "Kegiatan" else 1.0 for c in COLUMNS]

    def fit(cap: float) -> list[int]:
        return [
            min(n, max(m, int(cap * w)))
            for n, m, w in zip(natural, minimum, weight, strict=True)
        ]

    low, high = 0.0, float(max(natural))
    for _ in range(40):
        middle = (low + high) / 2
        if sum(fit(middle)) <= available:
            low = middle
        else:
            high = middle
    widths = fit(low)
    return widths


def _wrap(lines: list[str], width: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        indent = "  " if line.startswith("- ") else ""
        out += textwrap.wrap(
            line, width=width, subsequent_indent=indent, break_long_words=True
        ) or [""]
    return out


def _table(definition: ProcessDefinition, width: int) -> list[str]:
    rows = _cells(definition)
    widths = _widths(rows, width)
    rule = "-+-".join("-" * w for w in widths)

    def render(cells: list[list[str]]) -> list[str]:
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths, strict=True)]
        height = max(len(c) for c in wrapped)
        return [
            _SEP.join(
                (c[i] if i < len(c) else "").ljust(w)
                for c, w in zip(wrapped, widths, strict=True)
            ).rstrip()
            for i in range(height)
        ]

    out = [*render([[name] for name in COLUMNS]), rule]
    for row in rows:
        out += [*render(row), rule]
    return out


def _decision_lines(definition: ProcessDefinition) -> list[str]:
    def label(step_id: str | None) -> str:
        step = definition.step(step_id) if step_id else None
        return f"langkah {step.no} ({step.id})" if step else "selesai"

    lines: list[str] = []
    for decision in definition.decisions:
        lines.append(
            f"  {label(decision.step_id)} memutuskan {decision.field} "
            f"[{decision.gateway_id}]: Ya -> {label(decision.yes_target)}; "
            f"Tidak -> {label(decision.no_target)}"
        )
    return ["Keputusan:", *lines] if lines else []


def render_sop(definition: ProcessDefinition, *, width: int = 120) -> str:
    """The SOP as text: header block, the step table wrapped to ``width``, the decisions."""
    parts = [*_header_lines(definition), "", *_table(definition, width)]
    decisions = _decision_lines(definition)
    if decisions:
        parts += ["", *decisions]
    return "\n".join(parts)
