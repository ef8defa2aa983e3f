"""SQLite backend: the embedded default (stdlib sqlite3, WAL mode).

WAL lets readers (the work list, the SLA monitor) run while one writer commits, and
``BEGIN IMMEDIATE`` takes the write lock up front so two processes never both read a
revision and then both try to write. ``synchronous=NORMAL`` in WAL mode survives a
killed process (every committed transaction is in the WAL); ``?synchronous=full`` in the
URL also survives power loss at the cost of an fsync per action.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, ClassVar

from sopflow.errors import StoreError
from sopflow.stores._sql import SqlStore

__all__ = ["SQLiteStore"]

_SYNC = {"normal": "NORMAL", "full": "FULL", "off": "OFF"}


class SQLiteStore(SqlStore):
    backend: ClassVar[str] = "sqlite"
    ddl_types: ClassVar[dict[str, str]] = {
        "pk": "INTEGER PRIMARY KEY",
        "blob": "BLOB",
        "bigint": "INTEGER",
    }

    def __init__(
        self,
        path: str | Path,
        *,
        url: str | None = None,
        synchronous: str = "normal",
        busy_timeout_ms: int = 30_000,
    ) -> None:
        super().__init__(url or f"sqlite:///{path}")
        self.path = str(path)
        if synchronous.lower() not in _SYNC:
            raise StoreError(f"{self.url}: synchronous must be one of {', '.join(_SYNC)}")
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=busy_timeout_ms / 1000,
            )
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if self.path != ":memory:":
                self._set_wal(busy_timeout_ms)
            self._conn.execute(f"PRAGMA synchronous = {_SYNC[synchronous.lower()]}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise StoreError(f"{self.url}: cannot open database: {exc}") from None
        except BaseException:  # e.g. SchemaVersionError: do not keep the file open
            self._close_quietly()
            raise

    def _set_wal(self, busy_timeout_ms: int) -> None:
        """Switch to WAL, waiting for other openers as a write would.

        Changing the journal mode of a new file while another process does the same
        can fail with "database is locked" at once, without SQLite's busy handler.
        """
        deadline = time.monotonic() + busy_timeout_ms / 1000
        delay = 0.005
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _close_quietly(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def _cursor(self) -> Any:
        return self._conn.cursor()

    def _begin_write(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()
