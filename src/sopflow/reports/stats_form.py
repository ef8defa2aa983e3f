"""The monitoring form ("Monitoring Pelaksanaan SOP AP", Permenpan-RB 35/2012),
pre-filled from a step's figures for the monitoring officer to confirm.

The rule (:func:`assess`, also in docs/sla.md):

- *Berjalan dengan baik* when all three hold: (1) at least :data:`GOOD_SHARE_MET` (80%)
  of the passes with a standard met it (or the step has none); (2) the late passes are
  not far late: the p90 overrun is at most :data:`MAX_P90_OVERRUN_SHARE` (half) of the
  standard; (3) at most :data:`MAX_RETURN_SHARE` (a third) of its passes sent the file
  back ("Tidak");
- otherwise *Tidak berjalan dengan baik*; a step never performed is *Belum dapat dinilai*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sopflow.reports.stats_numbers import _pct, format_minutes

if TYPE_CHECKING:
    from sopflow.reports.stats_sop import StepFigures

__all__ = [
    "BELUM_DINILAI",
    "BERJALAN_BAIK",
    "GOOD_SHARE_MET",
    "MAX_P90_OVERRUN_SHARE",
    "MAX_RETURN_SHARE",
    "TIDAK_BERJALAN_BAIK",
    "FormRow",
    "assess",
]


BERJALAN_BAIK = "Berjalan dengan baik"
TIDAK_BERJALAN_BAIK = "Tidak berjalan dengan baik"
BELUM_DINILAI = "Belum dapat dinilai"
#: Share of passes meeting the standard from which a step "berjalan dengan baik".
GOOD_SHARE_MET = 0.8
#: Rule (2): the p90 overrun may be at most this share of the standard.
MAX_P90_OVERRUN_SHARE = 0.5
#: Rule (3): at most this share of a step's passes may return the file.
MAX_RETURN_SHARE = 1 / 3
@dataclass(frozen=True, slots=True)
class FormRow:
    """One row of the monitoring form, pre-filled for the monitoring officer to confirm."""

    no: int
    task_id: str
    prosedur: str
    penilaian: str
    catatan: str
    tindakan: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "no": self.no,
            "task_id": self.task_id,
            "prosedur": self.prosedur,
            "penilaian": self.penilaian,
            "catatan": self.catatan,
            "tindakan": self.tindakan,
        }


def assess(
    no: int,
    sf: StepFigures,
    role_share_met: float | None,
    role_shares: Mapping[str, float | None] | None = None,
) -> FormRow:
    """The form row of one step, by the rule in the module docstring (and docs/sla.md).

    ``no`` is the row number (the step's number in the SOP); ``role_share_met`` is the
    share met across all steps of the step's role, which decides whether adding staff
    to that role is suggested. A joint step is judged on all its tasks' passes; each of
    its lanes is named in the note, and ``role_shares`` (role -> share met across all
    that role's steps) decides the staffing suggestion per lane.
    """
    f = sf.figures
    prosedur = sf.name
    if f.count == 0:
        catatan = "Belum ada pelaksanaan yang selesai tercatat."
        if f.open:
            catatan += f" {f.open} sedang berjalan" + (
                f", {f.open_breached} melewati standar waktu." if f.open_breached else "."
            )
        if f.cancelled:
            catatan += f" {f.cancelled} kali dibatalkan."
        return FormRow(no, sf.task_id, prosedur, BELUM_DINILAI, catatan,
                       "Pastikan langkah ini dilaksanakan dan dicatat.")
    share = f.share_met
    far_late = (
        f.standard_minutes is not None
        and f.p90_overrun_minutes is not None
        and f.p90_overrun_minutes > MAX_P90_OVERRUN_SHARE * f.standard_minutes
    )
    good = (
        (share is None or share >= GOOD_SHARE_MET)
        and not far_late
        and f.returns <= MAX_RETURN_SHARE * f.count
    )
    together = f" oleh {len(sf.lanes)} pelaksana bersama" if sf.lanes else ""
    notes = [
        f"{f.count} kali dilaksanakan{together}; waktu kerja median "
        f"{format_minutes(f.median_minutes)}, p90 {format_minutes(f.p90_minutes)}"
    ]
    if share is None:
        notes.append("tanpa standar waktu")
    else:
        notes.append(
            f"standar {sf.standard}; tepat waktu {f.met} dari {f.with_standard} ({_pct(share)})"
        )
        if f.met < f.with_standard:
            notes.append(f"p90 kelebihan {format_minutes(f.p90_overrun_minutes)}")
    if f.returns:
        notes.append(f"{f.returns} kali dikembalikan (Tidak)")
    if f.open_breached:
        notes.append(f"{f.open_breached} sedang melewati standar waktu")
    if f.cancelled:
        notes.append(f"{f.cancelled} kali dibatalkan")
    for lane in sf.lanes:
        lf = lane.figures
        notes.append(
            f"peran {lane.role}: {lf.count} kali"
            + (f", tepat waktu {lf.met} dari {lf.with_standard} ({_pct(lf.share_met)})"
               if lf.with_standard else "")
        )
    actions: list[str] = []
    if share is not None and share < GOOD_SHARE_MET:
        actions.append(f"Tinjau kembali standar waktu \"{sf.standard}\" dan cara kerja langkah ini")
        # a joint step: the lanes that are late, each with its role's share everywhere
        late = (
            [(lane.role, (role_shares or {}).get(lane.role)) for lane in sf.lanes
             if (lane.figures.share_met or 0.0) < GOOD_SHARE_MET
             and lane.figures.share_met is not None]
            if sf.lanes else [(sf.role, role_share_met)]
        )
        for role, role_share in late:
            if role_share is not None and role_share < GOOD_SHARE_MET:
                actions.append(
                    f"Tambah pelaksana atau atur ulang beban kerja peran {role} "
                    f"(tepat waktu {_pct(role_share)} di semua langkahnya)"
                )
    if far_late and (share is None or share >= GOOD_SHARE_MET):
        actions.append(
            "Cari penyebab keterlambatan yang jauh melewati standar waktu "
            f"(p90 kelebihan {format_minutes(f.p90_overrun_minutes)})"
        )
    if f.returns:
        needed = "; ".join(sf.kelengkapan) or "dokumen yang diperiksa"
        actions.append(
            f"Perjelas kelengkapan yang harus dipenuhi sebelum diajukan ({needed})"
        )
    return FormRow(
        no,
        sf.task_id,
        prosedur,
        BERJALAN_BAIK if good else TIDAK_BERJALAN_BAIK,
        "; ".join(notes) + ".",
        ("; ".join(actions) + ".") if actions else "Tidak ada; pertahankan.",
    )

