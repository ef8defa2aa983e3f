"""The kabupaten view: one store serving every kecamatan, compared side by side.

The Bagian Organisasi monitors the SOPs of every unit at least every six months
(Permenpan-RB 35/2012, Monitoring Pelaksanaan SOP AP). With instances tagged by unit,
one scan of the store gives each kecamatan's figures and their roll-up to the kabupaten:
cases, steps done, the share done within their Mutu Baku waktu, open steps at risk or late.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sopflow.authority.directory import Directory, Unit
from sopflow.errors import DirectoryError
from sopflow.sla.policy import AT_RISK, BREACHED, open_status
from sopflow.stores.base import CANCELLED, COMPLETED, RUNNING

__all__ = ["UnitFigures", "compare_units", "format_comparison", "in_units", "unit_scope"]

_T = TypeVar("_T")


_COUNTS = (
    "instances",
    "running",
    "completed",
    "cancelled",
    "steps_done",
    "steps_with_standard",
    "steps_on_time",
    "open_steps",
    "at_risk",
    "breached",
)


@dataclass
class UnitFigures:
    """One kecamatan's (or the roll-up's) figures."""

    kode: str
    nama: str
    instances: int = 0
    running: int = 0
    completed: int = 0
    cancelled: int = 0
    steps_done: int = 0
    steps_with_standard: int = 0
    steps_on_time: int = 0
    open_steps: int = 0
    at_risk: int = 0
    breached: int = 0
    processes: set[str] = field(default_factory=set)

    @property
    def share_on_time(self) -> float | None:
        if not self.steps_with_standard:
            return None
        return self.steps_on_time / self.steps_with_standard

    def add(self, other: UnitFigures) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.processes |= other.processes

    def to_dict(self) -> dict[str, Any]:
        return {
            "kode": self.kode,
            "nama": self.nama,
            "instances": self.instances,
            "running": self.running,
            "completed": self.completed,
            "cancelled": self.cancelled,
            "steps_done": self.steps_done,
            "share_on_time": self.share_on_time,
            "open_steps": self.open_steps,
            "at_risk": self.at_risk,
            "breached": self.breached,
            "processes": sorted(self.processes),
        }


def compare_units(
    store: Any, directory: Directory, root: str | None, *, at: datetime
) -> tuple[list[UnitFigures], UnitFigures]:
    """Per-kecamatan figures under ``root`` (a kabupaten, a kecamatan, None: all) and their sum."""
    if root is not None and root not in directory.units:
        raise DirectoryError(f"unit {root!r} is not in the directory", field="unit")
    kecamatan = {
        k: UnitFigures(k, u.nama)
        for k, u in directory.units.items()
        if u.kind == "kecamatan" and (root is None or directory.within(k, root))
    }
    units: dict[str, str] = store.instance_units()
    owner: dict[str, UnitFigures] = {}
    for iid, unit in units.items():
        k = directory.kecamatan_of(unit)
        if k in kecamatan:
            owner[iid] = kecamatan[k]
    for row in store.instances():
        figures = owner.get(row.instance_id)
        if figures is None:
            continue
        figures.instances += 1
        figures.processes.add(row.process_id)
        figures.running += row.status == RUNNING
        figures.completed += row.status == COMPLETED
        figures.cancelled += row.status == CANCELLED
    _done(owner, store.completed_steps())
    now_ms = at.timestamp() * 1000
    for r in store.open_steps():
        figures = owner.get(r.instance_id)
        if figures is None:
            continue
        figures.open_steps += 1
        status = open_status(r.due_at, r.risk_at, now_ms)
        figures.at_risk += status == AT_RISK
        figures.breached += status == BREACHED
    total = (
        UnitFigures("*", "Semua unit")
        if root is None
        else UnitFigures(root, directory.units[root].nama)
    )
    rows = sorted(kecamatan.values(), key=lambda f: f.kode)
    for f in rows:
        total.add(f)
    return rows, total


def _done(owner: dict[str, UnitFigures], rows: Iterable[Any]) -> None:
    for r in rows:
        figures = owner.get(r.instance_id)
        if figures is None:
            continue
        figures.steps_done += 1
        if r.due_at is not None:
            figures.steps_with_standard += 1
            figures.steps_on_time += r.completed_at <= r.due_at


def format_comparison(rows: list[UnitFigures], total: UnitFigures) -> str:
    """The comparison table, in Bahasa Indonesia for the Bagian Organisasi."""
    headers = [
        "Kode",
        "Unit",
        "Kasus",
        "Berjalan",
        "Selesai",
        "Batal",
        "Langkah selesai",
        "Tepat waktu",
        "Terbuka",
        "Berisiko",
        "Terlambat",
    ]

    def cells(f: UnitFigures) -> list[str]:
        share = f.share_on_time
        return [
            f.kode,
            f.nama,
            str(f.instances),
            str(f.running),
            str(f.completed),
            str(f.cancelled),
            str(f.steps_done),
            "-" if share is None else f"{share:.0%}",
            str(f.open_steps),
            str(f.at_risk),
            str(f.breached),
        ]

    body = [cells(f) for f in rows] + [cells(total)]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(headers), rule, *(line(r) for r in body[:-1]), rule, line(body[-1])]
    return "\n".join(out) + "\n"


def unit_scope(store: Any, root: str) -> tuple[Unit, frozenset[str]]:
    """Unit ``root`` and the ids of the instances in it or in a unit under it: a
    kabupaten's code rolls up all its kecamatan, a kecamatan's its sections."""
    if not hasattr(store, "has_directory") or not store.has_directory():
        raise DirectoryError("--unit needs a staff directory (instances have no units)")
    directory: Directory = store.load_directory()
    if root not in directory.units:
        raise DirectoryError(f"unit {root!r} is not in the directory", field="unit")
    units: dict[str, str] = store.instance_units()
    return directory.units[root], frozenset(
        iid for iid, unit in units.items() if directory.within(unit, root)
    )


def in_units(found: Iterable[_T], store: Any, root: str) -> list[_T]:
    """The scan entries (anything with ``instance_id``) of instances in ``root`` or below."""
    _, ids = unit_scope(store, root)
    return [s for s in found if s.instance_id in ids]  # type: ignore[attr-defined]
