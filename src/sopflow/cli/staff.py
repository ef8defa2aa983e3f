"""``sopflow staff``: the staff directory (import, show, assign, end, export)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from typing import Any

from sopflow.cli._common import DISPLAY_TZ, add_json, parse_at, print_json, table
from sopflow.errors import DirectoryError, StoreError


def _store(args: argparse.Namespace) -> Any:
    from sopflow.stores import open_store

    store = open_store(args.db)
    if not hasattr(store, "load_directory"):
        store.close()
        raise StoreError(f"{args.db}: this store cannot hold a staff directory")
    return store


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DirectoryError(f"{text!r} is not a date (YYYY-MM-DD)", field=what) from None


def _import(args: argparse.Namespace) -> int:
    from sopflow.authority.io import load_directory_file

    incoming = load_directory_file(args.file)
    with _store(args) as store:
        merged = store.import_directory(incoming, file=args.file)
    print(
        f"{args.file}: imported {len(incoming.units)} unit, {len(incoming.positions)} jabatan, "
        f"{len(incoming.people)} pegawai, {len(incoming.assignments)} penugasan "
        f"(directory now: {len(merged.people)} pegawai, {len(merged.assignments)} penugasan)"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    from sopflow.authority.nip import format_nip, normalize_nip

    nip = normalize_nip(args.nip)
    at = parse_at(args.at) or datetime.now(DISPLAY_TZ)
    with _store(args) as store:
        directory = store.load_directory()
    person = directory.people.get(nip)
    if person is None:
        raise DirectoryError(f"no pegawai with NIP {format_nip(nip)} in the directory", field="nip")
    day = directory.day(at)
    rows = []
    for a in directory.assignments:
        if a.nip != nip:
            continue
        pos = directory.positions[a.jabatan]
        day = directory.day(at, pos.unit)  # the office's own calendar (WIB, WITA, WIT)
        rows.append(
            {
                "jabatan": a.jabatan,
                "nama_jabatan": pos.nama,
                "unit": pos.unit,
                "peran": pos.peran,
                "jenis": a.jenis,
                "mulai": a.mulai.isoformat(),
                "selesai": a.selesai.isoformat() if a.selesai else None,
                "dasar": a.dasar,
                "berlaku": a.covers(day),
            }
        )
    if args.json:
        print_json({"nip": nip, "nama": person.nama, "per": day.isoformat(), "penugasan": rows})
        return 0
    print(f"{person.nama}\nNIP {format_nip(nip)}")
    cells = [
        [
            ("* " if r["berlaku"] else "  ") + str(r["jabatan"]),
            str(r["nama_jabatan"])[:48],
            str(r["peran"]),
            str(r["jenis"]),
            f"{r['mulai']} - {r['selesai'] or ''}",
            str(r["dasar"]),
        ]
        for r in rows
    ]
    if cells:
        print(table(cells, ["jabatan", "nama", "peran", "jenis", "masa", "dasar"]))
        print(f"* berlaku pada {day.isoformat()}")
    else:
        print("no assignments")
    return 0


def _assign(args: argparse.Namespace) -> int:
    from sopflow.authority.directory import Assignment
    from sopflow.authority.nip import normalize_nip

    assignment = Assignment(
        nip=normalize_nip(args.nip),
        jabatan=args.jabatan,
        mulai=_day(args.mulai, "mulai"),
        selesai=_day(args.selesai, "selesai") if args.selesai else None,
        jenis=args.jenis,
        dasar=args.dasar,
    )
    with _store(args) as store:
        store.assign(assignment)
    until = f" until {assignment.selesai}" if assignment.selesai else ""
    print(f"{assignment.nip}: {assignment.jenis} {args.jabatan} from {assignment.mulai}{until}")
    return 0


def _end(args: argparse.Namespace) -> int:
    from sopflow.authority.nip import normalize_nip

    nip = normalize_nip(args.nip)
    with _store(args) as store:
        store.end_assignment(nip, args.jabatan, _day(args.selesai, "selesai"))
    print(f"{nip}: {args.jabatan} ends on {args.selesai}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from sopflow.authority.io import dump_csv, dump_toml

    with _store(args) as store:
        directory = store.load_directory()
    sys.stdout.write(dump_csv(directory) if args.format == "csv" else dump_toml(directory))
    return 0


def _store_arg(p: argparse.ArgumentParser) -> None:
    import os

    from sopflow.cli._common import DEFAULT_DB

    p.add_argument(
        "--db",
        default=os.environ.get("SOPFLOW_DB", DEFAULT_DB),
        help=f"store URL (default: $SOPFLOW_DB or {DEFAULT_DB})",
    )


def _password(args: argparse.Namespace) -> int:
    """Hash (argon2id) and store a password; it is read without echo, never an argument."""
    from sopflow.authority.nip import format_nip, normalize_nip

    try:
        from sopflow.web import set_password
    except ImportError:
        raise StoreError("passwords need the web layer: pip install 'sopflow[web]'") from None
    from sopflow.runtime.views import to_ms

    nip = normalize_nip(args.nip)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        import getpass

        password = getpass.getpass(f"password for {format_nip(nip)}: ")
        if getpass.getpass("again: ") != password:
            raise DirectoryError("the two passwords differ", field="password")
    with _store(args) as store:
        set_password(store, nip, password, at=to_ms(datetime.now(DISPLAY_TZ)))
    print(f"{format_nip(nip)}: password set (argon2id); their sessions are ended")
    return 0


def register(sub: Any) -> None:
    from sopflow.authority.directory import KINDS

    staff = sub.add_parser(
        "staff",
        help="the staff directory: units, jabatan, pegawai, penugasan (Plh/Plt)",
        description="The staff directory the engine reads roles from (docs/authority.md).",
    )
    verbs = staff.add_subparsers(dest="staff_verb", metavar="ACTION")
    verbs.required = True

    p = verbs.add_parser("import", help="add a TOML or CSV directory file (all or nothing)")
    p.add_argument("file")
    _store_arg(p)
    p.set_defaults(run=_import)

    p = verbs.add_parser("show", help="a pegawai and their assignments")
    p.add_argument("nip")
    p.add_argument("--at", metavar="ISO", help="which day counts (default: now)")
    add_json(p)
    _store_arg(p)
    p.set_defaults(run=_show)

    p = verbs.add_parser("assign", help="record an SK or Surat Perintah")
    p.add_argument("nip")
    p.add_argument("jabatan", help="jabatan code")
    p.add_argument("--mulai", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--selesai", metavar="YYYY-MM-DD", help="last day (default: open-ended)")
    p.add_argument("--jenis", required=True, choices=KINDS)
    p.add_argument("--dasar", required=True, help="number of the SK or Surat Perintah")
    _store_arg(p)
    p.set_defaults(run=_assign)

    p = verbs.add_parser("end", help="end an assignment (mutasi, pensiun, end of a Plh)")
    p.add_argument("nip")
    p.add_argument("jabatan", help="jabatan code")
    p.add_argument("--selesai", required=True, metavar="YYYY-MM-DD", help="last day held")
    _store_arg(p)
    p.set_defaults(run=_end)

    p = verbs.add_parser("password", help="set a pegawai's web login password (sopflow[web])")
    p.add_argument("nip")
    p.add_argument("--stdin", action="store_true", help="read the password from stdin")
    _store_arg(p)
    p.set_defaults(run=_password)

    p = verbs.add_parser("export", help="write the directory as TOML or CSV")
    p.add_argument("--format", choices=("toml", "csv"), default="toml")
    _store_arg(p)
    p.set_defaults(run=_export)
