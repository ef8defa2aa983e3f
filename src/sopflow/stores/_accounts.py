"""The web layer's side of the SQL store (schema migration 7): passwords, sessions, throttle.

These rows live in the store, not in a web process's memory, so every ``--workers``
process sees the same sessions and the same count of failed logins, and a logout or a
password change in one process ends the session in all of them. Only digests are kept:
the password as an argon2id hash (made by :mod:`sopflow.web`, which owns the hashing
library), the session token as its sha256, so a copy of the database lets nobody log in.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

__all__ = ["AccountStoreMixin", "WebSession"]


@dataclass(frozen=True, slots=True)
class WebSession:
    """A stored login: whose, its CSRF token, and when it ends (ms since the epoch)."""

    nip: str
    csrf: str
    created_at: int
    expires_at: int


class AccountStoreMixin:
    """Account methods of :class:`~sopflow.stores._sql.SqlStore`."""

    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[Any]: ...
        def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def _sql(self, statement: str) -> str: ...

    # -- passwords ---------------------------------------------------------------------
    def set_password_hash(self, nip: str, digest: str, at: int) -> None:
        """Store (or replace) the hash of ``nip``'s password and end their sessions."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO sopflow_passwords (nip, hash, set_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (nip) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at"
                ),
                (nip, digest, at),
            )
            cur.execute(self._sql("DELETE FROM sopflow_web_sessions WHERE nip = ?"), (nip,))

    def password_hash(self, nip: str) -> str | None:
        rows = self._read("SELECT hash FROM sopflow_passwords WHERE nip = ?", (nip,))
        return str(rows[0][0]) if rows else None

    def password_nips(self) -> set[str]:
        """The NIPs that have a password (the demo sets one only where none is)."""
        return {str(r[0]) for r in self._read("SELECT nip FROM sopflow_passwords")}

    # -- sessions ----------------------------------------------------------------------
    def create_session(self, token_digest: str, session: WebSession) -> None:
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO sopflow_web_sessions (token, nip, csrf, created_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?)"
                ),
                (token_digest, session.nip, session.csrf, session.created_at, session.expires_at),
            )

    def web_session(self, token_digest: str) -> WebSession | None:
        rows = self._read(
            "SELECT nip, csrf, created_at, expires_at FROM sopflow_web_sessions WHERE token = ?",
            (token_digest,),
        )
        if not rows:
            return None
        nip, csrf, created, expires = rows[0]
        return WebSession(str(nip), str(csrf), int(created), int(expires))

    def end_session(self, token_digest: str) -> None:
        with self._write() as cur:
            cur.execute(
                self._sql("DELETE FROM sopflow_web_sessions WHERE token = ?"), (token_digest,)
            )

    def end_sessions(self, nip: str, *, expired_before: int | None = None) -> None:
        """End every session of ``nip`` (and, with ``expired_before``, every expired one)."""
        with self._write() as cur:
            cur.execute(self._sql("DELETE FROM sopflow_web_sessions WHERE nip = ?"), (nip,))
            if expired_before is not None:
                cur.execute(
                    self._sql("DELETE FROM sopflow_web_sessions WHERE expires_at < ?"),
                    (expired_before,),
                )

    # -- failed logins -----------------------------------------------------------------
    def record_login_failure(self, keys: Sequence[str], at: int) -> None:
        with self._write() as cur:
            for key in keys:
                cur.execute(
                    self._sql("INSERT INTO sopflow_login_failures (key, at) VALUES (?, ?)"),
                    (key, at),
                )

    def login_failures(self, key: str, since: int) -> int:
        rows = self._read(
            "SELECT COUNT(*) FROM sopflow_login_failures WHERE key = ? AND at >= ?", (key, since)
        )
        return int(rows[0][0])

    def clear_login_failures(self, key: str, *, before: int | None = None) -> None:
        """Forget ``key``'s failures (after a good login), and all older than ``before``."""
        with self._write() as cur:
            cur.execute(self._sql("DELETE FROM sopflow_login_failures WHERE key = ?"), (key,))
            if before is not None:
                cur.execute(self._sql("DELETE FROM sopflow_login_failures WHERE at < ?"), (before,))
