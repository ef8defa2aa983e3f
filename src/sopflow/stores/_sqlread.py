"""The SQL store's reads: instances, their steps, escalations and audit, one query each.

Every read here is one statement with no transaction around it (the PostgreSQL
connection is in autocommit mode): an action reads the instance and its open steps
together (``load_with_open_steps``), and everything else is a query that an index
answers. Split from the writes (``stores/_sql.py``), which share nothing with them but
the row shapes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sopflow.errors import CorruptInstanceError, InstanceNotFoundError
from sopflow.stores.base import CANCELLED, TERMINATED, AuditRow, InstanceRow, StepRow

_STEP_COLUMNS = (
    "s.id, i.uuid, d.process_id, d.version, s.task, s.step_no, s.role, s.ready_at, s.due_at,"
    " s.risk_at, s.standard, s.completed_at, s.actor, s.claimed_by, s.data, s.path,"
    " s.token, s.pass_no, s.item, s.outcome, s.reason"
)
_STEP_FROM = (
    " FROM sopflow_steps s JOIN sopflow_instances i ON i.id = s.instance"
    " JOIN sopflow_definitions d ON d.id = i.definition"
)
_INSTANCE_SELECT = (
    "SELECT i.uuid, d.process_id, d.version, i.status, i.state, i.revision, i.started_at,"
    " i.started_by, i.last_action_at, i.ended_at, i.cancel_reason, p.uuid, i.parent_token"
    " FROM sopflow_instances i JOIN sopflow_definitions d ON d.id = i.definition"
    " LEFT JOIN sopflow_instances p ON p.id = i.parent"
)

#: An action's one read: the instance, its unit, the directory's revision and its open
#: steps (benchmarks/pgfloor.py sends this same statement).
INSTANCE_WITH_OPEN_STEPS = (
    "SELECT i.uuid, d.process_id, d.version, i.status, i.state, i.revision,"
    " i.started_at, i.started_by, i.last_action_at, i.ended_at, i.cancel_reason,"
    f" p.uuid, i.parent_token, {_STEP_COLUMNS}, u.unit,"
    " (SELECT MAX(r.rev) FROM sopflow_directory_rev r) FROM sopflow_instances i"
    " JOIN sopflow_definitions d ON d.id = i.definition"
    " LEFT JOIN sopflow_instances p ON p.id = i.parent"
    " LEFT JOIN sopflow_instance_units u ON u.instance = i.id"
    " LEFT JOIN sopflow_steps s ON s.instance = i.id AND s.completed_at IS NULL"
    " WHERE i.uuid = ? ORDER BY s.ready_at, s.id"
)


def _where(base: list[str], **filters: Any) -> tuple[str, list[Any]]:
    """AND together ``base`` and one equality per filter given (None = no filter).

    A filter's name is its column with the dot written as a double underscore:
    ``d__process_id="x"`` becomes ``d.process_id = ?``.
    """
    where, params = list(base), []
    for column, value in filters.items():
        if value is not None:
            where.append(f"{column.replace('__', '.')} = ?")
            params.append(value)
    return " AND ".join(where), params


class SqlReadMixin:
    """The reads of :class:`~sopflow.stores._sql.SqlStore`, mixed into it."""

    if TYPE_CHECKING:  # provided by SqlStore, which this class is mixed into

        def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def _write(self) -> AbstractContextManager[Any]: ...
        def _sql(self, statement: str) -> str: ...

        _units_read: dict[str, str | None]
        _action_local: threading.local

    def load_instance(self, instance_id: str) -> InstanceRow:
        rows = self._read(_INSTANCE_SELECT + " WHERE i.uuid = ?", (instance_id,))
        if not rows:
            raise InstanceNotFoundError("no such instance", instance_id=instance_id)
        return self._instance_row(rows[0])

    def load_with_open_steps(self, instance_id: str) -> tuple[InstanceRow, list[StepRow]]:
        """The instance and its open steps in ONE statement (one round trip, no BEGIN).

        The LEFT JOIN repeats the instance's columns on each open step's row; an
        instance waits on a handful of steps at most, so that costs less than a second
        query and keeps the read consistent without a transaction around two reads.
        """
        rows = self._read(INSTANCE_WITH_OPEN_STEPS, (instance_id,))
        if not rows:
            raise InstanceNotFoundError("no such instance", instance_id=instance_id)
        row = self._instance_row(rows[0])
        # The authority checks that follow ask for the unit: answer from this read.
        if len(self._units_read) >= 4096:
            self._units_read.clear()
        self._units_read[instance_id] = rows[0][-2]
        # ... and for the directory's revision (a staff directory's cache key): the
        # credentials and the unit rules each consult the directory; both use this.
        rev = rows[0][-1]
        self._action_local.rev = (0 if rev is None else int(rev), time.monotonic())
        if row.status != "running":  # as open_steps: only running instances wait on steps
            return row, []
        return row, [self._step_row(r[13:-2]) for r in rows if r[13] is not None]

    @staticmethod
    def _instance_row(r: Sequence[Any]) -> InstanceRow:
        return InstanceRow(
            instance_id=str(r[0]),
            process_id=str(r[1]),
            version=str(r[2]),
            status=str(r[3]),
            state=str(r[4]),
            revision=int(r[5]),
            started_at=int(r[6]),
            started_by=str(r[7]),
            last_action_at=int(r[8]),
            ended_at=None if r[9] is None else int(r[9]),
            cancel_reason=r[10],
            parent=None if r[11] is None else str(r[11]),
            parent_token=None if r[12] is None else int(r[12]),
        )

    def instances(
        self, *, process_id: str | None = None, status: str | None = None
    ) -> list[InstanceRow]:
        where, params = _where([], d__process_id=process_id, i__status=status)
        sql = _INSTANCE_SELECT + (f" WHERE {where}" if where else "") + " ORDER BY i.id"
        return [self._instance_row(r) for r in self._read(sql, params)]

    # -- step queries --------------------------------------------------------------
    def _step_rows(self, where: str, params: Sequence[Any], order: str = "s.id") -> list[StepRow]:
        rows = self._read(
            f"SELECT {_STEP_COLUMNS}{_STEP_FROM} WHERE {where} ORDER BY {order}", params
        )
        return [self._step_row(r) for r in rows]

    @staticmethod
    def _step_row(r: Sequence[Any]) -> StepRow:
        data = r[14]
        try:
            parsed = None if data is None else json.loads(data)
        except ValueError as exc:
            raise CorruptInstanceError(str(r[1]), f"step {r[4]} data: {exc}") from None
        return StepRow(
            id=int(r[0]),
            instance_id=str(r[1]),
            process_id=str(r[2]),
            version=str(r[3]),
            task=str(r[4]),
            step_no=r[5],
            role=r[6],
            ready_at=int(r[7]),
            due_at=r[8],
            risk_at=r[9],
            standard=r[10],
            completed_at=r[11],
            actor=r[12],
            claimed_by=r[13],
            data=parsed,
            path=tuple(r[15].split(",")) if r[15] else (),
            token=None if r[16] is None else int(r[16]),
            pass_no=r[17],
            item=r[18],
            outcome=r[19],
            reason=r[20],
        )

    def steps(self, instance_id: str) -> list[StepRow]:
        return self._step_rows("i.uuid = ?", (instance_id,))

    def open_steps(
        self,
        *,
        roles: Iterable[str] | None = None,
        process_id: str | None = None,
        instance_id: str | None = None,
    ) -> list[StepRow]:
        # (i.status || ''): as in scan_open, so SQLite walks the open-steps partial index
        # instead of every running instance's whole step history.
        base = ["s.completed_at IS NULL", "(i.status || '') = 'running'"]
        wanted: list[str] = []
        if roles is not None:
            wanted = sorted(set(roles))
            if not wanted:
                return []
            # the expression of the index sopflow_steps_open_role (migration 5)
            base.append(
                "(CASE WHEN s.completed_at IS NULL THEN s.role END) IN ("
                + ", ".join("?" for _ in wanted)
                + ")"
            )
        where, params = _where(base, d__process_id=process_id, i__uuid=instance_id)
        return self._step_rows(where, [*wanted, *params], order="s.ready_at, s.id")

    def completed_steps(
        self, *, process_id: str | None = None, instance_id: str | None = None
    ) -> list[StepRow]:
        # A step a sibling branch or a terminate end closed is not "completed" work.
        where, params = _where(
            ["s.completed_at IS NOT NULL", "(s.outcome IS NULL OR s.outcome = 'completed')"],
            d__process_id=process_id,
            i__uuid=instance_id,
        )
        return self._step_rows(where, params)

    def closed_steps(
        self,
        *,
        process_id: str | None = None,
        instance_id: str | None = None,
        outcomes: Iterable[str] = (CANCELLED, TERMINATED),
    ) -> list[StepRow]:
        wanted = sorted(set(outcomes))
        if not wanted:
            return []
        where, params = _where(
            [
                "s.completed_at IS NOT NULL",
                "s.outcome IN (" + ", ".join("?" for _ in wanted) + ")",
            ],
            d__process_id=process_id,
            i__uuid=instance_id,
        )
        # instance by instance, each in ready order: what reading steps() of each gave
        return self._step_rows(where, [*wanted, *params], order="s.instance, s.id")

    def scan_open(
        self,
        *,
        process_id: str | None = None,
        role: str | None = None,
        notified: bool = True,
    ) -> list[tuple[Any, ...]]:
        """The SLA scan: every open step with its deadlines, in one query, no state decoded.

        Columns: step id, instance uuid, process id, task, step no, role, ready_at, due_at,
        risk_at, standard, claimed_by, version, and the escalation already notified
        (None, 1 = at_risk, 2 = breached; read from the escalations table in this query,
        or always None with ``notified=False``, for a scan that escalates nothing).
        Rows come in due_at order (where NULLs sort is up to the backend).

        ``(i.status || '')`` keeps SQLite from driving the query from the instances'
        status index: walking the partial index of open steps instead returns rows
        already in due_at order, with no sort, and was about twice as fast at 100,000.
        """
        where, params = _where(
            ["s.completed_at IS NULL", "(i.status || '') = 'running'"],
            d__process_id=process_id,
            s__role=role,
        )
        return self._read(
            "SELECT s.id, i.uuid, d.process_id, s.task, s.step_no, s.role, s.ready_at,"
            " s.due_at, s.risk_at, s.standard, s.claimed_by, d.version,"
            + (
                " (SELECT MAX(CASE e.status WHEN 'breached' THEN 2 ELSE 1 END)"
                " FROM sopflow_escalations e WHERE e.step = s.id)"
                if notified
                else " NULL"
            )
            + f"{_STEP_FROM} WHERE {where} ORDER BY s.due_at",
            params,
        )

    def claim_escalations(
        self, entries: Sequence[tuple[int, str]], at: int
    ) -> list[tuple[int, str]]:
        """Record (step id, status) pairs as notified; return those this call recorded.

        ``ON CONFLICT DO NOTHING`` in one transaction makes the claim atomic: when two
        monitors race, each pair is returned to exactly one of them.
        """
        if not entries:
            return []
        won: list[tuple[int, str]] = []
        with self._write() as cur:
            for step, status in entries:
                cur.execute(
                    self._sql(
                        "INSERT INTO sopflow_escalations (step, status, at) VALUES (?, ?, ?)"
                        " ON CONFLICT DO NOTHING"
                    ),
                    (step, status, at),
                )
                if cur.rowcount == 1:
                    won.append((step, status))
        return won

    def forget_escalation(self, step: int, status: str) -> None:
        """Undo a claim (the hook failed), so a later scan notifies it again."""
        with self._write() as cur:
            cur.execute(
                self._sql("DELETE FROM sopflow_escalations WHERE step = ? AND status = ?"),
                (step, status),
            )

    def escalations(self, instance_id: str) -> list[tuple[int, str, int]]:
        """(step id, status, at) of an instance's notified escalations, oldest first."""
        rows = self._read(
            "SELECT e.step, e.status, e.at FROM sopflow_escalations e"
            " JOIN sopflow_steps s ON s.id = e.step JOIN sopflow_instances i ON i.id = s.instance"
            " WHERE i.uuid = ? ORDER BY e.at, e.step, e.status",
            (instance_id,),
        )
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    def children(self, instance_id: str) -> list[InstanceRow]:
        rows = self._read(_INSTANCE_SELECT + " WHERE p.uuid = ? ORDER BY i.id", (instance_id,))
        return [self._instance_row(r) for r in rows]

    def load_with_children(self, instance_id: str) -> tuple[InstanceRow, list[InstanceRow]]:
        """The instance and its children in ONE statement, as load_with_open_steps."""
        rows = self._read(
            "SELECT i.uuid, d.process_id, d.version, i.status, i.state, i.revision,"
            " i.started_at, i.started_by, i.last_action_at, i.ended_at, i.cancel_reason,"
            " p.uuid, i.parent_token,"
            " c.uuid, cd.process_id, cd.version, c.status, c.state, c.revision,"
            " c.started_at, c.started_by, c.last_action_at, c.ended_at, c.cancel_reason,"
            " i.uuid, c.parent_token"
            " FROM sopflow_instances i JOIN sopflow_definitions d ON d.id = i.definition"
            " LEFT JOIN sopflow_instances p ON p.id = i.parent"
            " LEFT JOIN sopflow_instances c ON c.parent = i.id"
            " LEFT JOIN sopflow_definitions cd ON cd.id = c.definition"
            " WHERE i.uuid = ? ORDER BY c.id",
            (instance_id,),
        )
        if not rows:
            raise InstanceNotFoundError("no such instance", instance_id=instance_id)
        row = self._instance_row(rows[0])
        return row, [self._instance_row(r[13:]) for r in rows if r[13] is not None]

    def audit(self, instance_id: str) -> list[AuditRow]:
        rows = self._read(
            "SELECT a.at, a.event, a.payload FROM sopflow_audit a"
            " JOIN sopflow_instances i ON i.id = a.instance WHERE i.uuid = ? ORDER BY a.id",
            (instance_id,),
        )
        return [AuditRow(at=int(r[0]), event=str(r[1]), payload=json.loads(r[2])) for r in rows]
