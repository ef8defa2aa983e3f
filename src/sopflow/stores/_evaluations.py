"""SOP evaluations in the SQL store (schema migration 11; docs/web.md, "Evaluasi").

An evaluation is one row (who judged which SOP version for which unit, when, and the
count of Ya) and one answer row per criterion. sopflow reads the counts from the answers
(every listing reads them); the stored ``ya`` and ``jumlah`` columns only serve a report
that queries the table directly. Rows are only ever added: a second evaluation of the
same SOP is a new judgement (the regulation asks for one at least every six months),
not an edit of the first, so what an evaluator signed stays as signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any

from sopflow.errors import EvaluationNotFoundError
from sopflow.reports.evaluation import Answer, Evaluation, NewEvaluation
from sopflow.stores._sqlread import _where

__all__ = ["EvaluationStoreMixin"]

_SELECT = (
    "SELECT e.id, e.process_id, e.version, e.unit, e.nip, e.position, e.position_name,"
    " e.kind, e.tanggal, e.created_at, p.nama FROM sopflow_evaluations e"
    " LEFT JOIN sopflow_people p ON p.nip = e.nip"
)


class EvaluationStoreMixin:
    """Evaluation methods of :class:`~sopflow.stores._sql.SqlStore`."""

    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[Any]: ...
        def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def _sql(self, statement: str) -> str: ...

    def add_evaluation(self, evaluation: NewEvaluation) -> int:
        """Store one evaluation with its answers in one transaction; its number."""
        e = evaluation
        with self._write() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO sopflow_evaluations (process_id, version, unit, nip, position,"
                    " position_name, kind, tanggal, ya, jumlah, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                ),
                (
                    e.process_id,
                    e.version,
                    e.unit,
                    e.nip,
                    e.position,
                    e.position_name,
                    e.kind,
                    e.tanggal.isoformat(),
                    e.ya,
                    len(e.answers),
                    e.created_at,
                ),
            )
            number = int(cur.fetchone()[0])
            cur.executemany(
                self._sql(
                    "INSERT INTO sopflow_evaluation_answers (evaluation, position_no, criterion,"
                    " ya, catatan) VALUES (?, ?, ?, ?, ?)"
                ),
                [
                    (number, n, a.criterion, 1 if a.ya else 0, a.catatan)
                    for n, a in enumerate(e.answers, 1)
                ],
            )
        return number

    def evaluations(
        self, *, process_id: str | None = None, units: Sequence[str] | None = None
    ) -> list[Evaluation]:
        """Stored evaluations, newest first; of one SOP and/or of the units given."""
        base: list[str] = []
        if units is not None:
            if not units:
                return []
            base.append(f"e.unit IN ({', '.join('?' for _ in units)})")
        where, params = _where(base, e__process_id=process_id)
        clause = f" WHERE {where}" if where else ""
        heads = self._read(
            _SELECT + clause + " ORDER BY e.tanggal DESC, e.id DESC", [*(units or ()), *params]
        )
        return self._with_answers(heads)

    def evaluation(self, number: int) -> Evaluation:
        """One stored evaluation; EvaluationNotFoundError when there is none."""
        if not 1 <= number <= 2**62:  # beyond any id, and beyond a BIGINT parameter
            raise EvaluationNotFoundError(f"no evaluation number {number}", field="id")
        found = self._with_answers(self._read(_SELECT + " WHERE e.id = ?", (number,)))
        if not found:
            raise EvaluationNotFoundError(f"no evaluation number {number}", field="id")
        return found[0]

    def _with_answers(self, heads: list[Any]) -> list[Evaluation]:
        if not heads:
            return []
        ids = [int(h[0]) for h in heads]
        answers: dict[int, list[Answer]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):  # bounded IN lists
            chunk = ids[start : start + 500]
            for ev, criterion, ya, catatan in self._read(
                "SELECT evaluation, criterion, ya, catatan FROM sopflow_evaluation_answers"
                f" WHERE evaluation IN ({', '.join('?' for _ in chunk)})"
                " ORDER BY evaluation, position_no",
                chunk,
            ):
                answers[int(ev)].append(Answer(str(criterion), bool(ya), str(catatan)))
        return [
            Evaluation(
                process_id=str(h[1]),
                version=str(h[2]),
                unit=str(h[3]),
                nip=str(h[4]),
                position=str(h[5]),
                position_name=str(h[6]),
                kind=str(h[7]),
                tanggal=date.fromisoformat(str(h[8])),
                answers=tuple(answers[int(h[0])]),
                created_at=int(h[9]),
                id=int(h[0]),
                nama=None if h[10] is None else str(h[10]),
            )
            for h in heads
        ]
