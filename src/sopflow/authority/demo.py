"""The demo's staff: the shipped directory of the four kecamatan, and who acts when.

``make demo`` simulates weeks of work; with a directory, an actor is an NIP and the
engine checks what that person holds at each simulated moment. During a Plh. period the
definitive holder is away (that is what a Plh. is for), so the simulation has the Plh.
act, and the report shows the step signed "Plh. Camat Cibatu (...)".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sopflow.authority.directory import KINDS, Directory
from sopflow.authority.io import parse_directory
from sopflow.authority.staff import DirectoryAuthority
from sopflow.definitions.model import ProcessDefinition

__all__ = ["DEMO_STAFF", "StaffNames", "import_demo_staff", "staff_names"]

#: the shipped directory file (package data)
DEMO_STAFF = "demo-staf.toml"


def demo_staff_text() -> str:
    return resources.files("sopflow.authority").joinpath("data", DEMO_STAFF).read_text("utf-8")


def import_demo_staff(store: Any) -> Directory:
    """Put the demo directory into ``store`` (a fresh demo database)."""
    directory = parse_directory(demo_staff_text(), source=str(Path("data") / DEMO_STAFF))
    result: Directory = store.import_directory(directory)
    return result


class StaffNames(Mapping[str, str]):
    """role -> NIP of the person acting in that role in ``unit`` at ``now()``."""

    def __init__(
        self,
        directory: Directory,
        unit: str,
        now: Callable[[], datetime],
        fallback: Mapping[str, str],
    ) -> None:
        self.directory, self.unit, self.now, self.fallback = directory, unit, now, fallback

    def __getitem__(self, role: str) -> str:
        d = self.directory
        at = self.now()
        units = [self.unit, *d.ancestors(self.unit)]
        for scope in units:
            candidates = [
                a
                for p in d.positions.values()
                if p.peran == role and d.within(p.unit, scope)
                for a in d.holders(p.kode, at)
            ]
            if candidates:
                # a Plh./Plt. acts while appointed: the definitive holder is away
                return min(candidates, key=lambda a: -KINDS.index(a.jenis)).nip
        return self.fallback[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fallback)

    def __len__(self) -> int:
        return len(self.fallback)


def staff_names(
    engine: Any,
    definition: ProcessDefinition,
    fallback: Mapping[str, str],
    now: Callable[[], datetime] | datetime,
) -> Mapping[str, str]:
    """``fallback`` in trusted-caller mode; with a directory, NIPs resolved at ``now()``."""
    clock: Callable[[], datetime] = (lambda: now) if isinstance(now, datetime) else now

    if isinstance(fallback, StaffNames):
        fallback = fallback.fallback
    authority = getattr(engine, "authority", None)
    if not isinstance(authority, DirectoryAuthority):
        return fallback
    directory = authority.directory
    unit = directory.find_unit(definition.header.kecamatan or "")
    if unit is None:
        return fallback
    return StaffNames(directory, unit.kode, clock, fallback)
