"""The SOP document generated from BPMN: identity sheet, flowchart, table round trip.

The document is read back the way a person reads the paper: which steps are listed,
which Pelaksana column holds each step's symbol, what its Mutu Baku says. For the shipped
SOPs that is compared with the SOP tables they were transcribed into (bpmn/tables).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
from pathlib import Path
from types import MappingProxyType

import lxml.html
import pytest
from lxml import etree

from sopflow.cli import main
from sopflow.definitions.compiler import compile_table
from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.model import Decision, Lane, ProcessDefinition, SopHeader, Step
from sopflow.definitions.table import SopTable, parse_table, write_table
from sopflow.errors import DefinitionError
from sopflow.reports.document import (
    DocumentLayout,
    PdfUnavailableError,
    definition_to_table,
    render_html,
    render_pdf,
    render_table,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "bpmn").glob("*.bpmn"))
ALLOWED_SYMBOLS = {"terminator", "proses", "keputusan", "penghubung"}
LAYOUT = DocumentLayout()


# ----------------------------------------------------------------------------- helpers


def _definition(
    count: int,
    *,
    lanes: tuple[str, ...] = ("Camat", "Sekcam", "Kasubag"),
    lane_of: dict[int, str] | None = None,
    decisions: dict[int, int] | None = None,
    header: SopHeader | None = None,
    name: str = "Langkah {no}",
    lane_none: int | None = None,
) -> ProcessDefinition:
    """A hand-built definition without a graph: steps follow each other in order."""
    lane_of = lane_of or {}
    steps = tuple(
        Step(
            id=f"step_{no:02d}",
            no=no,
            name=name.format(no=no),
            lane=None if no == lane_none else lane_of.get(no, lanes[(no - 1) % len(lanes)]),
            role="camat",
            kelengkapan=(f"Berkas {no}",),
            waktu=f"{no} Menit",
            output=(f"Hasil {no}a", f"Hasil {no}b"),
            keterangan="catatan" if no == 1 else None,
            decision_field="disetujui" if no in (decisions or {}) else None,
        )
        for no in range(1, count + 1)
    )
    return ProcessDefinition(
        process_id="contoh",
        name="Contoh SOP",
        version="0" * 64,
        source="contoh.bpmn",
        xml=b"",
        header=header or SopHeader(nama="Contoh SOP", nomor="1/SOP/2025"),
        lanes=tuple(Lane(f"lane_{i}", n, "camat") for i, n in enumerate(lanes, 1)),
        steps=steps,
        decisions=tuple(
            Decision(f"decision_{no:02d}", f"step_{no:02d}", "disetujui",
                     f"step_{no + 1:02d}" if no < count else None, f"step_{back:02d}")
            for no, back in (decisions or {}).items()
        ),
        nodes=MappingProxyType({}),
        start_node="start",
    )


def _doc(text: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(text)


def _flow_pages(doc: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return doc.xpath('//section[contains(@class, "bagan-alir")]')


def _step_rows(doc: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return doc.xpath('//tr[contains(@class, "langkah")]')


def _items(cell: lxml.html.HtmlElement) -> tuple[str, ...]:
    items = cell.xpath(".//li")
    if items:
        return tuple(li.text_content().strip() for li in items)
    text = cell.text_content().strip()
    return (text,) if text else ()


def _cell(row: lxml.html.HtmlElement, css: str) -> lxml.html.HtmlElement:
    cells = row.xpath(f'./td[contains(concat(" ", @class, " "), " {css} ")]')
    assert len(cells) == 1, css
    return cells[0]


def _symbols(page: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return page.xpath('.//svg//*[contains(concat(" ", @class, " "), " simbol ")]')


def _kind(element: lxml.html.HtmlElement) -> str:
    kinds = set(element.get("class", "").split()) - {"simbol"}
    assert len(kinds) == 1
    return kinds.pop()


def _labels(page: lxml.html.HtmlElement) -> list[str]:
    return [t.text_content() for t in page.xpath(".//svg//text")]


# -------------------------------------------------------------- shipped SOPs vs their seeds


@pytest.mark.parametrize("bpmn", SHIPPED, ids=lambda p: p.stem)
def test_shipped_document_matches_its_sop_table(bpmn: Path) -> None:
    table = parse_table(ROOT / "bpmn" / "tables" / f"{bpmn.stem}.toml")
    doc = _doc(render_html(load_definition(bpmn)))

    # the Pelaksana columns, in the table's order, on every flowchart page
    for page in _flow_pages(doc):
        heads = page.xpath('.//th[contains(@class, "kepala-pelaksana")]')
        assert [h.text_content().strip() for h in heads] == [p.nama for p in table.pelaksana]
        assert [h.get("data-peran") for h in heads] == [p.peran for p in table.pelaksana]

    rows = _step_rows(doc)
    assert [int(r.get("data-no")) for r in rows] == [s.no for s in table.langkah]
    column_of = {p.nama: i for i, p in enumerate(table.pelaksana, 1)}
    symbols = {int(s.get("data-no")): s for page in _flow_pages(doc) for s in _symbols(page)
               if s.get("data-no", "").isdigit()}
    for row, step in zip(rows, table.langkah, strict=True):
        assert _cell(row, "no").text_content().strip() == f"{step.no}."
        assert _cell(row, "kegiatan").text_content().strip() == step.kegiatan
        assert _items(_cell(row, "kelengkapan")) == step.kelengkapan
        assert (_cell(row, "waktu").text_content().strip() or None) == step.waktu
        assert _items(_cell(row, "output")) == step.output
        assert (_cell(row, "keterangan").text_content().strip() or None) == step.keterangan
        assert row.get("data-pelaksana") == step.pelaksana
        # the symbol is drawn in the column of the step's pelaksana
        assert int(symbols[step.no].get("data-pelaksana")) == column_of[step.pelaksana]
        active = row.xpath('./td[contains(@class, "aktif")]')
        assert [int(td.get("data-pelaksana")) for td in active] == [column_of[step.pelaksana]]
        expected = ("keputusan" if step.keputusan else
                    "terminator" if step.no in (1, len(table.langkah)) else "proses")
        assert _kind(symbols[step.no]) == expected


@pytest.mark.parametrize("bpmn", SHIPPED, ids=lambda p: p.stem)
def test_shipped_identity_sheet_carries_the_header(bpmn: Path) -> None:
    header = parse_table(ROOT / "bpmn" / "tables" / f"{bpmn.stem}.toml").identitas
    doc = _doc(render_html(load_definition(bpmn)))
    sheet = doc.xpath('//section[contains(@class, "identitas")]')[0]

    def value(css: str) -> str:
        return str(sheet.xpath(f'.//td[contains(@class, "{css}")]')[0].text_content().strip())

    assert value("nomor") == (header.nomor or "")
    assert value("tanggal-efektif") == (header.tanggal_efektif or "")
    assert value("nama-sop") == header.nama
    instansi = sheet.xpath('.//td[@class="instansi"]')[0].text_content().upper()
    for part in (header.pemerintah, header.kecamatan, header.unit):
        if part:
            assert part.upper() in instansi
    for css, items in (
        ("dasar-hukum", header.dasar_hukum),
        ("kualifikasi-pelaksana", header.kualifikasi_pelaksana),
        ("keterkaitan", header.keterkaitan),
        ("peralatan-perlengkapan", header.peralatan_perlengkapan),
        ("peringatan", header.peringatan),
        ("pencatatan-pendataan", header.pencatatan_pendataan),
    ):
        assert _items(sheet.xpath(f'.//td[@class="{css}"]')[0]) == items
    if header.disahkan_oleh_nama:
        assert sheet.xpath('.//div[@class="nama-pejabat"]')[0].text == header.disahkan_oleh_nama
    if header.disahkan_oleh_nip:
        assert header.disahkan_oleh_nip in value("pengesahan")


@pytest.mark.parametrize("bpmn", SHIPPED, ids=lambda p: p.stem)
def test_shipped_decisions_draw_ya_and_tidak(bpmn: Path) -> None:
    definition = load_definition(bpmn)
    doc = _doc(render_html(definition))
    deciding = {definition.step(d.step_id).no for d in definition.decisions}  # type: ignore[union-attr]
    for page in _flow_pages(doc):
        on_page = {int(r.get("data-no")) for r in page.xpath('.//tr[contains(@class, "langkah")]')}
        labels = _labels(page)
        assert labels.count("Ya") == len(deciding & on_page)
        assert labels.count("Tidak") == len(deciding & on_page)


# ------------------------------------------------------------------- table round trip


@pytest.mark.parametrize("bpmn", SHIPPED, ids=lambda p: p.stem)
def test_table_compile_document_table_is_stable(bpmn: Path) -> None:
    table_file = ROOT / "bpmn" / "tables" / f"{bpmn.stem}.toml"
    table = parse_table(table_file)
    definition = load_definition_bytes(compile_table(table), source=str(table_file))
    text = render_table(definition)
    assert parse_table(text) == table
    assert text == write_table(table)
    # and the shipped BPMN itself gives back the same table
    assert definition_to_table(load_definition(bpmn)) == table
    # a second lap changes nothing
    again = load_definition_bytes(compile_table(parse_table(text)), source="again")
    assert render_table(again) == text


def test_table_of_a_decision_without_a_step_target_is_refused() -> None:
    definition = _definition(3, decisions={3: 1})  # Ya of the last step leads to the end
    with pytest.raises(DefinitionError, match="decision_03"):
        definition_to_table(definition)


def test_table_writes_decisions_as_step_numbers() -> None:
    table = definition_to_table(_definition(4, decisions={3: 2}))
    assert isinstance(table, SopTable)
    decision = table.langkah[2].keputusan
    assert decision is not None and (decision.ya, decision.tidak) == (4, 2)
    assert [step.pelaksana for step in table.langkah] == ["Camat", "Sekcam", "Kasubag", "Camat"]


# ------------------------------------------------------------------- flowchart drawing


def test_only_the_five_permenpan_symbols_are_drawn() -> None:
    doc = _doc(render_html(_definition(30, decisions={20: 3, 25: 24})))
    for svg in doc.xpath("//svg"):
        shapes = {el.tag for el in svg.iter() if isinstance(el.tag, str)}
        assert shapes <= {"svg", "g", "rect", "polygon", "polyline", "text"}
        for el in svg.xpath('.//*[contains(concat(" ", @class, " "), " simbol ")]'):
            assert _kind(el) in ALLOWED_SYMBOLS
        # every line is an arrow: each polyline sits in a group with its arrowhead
        for line in svg.iter("polyline"):
            group = line.getparent()
            assert "panah" in group.get("class", "")
            assert len(group.findall("polygon")) == 1


def test_straight_sop_symbols_and_arrows() -> None:
    doc = _doc(render_html(_definition(5)))
    (page,) = _flow_pages(doc)
    kinds = [_kind(s) for s in _symbols(page)]
    assert kinds == ["terminator", "proses", "proses", "proses", "terminator"]
    assert len(page.xpath('.//g[@class="panah"]')) == 4
    assert not page.xpath('.//*[@class="penghubung"]')


def test_symbol_sits_in_its_pelaksana_column() -> None:
    layout = DocumentLayout()
    definition = _definition(3, lane_of={1: "Kasubag", 2: "Camat", 3: "Sekcam"})
    doc = _doc(render_html(definition, layout))
    width = layout.column_width(3)
    for symbol in _symbols(_flow_pages(doc)[0]):
        column = int(symbol.get("data-pelaksana")) - 1
        if symbol.tag == "rect":
            x = float(symbol.get("x"))
            right = x + float(symbol.get("width"))
        else:
            xs = [float(p.split(",")[0]) for p in symbol.get("points").split()]
            x, right = min(xs), max(xs)
        assert column * width < x < right < (column + 1) * width
    assert [int(s.get("data-pelaksana")) for s in _symbols(_flow_pages(doc)[0])] == [3, 1, 2]


def test_long_sop_breaks_across_pages_with_paired_connectors() -> None:
    definition = _definition(30, name="Kegiatan {no} " + "panjang " * 12)
    doc = _doc(render_html(definition))
    pages = _flow_pages(doc)
    assert len(pages) >= 3
    numbers = [int(r.get("data-no")) for r in _step_rows(doc)]
    assert numbers == list(range(1, 31))  # every step exactly once, in order
    for before, after in itertools.pairwise(pages):
        bottom = before.xpath('.//tr[contains(@class, "sambungan")][last()]')
        top = after.xpath('.//tr[contains(@class, "sambungan")][1]')
        assert bottom and top
        letters_before = before.xpath('.//g[@class="penghubung"]/@data-huruf')
        letters_after = after.xpath('.//g[@class="penghubung"]/@data-huruf')
        assert letters_before[-1] == letters_after[0]
    all_letters = [g.get("data-huruf") for g in doc.xpath('//g[@class="penghubung"]')]
    assert sorted(set(all_letters)) == sorted(set(all_letters), key=all_letters.index)
    assert all(all_letters.count(letter) == 2 for letter in all_letters)


def test_every_page_segment_fits_an_a4_landscape_page() -> None:
    definition = _definition(40, name="Kegiatan {no} " + "sangat panjang " * 15)
    doc = _doc(render_html(definition, LAYOUT))
    for page in _flow_pages(doc):
        heights = [
            int(div.get("style").removeprefix("height:").removesuffix("px")) + 1
            for div in page.xpath('.//tbody/tr/td[1]/div[@class="isi"]')
        ]
        head = [
            int(div.get("style").removeprefix("height:").removesuffix("px")) + 1
            # "No" spans the first two header rows; the third holds the column numbers
            for div in page.xpath('.//thead/tr[position() != 2]/th[1]/div[@class="isi"]')
        ]
        total = LAYOUT.title + sum(heights) + sum(head) + LAYOUT.footer
        assert total <= LAYOUT.page_height
        svg = page.xpath(".//svg")[0]
        assert int(svg.get("height")) == sum(heights)


def test_return_loop_longer_than_a_page_uses_lettered_connectors() -> None:
    definition = _definition(30, decisions={28: 2}, name="Kegiatan {no} " + "panjang " * 12)
    doc = _doc(render_html(definition))
    pages = _flow_pages(doc)
    page_of = {int(r.get("data-no")): i for i, p in enumerate(pages)
               for r in p.xpath('.//tr[contains(@class, "langkah")]')}
    assert page_of[2] != page_of[28]
    source_page, target_page = pages[page_of[28]], pages[page_of[2]]
    assert "Tidak" in _labels(source_page)
    letters_at_source = set(source_page.xpath('.//g[@class="penghubung"]/@data-huruf'))
    letters_at_target = set(target_page.xpath('.//g[@class="penghubung"]/@data-huruf'))
    assert letters_at_source & letters_at_target


def test_short_return_loop_is_kept_on_one_page() -> None:
    # the loop 9 -> 12 would straddle the natural break; the break moves up instead
    definition = _definition(16, decisions={12: 9}, name="Kegiatan {no} " + "panjang " * 10)
    pages = _flow_pages(_doc(render_html(definition)))
    page_of = {int(r.get("data-no")): i for i, p in enumerate(pages)
               for r in p.xpath('.//tr[contains(@class, "langkah")]')}
    assert page_of[9] == page_of[12]
    assert "Tidak" in _labels(pages[page_of[12]])
    # no connector other than the page break pair
    assert len(pages[page_of[12]].xpath('.//g[@class="penghubung"]')) <= 2


def test_decision_that_ends_the_procedure_draws_a_capsule_not_a_new_symbol() -> None:
    definition = _definition(3, decisions={3: 1})
    (page,) = _flow_pages(_doc(render_html(definition)))
    kinds = [_kind(s) for s in _symbols(page)]
    assert kinds.count("keputusan") == 1
    assert set(kinds) <= ALLOWED_SYMBOLS
    assert {"Ya", "Tidak"} <= set(_labels(page))


def _polylines(page: lxml.html.HtmlElement) -> list[list[tuple[float, float]]]:
    return [
        [(float(x), float(y)) for x, y in (p.split(",") for p in line.get("points").split())]
        for line in page.xpath(".//svg//polyline")
    ]


def test_returns_to_the_same_step_join_one_channel() -> None:
    definition = _definition(6, decisions={4: 2, 5: 2}, lane_of={2: "Camat"})
    (page,) = _flow_pages(_doc(render_html(definition)))
    # a return arrow: side exit, along to the channel, up, into the target's side
    returns = [pts for pts in _polylines(page) if len(pts) == 4 and pts[2][1] < pts[1][1]]
    assert len(returns) == 2
    assert returns[0][1][0] == returns[1][1][0]  # the same vertical channel
    assert returns[0][3] == returns[1][3]  # the same entry point


def test_arrows_never_run_along_a_row_border() -> None:
    definition = _definition(6, lane_of={1: "Camat", 2: "Kasubag", 3: "Sekcam", 4: "Camat",
                                         5: "Kasubag", 6: "Camat"}, decisions={5: 2})
    (page,) = _flow_pages(_doc(render_html(definition)))
    borders, y = set(), 0
    for div in page.xpath('.//tbody/tr/td[1]/div[@class="isi"]'):
        y += int(div.get("style").removeprefix("height:").removesuffix("px")) + 1
        borders.add(float(y))
    borders.add(0.0)
    horizontals = [a[1] for pts in _polylines(page)
                   for a, b in itertools.pairwise(pts) if a[1] == b[1] and a[0] != b[0]]
    assert horizontals
    assert not borders & set(horizontals)


# ------------------------------------------------------------- page, identity, signature


def test_document_is_self_contained_and_prints_a4_landscape() -> None:
    text = render_html(_definition(4))
    doc = _doc(text)
    assert text.startswith("<!DOCTYPE html>")
    assert not doc.xpath("//script | //link | //img | //iframe | //object")
    for attribute in doc.xpath("//@src | //@href"):
        pytest.fail(f"external reference {attribute}")
    style = doc.xpath("//style")[0].text
    assert "size: A4 landscape" in style
    assert "page-break-after: always" in style
    assert "url(" not in style and "@import" not in style
    assert "http" not in text.replace('lang="id"', "")


def test_signature_block_with_and_without_names() -> None:
    named = SopHeader(nama="X", disahkan_oleh_jabatan="Camat Cibatu",
                      disahkan_oleh_nama="MUHAMMAD KOSIM, S.STP, M.SI",
                      disahkan_oleh_pangkat="Pembina", disahkan_oleh_nip="19820612 200012 1 001")
    cell = _doc(render_html(_definition(2, header=named))).xpath(
        '//td[contains(@class, "pengesahan")]')[0]
    assert cell.xpath('./div[@class="jabatan"]')[0].text == "CAMAT CIBATU"
    assert cell.xpath('./div[@class="nama-pejabat"]')[0].text == "MUHAMMAD KOSIM, S.STP, M.SI"
    assert cell.xpath('./div[@class="pangkat"]')[0].text == "Pembina"
    assert cell.xpath('./div[@class="nip"]')[0].text == "NIP. 19820612 200012 1 001"
    assert cell.xpath('./div[@class="ttd"]')  # room for the signature and stamp

    blank = _doc(render_html(_definition(2, header=SopHeader()))).xpath(
        '//td[contains(@class, "pengesahan")]')[0]
    assert blank.xpath('./div[@class="nama-pejabat"]')[0].text.startswith("(....")
    assert blank.xpath('./div[@class="nip"]')[0].text.startswith("NIP. ....")
    assert not blank.xpath('./div[@class="pangkat"]')


def test_identity_unit_lines_are_not_doubled() -> None:
    header = SopHeader(pemerintah="Pemerintah Kabupaten Paser", kecamatan="Kecamatan Long Ikis",
                       unit="Sub Bagian Program dan Keuangan")
    lines = _doc(render_html(_definition(2, header=header))).xpath(
        '//div[@class="baris-instansi"]/text()')
    assert lines == ["PEMERINTAH KABUPATEN PASER", "KECAMATAN LONG IKIS",
                     "SUB BAGIAN PROGRAM DAN KEUANGAN"]
    lines = _doc(render_html(_definition(2, header=SopHeader(
        pemerintah="Kabupaten Purwakarta", kecamatan="Cibatu")))).xpath(
        '//div[@class="baris-instansi"]/text()')
    assert lines == ["PEMERINTAH KABUPATEN PURWAKARTA", "KECAMATAN CIBATU"]


# ----------------------------------------------------------------------- hostile inputs


def test_markup_in_names_is_text_not_markup() -> None:
    hostile = '<script>alert("x")</script> & <img src=http://evil/x.png>'
    header = SopHeader(nama=hostile, dasar_hukum=(hostile,), disahkan_oleh_nama=hostile)
    definition = _definition(3, header=header, name=hostile + " {no}",
                             lanes=(hostile, "Sekcam"))
    text = render_html(definition)
    doc = _doc(text)
    assert not doc.xpath("//script | //img")
    assert _cell(_step_rows(doc)[0], "kegiatan").text_content() == hostile + " 1"
    assert doc.xpath('//th[contains(@class, "kepala-pelaksana")]')[0].text_content() == hostile
    assert doc.xpath('//td[@class="dasar-hukum"]')[0].text_content() == hostile


def test_step_without_a_lane_names_the_step() -> None:
    with pytest.raises(DefinitionError, match=r"contoh\.bpmn: step_02: .*Pelaksana"):
        render_html(_definition(3, lane_none=2))


def test_definition_without_steps_is_refused() -> None:
    empty = dataclasses.replace(_definition(1), steps=())
    with pytest.raises(DefinitionError, match="no steps"):
        render_html(empty)


def test_very_long_texts_still_fit_their_rows() -> None:
    words = "Nota Dinas " * 200
    definition = _definition(3, name=words)
    doc = _doc(render_html(definition))
    assert [int(r.get("data-no")) for r in _step_rows(doc)] == [1, 2, 3]
    assert _cell(_step_rows(doc)[0], "kegiatan").text_content() == words


# ---------------------------------------------------------------------------------- PDF


def test_pdf_without_weasyprint_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(PdfUnavailableError, match=r"sopflow\[pdf\]"):
        render_pdf(_definition(2))


def test_pdf_renders_one_printed_page_per_section() -> None:
    weasyprint = pytest.importorskip("weasyprint")
    definition = _definition(13, decisions={12: 4}, name="Kegiatan {no} " + "panjang " * 20)
    sections = _doc(render_html(definition)).xpath("//section")
    assert len(sections) >= 3
    # the same layout WeasyPrint prints: nothing spills onto an extra page
    pages = weasyprint.HTML(string=render_html(definition)).render().pages
    assert len(pages) == len(sections)
    assert render_pdf(_definition(2)).startswith(b"%PDF-")


# ---------------------------------------------------------------------------------- CLI


def test_cli_writes_html_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bpmn = SHIPPED[0]
    out = tmp_path / "sop.html"
    assert main(["document", str(bpmn), "-o", str(out)]) == 0
    assert _step_rows(_doc(out.read_text(encoding="utf-8")))

    table_out = tmp_path / "sop.toml"
    assert main(["document", str(bpmn), "-o", str(table_out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "table" and report["output"] == str(table_out)
    assert parse_table(table_out) == parse_table(ROOT / "bpmn" / "tables" / f"{bpmn.stem}.toml")


def test_cli_by_process_id_and_table_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    definition = load_definition(SHIPPED[0])
    code = main(["document", definition.process_id, "--catalog", str(ROOT / "bpmn"),
                 "--format", "table"])
    assert code == 0
    assert capsys.readouterr().out == render_table(definition)


def test_cli_accepts_a_table_file(tmp_path: Path) -> None:
    table = ROOT / "bpmn" / "tables" / f"{SHIPPED[0].stem}.toml"
    out = tmp_path / "dari-tabel.html"
    assert main(["document", str(table), "-o", str(out)]) == 0
    assert len(_step_rows(_doc(out.read_text(encoding="utf-8")))) == len(
        parse_table(table).langkah)


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["document", "tidak_ada", "--catalog", str(ROOT / "bpmn")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tidak_ada" in err

    assert main(["document", str(SHIPPED[0]), "--format", "pdf"]) == 1
    assert "-o" in capsys.readouterr().err

    broken = tmp_path / "rusak.bpmn"
    broken.write_text("<definitions", encoding="utf-8")
    assert main(["document", str(broken), "-o", str(tmp_path / "x.html")]) == 1
    assert "rusak.bpmn" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()

    assert main(["document", str(SHIPPED[0]), "-o", str(tmp_path / "no" / "dir.html")]) == 1
    assert "cannot write" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exit_info:
        main(["document", str(SHIPPED[0]), "--format", "docx"])
    assert exit_info.value.code == 2


def test_html_is_well_formed_for_an_html_parser() -> None:
    text = render_html(load_definition(SHIPPED[-1]))
    parser = etree.HTMLParser(recover=False)
    etree.fromstring(text.encode("utf-8"), parser)


# ------------------------------------------------ rows done together, per item, by a call

FIXTURE_TABLE = ROOT / "tests" / "fixtures" / "tables" / "rapat-seksi-laporan.toml"


def _row(doc: lxml.html.HtmlElement, no: int) -> lxml.html.HtmlElement:
    (row,) = doc.xpath(f'//tr[contains(@class, "langkah")][@data-no="{no}"]')
    return row


def _symbols_of(doc: lxml.html.HtmlElement, no: int) -> list[lxml.html.HtmlElement]:
    return doc.xpath(f'//svg//*[@data-no="{no}"]')


def test_a_joint_step_is_one_row_with_a_symbol_in_each_of_its_columns() -> None:
    """Permenpan-RB 35/2012 flowcharts: a row whose activity several Pelaksana do together
    carries a symbol in each of their columns, joined by a line; the row is listed once."""
    table = parse_table(FIXTURE_TABLE)
    doc = _doc(render_html(table))
    assert [int(r.get("data-no")) for r in _step_rows(doc)] == [1, 2, 3, 4, 5, 6]
    columns = {p.nama: str(i) for i, p in enumerate(table.pelaksana, start=1)}
    symbols = _symbols_of(doc, 2)
    assert [s.get("data-pelaksana") for s in symbols] == [columns["Kasi"], columns["Kasubag"]]
    assert {_kind(s) for s in symbols} == {"proses"}
    active = _row(doc, 2).xpath('./td[contains(@class, "aktif")]')
    assert [c.get("data-pelaksana") for c in active] == [columns["Kasi"], columns["Kasubag"]]
    (line,) = doc.xpath('//svg//polyline[@class="bersama"]')
    ys = {p.split(",")[1] for p in line.get("points").split()}
    assert len(ys) == 1
    # every other row keeps one symbol
    for no in (1, 3, 4, 6):
        assert len(_symbols_of(doc, no)) == 1


def test_untuk_setiap_is_one_row_with_a_note() -> None:
    doc = _doc(render_html(parse_table(FIXTURE_TABLE)))
    assert len(_symbols_of(doc, 3)) == 1
    assert _cell(_row(doc, 3), "keterangan").text_content() == "Dilakukan untuk setiap seksi"


def test_panggil_draws_the_connector_with_the_called_sops_name() -> None:
    """The Keterkaitan made executable: the off-page connector stands for the other SOP."""
    table = parse_table(FIXTURE_TABLE)
    named = _doc(render_html(table, called={"pace_data_kinerja": "Pengumpulan Data Kinerja"}))
    (symbol,) = _symbols_of(named, 5)
    assert symbol.get("class") == "penghubung panggil"
    assert symbol.xpath('./*[contains(@class, "simbol")]')[0].get("class") == (
        "simbol penghubung")
    cell = _cell(_row(named, 5), "keterangan")
    assert cell.text_content() == (
        "Menjalankan SOP Pengumpulan Data KinerjaKeterkaitan: SOP Pengumpulan Data Kinerja"
    )
    assert len(cell.xpath(".//br")) == 1
    unnamed = _doc(render_html(table))
    assert _cell(_row(unnamed, 5), "keterangan").text_content().startswith(
        "Menjalankan SOP pace_data_kinerja")
    # arrows still reach the connector and leave it for step 6
    assert _symbols_of(unnamed, 6)


@pytest.mark.parametrize("bpmn", SHIPPED, ids=lambda p: p.stem)
def test_a_table_draws_the_same_document_as_its_compiled_file(bpmn: Path) -> None:
    """Drawing from the table (no BPMN yet) and from the BPMN it compiles to agree."""
    table = parse_table(ROOT / "bpmn" / "tables" / f"{bpmn.stem}.toml")
    assert render_html(table) == render_html(load_definition(bpmn))


def test_steps_sharing_a_number_in_a_definition_are_one_row() -> None:
    """A loaded file whose joint step is one task per lane, each numbered as the row."""
    base = _definition(3)
    extra = dataclasses.replace(base.steps[1], id="step_02_2", lane="Kasubag")
    definition = dataclasses.replace(base, steps=(*base.steps, extra))
    doc = _doc(render_html(definition))
    assert [int(r.get("data-no")) for r in _step_rows(doc)] == [1, 2, 3]
    assert [s.get("data-pelaksana") for s in _symbols_of(doc, 2)] == ["2", "3"]


def test_cli_draws_a_table_with_joint_rows_and_names_the_called_sop(tmp_path: Path) -> None:
    out = tmp_path / "rapat.html"
    code = main(["document", str(FIXTURE_TABLE), "-o", str(out), "--catalog", str(ROOT / "bpmn")])
    assert code == 0
    doc = _doc(out.read_text(encoding="utf-8"))
    assert len(_symbols_of(doc, 2)) == 2
    note = _cell(_row(doc, 5), "keterangan").text_content()
    assert "Menjalankan SOP Pengumpulan Data Kinerja" in note
    table_out = tmp_path / "rapat.toml"
    assert main(["document", str(FIXTURE_TABLE), "-o", str(table_out)]) == 0
    assert table_out.read_text(encoding="utf-8") == FIXTURE_TABLE.read_text(encoding="utf-8")


def test_a_definition_with_a_joint_step_writes_back_as_one_row() -> None:
    base = _definition(3)
    extra = dataclasses.replace(base.steps[1], id="step_02_2", lane="Kasubag")
    table = definition_to_table(dataclasses.replace(base, steps=(*base.steps, extra)))
    assert [(s.no, s.pelaksana, s.bersama) for s in table.langkah] == [
        (1, "Camat", ()), (2, "Sekcam", ("Kasubag",)), (3, "Kasubag", ())]


def test_arrows_into_a_joint_step_pass_its_parallel_split() -> None:
    """A loaded graph with a split into one task per lane, numbered as one row: the arrow
    from the row before leads to that row, not to the end of the procedure."""
    from sopflow.definitions.model import Flow, Node, NodeKind

    base = _definition(3)
    extra = dataclasses.replace(base.steps[1], id="step_02_2", lane="Kasubag")

    def flow(source: str, target: str) -> Flow:
        return Flow(f"{source}-{target}", source, target)

    nodes = {
        "step_01": Node("step_01", NodeKind.USER_TASK, None, (flow("step_01", "fork"),)),
        "fork": Node("fork", NodeKind.PASS, None,
                     (flow("fork", "step_02"), flow("fork", "step_02_2"))),
        "step_02": Node("step_02", NodeKind.USER_TASK, None, (flow("step_02", "join"),)),
        "step_02_2": Node("step_02_2", NodeKind.USER_TASK, None,
                          (flow("step_02_2", "join"),)),
        "join": Node("join", NodeKind.PASS, None, (flow("join", "step_03"),)),
        "step_03": Node("step_03", NodeKind.USER_TASK, None, (flow("step_03", "end"),)),
        "end": Node("end", NodeKind.END, None),
    }
    definition = dataclasses.replace(base, steps=(*base.steps, extra),
                                     nodes=MappingProxyType(nodes))
    (page,) = _flow_pages(_doc(render_html(definition)))
    assert not page.xpath('.//*[@data-no="selesai"]')
    assert len(page.xpath('.//g[@class="panah"]')) == 2  # 1 -> 2 and 2 -> 3
