"""The engine's calls into authority: one function per decision, given what it read.

Kept outside the engine so a runtime (the one-token engine today, the many-token one
next) calls the same few functions at the same points: before an action on a step
(:func:`check_action`), before a cancel, when a claim may have lapsed, when an instance
starts (its unit), and when a person asks to see work or an instance. Each refusal is
stored as an ``permission.denied`` audit row of the instance (chained like every other
row), not only logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sopflow.authority.base import CALLER, Authority, Credentials, Holding
from sopflow.authority.directory import Directory
from sopflow.authority.policy import ProcessRules, rules_of
from sopflow.authority.staff import DirectoryAuthority, signature
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import ChainBrokenError, DirectoryError, PermissionDeniedError, UnitAccessError
from sopflow.logging import get_logger
from sopflow.runtime.duties import (
    authorize,
    in_unit,
    open_step_holder,
    parent_allowed,
    refusal_rule,
    step_parent_ok,
    visible,
)
from sopflow.runtime.views import Actor, to_ms
from sopflow.stores.base import AuditRow, InstanceRow, StepRow

__all__ = [
    "broken_chains",
    "check_action",
    "check_cancel",
    "check_chain",
    "check_report_chains",
    "check_visible",
    "claim_lapsed",
    "directory_of",
    "event_start_unit",
    "filter_work",
    "holding_payload",
    "record_refusal",
    "signatures",
    "start_unit",
]

_log = get_logger("sopflow")


def directory_of(authority: Authority) -> Directory | None:
    return authority.directory if isinstance(authority, DirectoryAuthority) else None


def _unit(store: Any, instance_id: str) -> str | None:
    getter = getattr(store, "instance_unit", None)
    return getter(instance_id) if getter is not None else None


def record_refusal(
    store: Any,
    row: InstanceRow,
    definition: ProcessDefinition,
    step: Step | None,
    actor: Actor,
    credentials: Credentials | None,
    exc: PermissionDeniedError,
    now: datetime,
) -> None:
    """Store (and log) one refused action as an audit row of the instance."""
    payload: dict[str, Any] = {
        "task_id": step.id if step else None,
        "step_no": step.no if step else None,
        "role": step.role if step else None,
        "actor": actor.id,
        "instance_id": row.instance_id,
        "process_id": definition.process_id,
        "version": definition.version,
        "rule": refusal_rule(exc),
        "reason": exc.message,
        "actor_roles": sorted(credentials.roles) if credentials else sorted(actor.roles),
        "timestamp": now.isoformat(),
    }
    _log.warning("permission.denied", **payload)
    recorder = getattr(store, "record_refusal", None)
    if recorder is not None:
        recorder(
            row.instance_id, AuditRow(at=to_ms(now), event="permission.denied", payload=payload)
        )


def check_action(
    authority: Authority,
    store: Any,
    *,
    row: InstanceRow,
    definition: ProcessDefinition,
    step: Step,
    actor: Actor,
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> tuple[Holding, Credentials]:
    """The holding ``actor`` acts under on ``step``, or a recorded PermissionDeniedError."""
    # trusted-caller mode has no units to check: spare the query on every action
    unit = None if authority.trusted_caller else _unit(store, row.instance_id)
    credentials = authority.credentials(actor, unit=unit, at=now)
    rules = rules_of(definition)
    # Separation of duties compares people; only a directory says who a person is (in
    # trusted-caller mode an actor id is a label the caller chose, and so are its roles).
    history: Sequence[StepRow] = (
        store.steps(row.instance_id)
        if rules.step(step.id).separate_from and not authority.trusted_caller
        else ()
    )
    try:
        holding = authorize(
            step,
            credentials,
            rules,
            instance_id=row.instance_id,
            unit=unit,
            directory=directory_of(authority),
            history=history,
            definitive_default=getattr(authority, "definitive_only", False),
            data=data,
            trusted_caller=authority.trusted_caller,
        )
    except PermissionDeniedError as exc:
        record_refusal(store, row, definition, step, actor, credentials, exc, now)
        raise
    return holding, credentials


def holding_payload(holding: Holding, credentials: Credentials) -> dict[str, Any]:
    """The ``holding`` field of a task.completed audit row (kept with the step record)."""
    return {
        "nip": credentials.actor_id,
        "name": credentials.name,
        "position": holding.position,
        "position_name": holding.position_name,
        "unit": holding.unit,
        "kind": holding.kind,
        "basis": holding.basis,
    }


def claim_lapsed(
    authority: Authority,
    store: Any,
    *,
    row: InstanceRow,
    step: Step,
    claimer: str | None,
    now: datetime,
) -> bool:
    """True when ``claimer`` no longer holds the step's position: the claim lapses.

    Only a directory can tell; in trusted-caller mode a claim stands until released.
    """
    if claimer is None or authority.trusted_caller:
        return False
    unit = _unit(store, row.instance_id)
    credentials = authority.credentials(Actor(claimer), unit=unit, at=now)
    directory = directory_of(authority)
    parent_ok = step_parent_ok(step, False, unit, directory)
    if step.is_open:
        return not open_step_holder(credentials.holdings, unit, directory, parent_ok=parent_ok)
    return not any(
        h.role == step.role and in_unit(h, unit, directory, parent_ok=parent_ok)
        for h in credentials.holdings
    )


def start_unit(
    authority: Authority,
    definition: ProcessDefinition,
    unit: str | None,
    actor: Actor,
    now: datetime,
) -> str | None:
    """The unit a new instance belongs to: the one given, else the SOP's kecamatan."""
    directory = directory_of(authority)
    if directory is None:
        return unit.strip() if unit else None
    unit = _unit_in(directory, definition, unit, "", "pass --unit CODE")
    credentials = authority.credentials(actor, unit=unit, at=now)
    if not any(directory.within(h.unit or "", unit) for h in credentials.holdings):
        raise UnitAccessError(
            f"actor {credentials.actor_id!r} holds no position in unit {unit} "
            f"({directory.units[unit].nama}); cannot start {definition.process_id} there"
        )
    return unit


def event_start_unit(
    authority: Authority, definition: ProcessDefinition, unit: str | None
) -> str | None:
    """The unit of an instance a start event began (timer, message, signal): ``unit``
    as the delivering call names it, else the process's default, the rule ``start``
    uses (the SOP's kecamatan). No person started it, so no holding is checked; with a
    directory an instance must belong to a unit (issue 13), so one that cannot be
    decided is a DirectoryError and nothing starts."""
    directory = directory_of(authority)
    if directory is None:
        return unit.strip() if unit else None
    return _unit_in(
        directory,
        definition,
        unit,
        "a start event began an instance, but ",
        "name the unit (unit=CODE)",
    )


def _unit_in(
    directory: Directory, definition: ProcessDefinition, unit: str | None, what: str, fix: str
) -> str:
    """``unit`` when the directory has it, else (None) the unit of the SOP's kecamatan:
    the one rule for where a new instance belongs, however it was started."""
    if unit is None:
        name = definition.header.kecamatan
        found = directory.find_unit(name) if name else None
        if found is None:
            raise DirectoryError(
                f"process {definition.process_id}: {what}kecamatan {name!r} of the SOP is not "
                f"a unit of the directory; {fix}",
                field="unit",
            )
        unit = found.kode
    unit = unit.strip()
    if unit not in directory.units:
        raise DirectoryError(f"unit {unit!r} is not in the directory", field="unit")
    return unit


def check_cancel(
    authority: Authority,
    store: Any,
    *,
    row: InstanceRow,
    definition: ProcessDefinition,
    actor: Actor,
    now: datetime,
) -> None:
    """A cancel needs a role the process names (``pembatal``), held in the instance's unit."""
    if authority.trusted_caller:
        return
    rules = rules_of(definition)
    unit = _unit(store, row.instance_id)
    credentials = authority.credentials(actor, unit=unit, at=now)
    directory = directory_of(authority)
    if not any(
        h.role in rules.cancel_roles and in_unit(h, unit, directory, parent_ok=False)
        for h in credentials.holdings
    ):
        exc = PermissionDeniedError(
            f"actor {credentials.actor_id!r} may not cancel: it needs one of the roles "
            f"{', '.join(rules.cancel_roles)} in unit {unit} (pembatal)",
            instance_id=row.instance_id,
        )
        record_refusal(store, row, definition, None, actor, credentials, exc, now)
        raise exc


def check_visible(
    authority: Authority,
    store: Any,
    *,
    row: InstanceRow,
    definition: ProcessDefinition,
    actor: Actor | None,
    now: datetime,
) -> None:
    """Status is only for holders of a position in the instance's unit."""
    if actor is None or authority.trusted_caller:
        return
    unit = _unit(store, row.instance_id)
    credentials = authority.credentials(Actor(actor.id), unit=unit, at=now)
    if not visible(credentials, unit, directory_of(authority), rules_of(definition)):
        exc = UnitAccessError(
            f"actor {credentials.actor_id!r} holds no position in unit {unit} of this instance",
            instance_id=row.instance_id,
        )
        record_refusal(store, row, definition, None, actor, credentials, exc, now)
        raise exc


def filter_work(
    authority: Authority,
    store: Any,
    rows: list[StepRow],
    *,
    actor: Actor,
    now: datetime,
    definition_of: Callable[[str], ProcessDefinition],
) -> list[StepRow]:
    """The open steps ``actor`` may take now: their role, their unit, no lapsed claims hidden."""
    credentials = authority.credentials(actor, unit=None, at=now)
    directory = directory_of(authority)
    units: dict[str, str] = {}
    if directory is not None:
        getter = getattr(store, "instance_units", None)
        units = getter() if getter is not None else {}
    out = []
    for r in rows:
        definition = definition_of(r.version)
        rules: ProcessRules = rules_of(definition)
        unit = units.get(r.instance_id)
        step = definition.step(r.task)
        if step is not None and step.is_open:
            parent_ok = step_parent_ok(step, rules.step(r.task).parent_unit, unit, directory)
            if open_step_holder(credentials.holdings, unit, directory, parent_ok=parent_ok) or (
                authority.trusted_caller
            ):
                out.append(r)
            continue
        parent_ok = parent_allowed(r.role or "", rules.step(r.task).parent_unit, unit, directory)
        if any(
            h.role == r.role and in_unit(h, unit, directory, parent_ok=parent_ok)
            for h in credentials.holdings
        ):
            out.append(r)
    return out


def signatures(store: Any, instance_id: str) -> dict[int, str]:
    """step row id -> "Plh. Camat Cibatu (Nama, NIP ..., dasar Sprin ...)", directory mode."""
    getter = getattr(store, "step_holdings", None)
    if getter is None:
        return {}
    out = {}
    for step_id, h in getter(instance_id).items():
        if h["kind"] == CALLER:
            continue  # trusted-caller mode: nothing to say beyond the actor id
        holding = Holding(
            role="",
            kind=h["kind"],
            position=h["position"],
            position_name=h["position_name"],
            unit=h["unit"],
            basis=h["basis"],
        )
        out[step_id] = signature(holding, h["nip"], h["nama"])
    return out


def check_chain(store: Any, instance_id: str) -> None:
    """ChainBrokenError when the instance's stored rows no longer match their chain."""
    verify = getattr(store, "verify_chain", None)
    if verify is not None:
        verify(instance_id).raise_if_broken()


def broken_chains(store: Any, *, process_id: str | None = None) -> dict[str, str]:
    """Instance id -> why its chain does not verify, for every instance a report covers."""
    verify = getattr(store, "verify_chains", None)
    if verify is None:
        return {}
    return {
        r.instance_id: f"audit chain broken at {r.first_bad}: {r.reason} "
        "(left out of the figures; `sopflow audit verify` lists every broken instance)"
        for r in verify(process_id=process_id)
        if not r.ok
    }


def check_report_chains(
    store: Any, *, instance_id: str | None = None, process_id: str | None = None
) -> None:
    """A report is refused while any instance it covers has a broken chain."""
    if instance_id is not None:
        check_chain(store, instance_id)
        return
    verify = getattr(store, "verify_chains", None)
    if verify is None:
        return
    reports = verify(process_id=process_id)
    broken = [r for r in reports if not r.ok]
    if broken:
        first = broken[0]
        raise ChainBrokenError(
            first.instance_id,
            f"{first.first_bad}: {first.reason} ({len(broken)} of {len(reports)} instances "
            "broken; `sopflow audit verify` lists them)",
        )
