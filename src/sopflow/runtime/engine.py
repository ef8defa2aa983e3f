"""The engine: the public facade over instances of a catalog's processes.

SpiffWorkflow parses and validates the BPMN (see ``sopflow.definitions``); sopflow's own
runtime then runs the checked node graph, laid out after Zeebe's engine:

- :mod:`~sopflow.runtime.actions` — start, claim, release, complete, cancel: read,
  check, compute, write one Change in one transaction guarded by the revision;
- :mod:`~sopflow.runtime.machine` — the token machine, which knows no element kind;
- :mod:`~sopflow.runtime.behaviours` — one behaviour per element kind, one registry;
- :mod:`~sopflow.runtime.state` — tokens, scopes and data as compact JSON;
- :mod:`~sopflow.runtime.queries` — work lists, history, status.

The state does not grow with returns: SpiffWorkflow's task tree grows with every loop
pass, embeds the whole spec in each serialized instance and forgets when a task became
ready. Step timings live in the store's step table, written with the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sopflow.authority.base import Authority
from sopflow.authority.staff import authority_for
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import DefinitionError
from sopflow.events.api import EngineEvents
from sopflow.jobs.api import EngineJobs
from sopflow.jobs.context import ServiceHandler
from sopflow.logging import get_logger
from sopflow.runtime import actions, queries
from sopflow.runtime.clock import Clock, SystemClock, ensure_aware
from sopflow.runtime.views import Actor, InstanceView, Progress, StepRecord, WorkItem
from sopflow.stores.base import AuditRow, Store

__all__ = ["Deadlines", "DefinitionSource", "Engine", "ScriptHandler"]

#: A Python function the application registers for a script task: gets a copy of the
#: instance data, returns the fields to update (or None).
ScriptHandler = Callable[[dict[str, Any]], Mapping[str, Any] | None]


class DefinitionSource(Protocol):
    """What the engine needs of a catalog."""

    def get(self, process_id: str) -> ProcessDefinition: ...

    def __iter__(self) -> Any: ...


class Deadlines(Protocol):
    """The SLA side of the engine: when a step becomes ready, when it is due."""

    def deadlines(
        self,
        definition: ProcessDefinition,
        step: Step,
        ready_at: datetime,
        data: Mapping[str, object] | None = None,
        *,
        instance_id: str | None = None,
    ) -> tuple[datetime | None, datetime | None]:
        """(due_at, at_risk_at) of a step that became ready at ``ready_at``; ``data`` is what
        the step sees as it opens (a due-date expression reads it)."""
        ...

    def status(self, due_at: int | None, risk_at: int | None, now: datetime) -> str: ...


class Engine(EngineJobs, EngineEvents):
    """Run instances of a catalog's processes against a store.

    ``clock`` stamps every action (inject a fake one in tests and simulations);
    ``sla`` computes due dates when steps become ready (default: the national ASN
    calendar); ``authority`` decides what an actor holds (default: :class:`TrustedCaller`,
    the caller's roles as given); ``script_handlers`` maps script-task ids to Python
    functions — a script task without one is refused when its file is loaded, and its BPMN
    text never runs.

    Jobs (:mod:`sopflow.jobs`, docs/workers.md): ``service_handlers`` maps service, send
    and business-rule task ids to Python functions run as jobs; ``external_tasks`` makes
    any such task without a handler an external task of topic = its id;
    ``on_escalation`` is called by the worker that announces an SLA escalation job.
    """

    def __init__(
        self,
        catalog: DefinitionSource,
        store: Store,
        *,
        clock: Clock | None = None,
        sla: Deadlines | None = None,
        script_handlers: Mapping[str, ScriptHandler] | None = None,
        authority: Authority | None = None,
        service_handlers: Mapping[str, ServiceHandler] | None = None,
        external_tasks: bool = False,
        on_escalation: Callable[[Any], object] | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.clock: Clock = clock or SystemClock()
        if sla is None:
            from sopflow.sla.policy import SlaPolicy

            sla = SlaPolicy()
        self.sla = sla
        self.script_handlers = dict(script_handlers or {})
        self.authority: Authority = authority or authority_for(store)
        self._log = get_logger("sopflow")
        self._by_version: dict[str, ProcessDefinition] = {d.version: d for d in catalog}
        self._flows: dict[str, dict[str, tuple[str, str | None, str]]] = {}
        self._init_jobs(service_handlers, external_tasks, on_escalation)

    # ------------------------------------------------------------------ helpers
    def definition(self, version: str) -> ProcessDefinition:
        """The definition an instance runs on: the catalog's, or the stored older version."""
        found = self._by_version.get(version)
        if found is None:
            xml = self.store.definition_xml(version)
            if xml is None:
                raise DefinitionError(f"definition version {version[:12]} is not in the store")
            from sopflow.definitions.loader import load_definitions_bytes

            source = f"stored definition {version[:12]}"
            loaded = {
                d.version: d
                for d in load_definitions_bytes(
                    xml, source=source, script_handlers=tuple(self.script_handlers)
                )
            }
            if version not in loaded:
                raise DefinitionError(
                    f"stored definition {version[:12]} does not match its XML", file=source
                )
            found = loaded[version]
            self._by_version[version] = found
        return found

    def _now(self, at: datetime | None) -> datetime:
        return ensure_aware(at if at is not None else self.clock.now(), "action time")

    def _emit(self, rows: Iterable[AuditRow]) -> None:
        for row in rows:
            self._log.info(row.event, **row.payload)

    # ------------------------------------------------------------------ actions
    def start(
        self,
        process_id: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        unit: str | None = None,
    ) -> Progress:
        """Start an instance in ``unit`` (default: the SOP's kecamatan); returns its id
        and its first ready step(s)."""
        return actions.start(self, process_id, actor=actor, data=data, at=at, unit=unit)

    def complete(
        self,
        instance_id: str,
        task: str | int,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        item: str | None = None,
    ) -> Progress:
        """Complete a ready step as ``actor``; ``task`` is the task id or the step number.

        When several rows of that step are open (parallel branches, multi-instance),
        ``item`` picks the one for that item ("Kasi Trantib", or the loop counter);
        without it, the row ``actor`` claimed, else the oldest unclaimed one.
        """
        return actions.complete(self, instance_id, task, actor=actor, data=data, at=at, item=item)

    def claim(
        self,
        instance_id: str,
        task: str | int,
        *,
        actor: Actor,
        at: datetime | None = None,
        item: str | None = None,
    ) -> Progress:
        """Mark a ready step as taken by ``actor`` so colleagues see it."""
        return actions.claim(self, instance_id, task, actor, at, take=True, item=item)

    def release(
        self,
        instance_id: str,
        task: str | int,
        *,
        actor: Actor,
        at: datetime | None = None,
        item: str | None = None,
    ) -> Progress:
        """Give a claimed step back; only its claimer can."""
        return actions.claim(self, instance_id, task, actor, at, take=False, item=item)

    def cancel(
        self, instance_id: str, *, reason: str, actor: Actor, at: datetime | None = None
    ) -> Progress:
        """Stop an instance for good, with the reason on record."""
        return actions.cancel(self, instance_id, reason=reason, actor=actor, at=at)

    # ------------------------------------------------------------------ queries
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
        """Ready steps of running instances, oldest first, by role(s), process or instance.

        With ``user``: the steps that user (holding ``role``, if given) may act on, lanes
        and assignments (candidate users and groups, assignee) applied as for an action.
        With ``actor``: only the steps that person may take now (their positions' roles,
        in their units; with a directory, what they hold, not what they claim).
        """
        return queries.work_list(
            self,
            role=role,
            process_id=process_id,
            instance_id=instance_id,
            at=at,
            user=user,
            actor=actor,
        )

    def history(self, instance_id: str) -> list[StepRecord]:
        """Every pass through every step of an instance, in the order they became ready."""
        return queries.history(self, instance_id)

    def status(
        self, instance_id: str, *, at: datetime | None = None, actor: Actor | None = None
    ) -> InstanceView:
        """State, open steps and full history of one instance (for ``actor``, if given).

        An instance whose hash chain does not verify is refused (ChainBrokenError): its
        rows were changed outside sopflow and would be shown as if they were true.
        """
        return queries.status(self, instance_id, at=at, actor=actor)
