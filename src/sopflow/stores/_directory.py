"""The staff directory's side of the SQL store (schema migration 4).

A directory is small (a kabupaten has a few thousand pegawai) and read far more often
than written, so it is read whole and cached per store, keyed by a revision number kept
in ``sopflow_meta``: any write bumps it, so a second process sees a transfer on its next
action. Every write (import, assign, end) reads the stored directory, applies the change,
checks the *whole* result and rewrites it in one transaction: a file with a bad row, or
an assignment giving a position two definitive holders, leaves the store as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from sopflow.authority.directory import Assignment, Directory, Person, Position, Unit
from sopflow.errors import DirectoryError

__all__ = ["DirectoryStoreMixin"]

#: how long a directory revision read with an action's instance stands for the stored one
REV_HINT_SECONDS = 1.0


class DirectoryStoreMixin:
    """Directory methods of :class:`~sopflow.stores._sql.SqlStore`."""

    if TYPE_CHECKING:
        url: str

        def _write(self) -> AbstractContextManager[Any]: ...
        def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def _sql(self, statement: str) -> str: ...

    _directory_cache: tuple[int, Directory] | None = None

    # -- reading -----------------------------------------------------------------------
    def has_directory(self) -> bool:
        """True when the store holds a staff directory (then roles are never trusted)."""
        return bool(self._read("SELECT kode FROM sopflow_units LIMIT 1"))

    def _directory_rev(self) -> int:
        rows = self._read("SELECT rev FROM sopflow_directory_rev")
        return int(rows[0][0]) if rows else 0

    def load_directory(self) -> Directory:
        """The stored directory (cached until any process changes it).

        The cache key is the stored revision. An action reads it with its instance
        (``load_with_open_steps``), so the directory consulted for that action's
        checks costs no round trip of its own; the revision read then is used while
        nothing else has been read or written by this thread since, and for at most
        :data:`REV_HINT_SECONDS`. Otherwise the revision is read here.
        """
        local = getattr(self, "_action_local", None)
        hint = None if local is None else getattr(local, "rev", None)
        if hint is not None and time.monotonic() - hint[1] < REV_HINT_SECONDS:
            rev = int(hint[0])
        else:
            rev = self._directory_rev()
        cached = self._directory_cache
        if cached is not None and cached[0] == rev:
            return cached[1]
        directory = self._build(self._read)
        self._directory_cache = (rev, directory)
        return directory

    @staticmethod
    def _build(read: Callable[[str], list[Any]]) -> Directory:
        units = [
            Unit(r[0], r[1], r[2]) for r in read("SELECT kode, nama, induk FROM sopflow_units")
        ]
        positions = [
            Position(r[0], r[1], r[2], r[3])
            for r in read("SELECT kode, nama, unit, peran FROM sopflow_positions")
        ]
        people = [Person(r[0], r[1]) for r in read("SELECT nip, nama FROM sopflow_people")]
        assignments = [
            Assignment(
                nip=r[0],
                jabatan=r[1],
                mulai=date.fromisoformat(r[2]),
                selesai=None if r[3] is None else date.fromisoformat(r[3]),
                jenis=r[4],
                dasar=r[5],
            )
            for r in read(
                "SELECT nip, jabatan, mulai, selesai, jenis, dasar FROM sopflow_assignments"
                " ORDER BY id"
            )
        ]
        # Stored rows were checked when written; build without re-checking would hide
        # a hand-edited table, so check again: a broken directory is refused.
        try:
            return Directory.build(units, positions, people, assignments, file="store")
        except DirectoryError as exc:
            raise DirectoryError(
                f"the stored directory breaks a rule (edited by hand?): {exc.message}"
            ) from None

    # -- writing -----------------------------------------------------------------------
    def _change_directory(self, change: Callable[[Directory], Directory]) -> Directory:
        with self._write() as cur:

            def read(statement: str) -> list[Any]:
                cur.execute(statement)
                return list(cur.fetchall())

            current = self._build(read)
            updated = change(current)
            for table in (
                "sopflow_assignments",
                "sopflow_people",
                "sopflow_positions",
                "sopflow_units",
            ):
                cur.execute(f"DELETE FROM {table}")
            self._insert_rows(
                cur,
                "sopflow_units (kode, nama, induk)",
                [(u.kode, u.nama, u.induk) for u in updated.units.values()],
            )
            self._insert_rows(
                cur,
                "sopflow_positions (kode, nama, unit, peran)",
                [(p.kode, p.nama, p.unit, p.peran) for p in updated.positions.values()],
            )
            self._insert_rows(
                cur,
                "sopflow_people (nip, nama)",
                [(p.nip, p.nama) for p in updated.people.values()],
            )
            self._insert_rows(
                cur,
                "sopflow_assignments (nip, jabatan, mulai, selesai, jenis, dasar)",
                [
                    (
                        a.nip,
                        a.jabatan,
                        a.mulai.isoformat(),
                        None if a.selesai is None else a.selesai.isoformat(),
                        a.jenis,
                        a.dasar,
                    )
                    for a in updated.assignments
                ],
            )
            cur.execute("UPDATE sopflow_directory_rev SET rev = rev + 1")
        self._directory_cache = None
        return updated

    def _insert_rows(self, cur: Any, target: str, rows: Iterable[tuple[Any, ...]]) -> None:
        rows = list(rows)
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            cur.executemany(self._sql(f"INSERT INTO {target} VALUES ({marks})"), rows)

    def import_directory(self, directory: Directory, *, file: str | None = None) -> Directory:
        """Add or replace ``directory``'s rows; the merged result is checked whole."""
        return self._change_directory(lambda current: current.merged(directory, file=file))

    def assign(self, assignment: Assignment) -> Directory:
        """Record one assignment (a new SK or Surat Perintah)."""

        def change(current: Directory) -> Directory:
            return Directory.build(
                current.units.values(),
                current.positions.values(),
                current.people.values(),
                [*current.assignments, assignment],
            )

        return self._change_directory(change)

    def end_assignment(self, nip: str, jabatan: str, selesai: date) -> Directory:
        """End the open or later-ending assignment of ``nip`` to ``jabatan`` on ``selesai``."""

        def change(current: Directory) -> Directory:
            found = [
                i
                for i, a in enumerate(current.assignments)
                if a.nip == nip
                and a.jabatan == jabatan
                and a.mulai <= selesai
                and (a.selesai is None or a.selesai > selesai)
            ]
            if not found:
                raise DirectoryError(
                    f"NIP {nip} holds no assignment to {jabatan!r} running past {selesai}"
                )
            rows = list(current.assignments)
            rows[found[-1]] = replace(rows[found[-1]], selesai=selesai)
            return Directory.build(
                current.units.values(), current.positions.values(), current.people.values(), rows
            )

        return self._change_directory(change)

    # -- instances' units --------------------------------------------------------------
    def instance_unit(self, instance_id: str) -> str | None:
        read = getattr(self, "_units_read", {})
        if instance_id in read:  # read with the action's instance (no round trip)
            unit = read[instance_id]
            return None if unit is None else str(unit)
        rows = self._read(
            "SELECT u.unit FROM sopflow_instance_units u JOIN sopflow_instances i"
            " ON i.id = u.instance WHERE i.uuid = ?",
            (instance_id,),
        )
        return str(rows[0][0]) if rows else None

    def instance_units(self) -> dict[str, str]:
        """instance id -> unit code, for every instance that has a unit."""
        rows = self._read(
            "SELECT i.uuid, u.unit FROM sopflow_instance_units u JOIN sopflow_instances i"
            " ON i.id = u.instance"
        )
        return {str(r[0]): str(r[1]) for r in rows}

    def step_holdings(self, instance_id: str) -> dict[int, dict[str, Any]]:
        """step row id -> who completed it, under which position, kind and basis."""
        rows = self._read(
            "SELECT h.step, h.nip, h.nama, h.position, h.position_name, h.unit, h.kind,"
            " h.basis FROM sopflow_step_holdings h JOIN sopflow_steps s ON s.id = h.step"
            " JOIN sopflow_instances i ON i.id = s.instance WHERE i.uuid = ?",
            (instance_id,),
        )
        keys = ("nip", "nama", "position", "position_name", "unit", "kind", "basis")
        return {int(r[0]): dict(zip(keys, r[1:], strict=True)) for r in rows}
