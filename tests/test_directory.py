"""The staff directory: NIP checks, the directory's rules and its TOML/CSV import.

An NIP is ``YYYYMMDD YYYYMM G NNN`` (birth date, TMT CPNS, gender, sequence; PP 11/2017
and BKN practice). A position has one definitive holder at a time; a Plh./Plt. may
overlap it (SE Kepala BKN 1/SE/I/2021). A file with one bad row imports nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from _stores import store_url_fixture  # noqa: F401  (fixture)
from sopflow.authority.directory import Assignment, Directory
from sopflow.authority.io import dump_csv, dump_toml, load_directory_file, parse_directory
from sopflow.authority.nip import format_nip, normalize_nip
from sopflow.errors import DirectoryError, NipError
from sopflow.stores import open_store

DIRECTORY = """\
format = 1

[[unit]]
kode = "32.14"
nama = "Kabupaten Purwakarta"

[[unit]]
kode = "32.14.14"
nama = "Kecamatan Cibatu"
induk = "32.14"

[[unit]]
kode = "32.14.14-SPKP"
nama = "Subbag. Perencanaan, Keuangan dan Pelaporan"
induk = "32.14.14"

[[jabatan]]
kode = "CBT-CAMAT"
nama = "Camat Cibatu"
unit = "32.14.14"
peran = "camat"

[[jabatan]]
kode = "CBT-KASUBAG"
nama = "Kepala Subbagian Perencanaan, Keuangan dan Pelaporan"
unit = "32.14.14-SPKP"
peran = "kasubag"

[[pegawai]]
nip = "19820612 200012 1 001"
nama = "MUHAMMAD KOSIM, S.STP, M.SI"

[[pegawai]]
nip = "198503172010012004"
nama = "Rina Marlina, S.E."

[[penugasan]]
nip = "19820612 200012 1 001"
jabatan = "CBT-CAMAT"
mulai = 2024-01-02
jenis = "definitif"
dasar = "SK Bupati 821.2/Kep.12-BKPSDM/2024"

[[penugasan]]
nip = "198503172010012004"
jabatan = "CBT-CAMAT"
mulai = 2025-03-03
selesai = 2025-03-07
jenis = "plh"
dasar = "Sprin 800/12/2025"
"""


@pytest.mark.parametrize(
    "text",
    ["19660705 198703 1 007", "198203122000121001", "19820612 200012 2 001", "200002292024011001"],
)
def test_a_valid_nip_is_accepted_with_or_without_spaces(text: str) -> None:
    digits = normalize_nip(text)
    assert len(digits) == 18 and digits == "".join(text.split())
    assert format_nip(digits).replace(" ", "") == digits


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("19660705 198703 1 00", "18 digits"),
        ("19660705 198703 1 0071", "18 digits"),
        ("1966070A 198703 1 007", "18 digits"),
        ("19661305 198703 1 007", "birth date"),  # month 13
        ("19650229 198703 1 007", "birth date"),  # 1965 is not a leap year
        ("19660705 198700 1 007", "TMT month"),
        ("19660705 198713 1 007", "TMT month"),
        ("19660705 197003 1 007", "before the holder"),  # appointed at three
        ("19660705 198703 3 007", "gender"),
        ("19660705 198703 0 007", "gender"),
        ("18500101 198703 1 007", "not plausible"),
        ("١٩٦٦٠٧٠٥١٩٨٧٠٣١٠٠٧", "18 digits"),  # Arabic-Indic digits are not an NIP
    ],
)
def test_an_invalid_nip_is_refused_naming_the_part(text: str, why: str) -> None:
    with pytest.raises(NipError, match=why):
        normalize_nip(text)


def test_a_directory_file_reads_units_positions_people_and_assignments(tmp_path: Path) -> None:
    path = tmp_path / "staf.toml"
    path.write_text(DIRECTORY)
    d = load_directory_file(path)
    assert d.units["32.14.14"].kind == "kecamatan" and d.units["32.14"].kind == "kabupaten"
    assert d.units["32.14.14-SPKP"].kind == "seksi"
    assert d.within("32.14.14-SPKP", "32.14.14") and not d.within("32.14.14", "32.14.14-SPKP")
    assert d.find_unit("Cibatu") == d.units["32.14.14"]
    plh = [a for a in d.assignments if a.jenis == "plh"]
    assert plh and plh[0].selesai == date(2025, 3, 7) and plh[0].dasar == "Sprin 800/12/2025"


def test_toml_and_csv_exports_read_back_to_the_same_directory(tmp_path: Path) -> None:
    d = parse_directory(DIRECTORY)
    for name, text in (("a.toml", dump_toml(d)), ("a.csv", dump_csv(d))):
        (tmp_path / name).write_text(text)
        again = load_directory_file(tmp_path / name)
        assert again.units == d.units and again.positions == d.positions
        assert again.people == d.people and again.assignments == d.assignments


def test_a_second_definitive_holder_at_the_same_time_is_refused() -> None:
    second = DIRECTORY.replace('jenis = "plh"', 'jenis = "definitif"')
    with pytest.raises(DirectoryError, match="two definitive holders") as caught:
        parse_directory(second, source="staf.toml")
    assert caught.value.file == "staf.toml" and caught.value.field == "mulai"
    assert caught.value.line == DIRECTORY.splitlines().index("[[penugasan]]", 40) + 1


def test_a_plh_overlapping_the_definitive_holder_is_allowed_and_recorded() -> None:
    d = parse_directory(DIRECTORY)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    during = datetime(2025, 3, 5, 9, tzinfo=ZoneInfo("Asia/Jakarta"))
    kinds = [a.jenis for a in d.holders("CBT-CAMAT", during)]
    assert kinds == ["definitif", "plh"]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (('nip = "198503172010012004"', 'nip = "198503172010012"'), "nip"),
        (("mulai = 2025-03-03", 'mulai = "3 Maret 2025"'), "mulai"),
        (('jenis = "plh"', 'jenis = "pj"'), "jenis"),
        (("selesai = 2025-03-07", "selesai = 2025-03-01"), "selesai"),
        (('dasar = "Sprin 800/12/2025"', 'dasar = " "'), "dasar"),
        (('peran = "kasubag"', 'peran = "Kasubag Umum"'), "peran"),
        (('induk = "32.14.14"', 'induk = "32.99.99"'), "induk"),
        (('jabatan = "CBT-CAMAT"\nmulai = 2025', 'jabatan = "CBT-LURAH"\nmulai = 2025'), "jabatan"),
    ],
)
def test_an_import_with_a_bad_row_names_it_and_imports_nothing(
    tmp_path: Path, bad: tuple[str, str], field: str
) -> None:
    text = DIRECTORY.replace(*bad, 1)
    assert text != DIRECTORY
    path = tmp_path / "staf.toml"
    path.write_text(text)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(DirectoryError) as caught:
            store.import_directory(load_directory_file(path), file=str(path))  # type: ignore[attr-defined]
        assert caught.value.field == field and str(path) in str(caught.value)
        assert caught.value.line is not None
        assert not store.has_directory()  # type: ignore[attr-defined]
    finally:
        store.close()


def test_a_csv_row_error_names_its_line(tmp_path: Path) -> None:
    text = dump_csv(parse_directory(DIRECTORY)).splitlines()
    assert text[7].startswith("pegawai") and "198503172010012004" in text[7]
    text[7] = text[7].replace("198503172010012004", "198503172010012")
    path = tmp_path / "staf.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(NipError) as caught:
        load_directory_file(path)
    assert caught.value.line == 8 and caught.value.field == "nip"


def test_the_store_keeps_the_directory_and_rejects_a_conflicting_assignment(
    store_url: str,
) -> None:
    store = open_store(store_url)
    try:
        store.import_directory(parse_directory(DIRECTORY))  # type: ignore[attr-defined]
        stored: Directory = store.load_directory()  # type: ignore[attr-defined]
        assert stored.assignments == parse_directory(DIRECTORY).assignments
        with pytest.raises(DirectoryError, match="two definitive holders"):
            store.assign(  # type: ignore[attr-defined]
                Assignment(
                    "198503172010012004", "CBT-CAMAT", date(2025, 6, 1), None, "definitif", "SK 1"
                )
            )
        store.end_assignment("198206122000121001", "CBT-CAMAT", date(2025, 5, 31))  # type: ignore[attr-defined]
        store.assign(  # type: ignore[attr-defined]
            Assignment(
                "198503172010012004", "CBT-CAMAT", date(2025, 6, 1), None, "definitif", "SK 1"
            )
        )
        holders = [a.nip for a in store.load_directory().assignments if a.jenis == "definitif"]  # type: ignore[attr-defined]
        assert holders == ["198206122000121001", "198503172010012004"]
    finally:
        store.close()


def test_the_demo_directory_staffs_every_role_of_every_shipped_sop() -> None:
    """``make demo`` runs with it: each SOP's kecamatan is a unit with a holder per lane."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sopflow.authority.demo import demo_staff_text
    from sopflow.definitions.catalog import Catalog
    from sopflow.runtime.duties import parent_allowed

    d = parse_directory(demo_staff_text())
    monday = datetime(2025, 8, 4, 9, tzinfo=ZoneInfo("Asia/Jakarta"))
    catalog = Catalog.from_directory(Path(__file__).resolve().parent.parent / "bpmn")
    for definition in catalog:
        unit = d.find_unit(definition.header.kecamatan or "")
        assert unit is not None, definition.process_id
        for role in {s.role for s in definition.steps}:
            scope = (
                [unit.kode, *d.ancestors(unit.kode)]
                if parent_allowed(role, False, unit.kode, d)
                else [unit.kode]
            )
            held = [
                a
                for p in d.positions.values()
                if p.peran == role and any(d.within(p.unit, s) for s in scope)
                for a in d.holders(p.kode, monday)
            ]
            assert held, (definition.process_id, role)
    plh = [a for a in d.assignments if a.jenis == "plh"]
    assert plh and all(
        date(2025, 8, 4) <= a.mulai <= (a.selesai or a.mulai) <= date(2025, 8, 22) for a in plh
    )


@pytest.mark.parametrize(
    ("text", "fmt", "match"),
    [
        ('[[unit]]\nkode = "32.14"\nnama = "x"\nwarna = "merah"\n', "toml", "no key 'warna'"),
        ('[[lurah]]\nkode = "1"\n', "toml", "unknown table 'lurah'"),
        ('[[pegawai]]\nnip = 196607051987031007\nnama = "A"\n', "toml", "must be text"),
        ('[[unit]]\nkode = "32.14"\nnama = "' + "x" * 501 + '"\n', "toml", "at most 500"),
        ('[[unit]]\nkode = "a b; DROP TABLE"\nnama = "x"\n', "toml", "not a code"),
        ("unit = 3\n", "toml", "array of tables"),
        ("tabel,kode,nama,sandi\nunit,32.14,x,y\n", "csv", "unknown column 'sandi'"),
        ("kode,nama\n32.14,x\n", "csv", "starting with 'tabel'"),
        ("tabel,kode,nama\nlurah,1,x\n", "csv", "tabel 'lurah'"),
        ('[[unit]\nkode = "1"', "toml", "not valid TOML"),
    ],
)
def test_hostile_or_malformed_files_are_refused_with_a_reason(
    text: str, fmt: str, match: str
) -> None:
    with pytest.raises(DirectoryError, match=match):
        parse_directory(text, fmt=fmt, source="upload")


def test_a_stored_directory_edited_by_hand_is_refused(store_url: str) -> None:
    from _stores import raw_execute

    store = open_store(store_url)
    try:
        store.import_directory(parse_directory(DIRECTORY))  # type: ignore[attr-defined]
        raw_execute(store_url, "UPDATE sopflow_assignments SET jenis = 'definitif'")
        raw_execute(store_url, "UPDATE sopflow_directory_rev SET rev = rev + 1")
        with pytest.raises(DirectoryError, match="edited by hand"):
            store.load_directory()  # type: ignore[attr-defined]
    finally:
        store.close()
