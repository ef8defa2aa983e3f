"""Tamper evidence: a hash chain over each instance's audit and step rows.

An ``UPDATE`` on a stored row must not silently change what ``status`` or a report
shows. Every write transaction that touches an instance appends, for each step row it
inserted or changed and each audit row it inserted, an entry ``hash = sha256(previous
hash, kind, row id, digest of the row as written)``; the first entry chains to the
instance id. Verifying recomputes each row's digest from what is stored now and walks the
links: the first entry that does not match names the row that was edited, removed or
added. The chain does not stop someone who rewrites the chain itself along with the rows
(they can write the database); publishing an instance's head hash (``sopflow audit
verify --json``) somewhere they cannot write closes that gap.

Definitions are content-addressed: the version *is* the sha256 of the file, so a stored
definition is checked against its version each time it is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sopflow.errors import ChainBrokenError, CorruptDefinitionError, InstanceNotFoundError
from sopflow.stores._batch import INSTANCE_REF, Statement
from sopflow.stores.base import AuditRow, StepUpdate

__all__ = ["ChainReport", "ChainStoreMixin", "check_definition", "definition_version"]

_STEP_SELECT = (
    "SELECT s.id, s.task, s.step_no, s.role, s.ready_at, s.due_at, s.risk_at, s.standard,"
    " s.completed_at, s.actor, s.claimed_by, s.data, s.path, s.token, s.pass_no, s.item,"
    " s.outcome, s.reason, h.nip, h.nama, h.position,"
    " h.position_name, h.unit, h.kind, h.basis FROM sopflow_steps s "
)
#: A step row with its holding (at most one: ``step`` is the holdings' primary key).
_HOLDING_JOIN = "LEFT JOIN sopflow_step_holdings h ON h.step = s.id"
_AUDIT_SELECT = "SELECT a.id, a.at, a.event, a.payload FROM sopflow_audit a"


def definition_version(xml: bytes, process_id: str, *, shared_file: bool) -> str:
    """The version rule: sha256 of the bytes; with the process id for a shared file."""
    if shared_file:
        return hashlib.sha256(xml + b"\n#" + process_id.encode()).hexdigest()
    return hashlib.sha256(xml).hexdigest()


def check_definition(version: str, process_id: str, xml: bytes) -> None:
    """CorruptDefinitionError unless ``xml`` hashes to ``version`` under either rule."""
    if version not in (
        definition_version(xml, process_id, shared_file=False),
        definition_version(xml, process_id, shared_file=True),
    ):
        raise CorruptDefinitionError(
            version, f"its bytes do not hash to its version (process {process_id})"
        )


def _digest(kind: str, row: Sequence[Any]) -> str:
    values = [v if not isinstance(v, (bytes, memoryview)) else bytes(v).hex() for v in row]
    text = json.dumps([kind, *values], ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _link(previous: str, kind: str, row_id: int, digest: str) -> str:
    return hashlib.sha256(f"{previous}|{kind}|{row_id}|{digest}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of verifying one instance's chain."""

    instance_id: str
    ok: bool
    entries: int
    head: str | None
    #: the first row that does not match ("audit row 17 (task.completed)"), or None
    first_bad: str | None = None
    reason: str | None = None
    #: True for an instance written before the chain existed (schema < 4)
    unsealed: bool = False

    def raise_if_broken(self) -> None:
        if not self.ok:
            raise ChainBrokenError(self.instance_id, f"{self.first_bad}: {self.reason}")


class ChainStoreMixin:
    """Chain methods of :class:`~sopflow.stores._sql.SqlStore`."""

    #: How a seal read joins a step row to its holding; PostgreSQL probes the holdings'
    #: primary key per step whatever its statistics say (stores/postgres.py).
    _seal_holding_join: ClassVar[str] = _HOLDING_JOIN

    if TYPE_CHECKING:
        url: str

        def _write(self) -> AbstractContextManager[Any]: ...
        def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def _sql(self, statement: str) -> str: ...

    # -- the write hook ----------------------------------------------------------------
    def _after_write(
        self,
        instance_id: str,
        audit: Sequence[AuditRow],
        step_updates: Sequence[StepUpdate] = (),
    ) -> list[Statement]:
        """The unit and holding rows of one instance's write, as statements of its batch.

        Nothing here reads: a holding row takes its step from the step rows the batch
        completed, matched on the task the ``task.completed`` audit row names, in SQL.
        """
        batch: list[Statement] = []
        for row in audit:
            unit = row.payload.get("unit")
            if row.event == "instance.started" and isinstance(unit, str):
                batch.append(
                    Statement(
                        "INSERT INTO sopflow_instance_units (instance, unit)"
                        f" VALUES ({INSTANCE_REF}, ?)",
                        (instance_id, unit),
                    )
                )
        done = [up.step_id for up in step_updates if up.completed_at is not None]
        holdings = {
            str(a.payload.get("task_id")): a.payload["holding"]
            for a in audit
            if a.event == "task.completed" and isinstance(a.payload.get("holding"), dict)
        }
        if not done:
            return batch
        marks = ", ".join("?" for _ in done)
        for task, held in holdings.items():
            batch.append(
                Statement(
                    "INSERT INTO sopflow_step_holdings (step, nip, nama, position,"
                    " position_name, unit, kind, basis)"
                    " SELECT s.id, ?, ?, ?, ?, ?, ?, ? FROM sopflow_steps s"
                    f" WHERE s.id IN ({marks}) AND s.task = ?"
                    # When a guard of the batch failed (another writer completed the
                    # step first), this must not fail on the winner's holding: the
                    # batch rolls back with the guard's ConflictError instead.
                    " AND NOT EXISTS (SELECT 1 FROM sopflow_step_holdings h"
                    " WHERE h.step = s.id)",
                    (
                        str(held.get("nip") or ""),
                        held.get("name"),
                        held.get("position"),
                        held.get("position_name"),
                        held.get("unit"),
                        str(held.get("kind") or "caller"),
                        held.get("basis"),
                        *done,
                        task,
                    ),
                )
            )
        return batch

    def _seal_queries(self, instance_id: str, touched: set[int]) -> list[Statement]:
        """The three reads the chain entries of one instance's write need.

        They run inside the write's transaction, after its rows, and need no result of
        an earlier statement: PostgreSQL sends them in the same pipelined round trip as
        the writes (stores/postgres.py). Their rows go to :meth:`_chain_rows`.
        """
        last = (
            "(SELECT COALESCE(MAX(row_id), 0) FROM sopflow_chain"
            f" WHERE instance = {INSTANCE_REF} AND kind = '{{}}')"
        )
        marks = ", ".join("?" for _ in touched) or "NULL"
        return [
            Statement(
                f"SELECT hash FROM sopflow_chain WHERE instance = {INSTANCE_REF}"
                " ORDER BY id DESC LIMIT 1",
                (instance_id,),
            ),
            # Two ranges of the (instance, id) index, not one OR under the instance: the
            # OR made SQLite walk the instance's whole step history on every write.
            Statement(
                f"{_STEP_SELECT}{self._seal_holding_join} WHERE (s.instance = {INSTANCE_REF}"
                f" AND s.id > {last.format('step')})"
                f" OR (s.instance = {INSTANCE_REF} AND s.id IN ({marks})) ORDER BY s.id",
                (instance_id, instance_id, instance_id, *sorted(touched)),
            ),
            Statement(
                f"{_AUDIT_SELECT} WHERE a.instance = {INSTANCE_REF}"
                f" AND a.id > {last.format('audit')} ORDER BY a.id",
                (instance_id, instance_id),
            ),
        ]

    @staticmethod
    def _chain_rows(
        instance_id: str, head: Sequence[Any], steps: Sequence[Any], audits: Sequence[Any]
    ) -> list[Statement]:
        """The chain entries for the rows the seal queries found, as one INSERT."""
        previous = str(head[0][0]) if head else instance_id
        values: list[Any] = []
        for kind, rows in (("step", steps), ("audit", audits)):
            for r in rows:
                digest = _digest(kind, r)
                previous = _link(previous, kind, int(r[0]), digest)
                values += [instance_id, kind, int(r[0]), digest, previous]
        if not values:
            return []
        row = f"({INSTANCE_REF}, ?, ?, ?, ?)"
        return [
            Statement(
                "INSERT INTO sopflow_chain (instance, kind, row_id, digest, hash) VALUES "
                + ", ".join(row for _ in range(len(values) // 5)),
                values,
            )
        ]

    def _seal(self, cur: Any, seals: dict[str, set[int]]) -> None:
        """Append the chain entries of each instance in ``seals``, statement by statement."""
        for instance_id, touched in seals.items():
            found = []
            for q in self._seal_queries(instance_id, touched):
                cur.execute(self._sql(q.sql), tuple(q.params))
                found.append(cur.fetchall())
            for st in self._chain_rows(instance_id, *found):
                cur.execute(self._sql(st.sql), tuple(st.params))

    def record_refusal(self, instance_id: str, row: AuditRow) -> None:
        """Store a refused action's audit row, chained, without changing the instance.

        The no-op UPDATE takes the instance's row lock (PostgreSQL), so a refusal and an
        action on the same instance never both extend the chain from the same head.
        """
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "UPDATE sopflow_instances SET revision = revision WHERE uuid = ? RETURNING id"
                ),
                (instance_id,),
            )
            found = cur.fetchone()
            if found is None:
                raise InstanceNotFoundError("no such instance", instance_id=instance_id)
            ref = int(found[0])
            cur.execute(
                self._sql(
                    "INSERT INTO sopflow_audit (instance, at, event, payload) VALUES (?, ?, ?, ?)"
                ),
                (
                    ref,
                    row.at,
                    row.event,
                    json.dumps(
                        row.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True
                    ),
                ),
            )
            self._seal(cur, {instance_id: set()})

    # -- verification ------------------------------------------------------------------
    def verify_chain(self, instance_id: str) -> ChainReport:
        """Recompute ``instance_id``'s chain from the rows stored now."""
        found = self._read("SELECT id FROM sopflow_instances WHERE uuid = ?", (instance_id,))
        if not found:
            raise InstanceNotFoundError("no such instance", instance_id=instance_id)
        ref = int(found[0][0])
        return self._verify_refs(
            {ref: instance_id}, " WHERE instance = ?", (ref,), self._seal_holding_join
        )[0]

    def verify_chains(self, *, process_id: str | None = None) -> list[ChainReport]:
        """Verify every instance (of ``process_id``) in four queries, oldest first."""
        where, params = "", cast(tuple[Any, ...], ())
        if process_id is not None:
            where = (
                " WHERE instance IN (SELECT i.id FROM sopflow_instances i JOIN"
                " sopflow_definitions d ON d.id = i.definition WHERE d.process_id = ?)"
            )
            params = (process_id,)
        refs = {
            int(r[0]): str(r[1])
            for r in self._read(
                "SELECT i.id, i.uuid FROM sopflow_instances i JOIN sopflow_definitions d"
                " ON d.id = i.definition" + (" WHERE d.process_id = ?" if process_id else ""),
                params,
            )
        }
        return self._verify_refs(refs, where, params, _HOLDING_JOIN)

    def _verify_refs(
        self, refs: dict[int, str], where: str, params: Sequence[Any], holding_join: str
    ) -> list[ChainReport]:
        """One instance's rows join their holdings as a seal does (a probe per step on
        PostgreSQL, whatever the statistics); many instances', as one join."""
        chains: dict[int, list[Any]] = {ref: [] for ref in refs}
        for r in self._read(
            f"SELECT instance, kind, row_id, digest, hash FROM sopflow_chain{where} ORDER BY id",
            params,
        ):
            chains.setdefault(int(r[0]), []).append(r[1:])
        steps: dict[int, dict[int, Any]] = {ref: {} for ref in refs}
        swhere = where.replace("instance", "s.instance", 1)
        select = _STEP_SELECT.replace("SELECT s.id", "SELECT s.instance, s.id")
        for r in self._read(select + holding_join + swhere, params):
            steps.setdefault(int(r[0]), {})[int(r[1])] = r[1:]
        audits: dict[int, dict[int, Any]] = {ref: {} for ref in refs}
        awhere = where.replace("instance", "a.instance", 1)
        for r in self._read(
            _AUDIT_SELECT.replace("SELECT a.id", "SELECT a.instance, a.id") + awhere, params
        ):
            audits.setdefault(int(r[0]), {})[int(r[1])] = r[1:]
        start_rows = self._read("SELECT after_id FROM sopflow_chain_start")
        start = int(start_rows[0][0]) if start_rows else 0
        return [
            _verify(refs[ref], ref <= start, chains[ref], steps[ref], audits[ref])
            for ref in sorted(refs)
        ]


def _verify(
    instance_id: str,
    before_chain: bool,
    chain: list[Any],
    steps: dict[int, Any],
    audits: dict[int, Any],
) -> ChainReport:
    if not chain:
        if before_chain:
            return ChainReport(instance_id, True, 0, None, unsealed=True)
        return ChainReport(
            instance_id, False, 0, None, "the whole chain", "no chain rows (deleted?)"
        )
    latest = {(str(k), int(i)): n for n, (k, i, _, _) in enumerate(chain)}
    previous = instance_id
    for n, (kind, row_id, digest, stored) in enumerate(chain):
        kind, row_id = str(kind), int(row_id)
        table = steps if kind == "step" else audits
        label = f"{kind} row {row_id}"
        if kind == "audit" and row_id in audits:
            label += f" ({audits[row_id][2]})"
        elif kind == "step" and row_id in steps:
            label += f" (step {steps[row_id][2]})"
        if _link(previous, kind, row_id, str(digest)) != stored:
            return ChainReport(
                instance_id, False, n, previous, label, "its chain entry was altered"
            )
        if latest[(kind, row_id)] == n:
            row = table.get(row_id)
            if row is None:
                return ChainReport(instance_id, False, n, previous, label, "row was deleted")
            if _digest(kind, row) != digest:
                return ChainReport(
                    instance_id, False, n, previous, label, "row was changed after it was written"
                )
        previous = str(stored)
    for kind, rows in (("step", steps), ("audit", audits)):
        extra = sorted(set(rows) - {i for (k, i) in latest if k == kind})
        if extra:
            return ChainReport(
                instance_id,
                False,
                len(chain),
                previous,
                f"{kind} row {extra[0]}",
                "row was added outside sopflow",
            )
    return ChainReport(instance_id, True, len(chain), previous)
