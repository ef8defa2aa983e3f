"""The demo's staff: the shipped directory of the four kecamatan, and who acts when.

``make demo`` simulates weeks of work; with a directory, an actor is an NIP and the
engine checks what that person holds at each simulated moment. During a Plh. period the
definitive holder is away (that is what a Plh. is for), so the simulation has the Plh.
act, and the report shows the step signed "Plh. Camat Cibatu (...)".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sopflow.authority.directory import KINDS, Directory
from sopflow.authority.io import parse_directory
from sopflow.authority.staff import DirectoryAuthority
from sopflow.definitions.model import ProcessDefinition

__all__ = ["DEMO_STAFF", "StaffNames", "acting_case", "import_demo_staff", "staff_names"]

_T = TypeVar("_T")

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


def acting_case(store: Any, cases: Sequence[_T]) -> _T | None:
    """The first of ``cases`` (anything with an ``instance_id``) a Plh./Plt. signed a step of."""
    getter = getattr(store, "step_holdings", None)
    if getter is None:
        return None
    for case in cases:
        held = getter(case.instance_id)  # type: ignore[attr-defined]
        if any(h["kind"] in ("plh", "plt") for h in held.values()):
            return case
    return None
