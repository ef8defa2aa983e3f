"""Stores: where instances, step timings and the audit trail live.

Choose a backend by URL with :func:`open_store`:

- ``sqlite:///sopflow.db`` (relative path) or ``sqlite:////var/lib/sopflow.db`` (absolute):
  the embedded default; add ``?synchronous=full`` to survive power loss, not just a
  killed process, at the cost of an fsync per action;
- ``postgresql://user@host/db?schema=sopflow``: shared deployments (``sopflow[postgres]``);
- ``memory://``: an in-memory SQLite database, for tests and simulations.

An existing SQLite file that sopflow may not write (the file or its directory is
read-only) is opened read-only: reading commands work, writing ones get one StoreError.

See docs/stores.md for choosing a backend, several processes, backups and restores.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from sopflow.errors import StoreError
from sopflow.stores.base import Store

__all__ = ["DEFAULT_URL", "Store", "open_store", "redact_url"]

DEFAULT_URL = "sqlite:///sopflow.db"

_USERINFO = re.compile(r"(?P<head>^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*):[^/?#@]*@")
_SECRET_QUERY = re.compile(r"(?i)(?P<key>[?&](?:password|passwd|pwd|sslpassword)=)[^&#]*")


def _read_only(path: str) -> bool:
    """An existing database file sopflow cannot write (the file or its directory)."""
    file = Path(path)
    if not file.is_file():
        return False
    return not os.access(file, os.W_OK) or not os.access(file.parent or Path("."), os.W_OK)


def redact_url(url: str) -> str:
    """``url`` fit for an error message or a log: the password (userinfo or query) masked.

    Works on URLs ``urlsplit`` cannot parse too (``postgresql://u:pw@[::1:5432``),
    since those are exactly the ones that end up in an error.
    """
    url = _USERINFO.sub(lambda m: f"{m.group('head')}:***@", url)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('key')}***", url)


def open_store(url: str = DEFAULT_URL) -> Store:
    """Open (and create or migrate) the store a URL names."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise StoreError(f"{shown}: not a store URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme == "memory":
        from sopflow.stores.sqlite import SQLiteStore

        return SQLiteStore(":memory:", url=url)
    if scheme == "sqlite":
        from sopflow.stores.sqlite import SQLiteStore

        if parts.netloc:
            # sqlite://name:PW@host/x once created a file named after the password
            raise StoreError(
                f"{shown}: an SQLite URL has no host (write sqlite:///file.db for a "
                "relative path or sqlite:////abs/file.db for an absolute one)"
            )
        path = url[len("sqlite://") :].split("?", 1)[0]
        if path.startswith("/"):
            path = path[1:]  # sqlite:///rel.db -> rel.db ; sqlite:////abs.db -> /abs.db
        if not path:
            raise StoreError(f"{shown}: no database path (write sqlite:///file.db)")
        options = dict(parse_qsl(parts.query))
        if _read_only(path):
            from sopflow.stores._readonly import ReadOnlySQLiteStore

            return ReadOnlySQLiteStore(path, url=url)
        return SQLiteStore(path, url=url, synchronous=options.get("synchronous", "normal"))
    if scheme in ("postgresql", "postgres"):
        from sopflow.stores.postgres import PostgresStore

        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise StoreError(f"{shown}: not a store URL ({exc})") from None
        try:
            return PostgresStore(url)
        except StoreError as exc:  # its messages name the URL: never with the password
            message = redact_url(str(exc).replace(url, shown))
            if message != str(exc):
                exc.args = (message,)  # keep the type (SchemaVersionError stays one)
            raise
    raise StoreError(
        f"{shown}: unknown store URL (use sqlite:///FILE, postgresql://..., memory://)"
    )
