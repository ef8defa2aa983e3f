"""Share of passes within the standard (Mutu Baku waktu) per month, and its bar chart.

Permenpan-RB 35/2012 asks the monitoring to show whether the SOP is kept over time; the
month a pass was completed in (in the office's zone) is the month it counts for. A pass
is within its standard when it was completed by its due moment, the same rule as
:func:`sopflow.sla.monitor.assess_completed`; passes without a standard are not judged.

The chart is plain SVG drawn here (no script, no external font), with a ``<title>`` and
``<desc>`` that say every bar's figure, so a screen reader reads what the eye sees; the
page shows the same numbers as a table next to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from html import escape

from sopflow.runtime.views import from_ms
from sopflow.stores.base import StepRow

__all__ = ["BULAN", "MonthShare", "monthly_share", "render_monthly_svg"]

BULAN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


@dataclass(frozen=True, slots=True)
class MonthShare:
    year: int
    month: int
    met: int
    judged: int

    @property
    def share(self) -> float:
        return self.met / self.judged if self.judged else 0.0

    @property
    def label(self) -> str:
        return f"{BULAN[self.month - 1]} {self.year}"


def monthly_share(rows: Iterable[StepRow], tz: tzinfo) -> list[MonthShare]:
    """Completed passes with a standard, counted per month of completion, oldest first."""
    counts: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        if row.completed_at is None or row.due_at is None or row.outcome not in (None, "completed"):
            continue
        done = from_ms(row.completed_at).astimezone(tz)
        cell = counts.setdefault((done.year, done.month), [0, 0])
        cell[0] += row.completed_at <= row.due_at
        cell[1] += 1
    return [MonthShare(y, m, met, n) for (y, m), (met, n) in sorted(counts.items())]


def _describe(months: list[MonthShare]) -> str:
    if not months:
        return "Belum ada langkah selesai yang memiliki standar waktu."
    return "; ".join(
        f"{m.label}: {round(m.share * 100)}% ({m.met} dari {m.judged} langkah)" for m in months
    )


def render_monthly_svg(months: list[MonthShare], *, title: str, ident: str = "grafik") -> str:
    """A bar per month (0-100 %), the 80 % line of "berjalan dengan baik" dashed."""
    from sopflow.reports.stats import GOOD_SHARE_MET

    bar, gap, left, top, height = 44, 16, 40, 16, 160
    width = left + max(1, len(months)) * (bar + gap) + gap
    total = top + height + 40
    ident = escape(ident, quote=True)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total}" '
        f'width="{width}" height="{total}" role="img" aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(_describe(months))}</desc>',
    ]
    for pct in (0, 50, 100):
        y = top + height - height * pct / 100
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#bbb" '
            'stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'font-family="sans-serif">{pct}%</text>'
        )
    good = top + height - height * GOOD_SHARE_MET
    out.append(
        f'<line x1="{left}" y1="{good:.1f}" x2="{width}" y2="{good:.1f}" stroke="#1b5e20" '
        'stroke-width="1.5" stroke-dasharray="5 4"/>'
    )
    for i, m in enumerate(months):
        x = left + gap + i * (bar + gap)
        h = height * m.share
        fill = "#2e7d32" if m.share >= GOOD_SHARE_MET else "#c62828"
        out.append(
            f'<rect x="{x}" y="{top + height - h:.1f}" width="{bar}" height="{h:.1f}" '
            f'fill="{fill}"><title>{escape(m.label)}: {round(m.share * 100)}% '
            f"({m.met}/{m.judged})</title></rect>"
            f'<text x="{x + bar / 2}" y="{top + height - h - 3:.1f}" font-size="11" '
            f'text-anchor="middle" font-family="sans-serif">{round(m.share * 100)}%</text>'
            f'<text x="{x + bar / 2}" y="{top + height + 16}" font-size="11" '
            f'text-anchor="middle" font-family="sans-serif">{escape(m.label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
