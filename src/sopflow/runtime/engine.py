"""The engine: steps SOP instances through their tasks.

SpiffWorkflow parses and validates the BPMN (see ``sopflow.definitions``); the engine
then walks the checked node graph with one token per instance. Its state is therefore
tiny (the token's node and the data) and does not grow with returns: SpiffWorkflow's own
task tree grows with every loop pass and stops advancing after about 334 returns, embeds
the whole spec in each serialized instance and forgets when a task became ready. Step
timings live in the store's step table, written in the same transaction as the state.

Every public action is: read the instance, check everything, compute the whole change,
write it in one transaction guarded by the instance revision. A refused action raises a
typed error before anything is written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

from sopflow.authority.base import Authority, Holding, TrustedCaller
from sopflow.definitions.model import Node, NodeKind, ProcessDefinition, Step
from sopflow.errors import (
    ClaimedError,
    ClockError,
    CorruptInstanceError,
    DefinitionError,
    ExpressionError,
    InstanceClosedError,
    PermissionDeniedError,
    TaskAlreadyCompletedError,
    TaskDataError,
    TaskNotFoundError,
)
from sopflow.runtime.assignment import check_step_access
from sopflow.runtime.clock import Clock, SystemClock, ensure_aware
from sopflow.runtime.data import check_data
from sopflow.runtime.expressions import compile_expression
from sopflow.runtime.views import (
    Actor,
    GatewayDecision,
    InstanceView,
    Progress,
    StepRecord,
    WorkItem,
    from_ms,
    to_ms,
)
from sopflow.stores.base import (
    CANCELLED,
    COMPLETED,
    RUNNING,
    AuditRow,
    Change,
    InstanceRow,
    NewInstance,
    NewStep,
    StepRow,
    StepUpdate,
    Store,
)

__all__ = ["Deadlines", "DefinitionSource", "Engine", "ScriptHandler"]

#: A Python function the application registers for a script task: gets a copy of the
#: instance data, returns the fields to update (or None).
ScriptHandler = Callable[[dict[str, Any]], Mapping[str, Any] | None]

_MAX_HOPS = 10_000  # nodes passed without reaching a wait state: a loop with no task


class DefinitionSource(Protocol):
    """What the engine needs of a catalog."""

    def get(self, process_id: str) -> ProcessDefinition: ...

    def __iter__(self) -> Any: ...


class Deadlines(Protocol):
    """The SLA side of the engine: when a step becomes ready, when it is due."""

    def deadlines(
        self, definition: ProcessDefinition, step: Step, ready_at: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """(due_at, at_risk_at) of a step that became ready at ``ready_at``."""
        ...

    def status(self, due_at: int | None, risk_at: int | None, now: datetime) -> str: ...


@dataclass(frozen=True, slots=True)
class _State:
    token: str | None
    data: dict[str, Any]

    def dump(self) -> str:
        return json.dumps(
            {"t": self.token, "d": self.data}, ensure_ascii=False, separators=(",", ":")
        )

    @staticmethod
    def load(row: InstanceRow) -> _State:
        try:
            raw = json.loads(row.state)
            token, data = raw["t"], raw["d"]
            if not isinstance(data, dict) or not (token is None or isinstance(token, str)):
                raise ValueError("unexpected shape")
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptInstanceError(row.instance_id, str(exc)) from None
        return _State(token, data)


def _step_fields(step: Step) -> dict[str, Any]:
    """The step keys every audit event about a step carries."""
    return {"task_id": step.id, "step_no": step.no, "role": step.role}


class Engine:
    """Run instances of a catalog's processes against a store.

    ``clock`` stamps every action (inject a fake one in tests and simulations);
    ``sla`` computes due dates when steps become ready (default: the national ASN
    calendar); ``authority`` decides what an actor holds (default: :class:`TrustedCaller`,
    the caller's roles as given); ``script_handlers`` maps script-task ids to Python
    functions — a script task without one is refused when its file is loaded, and its BPMN
    text never runs.
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
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.clock: Clock = clock or SystemClock()
        if sla is None:
            from sopflow.sla.policy import SlaPolicy

            sla = SlaPolicy()
        self.sla = sla
        self.script_handlers = dict(script_handlers or {})
        self.authority: Authority = authority or TrustedCaller()
        self._log = structlog.get_logger("sopflow")
        self._by_version: dict[str, ProcessDefinition] = {d.version: d for d in catalog}
        self._flows: dict[str, dict[str, tuple[str, str | None, str]]] = {}

    # ------------------------------------------------------------------ helpers
    def definition(self, version: str) -> ProcessDefinition:
        """The definition an instance runs on: the catalog's, or the stored older version."""
        found = self._by_version.get(version)
        if found is None:
            xml = self.store.definition_xml(version)
            if xml is None:
                raise DefinitionError(f"definition version {version[:12]} is not in the store")
            from sopflow.definitions.loader import load_definition_bytes

            found = load_definition_bytes(xml, source=f"stored definition {version[:12]}")
            self._by_version[version] = found
        return found

    def _now(self, at: datetime | None) -> datetime:
        return ensure_aware(at if at is not None else self.clock.now(), "action time")

    def _event(self, event: str, at: datetime, **fields: Any) -> AuditRow:
        # Every event carries the same keys, so a log pipeline can index them blindly.
        payload = {"task_id": None, "step_no": None, "role": None, "actor": None, **fields}
        payload["timestamp"] = at.isoformat()
        return AuditRow(at=to_ms(at), event=event, payload=payload)

    def _emit(self, rows: Iterable[AuditRow]) -> None:
        for row in rows:
            self._log.info(row.event, **row.payload)

    def _resolve(self, definition: ProcessDefinition, instance_id: str, task: str | int) -> Step:
        step: Step | None = None
        if isinstance(task, int) or (isinstance(task, str) and task.strip().isdigit()):
            step = definition.step_by_no(int(task))
        if step is None and isinstance(task, str):
            step = definition.step(task.strip())
        if step is None:
            known = ", ".join(f"{s.no}={s.id}" for s in definition.steps)
            raise TaskNotFoundError(
                f"no step {task!r} in process {definition.process_id} (steps: {known})",
                instance_id=instance_id,
                task_id=str(task),
            )
        return step

    def _open_row(self, row: InstanceRow, step: Step, open_rows: list[StepRow]) -> StepRow:
        for r in open_rows:
            if r.task == step.id:
                return r
        # Only on the error path: read the whole history to say what happened.
        done = [
            r for r in self.store.steps(row.instance_id) if r.task == step.id and r.completed_at
        ]
        if done:
            last = done[-1]
            raise TaskAlreadyCompletedError(
                f"step {step.no} is not ready: already completed by {last.actor} at "
                f"{from_ms(last.completed_at or 0).isoformat()}",
                instance_id=row.instance_id,
                task_id=step.id,
            )
        raise TaskNotFoundError(
            f"step {step.no} is not ready (not reached yet)",
            instance_id=row.instance_id,
            task_id=step.id,
        )

    def _load_running(self, instance_id: str) -> tuple[InstanceRow, _State, ProcessDefinition]:
        row = self.store.load_instance(instance_id)
        if row.status != RUNNING:
            raise InstanceClosedError(f"instance is {row.status}", instance_id=instance_id)
        return row, _State.load(row), self.definition(row.version)

    def _load_step_action(
        self, instance_id: str
    ) -> tuple[InstanceRow, _State, ProcessDefinition, list[StepRow]]:
        """An action on a step reads the instance and its open steps in one store call."""
        row, open_rows = self.store.load_with_open_steps(instance_id)
        if row.status != RUNNING:
            raise InstanceClosedError(f"instance is {row.status}", instance_id=instance_id)
        return row, _State.load(row), self.definition(row.version), open_rows

    def _check_time(self, row: InstanceRow, now: datetime, ready_at: int | None) -> None:
        at = to_ms(now)
        if ready_at is not None and at < ready_at:
            raise ClockError(
                f"action dated {now.isoformat()} is before the step became ready "
                f"({from_ms(ready_at).isoformat()})",
                instance_id=row.instance_id,
            )
        if at < row.last_action_at:
            raise ClockError(
                f"action dated {now.isoformat()} is before the instance's last action "
                f"({from_ms(row.last_action_at).isoformat()})",
                instance_id=row.instance_id,
            )

    def _check_role(
        self,
        row: InstanceRow,
        definition: ProcessDefinition,
        step: Step,
        actor: Actor,
        now: datetime,
    ) -> Holding:
        credentials = self.authority.credentials(actor, unit=None, at=now)
        try:
            return check_step_access(step, credentials, instance_id=row.instance_id)
        except PermissionDeniedError:
            self._log.warning(
                "permission.denied",
                instance_id=row.instance_id,
                process_id=definition.process_id,
                version=definition.version,
                **_step_fields(step),
                actor=actor.id,
                actor_roles=sorted(credentials.roles),
                timestamp=now.isoformat(),
            )
            raise

    # ------------------------------------------------------------------ navigation
    def _advance(
        self,
        definition: ProcessDefinition,
        node_id: str,
        data: dict[str, Any],
        instance_id: str,
        *,
        from_start: bool = False,
    ) -> tuple[str | None, list[GatewayDecision]]:
        """Move the token from ``node_id`` to the next wait state (a step) or the end."""
        nodes = definition.nodes
        path: list[GatewayDecision] = []
        current = nodes[node_id]
        nxt = current.id if from_start else self._follow(current, data, instance_id, path)
        for _ in range(_MAX_HOPS):
            if nxt is None:
                return None, path
            node = nodes[nxt]
            kind = node.kind
            if kind in (NodeKind.USER_TASK, NodeKind.MANUAL_TASK):
                return node.id, path
            if kind is NodeKind.SUBPROCESS:
                if node.start is None:
                    raise DefinitionError("embedded subprocess has no start event", element=node.id)
                nxt = node.start
                continue
            if kind is NodeKind.SCRIPT_TASK:
                handler = self.script_handlers.get(node.id)
                if handler is None:
                    raise DefinitionError(
                        "script task has no registered Python handler", element=node.id
                    )
                updates = handler(dict(data))
                if updates:
                    data.update(check_data(updates, instance_id, node.id))
            if kind is NodeKind.END:
                if node.scope is None:
                    return None, path
                nxt = self._follow(nodes[node.scope], data, instance_id, path)
                continue
            nxt = self._follow(node, data, instance_id, path)
        raise DefinitionError(
            f"more than {_MAX_HOPS} nodes passed without reaching a task: a loop with no task",
            element=node_id,
        )

    def _follow(
        self, node: Node, data: Mapping[str, Any], instance_id: str, path: list[GatewayDecision]
    ) -> str | None:
        flows = node.outgoing
        if node.kind is NodeKind.EXCLUSIVE_GATEWAY and (
            len(flows) > 1 or (flows and flows[0].condition)
        ):
            default = None
            for flow in flows:
                if flow.is_default:
                    default = flow
                    continue
                if flow.condition is None:
                    continue
                try:
                    taken = compile_expression(flow.condition).evaluate_bool(data)
                except ExpressionError as exc:
                    raise TaskDataError(
                        f"gateway {node.id} cannot decide: {exc}", instance_id=instance_id
                    ) from None
                if taken:
                    path.append(GatewayDecision(node.id, flow.id, flow.name, flow.target))
                    return flow.target
            if default is None:
                raise TaskDataError(
                    f"gateway {node.id}: no condition holds and there is no default flow",
                    instance_id=instance_id,
                )
            path.append(GatewayDecision(node.id, default.id, default.name, default.target))
            return default.target
        if not flows:
            return None
        if len(flows) > 1:
            raise DefinitionError(
                "more than one outgoing flow (parallel split) is not supported", element=node.id
            )
        return flows[0].target

    def _new_step(self, definition: ProcessDefinition, task: str, now: datetime) -> NewStep:
        step = definition.step(task)
        if step is None:  # pragma: no cover - the loader makes every user/manual task a step
            raise DefinitionError("task is not a step", element=task)
        due, risk = self.sla.deadlines(definition, step, now)
        return NewStep(
            task=step.id,
            step_no=step.no,
            role=step.role,
            ready_at=to_ms(now),
            due_at=None if due is None else to_ms(due),
            risk_at=None if risk is None else to_ms(risk),
            standard=step.waktu,
        )

    def _context(self, definition: ProcessDefinition, instance_id: str) -> dict[str, Any]:
        return {
            "instance_id": instance_id,
            "process_id": definition.process_id,
            "version": definition.version,
        }

    def _ready_events(
        self,
        definition: ProcessDefinition,
        instance_id: str,
        token: str | None,
        now: datetime,
        actor: str,
    ) -> list[AuditRow]:
        ctx = self._context(definition, instance_id)
        if token is None:
            return [self._event("instance.completed", now, **ctx, actor=actor)]
        step = definition.step(token)
        assert step is not None
        return [
            self._event(
                "task.ready",
                now,
                **ctx,
                **_step_fields(step),
                actor=None,
            )
        ]

    def _path_events(
        self,
        definition: ProcessDefinition,
        instance_id: str,
        path: list[GatewayDecision],
        now: datetime,
        step: Step | None,
        actor: str,
    ) -> list[AuditRow]:
        ctx = self._context(definition, instance_id)
        return [
            self._event(
                "gateway.decided",
                now,
                **ctx,
                gateway=d.gateway,
                flow=d.flow,
                label=d.label,
                target=d.target,
                **(_step_fields(step) if step else {}),
                actor=actor,
            )
            for d in path
        ]

    # ------------------------------------------------------------------ actions
    def start(
        self,
        process_id: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> Progress:
        """Start an instance; returns its id and its first ready step."""
        definition = self.catalog.get(process_id)
        now = self._now(at)
        instance_id = str(uuid.uuid4())
        values = check_data(data, instance_id, None)
        token, path = self._advance(
            definition, definition.start_node, values, instance_id, from_start=True
        )
        self.store.ensure_definition(
            definition.version, definition.process_id, definition.source, definition.xml
        )
        ctx = self._context(definition, instance_id)
        audit = [
            self._event(
                "instance.started",
                now,
                **ctx,
                task_id=None,
                step_no=None,
                role=None,
                actor=actor.id,
            )
        ]
        audit += self._path_events(definition, instance_id, path, now, None, actor.id)
        audit += self._ready_events(definition, instance_id, token, now, actor.id)
        state = _State(token, values)
        self.store.insert_instance(
            NewInstance(
                instance_id=instance_id,
                process_id=definition.process_id,
                version=definition.version,
                status=RUNNING if token else COMPLETED,
                state=state.dump(),
                started_at=to_ms(now),
                started_by=actor.id,
                last_action_at=to_ms(now),
                ended_at=None if token else to_ms(now),
            ),
            [self._new_step(definition, token, now)] if token else [],
            audit,
        )
        self._emit(audit)
        return Progress(
            instance_id, RUNNING if token else COMPLETED, (token,) if token else (), tuple(path)
        )

    def complete(
        self,
        instance_id: str,
        task: str | int,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> Progress:
        """Complete a ready step as ``actor``; ``task`` is the task id or the step number."""
        row, state, definition, open_rows = self._load_step_action(instance_id)
        step = self._resolve(definition, instance_id, task)
        open_row = self._open_row(row, step, open_rows)
        now = self._now(at)
        self._check_role(row, definition, step, actor, now)
        if open_row.claimed_by is not None and open_row.claimed_by != actor.id:
            raise ClaimedError(
                f"claimed by {open_row.claimed_by!r}; they must release it first",
                instance_id=instance_id,
                task_id=step.id,
            )
        self._check_time(row, now, open_row.ready_at)
        submitted = check_data(data, instance_id, step.id)
        if step.decision_field is not None:
            value = submitted.get(step.decision_field)
            if not isinstance(value, bool):
                got = "missing" if step.decision_field not in submitted else f"got {value!r}"
                raise TaskDataError(
                    f"step {step.no} is a decision: field {step.decision_field!r} must be "
                    "true (Ya) "
                    f"or false (Tidak); {got}",
                    instance_id=instance_id,
                    task_id=step.id,
                )
        values = {**state.data, **submitted}
        token, path = self._advance(definition, step.id, values, instance_id)
        ctx = self._context(definition, instance_id)
        audit = [
            self._event(
                "task.completed",
                now,
                **ctx,
                **_step_fields(step),
                actor=actor.id,
                data=submitted,
            )
        ]
        audit += self._path_events(definition, instance_id, path, now, step, actor.id)
        audit += self._ready_events(definition, instance_id, token, now, actor.id)
        self.store.apply(
            Change(
                instance_id=instance_id,
                expected_revision=row.revision,
                status=RUNNING if token else COMPLETED,
                state=_State(token, values).dump(),
                last_action_at=to_ms(now),
                ended_at=None if token else to_ms(now),
                step_updates=[
                    StepUpdate(
                        step_id=open_row.id,
                        completed_at=to_ms(now),
                        actor=actor.id,
                        data=submitted,
                        path=tuple(d.flow for d in path),
                    )
                ],
                new_steps=[self._new_step(definition, token, now)] if token else [],
                audit=audit,
            )
        )
        self._emit(audit)
        return Progress(
            instance_id, RUNNING if token else COMPLETED, (token,) if token else (), tuple(path)
        )

    def claim(
        self, instance_id: str, task: str | int, *, actor: Actor, at: datetime | None = None
    ) -> Progress:
        """Mark a ready step as taken by ``actor`` so colleagues see it."""
        return self._claim(instance_id, task, actor, at, claim=True)

    def release(
        self, instance_id: str, task: str | int, *, actor: Actor, at: datetime | None = None
    ) -> Progress:
        """Give a claimed step back; only its claimer can."""
        return self._claim(instance_id, task, actor, at, claim=False)

    def _claim(
        self, instance_id: str, task: str | int, actor: Actor, at: datetime | None, *, claim: bool
    ) -> Progress:
        row, state, definition, open_rows = self._load_step_action(instance_id)
        step = self._resolve(definition, instance_id, task)
        open_row = self._open_row(row, step, open_rows)
        now = self._now(at)
        self._check_role(row, definition, step, actor, now)
        if claim and open_row.claimed_by not in (None, actor.id):
            raise ClaimedError(
                f"already claimed by {open_row.claimed_by!r}",
                instance_id=instance_id,
                task_id=step.id,
            )
        if not claim and open_row.claimed_by != actor.id:
            holder = open_row.claimed_by
            raise ClaimedError(
                "not claimed" if holder is None else f"claimed by {holder!r}, not by {actor.id!r}",
                instance_id=instance_id,
                task_id=step.id,
            )
        self._check_time(row, now, open_row.ready_at)
        ctx = self._context(definition, instance_id)
        event = "task.claimed" if claim else "task.released"
        audit = [self._event(event, now, **ctx, **_step_fields(step), actor=actor.id)]
        self.store.apply(
            Change(
                instance_id=instance_id,
                expected_revision=row.revision,
                status=RUNNING,
                state=row.state,
                last_action_at=to_ms(now),
                step_updates=[
                    StepUpdate(
                        step_id=open_row.id, claimed_by=actor.id if claim else None, set_claim=True
                    )
                ],
                audit=audit,
            )
        )
        self._emit(audit)
        return Progress(instance_id, RUNNING, (state.token,) if state.token else ())

    def cancel(
        self, instance_id: str, *, reason: str, actor: Actor, at: datetime | None = None
    ) -> Progress:
        """Stop an instance for good, with the reason on record."""
        if not reason or not reason.strip():
            raise TaskDataError("a cancellation needs a reason", instance_id=instance_id)
        row, state, definition = self._load_running(instance_id)
        now = self._now(at)
        self._check_time(row, now, None)
        ctx = self._context(definition, instance_id)
        audit = [
            self._event(
                "instance.cancelled",
                now,
                **ctx,
                task_id=state.token,
                step_no=None,
                role=None,
                actor=actor.id,
                reason=reason.strip(),
            )
        ]
        self.store.apply(
            Change(
                instance_id=instance_id,
                expected_revision=row.revision,
                status=CANCELLED,
                state=row.state,
                last_action_at=to_ms(now),
                ended_at=to_ms(now),
                cancel_reason=reason.strip(),
                audit=audit,
            )
        )
        self._emit(audit)
        return Progress(instance_id, CANCELLED, ())

    # ------------------------------------------------------------------ queries
    def _work_item(self, r: StepRow, now: datetime) -> WorkItem:
        definition = self.definition(r.version)
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
            sla_status=self.sla.status(r.due_at, r.risk_at, now),
            claimed_by=r.claimed_by,
        )

    def work_list(
        self,
        *,
        role: str | Iterable[str] | None = None,
        process_id: str | None = None,
        instance_id: str | None = None,
        at: datetime | None = None,
    ) -> list[WorkItem]:
        """Ready steps of running instances, oldest first, by role(s), process or instance."""
        roles = [role] if isinstance(role, str) else role
        now = self._now(at)
        rows = self.store.open_steps(roles=roles, process_id=process_id, instance_id=instance_id)
        return [self._work_item(r, now) for r in rows]

    def _path(
        self, definition: ProcessDefinition, flow_ids: tuple[str, ...]
    ) -> tuple[GatewayDecision, ...]:
        index = self._flows.get(definition.version)
        if index is None:
            index = {
                f.id: (node.id, f.name, f.target)
                for node in definition.nodes.values()
                for f in node.outgoing
            }
            self._flows[definition.version] = index
        out = []
        for fid in flow_ids:
            gateway, label, target = index.get(fid, ("?", None, "?"))
            out.append(GatewayDecision(gateway, fid, label, target))
        return tuple(out)

    def history(self, instance_id: str) -> list[StepRecord]:
        row = self.store.load_instance(instance_id)
        definition = self.definition(row.version)
        records = []
        for r in self.store.steps(instance_id):
            step = definition.step(r.task)
            records.append(
                StepRecord(
                    task_id=r.task,
                    step_no=r.step_no,
                    name=step.name if step else None,
                    lane=step.lane if step else None,
                    role=r.role,
                    ready_at=from_ms(r.ready_at),
                    completed_at=None if r.completed_at is None else from_ms(r.completed_at),
                    actor=r.actor,
                    claimed_by=r.claimed_by,
                    data=r.data,
                    path=self._path(definition, r.path),
                    waktu=r.standard,
                    due_at=None if r.due_at is None else from_ms(r.due_at),
                )
            )
        return records

    def status(self, instance_id: str, *, at: datetime | None = None) -> InstanceView:
        """State, open steps and full history of one instance."""
        row = self.store.load_instance(instance_id)
        state = _State.load(row)
        now = self._now(at)
        open_steps = (
            tuple(self._work_item(r, now) for r in self.store.open_steps(instance_id=instance_id))
            if row.status == RUNNING
            else ()
        )
        return InstanceView(
            instance_id=row.instance_id,
            process_id=row.process_id,
            version=row.version,
            status=row.status,
            started_at=from_ms(row.started_at),
            started_by=row.started_by,
            last_action_at=from_ms(row.last_action_at),
            ended_at=None if row.ended_at is None else from_ms(row.ended_at),
            cancel_reason=row.cancel_reason,
            data=state.data,
            open_steps=open_steps,
            history=tuple(self.history(instance_id)),
        )
