"""Who may act on *this* instance: unit scope, separation of duties, definitive-only.

``check_step_access`` (runtime/assignment.py) answers "does the person hold the step's
role?". The rules here need the instance too, and are pure functions the engine calls
with what it has read, so any runtime (one token or many) applies the same ones:

- unit scope: a holding counts only in the instance's unit and its sections; a step
  marked ``unit_induk`` also accepts holders in a parent unit (UU 23/2014: the kabupaten
  supervises its kecamatan);
- separation of duties: the person who did a step listed in ``bukan_pelaksana_langkah``
  (or, for a deciding step, the work being decided on) may not do this step;
- definitive only: a Plh./Plt. may not take a step reserved to the definitive holder
  (SE Kepala BKN 1/SE/I/2021 leaves the limits of an acting official's authority to
  the policy of the office; see docs/authority.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sopflow.authority.base import Credentials, Holding
from sopflow.authority.directory import Directory
from sopflow.authority.nip import normalize_nip
from sopflow.authority.policy import ProcessRules
from sopflow.definitions.model import Step
from sopflow.errors import (
    DefinitiveOnlyError,
    NipError,
    PermissionDeniedError,
    SeparationOfDutiesError,
    UnitAccessError,
)
from sopflow.runtime.assignment import check_step_access
from sopflow.stores.base import StepRow

__all__ = [
    "authorize",
    "in_unit",
    "open_step_holder",
    "parent_allowed",
    "refusal_rule",
    "same_person",
    "step_parent_ok",
    "visible",
]


def same_person(a: str | None, b: str | None) -> bool:
    """Two actor ids name one person: equal NIPs however spaced, or equal ids."""
    if a is None or b is None:
        return False
    try:
        return normalize_nip(a) == normalize_nip(b)
    except NipError:
        return a.strip() == b.strip()


def in_unit(
    holding: Holding, unit: str | None, directory: Directory | None, *, parent_ok: bool
) -> bool:
    """True when ``holding`` counts in ``unit`` (always, without a directory or a unit)."""
    if directory is None or unit is None or holding.unit is None:
        return True
    if directory.within(holding.unit, unit):
        return True
    if not parent_ok:
        return False
    # a parent unit and its offices (the kabupaten's Inspektorat), not a sibling kecamatan
    if not any(directory.within(holding.unit, a) for a in directory.ancestors(unit)):
        return False
    return directory.kecamatan_of(holding.unit) in (None, directory.kecamatan_of(unit))


def parent_allowed(role: str, marked: bool, unit: str | None, directory: Directory | None) -> bool:
    """May a holder in a parent unit act? When the step says so (``unit_induk``), or
    when the instance's unit has no position with that role at all: the Inspektorat of
    a Cibatu SOP sits in the kabupaten, and the step would otherwise wait forever."""
    if marked:
        return True
    if directory is None or unit is None:
        return False
    return not any(
        p.peran == role and directory.within(p.unit, unit) for p in directory.positions.values()
    )


def step_parent_ok(step: Step, marked: bool, unit: str | None, directory: Directory | None) -> bool:
    """:func:`parent_allowed` for a step. An open step (``Step.is_open``) names no role that
    the unit might lack, so only its ``unit_induk`` mark lets parent-unit holders act."""
    if step.is_open:
        return marked
    return parent_allowed(step.role, marked, unit, directory)


def open_step_holder(
    holdings: Sequence[Holding], unit: str | None, directory: Directory | None, *, parent_ok: bool
) -> bool:
    """May someone with these holdings take an open step? Any position in the unit will do."""
    return any(in_unit(h, unit, directory, parent_ok=parent_ok) for h in holdings)


def visible(
    credentials: Credentials, unit: str | None, directory: Directory | None, rules: ProcessRules
) -> bool:
    """May these credentials see (work list, status) an instance of ``unit``?"""
    if directory is None or unit is None:
        return True
    parent_ok = rules.any_parent_unit or any(
        parent_allowed(role, False, unit, directory) for role in rules.roles
    )
    return any(in_unit(h, unit, directory, parent_ok=parent_ok) for h in credentials.holdings)


def authorize(
    step: Step,
    credentials: Credentials,
    rules: ProcessRules,
    *,
    instance_id: str,
    unit: str | None,
    directory: Directory | None,
    history: Sequence[StepRow],
    definitive_default: bool = False,
    data: Mapping[str, Any] | None = None,
    trusted_caller: bool = False,
) -> Holding:
    """The holding under which ``credentials`` may act on ``step`` of this instance;
    ``data`` is the instance data, for assignments written as expressions.

    An open step (``Step.is_open``) accepts any caller in trusted-caller mode; otherwise
    the actor must hold some position in the instance's unit.
    """
    step_rules = rules.step(step.id)
    parent_ok = step_parent_ok(step, step_rules.parent_unit, unit, directory)
    scoped = tuple(
        h for h in credentials.holdings if in_unit(h, unit, directory, parent_ok=parent_ok)
    )
    if step.is_open and not trusted_caller and not scoped:
        where = f" in unit {unit} of this instance" if unit is not None else ""
        why = (
            f"step {step.no} is in no lane and names no assignee, so it is open to any "
            "holder of a position in the instance's unit"
        )
        if credentials.holdings:
            raise UnitAccessError(
                f"actor {credentials.actor_id!r} holds no position{where}; {why}",
                instance_id=instance_id,
                task_id=step.id,
            )
        raise PermissionDeniedError(
            f"actor {credentials.actor_id!r} holds no position; {why}",
            instance_id=instance_id,
            task_id=step.id,
        )
    if credentials.holding(step.role) is not None and not any(h.role == step.role for h in scoped):
        raise UnitAccessError(
            f"actor {credentials.actor_id!r} holds {step.role!r} only outside unit {unit} "
            "of this instance",
            instance_id=instance_id,
            task_id=step.id,
        )
    holding = check_step_access(
        step, replace(credentials, holdings=scoped), instance_id=instance_id, data=data
    )
    need_definitive = step_rules.definitive_only
    if need_definitive is None:
        need_definitive = rules.definitive_only
    if need_definitive is None:
        need_definitive = definitive_default
    if need_definitive and holding.kind in ("plh", "plt"):
        raise DefinitiveOnlyError(
            f"step {step.no} needs the definitive holder of {holding.position_name or step.role}"
            f"; actor {credentials.actor_id!r} holds it as {holding.kind.capitalize()}. "
            f"({holding.basis}) (hanya_definitif)",
            instance_id=instance_id,
            task_id=step.id,
        )
    for row in history:
        if (
            row.completed_at is not None
            and row.step_no in step_rules.separate_from
            and same_person(row.actor, credentials.actor_id)
        ):
            raise SeparationOfDutiesError(
                f"actor {credentials.actor_id!r} did step {row.step_no} of this instance; "
                f"step {step.no} must be done by someone else ({step_rules.separation_source})",
                instance_id=instance_id,
                task_id=step.id,
            )
    return holding


def refusal_rule(exc: PermissionDeniedError) -> str:
    """The rule a refusal names in its audit row."""
    if isinstance(exc, UnitAccessError):
        return "unit"
    if isinstance(exc, SeparationOfDutiesError):
        return "separation_of_duties"
    if isinstance(exc, DefinitiveOnlyError):
        return "definitive_only"
    return "permission"
