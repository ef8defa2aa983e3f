"""Reading a SQLite database sopflow may not write: a read-only file or directory.

A monitoring host often gets a copy of the database, or the database on a read-only
mount. Opening it the usual way fails before the first read (WAL mode and the schema
check both write), so :func:`sopflow.stores.open_store` opens such a file with
``mode=ro``: ``inbox``, ``sla``, ``report``, ``status`` and ``show`` work, and any write
is refused with one StoreError that says why.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sopflow.errors import SchemaVersionError, StoreError
from sopflow.stores._schema import SCHEMA_VERSION
from sopflow.stores.sqlite import SQLiteStore

__all__ = ["ReadOnlySQLiteStore"]


class ReadOnlySQLiteStore(SQLiteStore):
    """An SQLite store opened read-only (``mode=ro``; ``immutable=1`` in a read-only
    directory where SQLite cannot create the WAL's shared-memory file)."""

    def __init__(self, path: str | Path, *, url: str | None = None) -> None:
        # SqlStore's own setup, without SQLiteStore's: no WAL switch, no migration (writes)
        super(SQLiteStore, self).__init__(url or f"sqlite:///{path}")
        self.path = str(path)
        target = quote(str(Path(path).resolve()))
        last: sqlite3.Error | None = None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            try:
                self._conn = sqlite3.connect(
                    f"file:{target}?{options}", uri=True, isolation_level=None,
                    check_same_thread=False,
                )
                self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                self._check_version()
                return
            except sqlite3.Error as exc:
                last = exc
                self._close_quietly()
        raise StoreError(f"{self.url}: cannot open the read-only database: {last}")

    def _check_version(self) -> None:
        rows = self._conn.execute(
            "SELECT value FROM sopflow_meta WHERE key = 'schema_version'"
        ).fetchall()
        current = self._stored_version(rows[0][0]) if rows else 0
        if current != SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.url}: schema version {current}, this sopflow needs {SCHEMA_VERSION}; "
                "a read-only database cannot be migrated (open it writable once)"
            )

    def _begin_write(self, cur: Any) -> None:
        raise StoreError(
            f"{self.url}: the database is read-only (file or directory not writable); "
            "this command writes"
        )
