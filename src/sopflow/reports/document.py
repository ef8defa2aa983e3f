"""The official SOP document (Permenpan-RB 35/2012) generated from the BPMN definition.

The BPMN file is the single source: the identity sheet, the flowchart table and the SOP
table (TOML) are all views of one :class:`~sopflow.definitions.model.ProcessDefinition`,
so the signed paper and the running process cannot drift apart. The HTML is
self-contained (inline CSS and SVG, no fonts or images fetched) because offices print it
from machines that are often offline, and it is laid out for A4 landscape with every page
segment measured in advance: rows have fixed heights, so one SVG per printed page can
draw the symbols and arrows exactly over the Pelaksana columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lxml import etree, html

from sopflow.definitions.model import ProcessDefinition, SopHeader, Step
from sopflow.definitions.table import SopTable
from sopflow.errors import DefinitionError, SopflowError
from sopflow.reports._flowchart import (
    CONNECTOR_ZONE,
    ChartRow,
    Link,
    RowExtra,
    Segment,
    chart_links,
    chart_rows,
    draw_segment,
    plan_segments,
)
from sopflow.reports._sheet import (
    definition_sheet,
    definition_to_table,
    render_table,
    table_sheet,
)
from sopflow.reports._symbols import FONT

__all__ = [
    "DocumentLayout",
    "PdfUnavailableError",
    "definition_to_table",
    "render_html",
    "render_pdf",
    "render_table",
    "table_sheet",
]


class PdfUnavailableError(SopflowError):
    """PDF output needs the optional WeasyPrint dependency, which is not installed."""


@dataclass(frozen=True, slots=True)
class DocumentLayout:
    """Sizes in CSS px (96 per inch). The defaults fill an A4 landscape page with 10 mm
    margins (1047 x 718 px) and leave room for the browser's rounding."""

    width: int = 1040
    page_height: int = 718
    no: int = 30
    kegiatan: int = 218
    pelaksana: int = 402
    kelengkapan: int = 120
    waktu: int = 66
    output: int = 120
    keterangan: int = 84
    font: float = 10.0
    line: float = 12.5
    row_min: int = 58
    title: int = 54  # the page title above the table
    footer: int = 18

    def column_width(self, lanes: int) -> int:
        return self.pelaksana // max(lanes, 1)


# ------------------------------------------------------------------------ text measuring


def _line_count(text: str, width: float, font: float) -> int:
    """Lines a text wraps to; generous on purpose, since a clipped cell loses words."""
    per_line = max(int(width / (font * 0.56)), 4)
    lines = 0
    for paragraph in text.splitlines() or [""]:
        lines += 1
        used = 0
        for word in paragraph.split():
            size = len(word)
            if used and used + 1 + size <= per_line:
                used += 1 + size
                continue
            if used:
                lines += 1
            lines += (size - 1) // per_line
            used = size % per_line or per_line
    return lines


def _items_lines(items: Sequence[str], width: float, font: float) -> int:
    if len(items) > 1:
        return sum(_line_count(f"{i}. {item}", width, font) for i, item in enumerate(items, 1))
    return sum(_line_count(item, width, font) for item in items)


def _row_height(step: Step, layout: DocumentLayout) -> int:
    pad = 8  # cell padding left + right
    lines = max(
        _line_count(step.name, layout.kegiatan - pad, layout.font),
        _items_lines(step.kelengkapan, layout.kelengkapan - pad, layout.font),
        _line_count(step.waktu or "", layout.waktu - pad, layout.font),
        _items_lines(step.output, layout.output - pad, layout.font),
        _line_count(step.keterangan or "", layout.keterangan - pad, layout.font),
    )
    return max(layout.row_min, math.ceil(lines * layout.line + 10))


# ------------------------------------------------------------------------------- building


def _el(tag: str, css_class: str | None = None, text: str | None = None,
        **attrs: str) -> etree._Element:
    element = etree.Element(tag)
    if css_class:
        element.set("class", css_class)
    for name, value in attrs.items():
        element.set(name.replace("_", "-"), value)
    if text is not None:
        element.text = text
    return element


def _sub(parent: etree._Element, tag: str, css_class: str | None = None,
         text: str | None = None, **attrs: str) -> etree._Element:
    element = _el(tag, css_class, text, **attrs)
    parent.append(element)
    return element


def _items(parent: etree._Element, items: Sequence[str]) -> None:
    """One item as plain text, several as a numbered list (as SOP sheets write them)."""
    if len(items) == 1:
        parent.text = items[0]
    elif items:
        ol = _sub(parent, "ol", "daftar")
        for item in items:
            _sub(ol, "li", None, item)


def _lines(parent: etree._Element, text: str) -> None:
    """Text whose line breaks show on paper (a row's note above the SOP's own Keterangan)."""
    first, *rest = text.split("\n")
    parent.text = first
    for line in rest:
        _sub(parent, "br").tail = line


def _upper_with(prefix: str, value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()
    if not text.casefold().startswith(prefix.casefold()):
        text = f"{prefix} {text}"
    return text.upper()


CSS = """
* { box-sizing: border-box; }
html { background: #8a8f96; }
body { margin: 0; padding: 16px 0; font-family: %(font)s; font-size: %(size)spx;
  color: #000; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.halaman { width: 297mm; height: 210mm; padding: 10mm; margin: 0 auto 16px; background: #fff;
  box-shadow: 0 2px 8px rgba(0,0,0,.35); overflow: hidden; position: relative;
  break-after: page; page-break-after: always; }
.halaman:last-child { break-after: auto; page-break-after: auto; }
.halaman.identitas { height: auto; min-height: 210mm; overflow: visible; }
body:has(.halaman:target) .halaman:not(:target) { display: none; }
body:has(.halaman:target) { padding: 0; }
body:has(.halaman:target) .halaman { margin: 0; box-shadow: none; }
table { border-collapse: separate; border-spacing: 0; table-layout: fixed; }
.sop { border-top: 1px solid #000; border-left: 1px solid #000; }
.sop th, .sop td { border-right: 1px solid #000; border-bottom: 1px solid #000; padding: 0;
  vertical-align: top; }
.sop .isi { overflow: hidden; padding: 4px 4px 0; line-height: %(line)spx; }
.sop th .isi { display: flex; align-items: center; justify-content: center; text-align: center;
  font-weight: bold; padding: 2px 3px; line-height: 11px; }
.sop .nomor-kolom .isi { font-size: 8px; font-weight: normal; line-height: 12px; padding: 0; }
.sop th.kepala-pelaksana .isi { font-size: 9px; font-weight: bold; }
.sop td.no .isi { text-align: center; }
.sop td.waktu .isi { text-align: center; }
.sop td.pelaksana { position: relative; }
.sop td.pelaksana .isi { padding: 0; }
svg.bagan { position: absolute; left: 0; top: 0; overflow: visible; z-index: 1; }
ol.daftar { margin: 0; padding-left: 1.5em; }
ol.daftar li { padding-left: 0; }
.judul { text-align: center; font-weight: bold; font-size: 13px; line-height: 16px;
  height: %(title)spx; }
.judul .nomor { font-weight: normal; font-size: 10px; line-height: 14px; }
.kaki { position: absolute; bottom: 8mm; right: 10mm; font-size: 9px; }
.identitas { width: 100%%; border-top: 1.5px solid #000; border-left: 1.5px solid #000;
  font-size: 11px; }
.identitas > tbody > tr > th, .identitas > tbody > tr > td { border-right: 1.5px solid #000;
  border-bottom: 1.5px solid #000; padding: 4px 8px; vertical-align: top; text-align: left; }
.identitas th { font-weight: bold; white-space: nowrap; }
.instansi { text-align: center !important; vertical-align: middle !important; font-weight: bold;
  font-size: 15px; line-height: 22px; }
.instansi .sop-label { margin-top: 14px; font-size: 18px; letter-spacing: 1px; }
.pengesahan { text-align: center !important; }
.pengesahan .ttd { height: 48px; }
.pengesahan .nama-pejabat { font-weight: bold; text-decoration: underline; }
.nama-sop { font-weight: bold; }
.rincian { width: 100%%; margin-top: 8px; border-top: 1.5px solid #000;
  border-left: 1.5px solid #000; font-size: 10.5px; }
.rincian th, .rincian td { border-right: 1.5px solid #000; border-bottom: 1.5px solid #000;
  padding: 4px 8px; vertical-align: top; text-align: left; width: 50%%; }
.rincian th { font-weight: bold; border-bottom: none; padding-bottom: 0; }
.rincian td { padding-top: 2px; }
.rincian ol.daftar { padding-left: 1.7em; }
@page { size: A4 landscape; margin: 10mm; }
@media print {
  html, body { background: #fff; padding: 0; }
  .halaman { width: auto; height: 189mm; padding: 0; margin: 0; box-shadow: none; }
  .halaman.identitas { height: auto; min-height: 0; }
  .kaki { bottom: 0; right: 0; }
}
"""


def _css(layout: DocumentLayout) -> str:
    return CSS % {
        "font": FONT, "size": f"{layout.font:g}", "line": f"{layout.line:g}",
        "title": layout.title,
    }


def _identity_page(definition: ProcessDefinition, number: int, total: int) -> etree._Element:
    header = definition.header
    page = _el("section", "halaman identitas", id=f"halaman-{number}")
    table = _sub(page, "table", "identitas")
    colgroup = _sub(table, "colgroup")
    for width in ("46%", "17%", "37%"):
        _sub(colgroup, "col", style=f"width:{width}")
    body = _sub(table, "tbody")

    rows: list[tuple[str, str | None, str]] = [
        ("Nomor SOP", header.nomor, "nomor"),
        ("Tanggal Pembuatan", header.tanggal_pembuatan, "tanggal-pembuatan"),
        ("Tanggal Revisi", header.tanggal_revisi, "tanggal-revisi"),
        ("Tanggal Efektif", header.tanggal_efektif, "tanggal-efektif"),
    ]
    first = _sub(body, "tr")
    instansi = _sub(first, "td", "instansi", rowspan="6")
    lines = [
        _upper_with("Pemerintah", header.pemerintah),
        _upper_with("Kecamatan", header.kecamatan),
        header.unit.upper() if header.unit else None,
    ]
    for text in lines:
        if text:
            _sub(instansi, "div", "baris-instansi", text)
    _sub(instansi, "div", "sop-label", "STANDAR OPERASIONAL PROSEDUR")
    for index, (label, value, key) in enumerate(rows):
        tr = first if index == 0 else _sub(body, "tr")
        _sub(tr, "th", None, label)
        _sub(tr, "td", f"nilai {key}", value or "")
    tr = _sub(body, "tr")
    _sub(tr, "th", None, "Disahkan Oleh")
    _signature(_sub(tr, "td", "nilai pengesahan"), header)
    tr = _sub(body, "tr")
    _sub(tr, "th", None, "Nama SOP")
    _sub(tr, "td", "nilai nama-sop", header.nama or definition.name)

    rincian = _sub(page, "table", "rincian")
    rbody = _sub(rincian, "tbody")
    pairs: list[tuple[tuple[str, str, tuple[str, ...]], tuple[str, str, tuple[str, ...]]]] = [
        (("Dasar Hukum", "dasar-hukum", header.dasar_hukum),
         ("Kualifikasi Pelaksana", "kualifikasi-pelaksana", header.kualifikasi_pelaksana)),
        (("Keterkaitan", "keterkaitan", header.keterkaitan),
         ("Peralatan/Perlengkapan", "peralatan-perlengkapan", header.peralatan_perlengkapan)),
        (("Peringatan", "peringatan", header.peringatan),
         ("Pencatatan dan Pendataan", "pencatatan-pendataan", header.pencatatan_pendataan)),
    ]
    for left, right in pairs:
        heads = _sub(rbody, "tr", "judul-rincian")
        values = _sub(rbody, "tr", "isi-rincian")
        for title, key, items in (left, right):
            _sub(heads, "th", None, f"{title}:")
            _items(_sub(values, "td", key), items)
    _sub(page, "div", "kaki", f"Halaman {number} dari {total}")
    return page


def _signature(cell: etree._Element, header: SopHeader) -> None:
    """Jabatan, room for the signature and stamp, then name, rank and NIP.

    Without a name the lines stay open so the office can write them in by hand.
    """
    if header.disahkan_oleh_jabatan:
        _sub(cell, "div", "jabatan", header.disahkan_oleh_jabatan.upper())
    _sub(cell, "div", "ttd")
    _sub(cell, "div", "nama-pejabat", header.disahkan_oleh_nama or "(" + "." * 40 + ")")
    if header.disahkan_oleh_pangkat:
        _sub(cell, "div", "pangkat", header.disahkan_oleh_pangkat)
    _sub(cell, "div", "nip", f"NIP. {header.disahkan_oleh_nip or '.' * 30}")


def _cell(tr: etree._Element, css_class: str, height: int, text: str | None = None,
          **attrs: str) -> etree._Element:
    td = _sub(tr, "td", css_class, **attrs)
    return _sub(td, "div", "isi", text, style=f"height:{height - 1}px")


def _flow_page(
    definition: ProcessDefinition, segment: Segment, links: Sequence[Link],
    layout: DocumentLayout, number: int, total: int,
) -> etree._Element:
    lanes = definition.lanes
    column = layout.column_width(len(lanes))
    kegiatan = layout.kegiatan + layout.pelaksana - column * len(lanes)
    page = _el("section", "halaman bagan-alir", id=f"halaman-{number}")
    title = _sub(page, "div", "judul")
    title.text = "STANDAR OPERASIONAL PROSEDUR"
    _sub(title, "br")
    _sub(title, "span", "nama", (definition.header.nama or definition.name).upper())
    if definition.header.nomor:
        _sub(title, "br")
        _sub(title, "span", "nomor", f"Nomor SOP: {definition.header.nomor}")

    widths = [layout.no, kegiatan, *([column] * len(lanes)), layout.kelengkapan,
              layout.waktu, layout.output, layout.keterangan]
    table = _sub(page, "table", "sop", style=f"width:{sum(widths) + 1}px")
    colgroup = _sub(table, "colgroup")
    for width in widths:
        _sub(colgroup, "col", style=f"width:{width}px")

    head = _sub(table, "thead")
    lane_height = max(
        34, max((_line_count(lane.name, column - 6, 9) for lane in lanes), default=1) * 11 + 8
    )
    top, bottom, numbers = 22, lane_height, 14
    tr1 = _sub(head, "tr", "kepala-1")
    tr2 = _sub(head, "tr", "kepala-2")
    for text, span in (("No", "2"), ("Kegiatan", "2")):
        th = _sub(tr1, "th", None, rowspan=span)
        _sub(th, "div", "isi", text, style=f"height:{top + bottom - 1}px")
    th = _sub(tr1, "th", None, colspan=str(len(lanes)))
    _sub(th, "div", "isi", "Pelaksana", style=f"height:{top - 1}px")
    th = _sub(tr1, "th", None, colspan="3")
    _sub(th, "div", "isi", "Mutu Baku", style=f"height:{top - 1}px")
    th = _sub(tr1, "th", None, rowspan="2")
    _sub(th, "div", "isi", "Keterangan", style=f"height:{top + bottom - 1}px")
    for index, lane in enumerate(lanes, 1):
        th = _sub(tr2, "th", "kepala-pelaksana", data_pelaksana=str(index), data_peran=lane.role)
        _sub(th, "div", "isi", lane.name, style=f"height:{bottom - 1}px")
    for text in ("Kelengkapan", "Waktu", "Output"):
        th = _sub(tr2, "th", f"kepala-{text.lower()}")
        _sub(th, "div", "isi", text, style=f"height:{bottom - 1}px")
    tr3 = _sub(head, "tr", "nomor-kolom")
    for index in range(1, len(widths) + 1):
        th = _sub(tr3, "th")
        _sub(th, "div", "isi", str(index), style=f"height:{numbers - 1}px")

    body = _sub(table, "tbody")
    svg = draw_segment(segment, links, len(lanes), column)
    svg_placed = False

    def pelaksana_cells(tr: etree._Element, height: int, active: tuple[int, ...]) -> None:
        nonlocal svg_placed
        for index in range(len(lanes)):
            css = "pelaksana aktif" if index in active else "pelaksana"
            td = _sub(tr, "td", css, data_pelaksana=str(index + 1))
            if not svg_placed:
                td.append(svg)
                svg_placed = True
            _sub(td, "div", "isi", style=f"height:{height - 1}px")

    def connector_row() -> None:
        tr = _sub(body, "tr", "sambungan")
        _cell(tr, "no", CONNECTOR_ZONE)
        _cell(tr, "kegiatan", CONNECTOR_ZONE)
        pelaksana_cells(tr, CONNECTOR_ZONE, ())
        for css in ("kelengkapan", "waktu", "output", "keterangan"):
            _cell(tr, css, CONNECTOR_ZONE)

    if segment.top_letter:
        connector_row()
    for row in segment.rows:
        step = row.step
        tr = _sub(body, "tr", "langkah", data_no=str(step.no), data_id=step.id,
                  data_pelaksana=step.lane or "", data_simbol=str(row.symbol))
        _cell(tr, "no", row.height, f"{step.no}.")
        _cell(tr, "kegiatan", row.height, step.name)
        pelaksana_cells(tr, row.height, row.all_columns)
        _items(_cell(tr, "kelengkapan", row.height), step.kelengkapan)
        _cell(tr, "waktu", row.height, step.waktu or "")
        _items(_cell(tr, "output", row.height), step.output)
        _lines(_cell(tr, "keterangan", row.height), step.keterangan or "")
    if segment.bottom_letter:
        connector_row()
    _sub(page, "div", "kaki", f"Halaman {number} dari {total}")
    return page


def _segments(
    definition: ProcessDefinition, layout: DocumentLayout, extras: Mapping[int, RowExtra]
) -> tuple[list[Segment], list[Link]]:
    if not definition.steps:
        raise DefinitionError("the process has no steps to document", file=definition.source)
    if not definition.lanes:
        raise DefinitionError("the process has no Pelaksana lanes", file=definition.source)
    heights = {step.no: _row_height(step, layout) for step in definition.steps}
    rows: list[ChartRow] = chart_rows(definition, heights, extras)
    links = chart_links(definition)
    column = layout.column_width(len(definition.lanes))
    lane_lines = max(_line_count(lane.name, column - 6, 9) for lane in definition.lanes)
    header = 22 + max(34, lane_lines * 11 + 8) + 14
    budget = (layout.page_height - layout.title - header - 2 * CONNECTOR_ZONE
              - layout.footer - 12)
    return plan_segments(rows, links, budget, first_extra=CONNECTOR_ZONE), links


def render_html(
    source: ProcessDefinition | SopTable,
    layout: DocumentLayout | None = None,
    *,
    called: Mapping[str, str] | None = None,
) -> str:
    """The whole SOP document as one self-contained HTML page.

    Page 1 is the identity sheet; each further page is one segment of the flowchart
    table. Opening ``doc.html#halaman-2`` shows that page alone (handy for screenshots).
    A table is drawn without compiling it (an office proof-reads the paper before any
    BPMN exists); ``called`` gives the names of the SOPs its ``panggil`` rows run, by
    process id (the catalog's names; the id itself is shown when a name is missing).
    """
    layout = layout or DocumentLayout()
    if isinstance(source, SopTable):
        definition, extras = table_sheet(source, called or {})
    else:
        definition, extras = definition_sheet(source, called or {})
    segments, links = _segments(definition, layout, extras)
    total = 1 + len(segments)
    root = _el("html", lang="id")
    head = _sub(root, "head")
    _sub(head, "meta", charset="utf-8")
    _sub(head, "meta", name="generator", content="sopflow")
    _sub(head, "title", None, f"SOP {definition.header.nama or definition.name}")
    _sub(head, "style", None, _css(layout))
    body = _sub(root, "body")
    body.append(_identity_page(definition, 1, total))
    for number, segment in enumerate(segments, 2):
        body.append(_flow_page(definition, segment, links, layout, number, total))
    text: str = html.tostring(root, doctype="<!DOCTYPE html>", encoding="unicode")
    return text + "\n"


def render_pdf(
    source: ProcessDefinition | SopTable,
    layout: DocumentLayout | None = None,
    *,
    called: Mapping[str, str] | None = None,
) -> bytes:
    """The document as PDF through WeasyPrint (the optional ``pdf`` extra), no browser."""
    try:
        import weasyprint  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        raise PdfUnavailableError(
            "PDF output needs WeasyPrint: pip install 'sopflow[pdf]' "
            "(or write HTML and print it to PDF from a browser)"
        ) from None
    document = weasyprint.HTML(string=render_html(source, layout, called=called))
    data: bytes = document.write_pdf()
    return data
