"""PostgreSQL backend for shared deployments (psycopg 3, the ``sopflow[postgres]`` extra).

Several application processes or hosts can use one database: each action is one
transaction whose ``UPDATE ... WHERE revision = ?`` makes concurrent writers on the same
instance wait for each other, after which the loser matches no row and gets a
ConflictError. ``?schema=NAME`` in the URL keeps sopflow's tables in their own schema.

Round trips, not statements, are what an action waits for on a network: the connection
is in autocommit mode, so a read is one statement with no BEGIN/COMMIT around it, and an
action's writes go out in pipeline mode as one batch (BEGIN and every statement), then
COMMIT once the batch's row counts have been checked: two round trips per write, three
per action with its read (docs/performance.md).

Durability: ``?synchronous_commit=off`` makes this session's commits return before the
server has flushed them to disk (a server crash can lose the last fraction of a second
of actions, never half of one); ``on``, the server's default, waits for the flush
(docs/stores.md). Without the parameter the server's setting (or ``options``) holds.
Other query parameters (``options``, ``sslmode``, ...) reach libpq exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from sopflow.errors import ConflictError, StoreError
from sopflow.stores._batch import Statement
from sopflow.stores._sql import SqlStore

__all__ = ["PostgresStore"]

#: pg_advisory_lock key held while a process creates or migrates sopflow's tables
_MIGRATION_LOCK = 0x736F70666C6F77  # "sopflow"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: the URL's own parameters, taken out before the rest goes to libpq
_OWN = ("schema", "synchronous_commit")
_SYNC_COMMIT = {"on": "on", "off": "off", "true": "on", "false": "off"}
#: No parallel workers in this session, unless this connection, user or database
#: chose a value (``options=-c max_parallel_workers_per_gather=N``, ALTER ROLE/DATABASE
#: ... SET). A role's work list among 1,000,000 open steps reads about 20 index
#: entries, but PostgreSQL estimates it at 0.5 % of the open steps: it does not use the
#: statistics of a partial index's expression (sopflow_steps_open_role), so the
#: estimate grows with the table. Past about 1,000,000 open steps it planned two
#: parallel workers, whose start cost 7-50 ms for a 1 ms read (docs/performance.md).
#: Every other statement of the store is an index read of a few rows, or the SLA
#: summary and full scan, which measured no gain from workers.
_SERIAL_PLANS = (
    "SELECT set_config(name, '0', false) FROM pg_settings"
    " WHERE name = 'max_parallel_workers_per_gather'"
    " AND source IN ('default', 'configuration file', 'environment variable')"
)


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """(libpq URI, sopflow's own parameters) of a PostgreSQL store URL.

    The query is split by hand, not parsed and re-encoded: ``options=-c%20x%3Dy`` must
    reach libpq with its ``%20`` intact (``urlencode`` would write a ``+``, which libpq
    does not read as a space).
    """
    parts = urlsplit(url)
    own: dict[str, str] = {}
    kept: list[str] = []
    for pair in parts.query.split("&") if parts.query else []:
        key, _, value = pair.partition("=")
        name = unquote_plus(key)
        if name in _OWN:
            own[name] = unquote_plus(value)
        else:
            kept.append(pair)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "&".join(kept), "")), own


class PostgresStore(SqlStore):
    placeholder = "%s"
    backend: ClassVar[str] = "postgres"
    ddl_types: ClassVar[dict[str, str]] = {
        "pk": "BIGSERIAL PRIMARY KEY",
        "blob": "BYTEA",
        "bigint": "BIGINT",
    }

    #: A seal reads the step rows its write touched with their holdings. Joined plainly,
    #: the plan rests on statistics: where they are missing or stale (autovacuum off,
    #: a bulk load not yet analysed) PostgreSQL estimated a third of the instance's
    #: steps for ``s.id > (last chained)`` and hashed the whole holdings table for each
    #: write (5 ms at 64,000 holdings). ``LIMIT 1`` keeps the lateral subquery from
    #: being flattened into that join: one primary-key probe per step row, always.
    _seal_holding_join = (
        "LEFT JOIN LATERAL (SELECT * FROM sopflow_step_holdings h0"
        " WHERE h0.step = s.id LIMIT 1) h ON true"
    )

    def __init__(self, url: str) -> None:
        # self.url names the database in every error message: never with its password.
        super().__init__(_redact(url))
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"{url}: PostgreSQL needs psycopg 3: pip install 'sopflow[postgres]'"
            ) from None
        dsn, own = split_url(url)
        schema = own.get("schema")
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise StoreError(f"{self.url}: schema name {schema!r} is not a plain identifier")
        sync = own.get("synchronous_commit")
        if sync is not None and sync.lower() not in _SYNC_COMMIT:
            raise StoreError(f"{self.url}: synchronous_commit must be on or off, not {sync!r}")
        #: the session's setting when the URL names one; else the server's (or options')
        self.synchronous_commit = None if sync is None else _SYNC_COMMIT[sync.lower()]
        try:
            self._conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"{self.url}: cannot open database: {exc}".strip()) from None
        try:
            if self.synchronous_commit is not None:
                self._conn.execute(f"SET synchronous_commit TO {self.synchronous_commit}")
            self._conn.execute(_SERIAL_PLANS)
            # Processes deployed together open a new database at the same moment; CREATE
            # SCHEMA/TABLE IF NOT EXISTS still collide in the catalog, so one process at
            # a time creates or migrates and the others then find it done.
            self._conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                if schema:
                    self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                    self._conn.execute(f'SET search_path TO "{schema}"')
                self._migrate()
            finally:
                self._rollback()
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"{self.url}: cannot open database: {exc}".strip()) from None
        except BaseException:
            self._conn.close()
            raise
        self.schema = schema

    def _cursor(self) -> Any:
        return self._conn.cursor()

    def _sql(self, statement: str) -> str:
        """``%s`` placeholders, and without SQLite's planner hint.

        ``(i.status || '') = 'running'`` keeps SQLite from driving open-step queries
        from the instances' status index; PostgreSQL cannot estimate the expression
        (it guesses 0.5 % of rows) and then hashes every instance, so 1,000 changes
        among 1,000,000 open steps would read all of them. Here the plain column.
        """
        return super()._sql(statement).replace("(i.status || '')", "i.status")

    def _begin_write(self, cur: Any) -> None:
        cur.execute("BEGIN")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        from psycopg.pq import TransactionStatus

        if self._conn.info.transaction_status != TransactionStatus.IDLE:
            self._conn.execute("ROLLBACK")

    def _run_batch(
        self,
        batch: Sequence[Statement],
        instance_id: str | None,
        seals: dict[str, set[int]] | None = None,
    ) -> None:
        """One transaction in two round trips: BEGIN + the batch + the chain's reads,
        then the chain entries + COMMIT.

        Statements are queued in pipeline mode and sent together; the row counts the
        batch depends on (the revision guard, an open step's guard) are read after one
        sync, and a mismatch rolls everything back, exactly as the SQLite path does
        statement by statement. The hash chain's reads (the instance's head hash and
        the rows written since its last entry) ride in the first round trip, since they
        need no earlier result; the entries computed from them go out with COMMIT.
        Without checks or chain, COMMIT goes in the same round trip.
        """
        with self._lock:
            conn = self._conn
            cursors: list[tuple[Statement, Any]] = []

            def send(st: Statement) -> Any:
                cur = self._cursor()
                cursors.append((st, cur))
                if st.many:
                    cur.executemany(self._sql(st.sql), st.params)
                else:
                    cur.execute(self._sql(st.sql), tuple(st.params))
                return cur

            try:
                with conn.pipeline() as pipeline:
                    send(Statement("BEGIN"))
                    for st in batch:
                        send(st)
                    sealing = [
                        (iid, [send(q) for q in self._seal_queries(iid, touched)])
                        for iid, touched in (seals or {}).items()
                    ]
                    if sealing or any(st.expect_one for st in batch):
                        pipeline.sync()
                        for st, cur in cursors:
                            if st.expect_one and cur.rowcount != 1:
                                raise ConflictError(st.conflict, instance_id=instance_id)
                    for iid, found in sealing:
                        for st in self._chain_rows(iid, *(cur.fetchall() for cur in found)):
                            send(st)
                    send(Statement("COMMIT"))
            except BaseException:
                self._rollback()
                raise
            finally:
                for _, cur in cursors:
                    cur.close()

    def close(self) -> None:
        self._conn.close()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return url
