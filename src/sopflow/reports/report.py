"""SLA reports as text: a terminal table, CSV, JSON, or one self-contained HTML page.

The HTML page is meant to be mailed, opened on a phone at the kecamatan office and
printed for the monitoring file: everything is inline (CSS, SVG pictures), nothing is
fetched and no script runs; wide tables scroll sideways on a small screen and print in
full. Every text that comes from a file or the database is escaped here; the pictures
come from :mod:`sopflow.reports.render` / :mod:`sopflow.reports.timeline`, which build
their SVG with lxml and escape their own text.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from sopflow.errors import SopflowError
from sopflow.logging import get_logger
from sopflow.reports.stats import (
    BELUM_DINILAI,
    BERJALAN_BAIK,
    InstanceReport,
    ProcessReport,
    format_minutes,
)

__all__ = ["FORMATS", "Report", "format_report"]

Report = ProcessReport | InstanceReport
FORMATS = ("table", "csv", "json", "html")
DISPLAY_TZ = ZoneInfo("Asia/Jakarta")

_log = get_logger("sopflow.reports")


def format_report(
    reports: Sequence[Report], fmt: str, *, tz: tzinfo | None = DISPLAY_TZ
) -> str:
    """Render reports in ``fmt`` (one of :data:`FORMATS`).

    ``tz=None`` shows each report's times in its process's zone (``zona_waktu``: WITA for
    Long Ikis), WIB when the SOP names none.
    """
    writers: dict[str, Callable[[Sequence[Report], tzinfo | None], str]] = {
        "table": _table,
        "csv": _csv,
        "json": _json,
        "html": _html,
    }
    try:
        writer = writers[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})") from None
    return writer(reports, tz)


def _zone(report: Report, tz: tzinfo | None) -> tzinfo:
    """``tz``, or the zone of the report's process when ``tz`` is None."""
    if tz is not None:
        return tz
    name = report.definition.header.zona_waktu
    if not name:
        return DISPLAY_TZ
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return DISPLAY_TZ


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return "-" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


# ------------------------------------------------------------------------- rows


def _step_rows(report: ProcessReport) -> list[list[str]]:
    return [
        [
            _num(s.step_no),
            s.name,
            s.role,
            str(s.figures.count),
            format_minutes(s.figures.median_minutes),
            format_minutes(s.figures.p90_minutes),
            s.standard or "-",
            _share(s.figures.share_met),
            format_minutes(s.figures.p90_overrun_minutes) if s.figures.with_standard else "-",
            str(s.figures.returns),
            (
                f"{s.figures.open} ({s.figures.open_breached} melewati standar)"
                if s.figures.open
                else "0"
            ),
        ]
        for s in report.steps
    ]


_STEP_HEADERS = [
    "no", "langkah", "pelaksana", "dilaksanakan", "median", "p90", "standar", "tepat waktu",
    "p90 kelebihan", "dikembalikan", "berjalan",
]


def _role_rows(report: ProcessReport) -> list[list[str]]:
    return [
        [
            r.role,
            str(r.steps),
            str(r.figures.count),
            format_minutes(r.figures.median_minutes),
            format_minutes(r.figures.p90_minutes),
            _share(r.figures.share_met),
            str(r.figures.returns),
            str(r.figures.open),
        ]
        for r in report.roles
    ]


_ROLE_HEADERS = [
    "pelaksana", "langkah", "dilaksanakan", "median", "p90", "tepat waktu", "dikembalikan",
    "berjalan",
]

#: Status codes (kept as they are in CSV and JSON) as the officer's table says them.
STATUS_ID = {
    "met": "tepat waktu",
    "missed": "terlambat",
    "breached": "melewati standar",
    "at_risk": "mendekati batas",
    "on_track": "sesuai jadwal",
    "no_standard": "tanpa standar",
    "cancelled": "dibatalkan",
    "running": "berjalan",
    "completed": "selesai",
}


def _id(status: str) -> str:
    return STATUS_ID.get(status, status)


def _pass_rows(report: InstanceReport, tz: tzinfo) -> list[list[str]]:
    return [
        [
            _num(p.step_no),
            p.name or p.task_id,
            p.role or "",
            p.actor or "",
            _when(p.ready_at, tz),
            _when(p.completed_at, tz),
            p.standard or "-",
            format_minutes(p.actual_minutes),
            _id(p.status)
            + (f" +{format_minutes(p.overrun_minutes)}" if p.overrun_minutes else "")
            + (" (Tidak)" if p.returned else ""),
        ]
        for p in report.steps
    ]


_PASS_HEADERS = [
    "no", "langkah", "pelaksana", "pegawai", "siap", "selesai", "standar", "waktu", "status",
]


def _totals(report: InstanceReport) -> str:
    text = (
        f"total waktu {format_minutes(report.total_minutes)} terhadap standar "
        f"{format_minutes(report.standard_total_minutes)} sepanjang alur yang dilalui"
    )
    if report.without_standard:
        text += f" ({report.without_standard} pelaksanaan langkah tanpa standar)"
    return text


def _unit(report: ProcessReport) -> str:
    """Which unit the figures cover, as the monitoring officer reads it ("" for all)."""
    if report.unit is None:
        return ""
    return f"{report.unit[1]} ({report.unit[0]}) beserta unit di bawahnya"


def _instances(report: ProcessReport) -> str:
    parts = [f"{_id(status)} {n}" for status, n in sorted(report.instances.items())]
    return ", ".join(parts) or "tidak ada"


# ------------------------------------------------------------------------- table


#: The widest a step name runs in the terminal table before it wraps (as `show` wraps).
STEP_COLUMN = 40


def _grid(rows: list[list[str]], headers: list[str], wrap: int | None = 1) -> str:
    """A plain-text table; column ``wrap`` (the step name) wraps at :data:`STEP_COLUMN`."""
    cells = [
        [
            textwrap.wrap(c, STEP_COLUMN) or [""] if i == wrap else [c]
            for i, c in enumerate(row)
        ]
        for row in rows
    ]
    widths = [len(h) for h in headers]
    for row_cells in cells:
        widths = [max(w, *(len(x) for x in c)) for w, c in zip(widths, row_cells, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row_cells in cells:
        for k in range(max(len(c) for c in row_cells)):
            lines.append(
                "  ".join(
                    (c[k] if k < len(c) else "").ljust(w)
                    for c, w in zip(row_cells, widths, strict=True)
                ).rstrip()
            )
    return "\n".join(lines)


def _table(reports: Sequence[Report], default_tz: tzinfo | None) -> str:
    out: list[str] = []
    for r in reports:
        tz = _zone(r, default_tz)
        if isinstance(r, InstanceReport):
            out += [
                f"Pelaksanaan {r.instance_id}: {r.process_name} ({r.process_id}), "
                f"{_id(r.status)}",
                f"mulai {_when(r.started_at, tz)}, selesai {_when(r.ended_at, tz)}, "
                f"per {_when(r.at, tz)}",
                "",
                _grid(_pass_rows(r, tz), _PASS_HEADERS),
                "",
                _totals(r),
                "",
            ]
            continue
        title = f"{r.name} ({r.process_id})" + (f", nomor {r.nomor}" if r.nomor else "")
        out += [
            title,
            *([f"unit: {_unit(r)}"] if r.unit else []),
            f"pelaksanaan: {_instances(r)}; per {_when(r.at, tz)}",
            "",
            "Langkah, hambatan terbesar lebih dahulu (waktu kerja):",
            _grid(_step_rows(r), _STEP_HEADERS),
            "",
            "Pelaksana:",
            _grid(_role_rows(r), _ROLE_HEADERS, wrap=None),
            "",
            "Monitoring Pelaksanaan SOP AP (diisi otomatis; dikonfirmasi petugas monitoring):",
        ]
        for row in r.form:
            out += textwrap.wrap(f"{row.no:>3}. {row.prosedur}", 100, subsequent_indent="     ")
            for label, text in (
                ("Penilaian: ", row.penilaian),
                ("Catatan:   ", row.catatan),
                ("Tindakan:  ", row.tindakan),
            ):
                out += textwrap.wrap(
                    text, 100, initial_indent="     " + label, subsequent_indent=" " * 16
                )
        out.append("")
    return "\n".join(out).rstrip() + "\n" if out else "tidak ada pelaksanaan untuk dilaporkan\n"


# ------------------------------------------------------------------------- csv / json

_PROCESS_CSV = [
    "process_id", "unit", "step_no", "task_id", "name", "role", "standard", "count",
    "median_minutes", "p90_minutes", "with_standard", "met", "share_met", "returns",
    "p90_overrun_minutes", "open", "open_breached", "cancelled", "penilaian", "catatan",
    "tindakan",
]
_INSTANCE_CSV = [
    "instance_id", "process_id", "step_no", "task_id", "name", "role", "actor", "ready_at",
    "completed_at", "standard", "due_at", "standard_minutes", "actual_minutes", "status",
    "overrun_minutes", "returned",
]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never runs (OWASP "CSV injection").

    An actor ``=HYPERLINK(...)`` or a step named ``=cmd|' /C calc'!A0`` would otherwise
    be a formula when the officer opens the export; such text gets a leading ``'``.
    Numbers are left alone (a negative number is not a formula).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _SafeWriter(csv.DictWriter):  # type: ignore[type-arg]
    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: csv_cell(v) for k, v in rowdict.items()})


def _csv(reports: Sequence[Report], tz: tzinfo | None) -> str:
    kinds = {type(r) for r in reports}
    if len(kinds) > 1:
        raise ValueError("CSV holds one kind of report: instances or processes, not both")
    buf = io.StringIO()
    if kinds == {InstanceReport}:
        writer = _SafeWriter(buf, _INSTANCE_CSV, lineterminator="\n")
        writer.writeheader()
        for r in reports:
            assert isinstance(r, InstanceReport)
            for p in r.steps:
                writer.writerow({
                    "instance_id": r.instance_id, "process_id": r.process_id,
                    **{
                        k: v for k, v in p.to_dict(_zone(r, tz)).items() if k in _INSTANCE_CSV
                    },
                })
        return buf.getvalue()
    writer = _SafeWriter(buf, _PROCESS_CSV, lineterminator="\n")
    writer.writeheader()
    for r in reports:
        assert isinstance(r, ProcessReport)
        form = {row.task_id: row for row in r.form}
        for s in r.steps:
            row = form.get(s.task_id)
            writer.writerow({
                "process_id": r.process_id,
                "unit": r.unit[0] if r.unit else "",
                **{k: v for k, v in s.to_dict().items() if k in _PROCESS_CSV},
                "penilaian": row.penilaian if row else "",
                "catatan": row.catatan if row else "",
                "tindakan": row.tindakan if row else "",
            })
    return buf.getvalue()


def _json(reports: Sequence[Report], tz: tzinfo | None) -> str:
    return json.dumps(report_dicts(reports, tz), ensure_ascii=False, indent=2) + "\n"


# ------------------------------------------------------------------------- html

_CSS = """
*{box-sizing:border-box}
body{font-family:Arial,'Liberation Sans',Helvetica,sans-serif;color:#263238;margin:0;
padding:12px;line-height:1.4;font-size:15px;max-width:1200px;margin-inline:auto}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.2em;margin:1.4em 0 .3em;
border-bottom:2px solid #546e7a}h3{font-size:1.05em;margin:1em 0 .3em}
.meta{color:#546e7a;margin:.2em 0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.4em 0}
table{border-collapse:collapse;min-width:100%;font-size:.9em}
th,td{border:1px solid #b0bec5;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eceff1}td.n{text-align:right;white-space:nowrap}
.baik{background:#c8e6c9}.tidak{background:#ffcdd2}.belum{background:#eceff1}
.form td:nth-child(4),.form td:nth-child(5){min-width:16em}
.paraf{min-width:5em}
figure{margin:.6em 0}figure svg{max-width:100%;height:auto;display:block}
.note{font-size:.85em;color:#546e7a}
@media (max-width:600px){body{font-size:14px;padding:8px}}
@media print{body{max-width:none;font-size:10pt;padding:0}.scroll{overflow:visible}
section{break-before:page}section:first-of-type{break-before:auto}
tr,figure{break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _html_table(rows: list[list[str]], headers: list[str], cls: str = "",
                numeric: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    cls_attr = f' class="{_e(cls)}"' if cls else ""
    return f'<div class="scroll"><table{cls_attr}><thead><tr>{head}</tr></thead>' \
        f"<tbody>{body}</tbody></table></div>"


def _svg(make: Callable[[], str], what: str) -> str:
    """A picture from the renderer, or nothing (logged) when it cannot be drawn."""
    try:
        svg = make()
    except ImportError:
        return ""
    except (SopflowError, ValueError) as exc:
        _log.warning("report.picture_skipped", picture=what, error=str(exc))
        return ""
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return f"<figure>{svg.strip()}</figure>"


def _process_picture(r: ProcessReport) -> str:
    def make() -> str:
        from sopflow.reports.render import render_process_svg

        return render_process_svg(r.definition, share_met=r.share_met())

    return _svg(make, f"process {r.process_id}")


def _instance_pictures(r: InstanceReport) -> str:
    def process() -> str:
        from sopflow.reports.render import render_process_svg

        return render_process_svg(r.definition, step_status=r.step_status())

    def timeline() -> str:
        from sopflow.reports.timeline import render_timeline_svg

        return render_timeline_svg(
            r.records(), definition=r.definition, policy=r.policy, now=r.at
        )

    return _svg(process, f"instance {r.instance_id}") + _svg(
        timeline, f"timeline {r.instance_id}"
    )


_PENILAIAN_CLASS = {BERJALAN_BAIK: "baik", BELUM_DINILAI: "belum"}


def _form_html(r: ProcessReport) -> str:
    head = "".join(
        f"<th>{h}</th>" for h in (
            "No", "Prosedur", "Penilaian terhadap Penerapan", "Catatan Hasil Penilaian",
            "Tindakan yang Harus Diambil", "Paraf Penilai",
        )
    )
    body = "".join(
        f'<tr><td class="n">{row.no}</td><td>{_e(row.prosedur)}</td>'
        f'<td class="{_PENILAIAN_CLASS.get(row.penilaian, "tidak")}">{_e(row.penilaian)}</td>'
        f"<td>{_e(row.catatan)}</td><td>{_e(row.tindakan)}</td>"
        '<td class="paraf"></td></tr>'
        for row in r.form
    )
    return f'<div class="scroll"><table class="form"><thead><tr>{head}</tr></thead>' \
        f"<tbody>{body}</tbody></table></div>"


def _process_html(r: ProcessReport, tz: tzinfo) -> str:
    nomor = f" &middot; Nomor {_e(r.nomor)}" if r.nomor else ""
    unit = f'<p class="meta">Unit: {_e(_unit(r))}</p>' if r.unit else ""
    return (
        f"<section><h2>{_e(r.name)}</h2>{unit}"
        f'<p class="meta">{_e(r.process_id)}{nomor} &middot; instances: '
        f"{_e(_instances(r))} &middot; per {_e(_when(r.at, tz))}</p>"
        + _process_picture(r)
        + "<h3>Monitoring Pelaksanaan SOP AP</h3>"
        '<p class="note">Diisi otomatis dari angka di bawah; periksa dan konfirmasi oleh '
        "petugas monitoring.</p>"
        + _form_html(r)
        + "<h3>Per langkah (hambatan terbesar di atas)</h3>"
        + _html_table(_step_rows(r), _STEP_HEADERS, numeric=frozenset({0, 3, 4, 5, 7, 8, 9}))
        + "<h3>Per peran</h3>"
        + _html_table(_role_rows(r), _ROLE_HEADERS, numeric=frozenset({1, 2, 3, 4, 5, 6, 7}))
        + '<p class="note">Waktu = waktu kerja pada kalender kerja proses; median dan p90 '
        "(peringkat terdekat) dari langkah yang selesai.</p></section>"
    )


def _instance_html(r: InstanceReport, tz: tzinfo) -> str:
    return (
        f"<section><h2>{_e(r.process_name)}</h2>"
        f'<p class="meta">Instance {_e(r.instance_id)} &middot; {_e(r.status)} &middot; '
        f"mulai {_e(_when(r.started_at, tz))} &middot; selesai {_e(_when(r.ended_at, tz))} "
        f"&middot; per {_e(_when(r.at, tz))}</p>"
        + _instance_pictures(r)
        + _html_table(_pass_rows(r, tz), _PASS_HEADERS, numeric=frozenset({0, 7}))
        + f"<p>{_e(_totals(r))}</p></section>"
    )


def _html(reports: Sequence[Report], default_tz: tzinfo | None) -> str:
    sections = "".join(
        _instance_html(r, _zone(r, default_tz))
        if isinstance(r, InstanceReport)
        else _process_html(r, _zone(r, default_tz))
        for r in reports
    ) or "<p>Tidak ada instance untuk dilaporkan.</p>"
    first = reports[0] if reports else None
    title = "Laporan SLA SOP" + (
        f": {first.process_name if isinstance(first, InstanceReport) else first.name}"
        if first is not None and len(reports) == 1 else ""
    )
    tz = _zone(first, default_tz) if first is not None else default_tz or DISPLAY_TZ
    made = _when(first.at, tz) if first is not None else ""
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="meta">sopflow &middot; per {_e(made)} ({_e(str(tz))})</p></header>'
        f"{sections}</body></html>\n"
    )


def report_dicts(
    reports: Sequence[Report], tz: tzinfo | None = DISPLAY_TZ
) -> list[dict[str, Any]]:
    return [r.to_dict(_zone(r, tz)) for r in reports]
