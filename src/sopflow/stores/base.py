"""The one small interface every store implements.

Stores know rows, not workflows: the engine hands them a complete :class:`Change` per
action and the store writes it in one transaction, or raises and writes nothing. The
optimistic ``revision`` check is how two processes completing the same task end with
exactly one success: the loser's UPDATE matches no row and becomes a ConflictError.

Times are integer milliseconds since the Unix epoch (UTC) at this boundary, which keeps
rows small and comparisons in SQL trivial.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sopflow.jobs.model import DoneJob, NewJob

if TYPE_CHECKING:
    from sopflow.reports.evaluation import Evaluation, NewEvaluation

__all__ = [
    "AuditRow",
    "Change",
    "InstanceRow",
    "NewChild",
    "NewInstance",
    "NewStep",
    "StepRow",
    "StepUpdate",
    "Store",
]

RUNNING, COMPLETED, CANCELLED = "running", "completed", "cancelled"
#: the outcome of a step row ended by a terminate end event
TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class NewStep:
    task: str
    step_no: int | None
    role: str | None
    ready_at: int
    due_at: int | None = None
    risk_at: int | None = None
    standard: str | None = None
    #: the token (branch) the step belongs to, the how-manieth time this step became
    #: ready in the instance, and for a multi-instance step the item it is for
    token: int | None = None
    pass_no: int | None = None
    item: str | None = None


@dataclass(frozen=True, slots=True)
class StepRow:
    id: int
    instance_id: str
    process_id: str
    version: str
    task: str
    step_no: int | None
    role: str | None
    ready_at: int
    due_at: int | None
    risk_at: int | None
    standard: str | None
    completed_at: int | None
    actor: str | None
    claimed_by: str | None
    data: dict[str, Any] | None
    path: tuple[str, ...]
    token: int | None = None
    pass_no: int | None = None
    item: str | None = None
    #: completed / cancelled / terminated once closed (None while open)
    outcome: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StepUpdate:
    """Set fields of one step row; ``only_if_open`` guards against a second completion.

    A row closed with ``completed_at`` gets ``outcome`` ("completed" unless told:
    "cancelled" or "terminated" when a sibling, a completion condition or a terminate
    end event ended it, with ``reason``).
    """

    step_id: int
    completed_at: int | None = None
    outcome: str = COMPLETED
    reason: str | None = None
    actor: str | None = None
    data: dict[str, Any] | None = None
    path: tuple[str, ...] = ()
    claimed_by: str | None = None
    set_claim: bool = False
    only_if_open: bool = True


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: int
    event: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewInstance:
    instance_id: str
    process_id: str
    version: str
    status: str
    state: str
    started_at: int
    started_by: str
    last_action_at: int
    ended_at: int | None = None
    #: a call activity's child: the parent instance and the token waiting for it
    parent: str | None = None
    parent_token: int | None = None


@dataclass(frozen=True, slots=True)
class InstanceRow:
    instance_id: str
    process_id: str
    version: str
    status: str
    state: str
    revision: int
    started_at: int
    started_by: str
    last_action_at: int
    ended_at: int | None
    cancel_reason: str | None
    parent: str | None = None
    parent_token: int | None = None


@dataclass(frozen=True, slots=True)
class NewChild:
    """A child instance (a call activity's) inserted in the same transaction as its
    parent's change; ``instance.parent`` names the parent (inserted earlier or existing)."""

    instance: NewInstance
    steps: Sequence[NewStep] = ()
    audit: Sequence[AuditRow] = ()
    #: the child's first jobs (a timer or service task it starts at)
    jobs: Sequence[NewJob] = ()


@dataclass(frozen=True, slots=True)
class Change:
    """Everything one action writes: applied atomically, guarded by ``expected_revision``.

    ``children`` are new child instances; ``also`` are changes of other instances of
    the same family (a parent a child's completion continues, children a cancel ends),
    each guarded by its own revision, all in the one transaction.
    """

    instance_id: str
    expected_revision: int
    status: str
    state: str
    last_action_at: int
    ended_at: int | None = None
    cancel_reason: str | None = None
    step_updates: Sequence[StepUpdate] = ()
    new_steps: Sequence[NewStep] = ()
    audit: Sequence[AuditRow] = field(default_factory=tuple)
    #: jobs this action creates (a timer reached), consumes (the job that ran it; the
    #: worker must still hold it), and the tokens whose waiting jobs it withdraws. An
    #: instance that is no longer running keeps no job.
    new_jobs: Sequence[NewJob] = ()
    done_jobs: Sequence[DoneJob] = ()
    drop_jobs_of: Sequence[int] = ()
    children: Sequence[NewChild] = ()
    also: Sequence[Change] = ()


class Store(ABC):
    """Persistence for definitions, instances, step timings and the audit trail."""

    url: str

    @abstractmethod
    def ensure_definition(self, version: str, process_id: str, source: str, xml: bytes) -> None:
        """Store a definition version once (content-addressed); a no-op when present."""

    @abstractmethod
    def definition_xml(self, version: str) -> bytes | None: ...

    @abstractmethod
    def insert_instance(
        self,
        instance: NewInstance,
        steps: Sequence[NewStep],
        audit: Sequence[AuditRow],
        children: Sequence[NewChild] = (),
        *,
        jobs: Sequence[NewJob] = (),
        done_job: DoneJob | None = None,
        also: Sequence[Change] = (),
    ) -> None:
        """Write a new instance; with its first jobs, the start timer that made it, and the
        changes of waiting instances that what it threw as it started reaches (``also``,
        each guarded by its own revision), all in one transaction."""

    @abstractmethod
    def load_instance(self, instance_id: str) -> InstanceRow:
        """Raise InstanceNotFoundError when absent."""

    def load_with_open_steps(self, instance_id: str) -> tuple[InstanceRow, list[StepRow]]:
        """The instance and its open steps, read together (an action's only read).

        The SQL stores answer in one statement; this default, for other stores, reads
        them in two calls.
        """
        row = self.load_instance(instance_id)
        return row, self.open_steps(instance_id=instance_id)

    @abstractmethod
    def apply(self, change: Change) -> None:
        """Write one action atomically; ConflictError when the revision moved on."""

    @abstractmethod
    def steps(self, instance_id: str) -> list[StepRow]:
        """Every step row of an instance in the order they became ready."""

    @abstractmethod
    def open_steps(
        self,
        *,
        roles: Iterable[str] | None = None,
        process_id: str | None = None,
        instance_id: str | None = None,
    ) -> list[StepRow]:
        """Ready (not completed) steps of running instances, oldest first: one query."""

    @abstractmethod
    def completed_steps(
        self, *, process_id: str | None = None, instance_id: str | None = None
    ) -> list[StepRow]: ...

    def closed_steps(
        self,
        *,
        process_id: str | None = None,
        instance_id: str | None = None,
        outcomes: Iterable[str] = (CANCELLED, TERMINATED),
    ) -> list[StepRow]:
        """Step rows the engine closed with one of ``outcomes`` (a sibling branch, a
        completion condition, a terminate end): closed, yet not the completed work
        ``completed_steps`` gives, so a report counts them apart.

        The SQL stores answer in one statement whatever the number of instances (a
        report over a process must not make a query per instance); this default, for
        other stores, reads instance by instance.
        """
        wanted = set(outcomes)
        if instance_id is not None:
            ids = [instance_id]
        else:
            ids = [i.instance_id for i in self.instances(process_id=process_id)]
        return [
            r
            for iid in ids
            for r in self.steps(iid)
            if r.completed_at is not None
            and r.outcome in wanted
            and (process_id is None or r.process_id == process_id)
        ]

    @abstractmethod
    def instances(
        self, *, process_id: str | None = None, status: str | None = None
    ) -> list[InstanceRow]: ...

    @abstractmethod
    def audit(self, instance_id: str) -> list[AuditRow]: ...

    def children(self, instance_id: str) -> list[InstanceRow]:
        """The child instances a call activity of this instance started, oldest first."""
        raise NotImplementedError(f"{type(self).__name__} has no child instances")

    def load_with_children(self, instance_id: str) -> tuple[InstanceRow, list[InstanceRow]]:
        """The instance and its child instances, read together (a cancel's only read).

        The SQL stores answer in one statement; this default reads them in two calls.
        """
        row = self.load_instance(instance_id)
        return row, self.children(instance_id)

    # The SLA monitor's needs. Not abstract, so a store written before them still loads;
    # the SQL stores implement them.
    def scan_open(
        self,
        *,
        process_id: str | None = None,
        role: str | None = None,
        notified: bool = True,
    ) -> list[tuple[Any, ...]]:
        """Every open step with its deadlines and notified escalations: one query."""
        raise NotImplementedError(f"{type(self).__name__} has no SLA scan")

    def claim_escalations(
        self, entries: Sequence[tuple[int, str]], at: int
    ) -> list[tuple[int, str]]:
        """Record (step id, status) as notified; return the pairs this call recorded."""
        raise NotImplementedError(f"{type(self).__name__} does not record escalations")

    def forget_escalation(self, step: int, status: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not record escalations")

    def escalations(self, instance_id: str) -> list[tuple[int, str, int]]:
        raise NotImplementedError(f"{type(self).__name__} does not record escalations")

    # SOP evaluations (schema migration 11; sopflow.authority.evaluation). Not abstract,
    # so a store written before them still loads; the SQL stores implement them.
    def add_evaluation(self, evaluation: NewEvaluation) -> int:
        """Store one evaluation with its answers; its number."""
        raise NotImplementedError(f"{type(self).__name__} does not store evaluations")

    def evaluation(self, number: int) -> Evaluation:
        """One stored evaluation; EvaluationNotFoundError when there is none."""
        raise NotImplementedError(f"{type(self).__name__} does not store evaluations")

    def evaluations(
        self, *, process_id: str | None = None, units: Sequence[str] | None = None
    ) -> list[Evaluation]:
        """Stored evaluations, newest first; of one SOP and/or of the units given."""
        raise NotImplementedError(f"{type(self).__name__} does not store evaluations")

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
