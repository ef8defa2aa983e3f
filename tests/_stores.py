"""Store URLs for tests that must hold on every SQL backend, and raw access to their tables.

The ``store_url`` fixture (import ``store_url_fixture`` to use it) is parametrized over
a SQLite file in ``tmp_path`` and a PostgreSQL schema of its own (``sopflow_test_<random>``,
dropped afterwards). PostgreSQL runs only when ``SOPFLOW_TEST_POSTGRES_URL`` names a
server; otherwise those cases are skipped with the reason visible in the pytest summary
(``-ra``). Test sessions ask the server not to wait for its WAL flush on commit
(``synchronous_commit=off``, a per-session setting): the tests are about what one
transaction contains and who wins a race, not about the server surviving power loss.

Raw access (:func:`raw_execute`) goes around the store on purpose: the tests corrupt
rows, change the schema version and read the catalog tables as an operator would.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

ENV = "SOPFLOW_TEST_POSTGRES_URL"
SKIP_REASON = f"{ENV} not set: PostgreSQL tests skipped"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_base() -> str:
    base = os.environ.get(ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    return base


def with_schema(base: str, schema: str) -> str:
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"]
    query.append(("schema", schema))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def split_schema(url: str) -> tuple[str, str | None]:
    """(libpq DSN without ``schema``, schema) of a sopflow PostgreSQL URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", None)
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), ""))
    return dsn, schema


def drop_schema(url: str) -> None:
    import psycopg

    dsn, schema = split_schema(url)
    assert schema and schema.startswith("sopflow_test_")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def sqlite_path(url: str) -> str:
    path = url[len("sqlite://") :].split("?", 1)[0]
    return path[1:] if path.startswith("/") else path


def new_url(backend: str, tmp_path: Path, name: str = "sopflow") -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.db')}"
    url = with_schema(postgres_base(), f"sopflow_test_{secrets.token_hex(6)}")
    return url + "&options=-csynchronous_commit%3Doff"


@pytest.fixture(name="store_url", params=BACKENDS)
def store_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = new_url(str(request.param), tmp_path)
    yield url
    if url.startswith("postgresql"):
        drop_schema(url)


def raw_execute(url: str, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement in its own committed transaction, outside any sopflow store."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            cur = conn.execute(statement, tuple(params))
            rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
            conn.commit()
            return rows
        finally:
            conn.close()
    import psycopg

    dsn, schema = split_schema(url)
    with psycopg.connect(dsn) as conn:
        if schema:
            conn.execute(f'SET search_path TO "{schema}"')
        cur = conn.execute(statement.replace("?", "%s"), tuple(params))
        rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
        conn.commit()
        return rows
