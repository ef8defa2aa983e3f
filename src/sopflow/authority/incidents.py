"""Who may see an incident and who may retry it (issue 13 applied to issue 11's incidents).

An incident says what went wrong inside an instance (a handler's message, an uncaught
BPMN error), so it is read under the same rule as the instance's status: a holder of a
position in the instance's unit, or in a parent unit where the process lets one act.
Retrying it makes the instance move again, which is acting on it: that needs a position
whose role the process names (one of its lanes or its ``pembatal`` roles), held in the
instance's unit or a parent unit (the kabupaten's office that runs the servers). An
incident of a timer start event has no instance; the process's default unit (the SOP's
kecamatan, the rule ``start`` follows) stands in for it.

Without a directory (trusted-caller mode) nothing is checked, as everywhere else; an
application that calls without an actor is trusted the same way ``status`` trusts it.
A refused retry, and a refused read of one instance's incidents, are stored as a
``permission.denied`` audit row of the instance (chained like every other row).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sopflow.authority.base import Credentials
from sopflow.authority.gate import directory_of, event_start_unit, record_refusal
from sopflow.authority.policy import rules_of
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import (
    DirectoryError,
    InstanceNotFoundError,
    PermissionDeniedError,
    UnitAccessError,
    UnknownProcessError,
)
from sopflow.jobs.model import IncidentRow
from sopflow.logging import get_logger
from sopflow.runtime.duties import in_unit, visible
from sopflow.runtime.views import Actor

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine

__all__ = ["check_retry", "may_see", "visible_incidents"]

_log = get_logger("sopflow")


def _where(
    rt: Engine, incident: IncidentRow
) -> tuple[ProcessDefinition | None, str | None, object | None]:
    """The definition, the unit and the instance row an incident is judged under."""
    if incident.instance_id is not None:
        try:
            row = rt.store.load_instance(incident.instance_id)
        except InstanceNotFoundError:
            return None, None, None
        getter = getattr(rt.store, "instance_unit", None)
        unit = getter(incident.instance_id) if getter is not None else None
        return rt.definition(row.version), unit, row
    if incident.process_id is None:
        return None, None, None
    try:
        definition = rt.catalog.get(incident.process_id)
    except UnknownProcessError:  # no longer in the catalog: no unit to judge it under
        return None, None, None
    try:
        return definition, event_start_unit(rt.authority, definition, None), None
    except DirectoryError:
        return definition, None, None


def _credentials(rt: Engine, actor: Actor, unit: str | None, now: datetime) -> Credentials:
    return rt.authority.credentials(Actor(actor.id), unit=unit, at=now)


def _refuse(
    rt: Engine,
    incident: IncidentRow,
    definition: ProcessDefinition | None,
    row: object | None,
    actor: Actor,
    credentials: Credentials | None,
    exc: PermissionDeniedError,
    now: datetime,
) -> PermissionDeniedError:
    from sopflow.stores.base import InstanceRow

    if isinstance(row, InstanceRow) and definition is not None:
        record_refusal(rt.store, row, definition, None, actor, credentials, exc, now)
    else:  # no instance to chain the refusal on (a start timer's incident): log it
        _log.warning(
            "permission.denied",
            incident=incident.id,
            process_id=incident.process_id,
            actor=actor.id,
            reason=exc.message,
            timestamp=now.isoformat(),
        )
    return exc


def may_see(rt: Engine, incident: IncidentRow, actor: Actor, now: datetime) -> bool:
    definition, unit, _row = _where(rt, incident)
    if definition is None:
        return False
    if unit is None:
        return False
    credentials = _credentials(rt, actor, unit, now)
    return visible(credentials, unit, directory_of(rt.authority), rules_of(definition))


def visible_incidents(
    rt: Engine,
    found: Sequence[IncidentRow],
    *,
    actor: Actor | None,
    instance_id: str | None,
    now: datetime,
) -> list[IncidentRow]:
    """The incidents ``actor`` may see. A list over all instances leaves out the rest (as
    a work list does); asking for one instance the actor may not see is refused."""
    if actor is None or rt.authority.trusted_caller:
        return list(found)
    if instance_id is not None:
        probe = IncidentRow(0, None, instance_id, None, "", None, "", 0, None, None)
        definition, unit, row = _where(rt, probe)
        if definition is not None and unit is not None:
            credentials = _credentials(rt, actor, unit, now)
            if not visible(credentials, unit, directory_of(rt.authority), rules_of(definition)):
                exc = UnitAccessError(
                    f"actor {credentials.actor_id!r} holds no position in unit {unit} of this "
                    "instance; its incidents are not shown",
                    instance_id=instance_id,
                )
                raise _refuse(rt, probe, definition, row, actor, credentials, exc, now)
    return [i for i in found if may_see(rt, i, actor, now)]


def check_retry(rt: Engine, incident: IncidentRow, actor: Actor | None, now: datetime) -> None:
    """Refuse (and record) a retry by someone who holds no role the process names in the
    instance's unit or a parent unit."""
    if actor is None or rt.authority.trusted_caller:
        return
    definition, unit, row = _where(rt, incident)
    credentials: Credentials | None = None
    if definition is None or unit is None:
        exc: PermissionDeniedError = UnitAccessError(
            f"incident {incident.id}: no unit of the directory to judge it under; only the "
            "application (no actor) may retry it",
            instance_id=incident.instance_id,
        )
        raise _refuse(rt, incident, definition, row, actor, credentials, exc, now)
    rules = rules_of(definition)
    roles = set(rules.roles) | set(rules.cancel_roles)
    credentials = _credentials(rt, actor, unit, now)
    directory = directory_of(rt.authority)
    if any(
        h.role in roles and in_unit(h, unit, directory, parent_ok=True)
        for h in credentials.holdings
    ):
        return
    exc = PermissionDeniedError(
        f"actor {credentials.actor_id!r} may not retry incident {incident.id}: it needs one of "
        f"the roles {', '.join(sorted(roles))} of process {definition.process_id} in unit "
        f"{unit} or a parent unit",
        instance_id=incident.instance_id,
    )
    raise _refuse(rt, incident, definition, row, actor, credentials, exc, now)
