"""The staff directory: units, positions (jabatan), people (pegawai) and assignments.

Authority belongs to positions, not to people (UU 30/2014 Pasal 14: an official acts
through the position's mandate). A person holds a position through an assignment with a
period and a basis letter: ``definitif`` (SK pengangkatan), ``plt`` (Pelaksana Tugas, the
position is vacant) or ``plh`` (Pelaksana Harian, the definitive holder is temporarily
away), SE Kepala BKN 1/SE/I/2021. So the engine never stores "who is Camat": it asks the
directory who holds the Camat position at the moment of each action.

The rules checked here are those of the whole directory, not of one row: a parent unit
must exist and units must not form a cycle, a position names an existing unit, an
assignment an existing person and position, and a position has at most one definitive
holder on any day. A Plh./Plt. may overlap anyone; it is recorded as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sopflow.errors import DirectoryError

__all__ = [
    "KINDS",
    "Assignment",
    "Directory",
    "Person",
    "Position",
    "Unit",
]

#: assignment kinds, strongest first: a definitive holder is chosen before a Plt., a Plh.
KINDS: tuple[str, ...] = ("definitif", "plt", "plh")
#: Kemendagri area code of a kecamatan (Permendagri 72/2019): province.regency.district
_KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_REGENCY_CODE = re.compile(r"^\d{2}\.\d{2}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
#: the office day of a unit whose province the area code does not tell (office codes)
DEFAULT_ZONE = "Asia/Jakarta"
#: the time zone of a province, by the first digits of its Kemendagri code (Keppres 41/1987
#: on Indonesia's three time zones): WIB for Sumatra, the Riau Islands, Java, West and
#: Central Kalimantan; WITA for Bali, Nusa Tenggara, South, East and North Kalimantan and
#: Sulawesi; WIT for Maluku and every Papua province (91-96 under any numbering)
_WITA_PROVINCES = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75",
                             "76"})
_WIT_PREFIXES = ("8", "9")
_PROVINCE_CODE = re.compile(r"^(\d{2})\.\d{2}(\.\d{2})?$")


@dataclass(frozen=True, slots=True)
class Unit:
    """A kabupaten/kota, a kecamatan (Kemendagri code) or a section inside one."""

    kode: str
    nama: str
    induk: str | None = None
    line: int | None = field(default=None, compare=False)

    @property
    def kind(self) -> str:
        if _KECAMATAN_CODE.match(self.kode):
            return "kecamatan"
        if _REGENCY_CODE.match(self.kode) or self.induk is None:
            return "kabupaten"
        return "seksi"


@dataclass(frozen=True, slots=True)
class Position:
    """A jabatan: its code, its name as written, its unit and the lane role it fills."""

    kode: str
    nama: str
    unit: str
    peran: str
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Person:
    """A pegawai: the NIP (18 checked digits) and the name with titles as written."""

    nip: str
    nama: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """A person holding a position from ``mulai`` to ``selesai`` (inclusive; None: open)."""

    nip: str
    jabatan: str
    mulai: date
    selesai: date | None
    jenis: str
    dasar: str
    #: the file line it came from, for error messages (None when made in code)
    line: int | None = field(default=None, compare=False)

    def covers(self, day: date) -> bool:
        return self.mulai <= day and (self.selesai is None or day <= self.selesai)

    def overlaps(self, other: Assignment) -> bool:
        end_a = self.selesai or date.max
        end_b = other.selesai or date.max
        return self.mulai <= end_b and other.mulai <= end_a


@dataclass(frozen=True, slots=True)
class Directory:
    """A checked, immutable directory; build it with :meth:`build`."""

    units: dict[str, Unit]
    positions: dict[str, Position]
    people: dict[str, Person]
    assignments: tuple[Assignment, ...]
    zone: str = DEFAULT_ZONE
    # indexes for the questions asked on every action (a kabupaten has thousands of rows)
    _by_nip: dict[str, list[Assignment]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    _by_position: dict[str, list[Assignment]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for a in self.assignments:
            self._by_nip.setdefault(a.nip, []).append(a)
            self._by_position.setdefault(a.jabatan, []).append(a)

    @classmethod
    def build(
        cls,
        units: Iterable[Unit] = (),
        positions: Iterable[Position] = (),
        people: Iterable[Person] = (),
        assignments: Iterable[Assignment] = (),
        *,
        file: str | None = None,
    ) -> Directory:
        """Check the whole directory; the first rule broken is a DirectoryError."""
        directory = cls(
            units={u.kode: u for u in units},
            positions={p.kode: p for p in positions},
            people={p.nip: p for p in people},
            assignments=tuple(assignments),
        )
        directory.check(file=file)
        return directory

    def merged(self, other: Directory, *, file: str | None = None) -> Directory:
        """This directory with ``other``'s rows added or replacing the same keys."""
        seen = {(a.nip, a.jabatan, a.mulai) for a in other.assignments}
        return Directory.build(
            {**self.units, **other.units}.values(),
            {**self.positions, **other.positions}.values(),
            {**self.people, **other.people}.values(),
            [a for a in self.assignments if (a.nip, a.jabatan, a.mulai) not in seen]
            + list(other.assignments),
            file=file,
        )

    # -- rules -------------------------------------------------------------------------
    def check(self, *, file: str | None = None) -> None:
        for unit in self.units.values():
            if not _CODE.match(unit.kode):
                raise DirectoryError(
                    f"unit code {unit.kode!r} is not a code",
                    file=file,
                    line=unit.line,
                    field="kode",
                )
            if unit.induk is not None and unit.induk not in self.units:
                raise DirectoryError(
                    f"unit {unit.kode}: parent unit {unit.induk!r} is not in the directory",
                    file=file,
                    line=unit.line,
                    field="induk",
                )
            seen = {unit.kode}
            parent = unit.induk
            while parent is not None:
                if parent in seen:
                    raise DirectoryError(
                        f"unit {unit.kode}: parents form a cycle",
                        file=file,
                        line=unit.line,
                        field="induk",
                    )
                seen.add(parent)
                parent = self.units[parent].induk
        for pos in self.positions.values():
            if pos.unit not in self.units:
                raise DirectoryError(
                    f"jabatan {pos.kode}: unit {pos.unit!r} is not in the directory",
                    file=file,
                    line=pos.line,
                    field="unit",
                )
        by_position: dict[str, list[Assignment]] = {}
        for a in self.assignments:
            if a.nip not in self.people:
                raise DirectoryError(
                    f"penugasan: no pegawai with NIP {a.nip}", file=file, line=a.line, field="nip"
                )
            if a.jabatan not in self.positions:
                raise DirectoryError(
                    f"penugasan: no jabatan {a.jabatan!r}", file=file, line=a.line, field="jabatan"
                )
            if a.jenis not in KINDS:
                raise DirectoryError(
                    f"penugasan: jenis {a.jenis!r} is not one of {', '.join(KINDS)}",
                    file=file,
                    line=a.line,
                    field="jenis",
                )
            if a.selesai is not None and a.selesai < a.mulai:
                raise DirectoryError(
                    f"penugasan: selesai {a.selesai} is before mulai {a.mulai}",
                    file=file,
                    line=a.line,
                    field="selesai",
                )
            if not a.dasar.strip():
                raise DirectoryError(
                    "penugasan: dasar (SK or Surat Perintah number) is empty",
                    file=file,
                    line=a.line,
                    field="dasar",
                )
            if a.jenis == "definitif":
                for other in by_position.get(a.jabatan, []):
                    if a.overlaps(other):
                        raise DirectoryError(
                            f"penugasan: jabatan {a.jabatan} would have two definitive "
                            f"holders ({other.nip} from {other.mulai} and {a.nip} from "
                            f"{a.mulai}); end the first assignment or use jenis plt/plh",
                            file=file,
                            line=a.line,
                            field="mulai",
                        )
                by_position.setdefault(a.jabatan, []).append(a)

    # -- questions the engine asks ------------------------------------------------------
    def zone_of(self, unit: str | None) -> str:
        """The zone a unit's office keeps: its province's, read from the Kemendagri code of
        the unit or its nearest coded parent (a section has the office's own code), else
        the directory's default. A letter's "mulai 2025-08-11" in Long Ikis (Kalimantan
        Timur, WITA) starts at 00:00 WITA, an hour before 00:00 WIB."""
        for kode in (unit, *self.ancestors(unit)) if unit is not None else ():
            match = _PROVINCE_CODE.match(kode)
            if match:
                province = match.group(1)
                if province in _WITA_PROVINCES:
                    return "Asia/Makassar"
                if province.startswith(_WIT_PREFIXES):
                    return "Asia/Jayapura"
                return "Asia/Jakarta"
        return self.zone

    def day(self, at: datetime, unit: str | None = None) -> date:
        """The office day of an action: its date in the zone of ``unit``'s office."""
        zone = self.zone if unit is None else self.zone_of(unit)
        return at.astimezone(ZoneInfo(zone)).date()

    def held(self, nip: str, at: datetime) -> list[tuple[Assignment, Position]]:
        """What ``nip`` holds at ``at``, definitive first; each assignment's dates are
        read on the calendar of its position's office."""
        found = [
            (a, self.positions[a.jabatan])
            for a in self._by_nip.get(nip, ())
            if a.covers(self.day(at, self.positions[a.jabatan].unit))
        ]
        return sorted(found, key=lambda ap: (KINDS.index(ap[0].jenis), ap[1].kode))

    def holders(self, jabatan: str, at: datetime) -> list[Assignment]:
        """Who holds ``jabatan`` at ``at``, definitive first."""
        day = self.day(at, self.positions[jabatan].unit if jabatan in self.positions else None)
        found = [a for a in self._by_position.get(jabatan, ()) if a.covers(day)]
        return sorted(found, key=lambda a: KINDS.index(a.jenis))

    def ancestors(self, kode: str) -> Iterator[str]:
        """The unit's parents, nearest first (not the unit itself)."""
        unit = self.units.get(kode)
        while unit is not None and unit.induk is not None:
            yield unit.induk
            unit = self.units.get(unit.induk)

    def within(self, kode: str, root: str) -> bool:
        """True when unit ``kode`` is ``root`` or one of its sections (any depth)."""
        return kode == root or root in self.ancestors(kode)

    def subtree(self, root: str) -> set[str]:
        return {k for k in self.units if self.within(k, root)}

    def kecamatan_of(self, kode: str) -> str | None:
        """The kecamatan a unit lies in (itself when it is one)."""
        for k in (kode, *self.ancestors(kode)):
            unit = self.units.get(k)
            if unit is not None and unit.kind == "kecamatan":
                return k
        return None

    def find_unit(self, name: str) -> Unit | None:
        """A kecamatan by its name ("Cibatu", "Kecamatan Long Ikis"), for SOP headers."""
        wanted = _plain(name)
        for unit in self.units.values():
            if unit.kind == "kecamatan" and _plain(unit.nama) == wanted:
                return unit
        return None

    def position_of(self, unit: str, role: str) -> Position | None:
        """The position with lane role ``role`` directly in ``unit``."""
        return next(
            (p for p in self.positions.values() if p.unit == unit and p.peran == role), None
        )


def _plain(name: str) -> str:
    text = " ".join(name.lower().split())
    for prefix in ("kecamatan ", "kec. "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text
