"""Stores: where instances, step timings and the audit trail live.

Choose a backend by URL with :func:`open_store`:

- ``sqlite:///sopflow.db`` (relative path) or ``sqlite:////var/lib/sopflow.db`` (absolute):
  the embedded default; add ``?synchronous=full`` to survive power loss, not just a
  killed process, at the cost of an fsync per action;
- ``postgresql://user@host/db?schema=sopflow``: shared deployments (``sopflow[postgres]``);
- ``memory://``: an in-memory SQLite database, for tests and simulations.

See docs/stores.md for choosing a backend, several processes, backups and restores.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from sopflow.errors import StoreError
from sopflow.stores.base import Store

__all__ = ["DEFAULT_URL", "Store", "open_store"]

DEFAULT_URL = "sqlite:///sopflow.db"


def open_store(url: str = DEFAULT_URL) -> Store:
    """Open (and create or migrate) the store a URL names."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        from sopflow.stores.sqlite import SQLiteStore

        return SQLiteStore(":memory:", url=url)
    if scheme == "sqlite":
        from sopflow.stores.sqlite import SQLiteStore

        path = url[len("sqlite://") :].split("?", 1)[0]
        if path.startswith("/"):
            path = path[1:]  # sqlite:///rel.db -> rel.db ; sqlite:////abs.db -> /abs.db
        if not path:
            raise StoreError(f"{url}: no database path (write sqlite:///file.db)")
        options = dict(parse_qsl(parts.query))
        return SQLiteStore(path, url=url, synchronous=options.get("synchronous", "normal"))
    if scheme in ("postgresql", "postgres"):
        from sopflow.stores.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(f"{url}: unknown store URL (use sqlite:///FILE, postgresql://..., memory://)")
