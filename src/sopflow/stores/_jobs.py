"""The job and incident tables of the SQL stores (mixed into SqlStore).

Workers take due jobs with a row lease: ``locked_by`` and ``locked_until`` set in one short
transaction (on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``, so workers
never wait for each other's candidates; on SQLite ``BEGIN IMMEDIATE`` already makes the
claim one writer at a time). The job is then run, and the change it makes deletes the
job row *only if the same worker still holds it*: when a lease ran out and another worker
took the job over, the slower one's change matches no row, becomes a ConflictError and
writes nothing. A worker that died simply stops renewing nothing: its lease runs out and
the job is due again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sopflow.errors import ConflictError, IncidentNotFoundError, JobNotFoundError, StoreError
from sopflow.jobs.model import DoneJob, IncidentRow, JobRow, NewIncident, NewJob
from sopflow.stores._batch import INSTANCE_REF, Statement

__all__ = ["JobStoreMixin"]

_JOB_SELECT = (
    "SELECT j.id, j.kind, i.uuid, d.process_id, d.version, j.node, j.token, j.topic,"
    " j.due_at, j.payload, j.retries, j.attempts, j.locked_by, j.locked_until, j.error,"
    " j.incident, j.job_key, j.created_at FROM sopflow_jobs j"
    " LEFT JOIN sopflow_instances i ON i.id = j.instance"
    " LEFT JOIN sopflow_definitions d ON d.id = COALESCE(j.definition, i.definition)"
)
_INCIDENT_SELECT = (
    "SELECT n.id, n.job, i.uuid, d.process_id, n.kind, n.node, n.message, n.at,"
    " n.resolved_at, n.resolved_by FROM sopflow_incidents n"
    " LEFT JOIN sopflow_instances i ON i.id = n.instance"
    " LEFT JOIN sopflow_definitions d ON d.id = i.definition"
)


def _job_row(r: Sequence[Any]) -> JobRow:
    return JobRow(
        id=int(r[0]),
        kind=str(r[1]),
        instance_id=None if r[2] is None else str(r[2]),
        process_id=r[3],
        version=r[4],
        node=r[5],
        token=None if r[6] is None else int(r[6]),
        topic=r[7],
        due_at=None if r[8] is None else int(r[8]),
        payload=json.loads(r[9]) if r[9] else {},
        retries=int(r[10]),
        attempts=int(r[11]),
        locked_by=r[12],
        locked_until=None if r[13] is None else int(r[13]),
        error=r[14],
        incident=None if r[15] is None else int(r[15]),
        key=r[16],
        created_at=int(r[17]),
    )


def _incident_row(r: Sequence[Any]) -> IncidentRow:
    return IncidentRow(
        id=int(r[0]),
        job_id=None if r[1] is None else int(r[1]),
        instance_id=None if r[2] is None else str(r[2]),
        process_id=r[3],
        kind=str(r[4]),
        node=r[5],
        message=str(r[6]),
        at=int(r[7]),
        resolved_at=None if r[8] is None else int(r[8]),
        resolved_by=r[9],
    )


class JobStoreMixin:
    """Jobs and incidents; needs SqlStore's ``_write``, ``_read`` and ``_sql``."""

    if TYPE_CHECKING:
        url: str
        placeholder: str
        _definition_ids: dict[str, int]

        def _write(self) -> AbstractContextManager[Any]: ...

        def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...

        def _sql(self, statement: str) -> str: ...

        def _run_batch(
            self,
            batch: Sequence[Statement],
            instance_id: str | None,
            seals: dict[str, set[int]] | None = None,
        ) -> None: ...

    @property
    def _skip_locked(self) -> str:
        # The placeholder style is the backend's mark: psycopg's %s is PostgreSQL, whose
        # row locks let each worker skip the candidates another one is claiming.
        return " FOR UPDATE SKIP LOCKED" if self.placeholder == "%s" else ""

    # -- written with an action (statements of SqlStore's write batches) --------------
    def _definition_ref(self, version: str) -> int:
        """A definition's row id; definitions never change, so it is read outside the batch."""
        known = self._definition_ids.get(version)
        if known is None:
            found = self._read("SELECT id FROM sopflow_definitions WHERE version = ?", (version,))
            if not found:
                raise StoreError(f"definition version {version[:12]} is not stored")
            known = self._definition_ids[version] = int(found[0][0])
        return known

    def _job_inserts(
        self, instance_id: str | None, jobs: Sequence[NewJob], now: int
    ) -> list[Statement]:
        """INSERTs of ``jobs``: a definition's own (start timers) or the instance's.

        The instance is found by its uuid inside the batch (``INSTANCE_REF``), so the
        statements need no earlier result and ride in the action's one batch.
        """
        batch: list[Statement] = []
        for job in jobs:
            owner, params = "NULL", []
            definition = None
            if job.version is not None:
                definition = self._definition_ref(job.version)
            elif instance_id is not None:
                owner, params = INSTANCE_REF, [instance_id]
            batch.append(
                Statement(
                    "INSERT INTO sopflow_jobs (instance, definition, kind, node, token, topic,"
                    " due_at, payload, retries, attempts, job_key, created_at, subscription)"
                    f" VALUES ({owner}, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        *params,
                        definition,
                        job.kind,
                        job.node,
                        job.token,
                        job.topic,
                        job.due_at,
                        json.dumps(job.payload, ensure_ascii=False, separators=(",", ":"))
                        if job.payload
                        else None,
                        job.retries,
                        job.key,
                        now,
                        job.subscription,
                    ),
                )
            )
        return batch

    @staticmethod
    def _job_consume(done: DoneJob) -> Statement:
        """Delete a job the change is made of; a ConflictError when another worker has it."""
        guard, params = "", [done.job_id]
        if done.worker is not None:
            guard = " AND locked_by = ?"
            params.append(done.worker)  # type: ignore[arg-type]
        return Statement(
            f"DELETE FROM sopflow_jobs WHERE id = ?{guard}",
            tuple(params),
            expect_one=True,
            conflict=f"job {done.job_id} was done or taken over by another worker",
        )

    def _job_writes(
        self,
        instance_id: str,
        *,
        running: bool,
        done: Sequence[DoneJob],
        drop_tokens: Sequence[int],
        new: Sequence[NewJob],
        now: int,
    ) -> list[Statement]:
        """The job statements of one instance's change (SqlStore._apply)."""
        batch = [self._job_consume(job) for job in done]
        if not running:
            # A closed instance waits for nothing; its incidents stay on record, resolved.
            batch.append(
                Statement(
                    "UPDATE sopflow_incidents SET resolved_at = ?, resolved_by = 'closed'"
                    f" WHERE instance = {INSTANCE_REF} AND resolved_at IS NULL",
                    (now, instance_id),
                )
            )
            batch.append(
                Statement(
                    f"DELETE FROM sopflow_jobs WHERE instance = {INSTANCE_REF}", (instance_id,)
                )
            )
            return batch
        for token in dict.fromkeys(drop_tokens):
            batch.append(
                Statement(
                    f"DELETE FROM sopflow_jobs WHERE instance = {INSTANCE_REF} AND token = ?",
                    (instance_id, token),
                )
            )
        return batch + self._job_inserts(instance_id, new, now)

    # -- jobs on their own -------------------------------------------------------------
    def add_jobs(self, jobs: Sequence[NewJob], *, now: int) -> None:
        """Write jobs of no instance (start timers, escalations); a key already waiting wins."""
        if jobs:
            self._run_batch(self._job_inserts(None, jobs, now), None)

    def finish_job(
        self, done: DoneJob, *, new_jobs: Sequence[NewJob] = (), now: int, escalation: Any = None
    ) -> None:
        """Consume a job that changes no instance, with what follows it, atomically.

        ``escalation`` (step id, status) is recorded in sopflow_escalations in the same
        transaction, so an announced escalation is never announced again.
        """
        batch = [self._job_consume(done), *self._job_inserts(None, new_jobs, now)]
        if escalation is not None:
            batch.append(
                Statement(
                    "INSERT INTO sopflow_escalations (step, status, at) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (escalation[0], escalation[1], now),
                )
            )
        self._run_batch(batch, None)

    def claim_jobs(
        self,
        worker: str,
        *,
        now: int,
        lease_ms: int,
        limit: int,
        kinds: Iterable[str],
        topic: str | None = None,
    ) -> list[JobRow]:
        """Lease up to ``limit`` due jobs (due order) to ``worker``; external ones by topic.

        A job is due when ``due_at <= now``, it is not an incident, and nobody holds an
        unexpired lease on it.
        """
        wanted = sorted(set(kinds))
        if not wanted or limit <= 0:
            return []
        marks = ", ".join("?" for _ in wanted)
        where = "j.topic IS NULL" if topic is None else "j.topic = ?"
        params: list[Any] = [] if topic is None else [topic]
        if self._skip_locked:
            # PostgreSQL: pick, lease and read back in ONE autocommitted statement (one
            # round trip, no BEGIN/COMMIT): the UPDATE's CTE takes the row locks SKIP
            # LOCKED skips, and the statement is its own transaction.
            rows = self._read(
                "WITH j AS (UPDATE sopflow_jobs SET locked_by = ?, locked_until = ?"
                " WHERE id IN (SELECT j.id FROM sopflow_jobs j WHERE "
                + where
                + " AND j.incident IS NULL AND j.due_at <= ?"
                " AND (j.locked_until IS NULL OR j.locked_until <= ?)"
                f" AND j.kind IN ({marks}) ORDER BY j.due_at, j.id LIMIT ?"
                + self._skip_locked
                + ") RETURNING *) "
                + _JOB_SELECT.replace(" FROM sopflow_jobs j", " FROM j", 1)
                + " ORDER BY j.due_at, j.id",
                (worker, now + lease_ms, *params, now, now, *wanted, limit),
            )
            return [_job_row(r) for r in rows]
        with self._write() as cur:
            cur.execute(
                self._sql(
                    f"SELECT j.id FROM sopflow_jobs j WHERE {where} AND j.incident IS NULL"
                    " AND j.due_at <= ? AND (j.locked_until IS NULL OR j.locked_until <= ?)"
                    f" AND j.kind IN ({marks}) ORDER BY j.due_at, j.id LIMIT ?" + self._skip_locked
                ),
                (*params, now, now, *wanted, limit),
            )
            ids = [int(r[0]) for r in cur.fetchall()]
            if not ids:
                return []
            cur.execute(
                self._sql(
                    "UPDATE sopflow_jobs SET locked_by = ?, locked_until = ? WHERE id IN ("
                    + ", ".join("?" for _ in ids)
                    + ")"
                ),
                (worker, now + lease_ms, *ids),
            )
        rows = self._read(_JOB_SELECT + " WHERE j.id IN (" + ", ".join("?" for _ in ids) + ")", ids)
        by_id = {r.id: r for r in map(_job_row, rows)}
        return [by_id[i] for i in ids if i in by_id]

    def extend_leases(self, worker: str, *, until: int, job_id: int | None = None) -> int:
        """Push the leases ``worker`` holds (or just ``job_id``) to ``until``; how many."""
        extra, params = "", [until, worker]
        if job_id is not None:
            extra = " AND id = ?"
            params.append(job_id)
        with self._write() as cur:
            cur.execute(
                self._sql(f"UPDATE sopflow_jobs SET locked_until = ? WHERE locked_by = ?{extra}"),
                tuple(params),
            )
            return int(cur.rowcount)

    def unlock_job(self, job_id: int, worker: str) -> None:
        """Give a leased job back untouched (a worker shutting down)."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE sopflow_jobs SET locked_by = NULL, locked_until = NULL"
                    " WHERE id = ? AND locked_by = ?"
                ),
                (job_id, worker),
            )

    def fail_job(
        self,
        job_id: int,
        worker: str | None,
        *,
        error: str,
        retries: int,
        due_at: int | None,
        incident: NewIncident | None = None,
    ) -> int | None:
        """Record a failed attempt: retry at ``due_at``, or open ``incident`` (its id)."""
        guard, params = "", [job_id]
        if worker is not None:
            guard = " AND locked_by = ?"
            params.append(worker)  # type: ignore[arg-type]
        with self._write() as cur:
            cur.execute(
                self._sql(f"SELECT instance, kind, node FROM sopflow_jobs WHERE id = ?{guard}"),
                tuple(params),
            )
            found = cur.fetchone()
            if found is None:
                raise ConflictError(f"job {job_id} was done or taken over by another worker")
            incident_id = None
            if incident is not None:
                cur.execute(
                    self._sql(
                        "INSERT INTO sopflow_incidents (job, instance, kind, node, message, at)"
                        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
                    ),
                    (job_id, found[0], found[1], found[2], incident.message, incident.at),
                )
                incident_id = int(cur.fetchone()[0])
            cur.execute(
                self._sql(
                    "UPDATE sopflow_jobs SET retries = ?, attempts = attempts + 1, error = ?,"
                    " due_at = ?, incident = ?, locked_by = NULL, locked_until = NULL"
                    " WHERE id = ?"
                ),
                (retries, error[:2000], due_at, incident_id, job_id),
            )
        return incident_id

    def job(self, job_id: int) -> JobRow:
        rows = self._read(_JOB_SELECT + " WHERE j.id = ?", (job_id,))
        if not rows:
            raise JobNotFoundError(f"no job {job_id} (done, withdrawn or never created)")
        return _job_row(rows[0])

    def jobs(self, *, instance_id: str | None = None, kind: str | None = None) -> list[JobRow]:
        """Waiting jobs (incidents included), in due order."""
        where, params = [], []
        if instance_id is not None:
            where.append("i.uuid = ?")
            params.append(instance_id)
        if kind is not None:
            where.append("j.kind = ?")
            params.append(kind)
        sql = _JOB_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        return [_job_row(r) for r in self._read(sql + " ORDER BY j.due_at, j.id", params)]

    def next_due_at(self, kinds: Iterable[str]) -> int | None:
        """The earliest due time a worker taking ``kinds`` will see (leases ignored)."""
        wanted = sorted(set(kinds))
        if not wanted:
            return None
        rows = self._read(
            "SELECT MIN(due_at) FROM sopflow_jobs WHERE topic IS NULL AND incident IS NULL"
            " AND kind IN (" + ", ".join("?" for _ in wanted) + ")",
            wanted,
        )
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def drop_jobs(self, *, kind: str, version_not: str, process_id: str) -> None:
        """Withdraw a process's jobs of other definition versions (old start timers)."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "DELETE FROM sopflow_jobs WHERE kind = ? AND definition IN (SELECT id FROM"
                    " sopflow_definitions WHERE process_id = ? AND version <> ?)"
                ),
                (kind, process_id, version_not),
            )

    def escalation_recorded(self, step: int, status: str) -> bool:
        rows = self._read(
            "SELECT 1 FROM sopflow_escalations WHERE step = ? AND status = ?", (step, status)
        )
        return bool(rows)

    def scan_step(self, step: int) -> tuple[Any, ...] | None:
        """One open step in the shape of a ``scan_open`` row (None once it is closed)."""
        rows = self._read(
            "SELECT s.id, i.uuid, d.process_id, s.task, s.step_no, s.role, s.ready_at,"
            " s.due_at, s.risk_at, s.standard, s.claimed_by, d.version, NULL"
            " FROM sopflow_steps s JOIN sopflow_instances i ON i.id = s.instance"
            " JOIN sopflow_definitions d ON d.id = i.definition"
            " WHERE s.id = ? AND s.completed_at IS NULL AND i.status = 'running'",
            (step,),
        )
        return tuple(rows[0]) if rows else None

    # -- incidents ---------------------------------------------------------------------
    def incidents(
        self, *, instance_id: str | None = None, open_only: bool = True
    ) -> list[IncidentRow]:
        where, params = [], []
        if instance_id is not None:
            where.append("i.uuid = ?")
            params.append(instance_id)
        if open_only:
            where.append("n.resolved_at IS NULL")
        sql = _INCIDENT_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        return [_incident_row(r) for r in self._read(sql + " ORDER BY n.at, n.id", params)]

    def resolve_incident(self, incident_id: int, *, by: str, at: int, retries: int) -> IncidentRow:
        """Close an open incident and make its job due now with ``retries`` attempts."""
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE sopflow_incidents SET resolved_at = ?, resolved_by = ?"
                    " WHERE id = ? AND resolved_at IS NULL RETURNING job"
                ),
                (at, by, incident_id),
            )
            found = cur.fetchone()
            if found is None:
                raise IncidentNotFoundError(f"no open incident {incident_id}")
            cur.execute(
                self._sql(
                    "UPDATE sopflow_jobs SET incident = NULL, retries = ?, due_at = ?,"
                    " locked_by = NULL, locked_until = NULL WHERE id = ?"
                ),
                (retries, at, found[0]),
            )
        rows = self._read(_INCIDENT_SELECT + " WHERE n.id = ?", (incident_id,))
        return _incident_row(rows[0])
