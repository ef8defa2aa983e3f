"""Who may evaluate an SOP, and who may read its evaluations (docs/authority.md).

Permenpan-RB 35/2012 has the SOPs of a unit monitored by its own leaders and evaluated
by the organisation unit of the agency: for a kecamatan, the Bagian Organisasi of the
kabupaten's Sekretariat Daerah. So the rule is a position, not a person and not a
setting of the web layer:

- **record** an evaluation: the actor holds (definitive, Plt. or Plh.) a position whose
  ``peran`` is an evaluator role (default :data:`EVALUATOR_ROLES`, ``organisasi``; a
  deployment passes its own, e.g. ``inspektorat``) in the SOP's unit or in a parent
  unit and its offices (the kabupaten's Bagian Organisasi for a kecamatan SOP), never
  in a sibling kecamatan. The evaluation is signed with that holding, so a Plh. signs
  as "Plh. ..."; an evaluation dated before today needs such a holding on that day
  too. A kecamatan's own officials do the SOP's steps and may not judge it.
- **read** evaluations: the same holders, and whoever may see the SOP's instances (its
  unit's officials and the kabupaten's offices, ``runtime.duties.visible``): a Camat
  reads how the SOP of their kecamatan was judged.

Refusals are :class:`~sopflow.errors.EvaluatorError` / ``UnitAccessError``, logged as
``permission.denied`` (there is no instance whose audit chain could hold them).
Without a directory (trusted-caller mode) the roles on the Actor are taken as given,
as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sopflow.authority.base import Credentials, Holding, preferred
from sopflow.authority.gate import directory_of
from sopflow.authority.policy import rules_of
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import EvaluationError, EvaluatorError, SopflowError, UnitAccessError
from sopflow.logging import get_logger
from sopflow.reports.evaluation import Evaluation, NewEvaluation, parse_answers
from sopflow.runtime.duties import in_unit, visible
from sopflow.runtime.views import Actor, to_ms

if TYPE_CHECKING:
    from sopflow.authority.directory import Directory
    from sopflow.runtime.engine import Engine

__all__ = [
    "EVALUATOR_ROLES",
    "evaluator_holding",
    "list_evaluations",
    "may_read",
    "record_evaluation",
    "sop_unit",
]

#: the lane roles (``peran``) of positions that evaluate SOPs by default
EVALUATOR_ROLES: frozenset[str] = frozenset({"organisasi"})

_log = get_logger("sopflow")


def sop_unit(directory: Directory | None, definition: ProcessDefinition) -> str | None:
    """The unit an SOP belongs to: the directory's kecamatan its header names."""
    if directory is None:
        return definition.header.kecamatan or None
    unit = directory.find_unit(definition.header.kecamatan or "")
    return unit.kode if unit is not None else None


def _refused(exc: EvaluatorError | UnitAccessError, actor: Actor, process_id: str) -> Exception:
    _log.warning("permission.denied", actor=actor.id, process_id=process_id, reason=exc.message)
    return exc


def evaluator_holding(
    credentials: Credentials,
    unit: str | None,
    directory: Directory | None,
    roles: Iterable[str] = EVALUATOR_ROLES,
) -> Holding | None:
    """The holding under which these credentials evaluate an SOP of ``unit`` (a
    definitive one before a Plt./Plh. one), or None."""
    wanted = set(roles)
    return preferred(
        h
        for h in credentials.holdings
        if h.role in wanted and in_unit(h, unit, directory, parent_ok=True)
    )


def may_read(
    engine: Engine,
    actor: Actor,
    definition: ProcessDefinition,
    *,
    roles: Iterable[str] = EVALUATOR_ROLES,
    at: datetime | None = None,
) -> bool:
    """May ``actor`` read the evaluations of this SOP (module docstring)?"""
    if engine.authority.trusted_caller:
        return True
    directory = directory_of(engine.authority)
    unit = sop_unit(directory, definition)
    if unit is None:
        return False
    now = at if at is not None else engine.clock.now()
    credentials = engine.authority.credentials(Actor(actor.id), unit=unit, at=now)
    return evaluator_holding(credentials, unit, directory, roles) is not None or visible(
        credentials, unit, directory, rules_of(definition)
    )


def record_evaluation(
    engine: Engine,
    process_id: str,
    *,
    actor: Actor,
    answers: Mapping[str, object],
    catatan: Mapping[str, object] | None = None,
    tanggal: date | None = None,
    version: str | None = None,
    roles: Iterable[str] = EVALUATOR_ROLES,
    at: datetime | None = None,
) -> Evaluation:
    """Check, sign and store ``actor``'s evaluation of an SOP; the stored record.

    ``answers`` maps each of the seven criteria (``reports.evaluation.CRITERIA``) to
    Ya/Tidak (True/False or the words), ``catatan`` each to a note. ``version`` is a
    stored definition version of the process (default: the catalog's current one);
    ``tanggal`` the evaluation day (default: today in the directory's office zone).
    """
    definition = engine.catalog.get(process_id)
    if version is not None and version != definition.version:
        older = None
        if re.fullmatch(r"[0-9a-f]{64}", version):  # a version is a sha256
            try:
                older = engine.definition(version)
            except SopflowError:  # any unreadable version is the same refusal
                older = None
        if older is None or older.process_id != process_id:
            raise EvaluationError(
                f"{version[:80]!r} is no stored version of SOP {process_id}", field="version"
            )
        definition = older
    parsed = parse_answers(answers, catatan)
    now = at if at is not None else engine.clock.now()
    directory = directory_of(engine.authority)
    unit = sop_unit(directory, definition)
    if unit is None and not engine.authority.trusted_caller:
        raise _refused(
            UnitAccessError(
                f"SOP {process_id} names no kecamatan of the directory "
                f"({definition.header.kecamatan!r}); nobody may evaluate it for a unit"
            ),
            actor,
            process_id,
        )
    wanted = sorted(set(roles))
    credentials = engine.authority.credentials(
        Actor(actor.id, roles=actor.roles) if engine.authority.trusted_caller else Actor(actor.id),
        unit=unit,
        at=now,
    )
    holding = evaluator_holding(credentials, unit, directory, wanted)
    if holding is None:
        raise _refused(
            EvaluatorError(
                f"actor {actor.id!r} holds no evaluator position (peran "
                f"{', '.join(wanted)}) in unit {unit} of SOP {process_id} or a parent unit"
            ),
            actor,
            process_id,
        )
    today = directory.day(now, unit) if directory is not None else now.date()
    if tanggal is None:
        tanggal = today
    elif tanggal > today:
        raise EvaluationError(f"{tanggal} is after today ({today})", field="tanggal")
    elif directory is not None and tanggal < today:
        # signed with a position: it must have been the evaluator's on the day judged
        # too (a Plh. from this month does not sign for last year)
        noon = datetime.combine(tanggal, time(12), tzinfo=ZoneInfo(directory.zone_of(unit)))
        then = engine.authority.credentials(Actor(actor.id), unit=unit, at=noon)
        if evaluator_holding(then, unit, directory, wanted) is None:
            raise _refused(
                EvaluatorError(
                    f"actor {actor.id!r} held no evaluator position (peran "
                    f"{', '.join(wanted)}) over unit {unit} on {tanggal}, the day the "
                    f"evaluation of SOP {process_id} is dated"
                ),
                actor,
                process_id,
            )
    new = NewEvaluation(
        process_id=definition.process_id,
        version=definition.version,
        unit=unit or "",
        nip=credentials.actor_id,
        position=holding.position or holding.role,
        position_name=holding.position_name or holding.role,
        kind=holding.kind,
        tanggal=tanggal,
        answers=parsed,
        created_at=to_ms(now),
    )
    # the version judged is kept, as an instance's is: a revised catalog must still
    # show what this evaluation judged (evaluations are read through their version)
    engine.store.ensure_definition(
        definition.version, definition.process_id, definition.source, definition.xml
    )
    return engine.store.evaluation(engine.store.add_evaluation(new))


def list_evaluations(
    engine: Engine,
    *,
    actor: Actor | None = None,
    process_id: str | None = None,
    roles: Iterable[str] = EVALUATOR_ROLES,
    at: datetime | None = None,
) -> list[Evaluation]:
    """Stored evaluations, newest first, of the SOPs ``actor`` may read (all without an
    actor: the application itself). Asking for one SOP the actor may not read is
    refused rather than answered with an empty list. Each evaluation is shown by the
    version it judged (as one is by number): a revision that moved the SOP to another
    unit does not show the new unit how the old one's was judged."""
    wanted = list(roles)
    definition = None if process_id is None else engine.catalog.get(process_id)
    found = engine.store.evaluations(process_id=process_id)
    if actor is None:
        return found
    if definition is not None and not may_read(engine, actor, definition, roles=wanted, at=at):
        raise _refused(
            UnitAccessError(
                f"actor {actor.id!r} may not read the evaluations of SOP "
                f"{definition.process_id}"
            ),
            actor,
            definition.process_id,
        )
    allowed: dict[str, bool] = {}
    out = []
    for e in found:
        if e.version not in allowed:
            try:
                judged = engine.definition(e.version)
            except SopflowError:  # a version no longer readable is not shown
                allowed[e.version] = False
                continue
            allowed[e.version] = may_read(engine, actor, judged, roles=wanted, at=at)
        if allowed[e.version]:
            out.append(e)
    return out
