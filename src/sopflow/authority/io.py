"""Read and write a staff directory as a TOML or CSV file (docs/authority.md).

The keys follow the SOP tables' Indonesian style::

    [[unit]]       kode nama induk
    [[jabatan]]    kode nama unit peran
    [[pegawai]]    nip nama
    [[penugasan]]  nip jabatan mulai selesai jenis dasar

A CSV file holds the same rows in one sheet, the first column ``tabel`` saying which
table a row belongs to (what an office exports from a spreadsheet). Every row is checked
before anything is returned, so a file with one bad row is refused whole; the error
names the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sopflow.authority.directory import KINDS, Assignment, Directory, Person, Position, Unit
from sopflow.authority.nip import normalize_nip
from sopflow.errors import DirectoryError, NipError

__all__ = ["CSV_COLUMNS", "dump_csv", "dump_toml", "load_directory_file", "parse_directory"]

_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # table: (required keys, optional keys)
    "unit": (("kode", "nama"), ("induk",)),
    "jabatan": (("kode", "nama", "unit", "peran"), ()),
    "pegawai": (("nip", "nama"), ()),
    "penugasan": (("nip", "jabatan", "mulai", "jenis", "dasar"), ("selesai",)),
}
CSV_COLUMNS: tuple[str, ...] = (
    "tabel",
    "kode",
    "nama",
    "induk",
    "unit",
    "peran",
    "nip",
    "jabatan",
    "mulai",
    "selesai",
    "jenis",
    "dasar",
)
_MAX_BYTES = 20 * 1024 * 1024
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def load_directory_file(path: str | Path) -> Directory:
    """The directory a ``.toml`` or ``.csv`` file describes, checked whole."""
    p = Path(path)
    try:
        if p.stat().st_size > _MAX_BYTES:
            raise DirectoryError("file is larger than 20 MB", file=p)
        data = p.read_bytes()
    except OSError as exc:
        raise DirectoryError(f"cannot read: {exc.strerror}", file=p) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DirectoryError(f"not UTF-8 text (byte {exc.start})", file=p) from None
    fmt = "csv" if p.suffix.lower() == ".csv" else "toml"
    return parse_directory(text, fmt=fmt, source=str(p))


def parse_directory(text: str, *, fmt: str = "toml", source: str = "<text>") -> Directory:
    rows = _csv_rows(text, source) if fmt == "csv" else _toml_rows(text, source)
    units, positions, people, assignments = [], [], [], []
    for table, line, row in rows:
        _check_keys(table, line, row, source)
        if table == "unit":
            units.append(
                Unit(
                    _text(row, "kode", line, source),
                    _text(row, "nama", line, source),
                    _text(row, "induk", line, source, optional=True),
                    line=line,
                )
            )
        elif table == "jabatan":
            role = _text(row, "peran", line, source)
            if not _ROLE.match(role):
                raise DirectoryError(
                    f"peran {role!r} is not a role code (lower case, e.g. camat, sekcam)",
                    file=source,
                    line=line,
                    field="peran",
                )
            positions.append(
                Position(
                    _text(row, "kode", line, source),
                    _text(row, "nama", line, source),
                    _text(row, "unit", line, source),
                    role,
                    line=line,
                )
            )
        elif table == "pegawai":
            people.append(Person(_nip(row, line, source), _text(row, "nama", line, source)))
        else:
            jenis = _text(row, "jenis", line, source).lower().rstrip(".")
            if jenis not in KINDS:
                raise DirectoryError(
                    f"jenis {jenis!r} is not one of {', '.join(KINDS)}",
                    file=source,
                    line=line,
                    field="jenis",
                )
            assignments.append(
                Assignment(
                    nip=_nip(row, line, source),
                    jabatan=_text(row, "jabatan", line, source),
                    mulai=_date(row, "mulai", line, source),
                    selesai=_date(row, "selesai", line, source, optional=True),
                    jenis=jenis,
                    dasar=_text(row, "dasar", line, source),
                    line=line,
                )
            )
    return Directory.build(units, positions, people, assignments, file=source)


# -- reading ---------------------------------------------------------------------------
def _toml_rows(text: str, source: str) -> list[tuple[str, int | None, Mapping[str, Any]]]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"not valid TOML: {exc}", file=source) from None
    unknown = sorted(set(doc) - set(_TABLES) - {"format", "zona_waktu"})
    if unknown:
        raise DirectoryError(
            f"unknown table {unknown[0]!r} (expected: {', '.join(_TABLES)})", file=source
        )
    # tomllib gives no line numbers: the n-th [[table]] header is the n-th row.
    headers: dict[str, list[int]] = {}
    for no, raw in enumerate(text.splitlines(), start=1):
        m = re.match(r"^\s*\[\[\s*([a-z_]+)\s*\]\]", raw)
        if m:
            headers.setdefault(m.group(1), []).append(no)
    rows: list[tuple[str, int | None, Mapping[str, Any]]] = []
    for table in _TABLES:
        items = doc.get(table, [])
        if not isinstance(items, list):
            raise DirectoryError(f"{table} must be an array of tables ([[{table}]])", file=source)
        lines = headers.get(table, [])
        for i, item in enumerate(items):
            line = lines[i] if i < len(lines) and len(lines) == len(items) else None
            if not isinstance(item, dict):
                raise DirectoryError(f"[[{table}]] entry is not a table", file=source, line=line)
            rows.append((table, line, item))
    return rows


def _csv_rows(text: str, source: str) -> list[tuple[str, int | None, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "tabel" not in reader.fieldnames:
        raise DirectoryError("first line must name the columns, starting with 'tabel'", file=source)
    extra = sorted(set(reader.fieldnames) - set(CSV_COLUMNS))
    if extra:
        raise DirectoryError(f"unknown column {extra[0]!r}", file=source, line=1, field=extra[0])
    rows: list[tuple[str, int | None, Mapping[str, Any]]] = []
    for record in reader:
        line = reader.line_num
        table = (record.get("tabel") or "").strip().lower()
        if table not in _TABLES:
            raise DirectoryError(
                f"tabel {table!r} is not one of {', '.join(_TABLES)}",
                file=source,
                line=line,
                field="tabel",
            )
        required, optional = _TABLES[table]
        row = {
            k: v.strip()
            for k, v in record.items()
            if k in required + optional and isinstance(v, str) and v.strip()
        }
        rows.append((table, line, row))
    return rows


def _check_keys(table: str, line: int | None, row: Mapping[str, Any], source: str) -> None:
    required, optional = _TABLES[table]
    for key in row:
        if key not in required + optional:
            raise DirectoryError(
                f"[[{table}]] has no key {key!r} (keys: {', '.join(required + optional)})",
                file=source,
                line=line,
                field=key,
            )
    for key in required:
        if key not in row:
            raise DirectoryError(f"[[{table}]] needs {key!r}", file=source, line=line, field=key)


def _text(
    row: Mapping[str, Any], key: str, line: int | None, source: str, *, optional: bool = False
) -> Any:
    value = row.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise DirectoryError(
            f"{key} must be non-empty text of at most 500 characters",
            file=source,
            line=line,
            field=key,
        )
    return " ".join(value.split())


def _nip(row: Mapping[str, Any], line: int | None, source: str) -> str:
    try:
        return normalize_nip(row.get("nip"))  # type: ignore[arg-type]
    except NipError as exc:
        raise NipError(exc.message, file=source, line=line, field="nip") from None


def _date(
    row: Mapping[str, Any], key: str, line: int | None, source: str, *, optional: bool = False
) -> Any:
    value = row.get(key)
    if value is None and optional:
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DirectoryError(
        f"{key} {value!r} is not a date (YYYY-MM-DD)", file=source, line=line, field=key
    )


# -- writing ---------------------------------------------------------------------------
def _q(value: str) -> str:
    # A JSON string is a valid TOML basic string for the text a directory holds.
    return json.dumps(value, ensure_ascii=False)


def dump_toml(directory: Directory) -> str:
    out = ["# sopflow staff directory (docs/authority.md)", "format = 1", ""]
    for u in directory.units.values():
        out += ["[[unit]]", f"kode = {_q(u.kode)}", f"nama = {_q(u.nama)}"]
        out += [f"induk = {_q(u.induk)}"] if u.induk else []
        out.append("")
    for p in directory.positions.values():
        out += [
            "[[jabatan]]",
            f"kode = {_q(p.kode)}",
            f"nama = {_q(p.nama)}",
            f"unit = {_q(p.unit)}",
            f"peran = {_q(p.peran)}",
            "",
        ]
    for person in directory.people.values():
        out += ["[[pegawai]]", f"nip = {_q(person.nip)}", f"nama = {_q(person.nama)}", ""]
    for a in directory.assignments:
        out += [
            "[[penugasan]]",
            f"nip = {_q(a.nip)}",
            f"jabatan = {_q(a.jabatan)}",
            f"mulai = {a.mulai.isoformat()}",
        ]
        out += [f"selesai = {a.selesai.isoformat()}"] if a.selesai else []
        out += [f"jenis = {_q(a.jenis)}", f"dasar = {_q(a.dasar)}", ""]
    return "\n".join(out)


def dump_csv(directory: Directory) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for u in directory.units.values():
        writer.writerow({"tabel": "unit", "kode": u.kode, "nama": u.nama, "induk": u.induk})
    for p in directory.positions.values():
        writer.writerow(
            {"tabel": "jabatan", "kode": p.kode, "nama": p.nama, "unit": p.unit, "peran": p.peran}
        )
    for person in directory.people.values():
        writer.writerow({"tabel": "pegawai", "nip": person.nip, "nama": person.nama})
    for a in directory.assignments:
        writer.writerow(
            {
                "tabel": "penugasan",
                "nip": a.nip,
                "jabatan": a.jabatan,
                "mulai": a.mulai.isoformat(),
                "selesai": a.selesai.isoformat() if a.selesai else "",
                "jenis": a.jenis,
                "dasar": a.dasar,
            }
        )
    return buf.getvalue()
