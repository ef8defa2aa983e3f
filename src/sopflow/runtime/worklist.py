"""Work lists: the ready steps of running instances, read without the engine's machinery.

A work list only reads: step rows from the store, names, lanes and forms from the
definitions, the SLA status from the policy, and (with an actor) the authority's filter.
This module therefore imports neither the token machine nor jobs nor events, so that
``sopflow inbox`` starts without them (issue 14); :class:`StoredReader` is what the
command line lists with, and :class:`~sopflow.runtime.engine.Engine` answers
``work_list`` through the same functions, so both apply the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sopflow.runtime.clock import Clock, SystemClock, ensure_aware
from sopflow.runtime.forms import form_schema
from sopflow.runtime.views import Actor, WorkItem, from_ms

if TYPE_CHECKING:
    from sopflow.authority.base import Authority
    from sopflow.definitions.model import ProcessDefinition
    from sopflow.stores.base import StepRow, Store

__all__ = ["ListingSource", "StoredReader", "work_item", "work_list"]


class ListingSource(Protocol):
    """What a work list reads: the engine, or a :class:`StoredReader`."""

    @property
    def store(self) -> Store: ...

    @property
    def authority(self) -> Authority: ...

    @property
    def sla(self) -> Any: ...

    def definition(self, version: str) -> ProcessDefinition: ...


def work_item(rt: ListingSource, r: StepRow, now: datetime) -> WorkItem:
    definition = rt.definition(r.version)
    step = definition.step(r.task)
    return WorkItem(
        instance_id=r.instance_id,
        process_id=r.process_id,
        version=r.version,
        task_id=r.task,
        step_no=r.step_no,
        name=step.name if step else None,
        lane=step.lane if step else None,
        role=r.role,
        kelengkapan=step.kelengkapan if step else (),
        output=step.output if step else (),
        waktu=r.standard,
        ready_at=from_ms(r.ready_at),
        due_at=None if r.due_at is None else from_ms(r.due_at),
        sla_status=rt.sla.status(r.due_at, r.risk_at, now),
        claimed_by=r.claimed_by,
        token=r.token,
        pass_no=r.pass_no,
        item=r.item,
        form_key=step.form_key if step else None,
        form=form_schema(step) if step else None,
    )


def work_list(
    rt: ListingSource,
    *,
    role: str | Iterable[str] | None,
    process_id: str | None,
    instance_id: str | None,
    now: datetime,
    user: str | None = None,
    actor: Actor | None = None,
) -> list[WorkItem]:
    """See :meth:`Engine.work_list <sopflow.runtime.engine.Engine.work_list>`."""
    roles = [role] if isinstance(role, str) else (None if role is None else list(role))
    if user is not None:
        rows = rt.store.open_steps(process_id=process_id, instance_id=instance_id)
        rows = [r for r in rows if _may_act(rt, r, user, roles)]
    elif roles is None:
        rows = rt.store.open_steps(process_id=process_id, instance_id=instance_id)
    else:
        # Open steps (in no lane, naming no one: Step.is_open) are stored with the role ""
        # and belong on every role's list; other role-less rows (assignment only) do not.
        named = set(roles)
        wanted = {*named, ""} if named else named  # no role at all: nothing, as the store
        rows = rt.store.open_steps(roles=wanted, process_id=process_id, instance_id=instance_id)
        rows = [r for r in rows if r.role in named or _is_open(rt, r)]
    if actor is not None:
        from sopflow.authority import gate

        rows = gate.filter_work(
            rt.authority, rt.store, rows, actor=actor, now=now, definition_of=rt.definition
        )
    return [work_item(rt, r, now) for r in rows]


def _is_open(rt: ListingSource, r: StepRow) -> bool:
    step = rt.definition(r.version).step(r.task)
    return step is not None and step.is_open


def _may_act(rt: ListingSource, r: StepRow, user: str, roles: Iterable[str] | None) -> bool:
    """Lanes and assignments applied to ``user`` as an action would apply them."""
    from sopflow.authority.base import Credentials, Holding
    from sopflow.runtime.assignment import may_act
    from sopflow.runtime.state import load_state

    definition = rt.definition(r.version)
    step = definition.step(r.task)
    if step is None:
        return False
    credentials = Credentials(user, tuple(Holding(role=role) for role in roles or ()))
    row = rt.store.load_instance(r.instance_id)
    return may_act(step, credentials, load_state(row.state, r.instance_id, definition).data)


class _NoCatalog:
    """A catalog with nothing in it: every definition comes from the store."""

    def get(self, process_id: str) -> ProcessDefinition:
        from sopflow.errors import DefinitionError

        raise DefinitionError(f"process {process_id!r} is not loaded here")

    def __iter__(self) -> Any:
        return iter(())


class StoredReader:
    """Work lists of a store whose definitions are read back from the store itself.

    Every step a work list shows belongs to an instance whose definition the store kept
    (byte for byte, by version) at its first start, and its names, lanes and zone come
    from that definition. Each one is loaded by
    :func:`~sopflow.definitions.loader.load_stored_for_reading`: its sha256 version is
    checked, the XSD and SpiffWorkflow's parser (passed when it was stored) are not
    re-run. It runs nothing: actions go through the engine, which loads with every check.
    The authority is the store's (:func:`~sopflow.authority.staff.authority_for`), as the
    engine's, so a directory decides what an actor sees exactly as there.
    """

    catalog: Any = _NoCatalog()

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        sla: Any = None,
        authority: Authority | None = None,
    ) -> None:
        from sopflow.authority.staff import authority_for

        self.store = store
        self.clock: Clock = clock or SystemClock()
        if sla is None:
            from sopflow.sla.policy import SlaPolicy

            sla = SlaPolicy()
        self.sla = sla
        self.authority: Authority = authority or authority_for(store)
        self._by_version: dict[str, ProcessDefinition] = {}

    def definition(self, version: str) -> ProcessDefinition:
        found = self._by_version.get(version)
        if found is None:
            from sopflow.definitions.loader import load_stored_for_reading
            from sopflow.errors import DefinitionError

            xml = self.store.definition_xml(version)
            if xml is None:
                raise DefinitionError(f"definition version {version[:12]} is not in the store")
            found = load_stored_for_reading(
                xml, version, source=f"stored definition {version[:12]}"
            )
            self._by_version[version] = found
        return found

    def work_list(
        self,
        *,
        role: str | Iterable[str] | None = None,
        process_id: str | None = None,
        instance_id: str | None = None,
        at: datetime | None = None,
        user: str | None = None,
        actor: Actor | None = None,
    ) -> list[WorkItem]:
        """As :meth:`Engine.work_list <sopflow.runtime.engine.Engine.work_list>`."""
        now = ensure_aware(at if at is not None else self.clock.now(), "action time")
        return work_list(
            self,
            role=role,
            process_id=process_id,
            instance_id=instance_id,
            now=now,
            user=user,
            actor=actor,
        )
