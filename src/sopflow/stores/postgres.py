"""PostgreSQL backend for shared deployments (psycopg 3, the ``sopflow[postgres]`` extra).

Several application processes or hosts can use one database: each action is one
transaction whose ``UPDATE ... WHERE revision = ?`` makes concurrent writers on the same
instance wait for each other, after which the loser matches no row and gets a
ConflictError. ``?schema=NAME`` in the URL keeps sopflow's tables in their own schema.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sopflow.errors import StoreError
from sopflow.stores._sql import SqlStore

__all__ = ["PostgresStore"]

#: pg_advisory_lock key held while a process creates or migrates sopflow's tables
_MIGRATION_LOCK = 0x736F70666C6F77  # "sopflow"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresStore(SqlStore):
    placeholder = "%s"
    ddl_types: ClassVar[dict[str, str]] = {
        "pk": "BIGSERIAL PRIMARY KEY",
        "blob": "BYTEA",
        "bigint": "BIGINT",
    }

    def __init__(self, url: str) -> None:
        # self.url names the database in every error message: never with its password.
        super().__init__(_redact(url))
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"{url}: PostgreSQL needs psycopg 3: pip install 'sopflow[postgres]'"
            ) from None
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", None)
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise StoreError(f"{self.url}: schema name {schema!r} is not a plain identifier")
        dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), ""))
        try:
            self._conn = psycopg.connect(dsn, autocommit=False)
        except psycopg.Error as exc:
            raise StoreError(f"{self.url}: cannot open database: {exc}".strip()) from None
        try:
            # Processes deployed together open a new database at the same moment; CREATE
            # SCHEMA/TABLE IF NOT EXISTS still collide in the catalog, so one process at
            # a time creates or migrates and the others then find it done.
            with self._conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            self._conn.commit()
            try:
                if schema:
                    with self._conn.cursor() as cur:
                        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                        cur.execute(f'SET search_path TO "{schema}"')
                    self._conn.commit()
                self._migrate()
            finally:
                self._conn.rollback()
                with self._conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
                self._conn.commit()
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"{self.url}: cannot open database: {exc}".strip()) from None
        except BaseException:
            self._conn.close()
            raise
        self.schema = schema

    def _cursor(self) -> Any:
        return self._conn.cursor()

    def _begin_write(self, cur: Any) -> None:
        """psycopg opens the transaction implicitly on the first statement."""

    def _commit(self) -> None:
        self._conn.commit()

    def _rollback(self) -> None:
        self._conn.rollback()

    def _end_read(self) -> None:
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return url
