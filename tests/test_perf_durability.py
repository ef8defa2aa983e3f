"""Durability is a store option, chosen in the URL and applied to every connection.

SQLite: ``?synchronous=full`` fsyncs each commit (survives power loss), ``normal`` (the
default, in WAL mode) survives a killed process. PostgreSQL: ``?synchronous_commit=off``
lets a commit return before the WAL is flushed for this session only; ``on`` is the
default. docs/stores.md explains the trade-off; the benchmark compares backends at
equal durability with these options.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from _stores import drop_schema, postgres_base, with_schema
from sopflow.errors import StoreError
from sopflow.stores import open_store


@pytest.mark.parametrize(
    ("option", "pragma"), [("", 1), ("?synchronous=normal", 1), ("?synchronous=full", 2)]
)
def test_sqlite_synchronous_follows_the_url(tmp_path: Path, option: str, pragma: int) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'd.db'}{option}")
    assert store._conn.execute("PRAGMA synchronous").fetchone() == (pragma,)  # type: ignore[attr-defined]
    store.close()


def test_sqlite_refuses_an_unknown_synchronous_mode(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="synchronous must be one of"):
        open_store(f"sqlite:///{tmp_path / 'd.db'}?synchronous=sometimes")


def _show(url: str) -> str:
    store = open_store(url)
    try:
        rows = store._read("SHOW synchronous_commit")  # type: ignore[attr-defined]
        return str(rows[0][0])
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "on"),
        ("&synchronous_commit=off", "off"),
        ("&synchronous_commit=on", "on"),
        # issue 14: the space of "-c synchronous_commit=off" once reached libpq as '+'
        ("&options=-c%20synchronous_commit%3Doff", "off"),
    ],
)
def test_postgres_synchronous_commit_follows_the_url(query: str, expected: str) -> None:
    url = with_schema(postgres_base(), f"sopflow_test_{secrets.token_hex(6)}")
    try:
        assert _show(url + query) == expected
    finally:
        drop_schema(url)


@pytest.mark.postgres
def test_postgres_refuses_an_unknown_synchronous_commit() -> None:
    url = with_schema(postgres_base(), f"sopflow_test_{secrets.token_hex(6)}")
    with pytest.raises(StoreError, match="synchronous_commit must be on or off"):
        open_store(url + "&synchronous_commit=maybe")
