"""The SQL store shared by the SQLite and PostgreSQL backends.

Both backends run the same statements; a backend supplies a connection, its parameter
style, its DDL type names and how to begin a write transaction. One action = one
transaction: the instance row is updated only if its ``revision`` is the one the engine
read, so concurrent writers serialize on that row and the loser writes nothing. The
reads are ``stores/_sqlread.py``'s; each other table's statements have a module of their
own (jobs, events, chain, directory, accounts, evaluations, the SLA in SQL).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from sopflow.errors import (
    ConflictError,
    SchemaVersionError,
    StoreError,
)
from sopflow.jobs.model import DoneJob, NewJob
from sopflow.stores._accounts import AccountStoreMixin
from sopflow.stores._batch import INSTANCE_REF as _INSTANCE_REF
from sopflow.stores._batch import Statement
from sopflow.stores._chain import ChainStoreMixin, check_definition
from sopflow.stores._directory import DirectoryStoreMixin
from sopflow.stores._evaluations import EvaluationStoreMixin
from sopflow.stores._events import EventStoreMixin
from sopflow.stores._jobs import JobStoreMixin
from sopflow.stores._schema import MIGRATIONS, SCHEMA_VERSION
from sopflow.stores._slasql import SlaSqlMixin
from sopflow.stores._sqlread import SqlReadMixin
from sopflow.stores.base import (
    RUNNING,
    AuditRow,
    Change,
    NewChild,
    NewInstance,
    NewStep,
    Store,
)


def _dump(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)



class SqlStore(
    AccountStoreMixin,
    JobStoreMixin,
    EventStoreMixin,
    ChainStoreMixin,
    DirectoryStoreMixin,
    EvaluationStoreMixin,
    SlaSqlMixin,
    SqlReadMixin,
    Store,
):
    """Shared implementation; subclasses provide the connection and dialect."""

    placeholder = "?"
    ddl_types: ClassVar[dict[str, str]] = {}
    #: which ``(backend, statement)`` migration entries this store runs
    backend: ClassVar[str] = ""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.RLock()
        self._definition_ids: dict[str, int] = {}
        #: units of instances read with their open steps; a unit is written once, in
        #: the instance's start transaction, so what was read stays true
        self._units_read: dict[str, str | None] = {}
        #: the directory revision read with this thread's last action read (see
        #: DirectoryStoreMixin.load_directory); any other read or write forgets it
        self._action_local = threading.local()

    # -- backend hooks -------------------------------------------------------------
    def _cursor(self) -> Any:
        raise NotImplementedError

    def _begin_write(self, cur: Any) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _is_transient(self, exc: BaseException) -> bool:
        return False

    # -- helpers -------------------------------------------------------------------
    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """One write transaction; anything raised inside rolls it back."""
        self._action_local.rev = None
        with self._lock:
            cur = self._cursor()
            try:
                self._begin_write(cur)
                yield cur
                self._commit()
            except BaseException:
                self._rollback()
                raise
            finally:
                cur.close()

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self._action_local.rev = None
        with self._lock:
            cur = self._cursor()
            try:
                cur.execute(self._sql(statement), tuple(params))
                rows = cur.fetchall()
                self._end_read()
                return list(rows)
            finally:
                cur.close()

    def _end_read(self) -> None:
        """Backends that open an implicit transaction on read end it here."""

    def _run_batch(
        self,
        batch: Sequence[Statement],
        instance_id: str | None,
        seals: dict[str, set[int]] | None = None,
    ) -> None:
        """Run one action's statements as one transaction, checking each as it runs,
        then append the chain entries of each instance in ``seals`` (stores/_chain.py).

        SQLite talks to a file in this process, so statements run one by one; the
        PostgreSQL backend overrides this to send the batch in two round trips.
        """
        with self._write() as cur:
            for st in batch:
                sql = self._sql(st.sql)
                if st.many:
                    cur.executemany(sql, st.params)
                else:
                    cur.execute(sql, tuple(st.params))
                if st.expect_one and cur.rowcount != 1:
                    raise ConflictError(st.conflict, instance_id=instance_id)
            if seals:
                self._seal(cur, seals)

    # -- schema --------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._write() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS sopflow_meta"
                " (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            cur.execute(
                self._sql("SELECT value FROM sopflow_meta WHERE key = ?"), ("schema_version",)
            )
            row = cur.fetchone()
            current = self._stored_version(row[0]) if row else 0
            if current > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"{self.url}: database schema version {current} is newer than this sopflow "
                    f"understands ({SCHEMA_VERSION}); upgrade sopflow instead of using an older one"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for entry in MIGRATIONS[version]:
                    backend, statement = entry if isinstance(entry, tuple) else ("", entry)
                    if backend and backend != self.backend:
                        continue
                    if "sopflow_meta" in statement and "CREATE TABLE" in statement:
                        continue
                    cur.execute(statement.format(**self.ddl_types))
            if current != SCHEMA_VERSION:
                if current == 0:
                    cur.execute(
                        self._sql("INSERT INTO sopflow_meta (key, value) VALUES (?, ?)"),
                        ("schema_version", str(SCHEMA_VERSION)),
                    )
                else:
                    cur.execute(
                        self._sql("UPDATE sopflow_meta SET value = ? WHERE key = ?"),
                        (str(SCHEMA_VERSION), "schema_version"),
                    )

    def _stored_version(self, value: object) -> int:
        """The version sopflow_meta records; anything but a whole number >= 1 is refused."""
        text = str(value).strip()
        if not text.isdigit() or int(text) < 1:
            raise SchemaVersionError(
                f"{self.url}: schema version {value!r} in sopflow_meta is not a version "
                "number; the database was changed by hand or by another program"
            )
        return int(text)

    def schema_version(self) -> int:
        rows = self._read("SELECT value FROM sopflow_meta WHERE key = ?", ("schema_version",))
        return int(rows[0][0]) if rows else 0

    # -- definitions ---------------------------------------------------------------
    def ensure_definition(self, version: str, process_id: str, source: str, xml: bytes) -> None:
        if version in self._definition_ids:
            return
        with self._write() as cur:
            cur.execute(
                self._sql("SELECT id FROM sopflow_definitions WHERE version = ?"), (version,)
            )
            row = cur.fetchone()
            if row is None:
                # Another process may be storing the same version right now (PostgreSQL
                # does not serialize the SELECT above): the loser inserts nothing and
                # reads the winner's row, which its INSERT waited for.
                cur.execute(
                    self._sql(
                        "INSERT INTO sopflow_definitions (version, process_id, source, xml)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (version) DO NOTHING RETURNING id"
                    ),
                    (version, process_id, source, xml),
                )
                row = cur.fetchone()
            if row is None:
                cur.execute(
                    self._sql("SELECT id FROM sopflow_definitions WHERE version = ?"), (version,)
                )
                row = cur.fetchone()
        self._definition_ids[version] = int(row[0])

    def definition_xml(self, version: str) -> bytes | None:
        rows = self._read(
            "SELECT xml, process_id FROM sopflow_definitions WHERE version = ?", (version,)
        )
        if not rows:
            return None
        xml = bytes(rows[0][0])
        check_definition(version, str(rows[0][1]), xml)
        return xml

    # -- instances -----------------------------------------------------------------
    def insert_instance(
        self,
        instance: NewInstance,
        steps: Sequence[NewStep],
        audit: Sequence[AuditRow],
        children: Sequence[NewChild] = (),
        *,
        jobs: Sequence[NewJob] = (),
        done_job: DoneJob | None = None,
        also: Sequence[Change] = (),
    ) -> None:
        seals: dict[str, set[int]] = {}
        iid = instance.instance_id
        batch = [] if done_job is None else [self._job_consume(done_job)]
        batch += self._insert(instance, steps, audit, seals)
        # A definition's own job (the start timer's next occurrence) is written
        # whatever becomes of the instance it started.
        running = instance.status == RUNNING
        kept = [j for j in jobs if running or j.version is not None]
        batch += self._job_inserts(iid, kept, instance.started_at)
        for child in children:
            batch += self._insert_child(child, seals)
        for other in also:
            batch += self._apply(other, seals)
        self._run_batch(batch, iid, seals)

    def _insert_child(self, child: NewChild, seals: dict[str, set[int]]) -> list[Statement]:
        batch = self._insert(child.instance, child.steps, child.audit, seals)
        if child.jobs and child.instance.status == RUNNING:
            cid = child.instance.instance_id
            batch += self._job_inserts(cid, child.jobs, child.instance.started_at)
        return batch

    def _insert(
        self,
        instance: NewInstance,
        steps: Sequence[NewStep],
        audit: Sequence[AuditRow],
        seals: dict[str, set[int]],
    ) -> list[Statement]:
        definition = self._definition_ids.get(instance.version)
        if definition is None:
            raise StoreError(f"definition version {instance.version[:12]} was not stored first")
        iid = instance.instance_id
        batch = [
            Statement(
                "INSERT INTO sopflow_instances (uuid, definition, status, state, revision,"
                " started_at, started_by, last_action_at, ended_at, parent, parent_token)"
                f" VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, {_INSTANCE_REF}, ?)",
                (
                    iid,
                    definition,
                    instance.status,
                    instance.state,
                    instance.started_at,
                    instance.started_by,
                    instance.last_action_at,
                    instance.ended_at,
                    instance.parent,
                    instance.parent_token,
                ),
            )
        ]
        # the unit row first: each step row copies its instance's unit (migration 10)
        batch += self._after_write(iid, audit)
        batch += self._insert_steps(iid, steps, running=instance.status == RUNNING)
        batch += self._insert_audit(iid, audit)
        seals.setdefault(iid, set())
        return batch

    @staticmethod
    def _insert_steps(
        instance_id: str, steps: Sequence[NewStep], *, running: bool
    ) -> list[Statement]:
        """One multi-row INSERT per round of distinct tasks.

        A step's pass number is one more than the task's highest so far, read by a
        subquery of the (task, instance, pass_no) index. A statement's subquery does
        not see the rows that statement inserts, so two rows of the same task (items
        of a multi-instance step) go in successive statements: the second sees the
        first and is the next pass, as when each row was its own INSERT.
        """
        rounds: list[list[NewStep]] = []
        seen: dict[str, int] = {}
        for s in steps:
            n = seen.get(s.task, 0)
            seen[s.task] = n + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(s)
        # The instance's process id and unit are copied onto each step row for the SLA
        # summary's covering index (migration 10), read by subqueries of the same
        # statement (no round trip; the unit row is written earlier in the batch), with
        # whether the instance is running.
        row = (
            f"({_INSTANCE_REF}, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " COALESCE(?, COALESCE((SELECT MAX(p.pass_no) FROM sopflow_steps p"
            f" WHERE p.instance = {_INSTANCE_REF} AND p.task = ?), 0) + 1),"
            " (SELECT d.process_id FROM sopflow_instances i JOIN sopflow_definitions d"
            " ON d.id = i.definition WHERE i.uuid = ?),"
            f" (SELECT u.unit FROM sopflow_instance_units u WHERE u.instance = {_INSTANCE_REF}),"
            " ?)"
        )
        return [
            Statement(
                "INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at, due_at,"
                " risk_at, standard, token, item, pass_no, process_id, unit, instance_running)"
                " VALUES " + ", ".join(row for _ in group),
                [
                    value
                    for s in group
                    for value in (
                        instance_id,
                        s.task,
                        s.step_no,
                        s.role,
                        s.ready_at,
                        s.due_at,
                        s.risk_at,
                        s.standard,
                        s.token,
                        s.item,
                        s.pass_no,
                        instance_id,
                        s.task,
                        instance_id,
                        instance_id,
                        1 if running else 0,
                    )
                ],
            )
            for group in rounds
        ]

    @staticmethod
    def _insert_audit(instance_id: str, audit: Sequence[AuditRow]) -> list[Statement]:
        # One multi-row INSERT, not executemany: on PostgreSQL each statement of the
        # pipelined batch costs a parse/bind/execute, and an action writes 2-4 audit rows.
        if not audit:
            return []
        rows = f"({_INSTANCE_REF}, ?, ?, ?)"
        return [
            Statement(
                "INSERT INTO sopflow_audit (instance, at, event, payload) VALUES "
                + ", ".join(rows for _ in audit),
                [v for a in audit for v in (instance_id, a.at, a.event, _dump(a.payload))],
            )
        ]

    def apply(self, change: Change) -> None:
        seals: dict[str, set[int]] = {}
        self._run_batch(self._apply(change, seals), change.instance_id, seals)

    def _apply(self, change: Change, seals: dict[str, set[int]]) -> list[Statement]:
        """The statements of ``change``, its children and its ``also`` changes: one batch.

        ``seals`` collects, per instance, the step rows changed, for the chain entries
        the batch appends before it commits (stores/_chain.py).
        """
        iid = change.instance_id
        batch = [
            Statement(
                "UPDATE sopflow_instances SET status = ?, state = ?, revision = revision + 1,"
                " last_action_at = ?, ended_at = ?, cancel_reason = COALESCE(?, cancel_reason)"
                " WHERE uuid = ? AND revision = ?",
                (
                    change.status,
                    change.state,
                    change.last_action_at,
                    change.ended_at,
                    change.cancel_reason,
                    iid,
                    change.expected_revision,
                ),
                expect_one=True,
                conflict="changed by another writer since it was read; reload and retry",
            )
        ]
        for up in change.step_updates:
            sets, params = [], []
            if up.completed_at is not None:
                sets += ["completed_at = ?", "actor = ?", "data = ?", "path = ?"]
                params += [up.completed_at, up.actor, _dump(up.data), ",".join(up.path) or None]
                sets += ["outcome = ?", "reason = ?"]
                params += [up.outcome, up.reason]
            if up.set_claim:
                sets.append("claimed_by = ?")
                params.append(up.claimed_by)
            guard = " AND completed_at IS NULL" if up.only_if_open else ""
            batch.append(
                Statement(
                    f"UPDATE sopflow_steps SET {', '.join(sets)}"
                    f" WHERE id = ? AND instance = {_INSTANCE_REF}{guard}",
                    (*params, up.step_id, iid),
                    expect_one=True,
                    conflict="step was completed by another writer",
                )
            )
        running = change.status == RUNNING
        batch += self._insert_steps(iid, change.new_steps, running=running)
        if not running:
            # An instance that ends leaves its waiting steps open (the record of where it
            # stopped); they are no longer open work, so the SLA summary's index drops
            # them (migration 10). An ended instance never runs again.
            batch.append(
                Statement(
                    "UPDATE sopflow_steps SET instance_running = 0"
                    f" WHERE instance = {_INSTANCE_REF} AND completed_at IS NULL",
                    (iid,),
                )
            )
        batch += self._insert_audit(iid, change.audit)
        batch += self._after_write(iid, change.audit, change.step_updates)
        seals.setdefault(iid, set()).update(up.step_id for up in change.step_updates)
        if change.new_jobs or change.done_jobs or change.drop_jobs_of or change.status != RUNNING:
            batch += self._job_writes(
                iid,
                running=change.status == RUNNING,
                done=change.done_jobs,
                drop_tokens=change.drop_jobs_of,
                new=change.new_jobs,
                now=change.last_action_at,
            )
        for child in change.children:
            batch += self._insert_child(child, seals)
        for other in change.also:
            batch += self._apply(other, seals)
        return batch
