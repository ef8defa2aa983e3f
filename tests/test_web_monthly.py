"""Pemantauan's chart: the share of passes within the standard per month (Permenpan-RB
35/2012: the monitoring shows whether the SOP's Mutu Baku waktu is kept over time).

The chart is server-drawn SVG (no script) whose <title>/<desc> and the table beside it
say every figure; a pass counts in the month it was completed, in the office's zone.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from tests._web import CAMAT, CIBATU_SEKCAM, Web, make_web
from tests.test_web_pages import login

from sopflow.reports.monthly import monthly_share, render_monthly_svg
from sopflow.stores.base import StepRow

WIB = ZoneInfo("Asia/Jakarta")


def _row(completed: str, due: str | None, outcome: str | None = "completed") -> StepRow:
    from datetime import datetime

    def ms(text: str) -> int:
        return int(datetime.fromisoformat(text).timestamp() * 1000)

    return StepRow(
        1, "i", "p", "v", "t", 1, "r", ms("2026-01-01T08:00:00+07:00"),
        None if due is None else ms(due), None, "1 hari", ms(completed), "a", None, None, (),
        outcome=outcome,
    )  # fmt: skip


def test_a_pass_counts_in_its_month_of_completion_in_the_office_zone() -> None:
    rows = [
        _row("2026-01-31T20:00:00+07:00", "2026-02-02T08:00:00+07:00"),  # met, 31 Jan WIB
        _row("2026-02-01T01:00:00+07:00", "2026-01-31T08:00:00+07:00"),  # missed, 1 Feb WIB
        _row("2026-02-03T09:00:00+07:00", "2026-02-04T08:00:00+07:00"),  # met
        _row("2026-02-03T09:00:00+07:00", None),  # no standard: not judged
        _row("2026-02-03T09:00:00+07:00", "2026-02-04T08:00:00+07:00", "cancelled"),
    ]
    months = monthly_share(rows, WIB)
    assert [(m.label, m.met, m.judged) for m in months] == [("Jan 2026", 1, 1), ("Feb 2026", 1, 2)]
    assert months[1].share == 0.5


def test_the_chart_says_its_figures_as_text_and_escapes_its_title() -> None:
    months = monthly_share([_row("2026-03-03T09:00:00+07:00", "2026-03-04T08:00:00+07:00")], WIB)
    svg = render_monthly_svg(months, title="<script>x</script>", ident="g1")
    assert 'role="img"' in svg and 'aria-labelledby="g1-t g1-d"' in svg
    assert "&lt;script&gt;" in svg and "<script" not in svg
    assert re.search(r"<desc id=\"g1-d\">Mar 2026: 100% \(1 dari 1 langkah\)</desc>", svg)
    empty = render_monthly_svg([], title="kosong")
    assert "Belum ada langkah selesai" in empty


@pytest.fixture
def web() -> Web:
    return make_web()


def test_pemantauan_shows_the_monthly_chart_with_a_table_of_its_figures(web: Web) -> None:
    web.to_step(4)  # steps 1-3 done in March 2026, each within its standard
    html = login(web, CAMAT).get("/pemantauan").text
    assert "Sesuai standar waktu per bulan" in html
    svg = re.search(r'<figure class="chart"><svg [^>]*role="img".*?</svg>', html, re.S)
    assert svg and "<script" not in svg.group(0)
    row = re.search(r"<tr><td>Mar 2026</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)%</td></tr>", html)
    assert row and int(row.group(2)) >= 3 and int(row.group(1)) <= int(row.group(2))


def test_another_units_officer_sees_no_passes_of_purbalingga(web: Web) -> None:
    web.to_step(4)
    html = login(web, CIBATU_SEKCAM).get("/pemantauan").text
    assert "<td>Mar 2026</td>" not in html
