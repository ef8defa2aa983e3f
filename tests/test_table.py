"""The SOP table format: what it accepts, what it refuses (with file and line), round trips."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from _tables import sop_tables, toml_noise
from sopflow.definitions.table import (
    MAX_TABLE_BYTES,
    Keputusan,
    Pelaksana,
    SopTable,
    parse_table,
    write_table,
)
from sopflow.errors import TableError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_TABLES = sorted((ROOT / "bpmn" / "tables").glob("*.toml"))

BASE = """\
format = 1
process_id = "contoh_sop"

[identitas]
nama = "Contoh SOP"
zona_waktu = "Asia/Makassar"
dasar_hukum = ["Perpres 29/2014"]
disahkan_oleh = { jabatan = "Camat Contoh", nip = "1966" }

[[pelaksana]]
nama = "Camat"
peran = "camat"

[[pelaksana]]
nama = "Sekcam"
peran = "sekcam"

[[langkah]]
no = 1
kegiatan = "Camat memerintahkan Sekcam"
pelaksana = "Camat"
kelengkapan = ["Disposisi"]
waktu = "15 Menit"
output = ["Disposisi"]

[[langkah]]
no = 2
kegiatan = "Sekcam menyusun laporan"
pelaksana = "Sekcam"
waktu = "2 hari"

[[langkah]]
no = 3
kegiatan = "Camat memeriksa laporan"
pelaksana = "Camat"
keputusan = { ya = 4, tidak = 2 }

[[langkah]]
no = 4
kegiatan = "Camat menandatangani laporan"
pelaksana = "Camat"
keterangan = "arsip"
"""


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``marker`` (or ``marker@n``)."""
    if re.search(r"@\d+$", marker):
        marker, _, nth = marker.rpartition("@")
        occurrence = int(nth)
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


# ------------------------------------------------------------------------------ happy paths


def test_base_table_reads_as_the_sop_writes_it() -> None:
    table = parse_table(BASE, source="contoh.toml")
    assert table.process_id == "contoh_sop"
    assert table.identitas.nama == "Contoh SOP"
    assert table.identitas.disahkan_oleh_jabatan == "Camat Contoh"
    assert table.identitas.disahkan_oleh_nip == "1966"
    assert table.identitas.dasar_hukum == ("Perpres 29/2014",)
    assert table.pelaksana == (Pelaksana("Camat", "camat"), Pelaksana("Sekcam", "sekcam"))
    assert [s.no for s in table.langkah] == [1, 2, 3, 4]
    assert table.langkah[0].waktu == "15 Menit"
    assert table.langkah[1].kelengkapan == ()
    assert table.langkah[2].keputusan == Keputusan(ya=4, tidak=2)
    assert table.langkah[3].keterangan == "arsip"
    assert table.source == "contoh.toml"


def test_ya_defaults_to_the_next_step() -> None:
    text = replace_once(BASE, "{ ya = 4, tidak = 2 }", "{ tidak = 2 }")
    assert parse_table(text).langkah[2].keputusan == Keputusan(ya=4, tidak=2)


def test_keputusan_may_be_a_subtable() -> None:
    text = replace_once(BASE, 'keputusan = { ya = 4, tidak = 2 }\n',
                        "\n[langkah.keputusan]\nya = 4\ntidak = 2\n")
    assert parse_table(text) == parse_table(BASE)


def test_a_path_is_read_as_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sop.toml"
    path.write_text(BASE, encoding="utf-8")
    table = parse_table(path)
    assert table == parse_table(BASE)
    assert table.source == str(path)


@pytest.mark.parametrize("path", SHIPPED_TABLES, ids=lambda p: p.name)
def test_shipped_tables_are_stored_in_canonical_form(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    table = parse_table(path)
    assert write_table(table) == text


def test_the_four_seed_sops_are_shipped() -> None:
    assert [p.name for p in SHIPPED_TABLES] == [
        "cibatu-data-kinerja.toml",
        "long-ikis-data-kinerja.toml",
        "pace-data-kinerja.toml",
        "purbalingga-pengukuran-kinerja.toml",
    ]
    tables = {p.stem: parse_table(p) for p in SHIPPED_TABLES}
    assert {k: len(t.langkah) for k, t in tables.items()} == {
        "cibatu-data-kinerja": 7,
        "long-ikis-data-kinerja": 14,
        "pace-data-kinerja": 9,
        "purbalingga-pengukuran-kinerja": 12,
    }
    decisions = {
        k: [(s.no, s.keputusan.ya, s.keputusan.tidak) for s in t.langkah if s.keputusan]
        for k, t in tables.items()
    }
    assert decisions["purbalingga-pengukuran-kinerja"] == [(10, 11, 9), (11, 12, 9)]
    assert decisions["long-ikis-data-kinerja"] == [(11, 12, 5)]
    assert decisions["cibatu-data-kinerja"] == decisions["pace-data-kinerja"] == []
    assert tables["long-ikis-data-kinerja"].identitas.zona_waktu == "Asia/Makassar"
    cibatu = tables["cibatu-data-kinerja"]
    assert [s.waktu for s in cibatu.langkah[:2]] == [None, None]
    kualifikasi = cibatu.identitas.kualifikasi_pelaksana
    assert len(kualifikasi) == len(set(kualifikasi))


# ------------------------------------------------------------------------- hostile inputs

#: (case id, old, new: the change to BASE, marker of the line the error must name
#: ("text@n" = its n-th occurrence), part of the message)
INVALID: list[tuple[str, str, str, str, str]] = [
    ("syntax", 'waktu = "2 hari"', 'waktu = "2 hari', 'waktu = "2 hari', "not valid TOML"),
    ("unknown top key", 'process_id = "contoh_sop"',
     'process_id = "contoh_sop"\nproces = 1', "proces = 1", "unknown key 'proces'"),
    ("typo in langkah", 'waktu = "2 hari"', 'wakt = "2 hari"', "wakt =",
     "did you mean 'waktu'?"),
    ("typo in identitas", 'nama = "Contoh SOP"', 'namma = "Contoh SOP"', "namma",
     "unknown key 'namma' in [identitas]"),
    ("typo in disahkan_oleh", 'nip = "1966"', 'npi = "1966"', "npi",
     "unknown key 'npi'"),
    ("typo in pelaksana", 'peran = "sekcam"', 'perann = "sekcam"', "perann",
     "unknown key 'perann'"),
    ("typo in keputusan", "{ ya = 4, tidak = 2 }", "{ ya = 4, tdak = 2 }", "tdak",
     "unknown key 'tdak'"),
    ("missing kegiatan", 'kegiatan = "Sekcam menyusun laporan"\n', "", "[[langkah]]@2",
     "missing required key 'kegiatan'"),
    ("missing peran", 'peran = "camat"\n', "", "[[pelaksana]]@1",
     "missing required key 'peran'"),
    ("no as string", "no = 2", 'no = "2"', 'no = "2"', "must be an integer"),
    ("no as boolean", "no = 2", "no = true", "no = true", "must be an integer, not a boolean"),
    ("list as string", 'kelengkapan = ["Disposisi"]', 'kelengkapan = "Disposisi"',
     'kelengkapan = "Disposisi"', "must be a list of strings"),
    ("waktu as number", 'waktu = "2 hari"', "waktu = 2", "waktu = 2", "must be a string"),
    ("empty waktu", 'waktu = "2 hari"', 'waktu = ""', 'waktu = ""', "must not be empty"),
    ("unknown role", 'peran = "sekcam"', 'peran = "bupati"', "bupati", "unknown role code"),
    ("undeclared pelaksana", 'pelaksana = "Sekcam"', 'pelaksana = "Sekretaris"',
     'pelaksana = "Sekretaris"', "not declared"),
    ("duplicate step", "no = 2", "no = 1", "no = 1@2", "duplicate step number 1"),
    ("gap in steps", "no = 4", "no = 5", "no = 5", "where 4 was expected"),
    ("keputusan to nowhere", "{ ya = 4, tidak = 2 }", "{ ya = 4, tidak = 7 }",
     "tidak = 7", "there is no step 7"),
    ("keputusan to itself", "{ ya = 4, tidak = 2 }", "{ ya = 4, tidak = 3 }",
     "tidak = 3", "points to the deciding step itself"),
    ("tidak goes forward", "{ ya = 4, tidak = 2 }", "{ ya = 2, tidak = 4 }",
     "tidak = 4", "must be a later step"),
    ("keputusan without tidak", "{ ya = 4, tidak = 2 }", "{ ya = 4 }", "{ ya = 4 }",
     "needs 'tidak'"),
    ("keputusan as a number", "{ ya = 4, tidak = 2 }", "2", "keputusan = 2",
     "must be a table"),
    ("duplicate pelaksana", 'nama = "Sekcam"', 'nama = "Camat"', 'nama = "Camat"@2',
     "duplicate pelaksana nama 'Camat'"),
    ("empty kegiatan", '"Sekcam menyusun laporan"', '""', 'kegiatan = ""', "must not be empty"),
    ("blank kegiatan", '"Sekcam menyusun laporan"', '"   "', 'kegiatan = "   "',
     "must not be empty"),
    ("control character", '"Sekcam menyusun laporan"', '"Sekcam\\u0001menyusun"',
     "Sekcam\\u0001", "control character U+0001"),
    ("bad process id", '"contoh_sop"', '"1 contoh"', "process_id", "must match"),
    ("future format", "format = 1", "format = 2", "format = 2", "format 2 is not supported"),
    ("unknown zone", '"Asia/Makassar"', '"Asia/Pontianakk"', "zona_waktu",
     "not an IANA time zone"),
    ("zone path traversal", '"Asia/Makassar"', '"../../etc/passwd"', "zona_waktu",
     "not an IANA time zone"),
    # waktu the loader refuses is refused here, at the table's line (issue 15: compile
    # accepted them and produced a catalog where every process was refused)
    ("waktu of a million years", 'waktu = "2 hari"', 'waktu = "1000000 tahun"',
     "1000000 tahun", "step 2: waktu:"),
    ("negative waktu", 'waktu = "2 hari"', 'waktu = "-5 menit"', "-5 menit",
     "cannot be negative"),
    ("waktu over ten years", 'waktu = "2 hari"', 'waktu = "5000 hari"', "5000 hari",
     "longer than 10 years"),
    # several Pelaksana, untuk_setiap, panggil (docs/table-format.md)
    ("joint step with an undeclared column", 'pelaksana = "Sekcam"',
     'pelaksana = ["Sekcam", "Lurah"]', '"Lurah"', "pelaksana 'Lurah' is not declared"),
    ("joint step naming a column twice", 'pelaksana = "Sekcam"',
     'pelaksana = ["Sekcam", "Sekcam"]', 'pelaksana = ["Sekcam"', "names 'Sekcam' twice"),
    ("joint step with no column", 'pelaksana = "Sekcam"', "pelaksana = []",
     "pelaksana = []", "at least one column"),
    ("joint step with a number", 'pelaksana = "Sekcam"', 'pelaksana = ["Sekcam", 2]',
     'pelaksana = ["Sekcam", 2]', "pelaksana[2] must be a string, not an integer"),
    ("joint deciding step", 'pelaksana = "Camat"\nkeputusan',
     'pelaksana = ["Camat", "Sekcam"]\nkeputusan', "keputusan = {",
     "step 3: several pelaksana and keputusan cannot be combined"),
    ("untuk_setiap not a name", 'waktu = "2 hari"', 'waktu = "2 hari"\nuntuk_setiap = "se ksi"',
     "untuk_setiap", "must be a field name"),
    ("untuk_setiap a keyword", 'waktu = "2 hari"', 'waktu = "2 hari"\nuntuk_setiap = "for"',
     "untuk_setiap", "must be a field name"),
    ("untuk_setiap the decision field", 'waktu = "2 hari"',
     'waktu = "2 hari"\nuntuk_setiap = "disetujui"', "untuk_setiap", "engine reserves"),
    ("untuk_setiap as a list", 'waktu = "2 hari"', 'waktu = "2 hari"\nuntuk_setiap = ["a"]',
     "untuk_setiap", "untuk_setiap must be a string, not an array"),
    ("untuk_setiap on a deciding step", "keputusan = {",
     'untuk_setiap = "seksi"\nkeputusan = {', 'untuk_setiap = "seksi"',
     "keputusan and untuk_setiap cannot be combined"),
    ("untuk_setiap an id the compiler writes", 'waktu = "2 hari"',
     'waktu = "2 hari"\nuntuk_setiap = "step_02"', "untuk_setiap", "also the id of an element"),
    ("untuk_setiap the process id", 'waktu = "2 hari"',
     'waktu = "2 hari"\nuntuk_setiap = "contoh_sop"', "untuk_setiap", "also the process id"),
    ("panggil not a process id", 'waktu = "2 hari"', 'waktu = "2 hari"\npanggil = "SOP X"',
     "panggil", "must be a process id"),
    ("panggil itself", 'waktu = "2 hari"', 'waktu = "2 hari"\npanggil = "contoh_sop"',
     "panggil", "calls this SOP itself"),
    ("panggil with untuk_setiap", 'waktu = "2 hari"',
     'waktu = "2 hari"\nuntuk_setiap = "seksi"\npanggil = "lain"', "panggil =",
     "untuk_setiap and panggil cannot be combined"),
    ("joint step calling", 'pelaksana = "Sekcam"',
     'pelaksana = ["Sekcam", "Camat"]\npanggil = "lain"', "panggil =",
     "several pelaksana and panggil cannot be combined"),
    ("typo of untuk_setiap", 'waktu = "2 hari"', 'waktu = "2 hari"\nuntuk_stiap = "seksi"',
     "untuk_stiap", "did you mean 'untuk_setiap'?"),
]


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_tables_name_file_and_line(old: str, new: str, marker: str,
                                           message: str) -> None:
    text = replace_once(BASE, old, new)
    with pytest.raises(TableError) as caught:
        parse_table(text, source="sop.toml")
    error = caught.value
    assert message in str(error)
    assert error.file == "sop.toml"
    assert error.line == line_of(text, marker)
    assert str(error).startswith(f"sop.toml:{error.line}: ")


def test_second_step_errors_point_at_the_second_entry() -> None:
    # the same key text appears in several [[langkah]]: the line must be the offending one
    text = replace_once(BASE, 'pelaksana = "Camat"\nkeputusan',
                        'pelaksana = "Lurah"\nkeputusan')
    with pytest.raises(TableError) as caught:
        parse_table(text)
    assert caught.value.line == line_of(text, 'pelaksana = "Lurah"')
    assert "step 3" in str(caught.value)


def test_a_step_skipped_by_ya_cannot_be_reached() -> None:
    text = replace_once(BASE, "{ ya = 4, tidak = 2 }", "{ ya = 4, tidak = 1 }")
    text = replace_once(text, "no = 2\n", "no = 2\nkeputusan = { ya = 4, tidak = 1 }\n")
    with pytest.raises(TableError) as caught:
        parse_table(text)
    assert "step 3 can never be reached" in str(caught.value)
    assert caught.value.line == line_of(text, "[[langkah]]", 3)


def test_ya_past_the_last_step_is_refused() -> None:
    text = replace_once(BASE, 'keterangan = "arsip"', 'keputusan = { tidak = 1 }')
    with pytest.raises(TableError) as caught:
        parse_table(text)
    assert "there is no step 5" in str(caught.value)
    assert "ya defaults to the next step" in str(caught.value)


@pytest.mark.parametrize("section", ["pelaksana", "langkah"])
def test_empty_sections_are_refused(section: str) -> None:
    text = re.sub(rf"\n\[\[{section}\]\]\n(.+\n)+", "\n", BASE)
    text = f"{section} = []\n" + text
    with pytest.raises(TableError, match=f"at least one \\[\\[{section}\\]\\]"):
        parse_table(text)


def test_missing_sections_are_refused() -> None:
    text = BASE[: BASE.index("[[langkah]]")]
    with pytest.raises(TableError, match="missing required key 'langkah'"):
        parse_table(text)


def test_unreadable_files_are_table_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(TableError, match="cannot read the table") as caught:
        parse_table(missing)
    assert caught.value.file == str(missing)

    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(BASE.replace("laporan", "laporan \xe9").encode("latin-1"))
    with pytest.raises(TableError, match="not UTF-8") as caught:
        parse_table(latin1)
    assert caught.value.line == line_of(BASE, "laporan")

    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"#" * (MAX_TABLE_BYTES + 1))
    with pytest.raises(TableError, match="larger than"):
        parse_table(huge)


def test_error_at_end_of_document_names_the_last_line() -> None:
    text = BASE + "x = ["
    with pytest.raises(TableError) as caught:
        parse_table(text)
    assert caught.value.line == len(text.splitlines())


# ------------------------------------------------------------------------------ round trips

@settings(max_examples=80, deadline=None)
@given(sop_tables())
def test_write_then_parse_gives_the_same_table(table: SopTable) -> None:
    text = write_table(table)
    again = parse_table(text)
    assert again == table
    assert write_table(again) == text


def test_the_documented_example_is_a_valid_table() -> None:
    doc = (ROOT / "docs" / "table-format.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", doc, re.DOTALL)
    assert example is not None
    table = parse_table(example.group(1), source="docs/table-format.md")
    assert table.identitas.disahkan_oleh_pangkat == "Pembina Tk.I"
    assert [s.keputusan for s in table.langkah if s.keputusan] == [Keputusan(ya=4, tidak=2)]


# ------------------------------------------------------- several Pelaksana, lists, calls


def test_a_step_may_name_several_pelaksana() -> None:
    """A row with a symbol in several Pelaksana columns (Permenpan-RB 35/2012 flowcharts):
    every one of them does the step."""
    text = replace_once(BASE, 'pelaksana = "Sekcam"\nwaktu',
                        'pelaksana = ["Sekcam", "Camat"]\nwaktu')
    step = parse_table(text).langkah[1]
    assert (step.pelaksana, step.bersama) == ("Sekcam", ("Camat",))
    assert step.semua_pelaksana == ("Sekcam", "Camat")
    assert 'pelaksana = [\n    "Sekcam",\n    "Camat",\n]' in write_table(parse_table(text))


def test_a_list_of_one_pelaksana_is_the_plain_form() -> None:
    text = replace_once(BASE, 'pelaksana = "Sekcam"\nwaktu', 'pelaksana = ["Sekcam"]\nwaktu')
    assert parse_table(text) == parse_table(BASE)


def test_untuk_setiap_and_panggil_are_read_and_written() -> None:
    text = replace_once(BASE, 'waktu = "2 hari"', 'waktu = "2 hari"\nuntuk_setiap = "seksi"')
    text = replace_once(text, 'keterangan = "arsip"',
                        'keterangan = "arsip"\npanggil = "pace_data_kinerja"')
    table = parse_table(text)
    assert table.langkah[1].untuk_setiap == "seksi"
    assert table.langkah[3].panggil == "pace_data_kinerja"
    assert parse_table(write_table(table)) == table


def test_a_table_nested_five_thousand_deep_is_refused_with_its_line() -> None:
    """Issue 15: tomllib's recursive descent failed with RecursionError (a traceback)."""
    for opening, closing in (("[", "]"), ("{a = ", "}")):
        text = BASE + "\n[extra]\nx = " + opening * 5000 + closing * 5000 + "\n"
        with pytest.raises(TableError, match="nest deeper than 32 levels") as caught:
            parse_table(text, source="deep.toml")
        assert caught.value.line == len(BASE.splitlines()) + 3
        assert caught.value.file == "deep.toml"


def test_brackets_in_strings_and_comments_do_not_count_as_nesting() -> None:
    deep = "[" * 100
    text = replace_once(BASE, 'keterangan = "arsip"', f'keterangan = "{deep}"  # {deep}')
    text = replace_once(text, 'nama = "Contoh SOP"', f"nama = '''{deep}\n{deep}'''")
    table = parse_table(text)
    assert table.langkah[3].keterangan == deep
    assert table.identitas.nama == f"{deep}\n{deep}"


@settings(max_examples=100, deadline=None)
@given(toml_noise())
def test_any_text_is_a_table_or_a_table_error(text: str) -> None:
    """Hostile or broken input is refused with a TableError naming the source, never with
    another exception (the fuzz target scripts/fuzz_table.py runs this longer)."""
    try:
        table = parse_table(text, source="noise.toml")
    except TableError as error:
        assert str(error).startswith("noise.toml")
    else:
        assert parse_table(write_table(table)) == table


@settings(max_examples=40, deadline=None)
@given(sop_tables(extended=True))
def test_extended_tables_write_then_parse_to_the_same_table(table: SopTable) -> None:
    text = write_table(table)
    assert parse_table(text) == table
    assert write_table(parse_table(text)) == text


def test_the_docs_of_the_tables_stand_on_their_own() -> None:
    """Issue 15: docs/sops.md named a path of the machine the seeds were read on."""
    for page in ("sops.md", "table-format.md", "document.md"):
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert not re.search(r"(?<![.\w])/(work|home|tmp|root)/", text), page
        assert "shared/seeds" not in text, page
