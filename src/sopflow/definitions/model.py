"""The checked, immutable form of a process definition.

A :class:`ProcessDefinition` is what the loader produces from a BPMN file and what every
later stage reads: the engine walks its :class:`Node` graph, the SLA monitor reads each
:class:`Step`'s waktu, reports and documents read the :class:`SopHeader`. Nothing
downstream looks at XML again, which keeps the one-way data flow
BPMN file -> definition -> instance -> store -> monitor -> report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sopflow.definitions.jobspec import NO_JOBS, JobSpec

__all__ = [
    "DECISION_FIELD",
    "ROLE_CODES",
    "Call",
    "Decision",
    "Flow",
    "FormField",
    "Lane",
    "MultiInstance",
    "Node",
    "NodeKind",
    "ProcessDefinition",
    "SopHeader",
    "StandardLoop",
    "Step",
]

#: Canonical role codes a lane maps to. A lane of a foreign file that maps to none of
#: these takes its own name as its role.
ROLE_CODES: tuple[str, ...] = (
    "camat",
    "sekcam",
    "kasubag",
    "kasi",
    "tim",
    "pelaksana",
    "inspektorat",
)

#: The boolean field a deciding task takes ("disetujui" = approved).
DECISION_FIELD = "disetujui"


class NodeKind(StrEnum):
    START = "start"
    END = "end"
    USER_TASK = "user_task"
    MANUAL_TASK = "manual_task"
    SCRIPT_TASK = "script_task"
    EXCLUSIVE_GATEWAY = "exclusive_gateway"
    PARALLEL_GATEWAY = "parallel_gateway"
    INCLUSIVE_GATEWAY = "inclusive_gateway"
    TERMINATE_END = "terminate_end"
    SUBPROCESS = "subprocess"
    CALL_ACTIVITY = "call_activity"
    PASS = "pass"  # a plain task or intermediate none event: passes the token on
    SERVICE_TASK = "service_task"  # service, send and business-rule tasks: a job each
    TIMER_CATCH = "timer_catch"  # an intermediate catch event with a timer
    CATCH_EVENT = "catch_event"  # an intermediate message, signal or conditional catch
    RECEIVE_TASK = "receive_task"  # waits for a message (10.3.3)
    THROW_EVENT = "throw_event"  # message, signal, escalation, error, link throws and ends
    BOUNDARY = "boundary"  # an event attached to an activity (10.5.4, 13.5.5)
    EVENT_GATEWAY = "event_gateway"  # the first of its events wins (13.4.5)
    EVENT_SUBPROCESS = "event_subprocess"  # started by an event in its scope (13.5.4)
    MULTIPLE_CATCH = "multiple_catch"  # several definitions: any one, or all (10.5.1)
    MULTIPLE_THROW = "multiple_throw"  # several definitions: all are thrown (10.5.1)


#: event definition kinds sopflow runs (BPMN 10.5, table 10.93)
MESSAGE, SIGNAL, ERROR, ESCALATION, TIMER, CONDITIONAL, LINK = (
    "message",
    "signal",
    "error",
    "escalation",
    "timer",
    "conditional",
    "link",
)


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """An event's one definition (BPMN 10.5.1): its kind and what it is matched by.

    ``name`` is the message's or signal's name, the error's errorCode, the escalation's
    escalationCode or the link's name; None on a catch means "any" (an error boundary
    without errorRef catches every error, 10.5.6). ``condition`` is a conditional
    event's safe-language condition. A message event may carry a ``payload`` (safe
    language, thrown), the ``variable`` a catch keeps it in, and the ``correlation``
    properties of its message (name, retrieval path; 8.4.7), see events/payloads.py.
    """

    kind: str
    name: str | None = None
    condition: str | None = None
    payload: str | None = None
    variable: str | None = None
    correlation: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Flow:
    """A sequence flow. ``condition`` is text of the safe expression language."""

    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class MultiInstance:
    """``multiInstanceLoopCharacteristics`` (BPMN 13.3.7); expressions are safe-language text.

    ``collection`` names the input collection (``camunda:collection`` or
    ``loopDataInputRef``), ``element`` the variable each instance sees its item in
    (``camunda:elementVariable`` or ``inputDataItem``); ``output`` / ``output_element``
    collect one value per instance, in item order (``loopDataOutputRef`` /
    ``outputDataItem``).
    """

    sequential: bool = False
    cardinality: str | None = None
    collection: str | None = None
    element: str | None = None
    completion: str | None = None
    output: str | None = None
    output_element: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """A call activity's target and data mapping (Camunda's camunda:in / camunda:out).

    ``inputs`` / ``outputs`` are (source, target) variable names; ``all_in`` /
    ``all_out`` copy every variable (``variables="all"``). Nothing else passes, as in
    Camunda: a child instance sees only what its parent hands it.
    """

    process: str
    inputs: tuple[tuple[str, str], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    all_in: bool = False
    all_out: bool = False


@dataclass(frozen=True, slots=True)
class StandardLoop:
    """``standardLoopCharacteristics`` (BPMN 13.3.6): repeat while ``condition`` holds."""

    condition: str | None = None
    test_before: bool = False
    maximum: int | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A flow node of the executable graph.

    ``scope`` is the id of the embedded subprocess holding the node (None at top level);
    ``start`` is, for a subprocess node, the id of its inner start event. ``incoming``
    lists the ids of the flows that enter the node (a join counts tokens per flow);
    ``start_quantity`` / ``completion_quantity`` are BPMN's (13.3.2: tokens an activity
    waits for before it starts, tokens it sends down each flow it leaves by).
    """

    id: str
    kind: NodeKind
    name: str | None
    outgoing: tuple[Flow, ...] = ()
    scope: str | None = None
    start: str | None = None
    incoming: tuple[str, ...] = ()
    start_quantity: int = 1
    completion_quantity: int = 1
    #: timer, asynchronous continuations, external topic, retry cycle (sopflow.jobs)
    jobs: JobSpec = NO_JOBS
    multi: MultiInstance | None = None
    loop: StandardLoop | None = None
    call: Call | None = None
    #: the event's definition (catch, throw, boundary, event start and end events)
    event: EventDefinition | None = None
    #: a "multiple" event's definitions (two or more, BPMN 10.5.1; ``event`` is None):
    #: a catch fires on any one, or on all with ``parallel`` (parallelMultiple); a throw
    #: throws each; a start event starts on any one
    events: tuple[EventDefinition, ...] = ()
    parallel: bool = False
    #: a boundary event: the activity it is attached to, and whether it interrupts it
    attached_to: str | None = None
    interrupting: bool = True
    #: an activity: the boundary events attached to it, in document order
    boundaries: tuple[str, ...] = ()
    #: a subprocess (or, on the start node's definition, the process): its event
    #: subprocesses; an event subprocess: its start event and whether it interrupts
    event_subprocesses: tuple[str, ...] = ()
    #: SpiffArena's ``preScript`` / ``postScript`` the file gives this task (names only:
    #: the script text never runs; the application's handler ``"<id>:preScript"`` does)
    hooks: frozenset[str] = frozenset()
    #: a repeated task's hooks run on each instance (SpiffArena's scriptsOnInstances="true"),
    #: else once around the whole loop or multi-instance body, as SpiffWorkflow does
    scripts_on_instances: bool = False

    @property
    def definitions(self) -> tuple[EventDefinition, ...]:
        """Every event definition of the node: a multiple event's several, else its one
        (none for a node that is no event)."""
        if self.events:
            return self.events
        return () if self.event is None else (self.event,)


@dataclass(frozen=True, slots=True)
class Lane:
    id: str
    name: str
    #: canonical role code (see ROLE_CODES), or the lane's name when it maps to none
    role: str


@dataclass(frozen=True, slots=True)
class Step:
    """A user task with its Mutu Baku (quality standard)."""

    id: str
    no: int
    name: str
    lane: str | None
    role: str
    kelengkapan: tuple[str, ...] = ()
    #: the waktu text exactly as the SOP writes it ("15 Menit"), or None
    waktu: str | None = None
    output: tuple[str, ...] = ()
    keterangan: str | None = None
    #: for a deciding task, the boolean field its gateway routes on
    decision_field: str | None = None
    line: int | None = None
    # -- other modelers' task attributes (definitions/extensions.py, docs/other-modelers.md)
    #: user id, or an expression such as ``${initiator}`` read from the instance data
    assignee: str | None = None
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()
    #: camunda:dueDate / followUpDate as written (ISO date, ISO duration or expression)
    due_date: str | None = None
    follow_up_date: str | None = None
    #: formKey / formRef / SpiffArena's JSON-schema file, passed to the application
    form_key: str | None = None
    form: tuple[FormField, ...] = ()
    #: SpiffArena's variableName on a user task: the completion's data are kept whole
    #: under this field instead of merged into the instance data
    form_variable: str | None = None

    @property
    def is_open(self) -> bool:
        """In no lane and with no assignment: the file names no one, so anyone may act.

        Camunda 7, Flowable and SpiffWorkflow let any authorised user claim and complete
        such a task; sopflow does the same (any caller, or with a staff directory any
        holder of a position in the instance's unit). Only files that do not follow the
        SOP convention can have one: the SOP checks put every step of an SOP in a lane.
        """
        return self.lane is None and not (
            self.assignee or self.candidate_users or self.candidate_groups
        )


@dataclass(frozen=True, slots=True)
class FormField:
    """A field of a task form (camunda:formField, flowable:formProperty, a decision)."""

    id: str
    type: str  # string, long, boolean, date, enum
    label: str | None = None
    required: bool = False
    readonly: bool = False
    minlength: int | None = None
    maxlength: int | None = None
    min: int | None = None
    max: int | None = None
    default: str | None = None
    #: enum values: (id, label) pairs
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """An approve/return decision: the gateway after ``step_id``."""

    gateway_id: str
    step_id: str
    field: str
    yes_target: str | None
    no_target: str | None


@dataclass(frozen=True, slots=True)
class SopHeader:
    """The SOP's identity sheet (Permenpan-RB 35/2012), as the SOP writes it."""

    nama: str | None = None
    nomor: str | None = None
    pemerintah: str | None = None  # e.g. "Kabupaten Purwakarta"
    kecamatan: str | None = None
    unit: str | None = None  # sub-bagian / seksi that owns the SOP
    tanggal_pembuatan: str | None = None
    tanggal_revisi: str | None = None
    tanggal_efektif: str | None = None
    disahkan_oleh_jabatan: str | None = None
    disahkan_oleh_nama: str | None = None
    disahkan_oleh_pangkat: str | None = None
    disahkan_oleh_nip: str | None = None
    dasar_hukum: tuple[str, ...] = ()
    kualifikasi_pelaksana: tuple[str, ...] = ()
    keterkaitan: tuple[str, ...] = ()
    peralatan_perlengkapan: tuple[str, ...] = ()
    peringatan: tuple[str, ...] = ()
    pencatatan_pendataan: tuple[str, ...] = ()
    #: IANA time zone the office works in (Long Ikis: Asia/Makassar); None = deployment default
    zona_waktu: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            name: (list(value) if isinstance(value, tuple) else value)
            for name, value in ((f, getattr(self, f)) for f in self.__dataclass_fields__)
        }


@dataclass(frozen=True)
class ProcessDefinition:
    """A loaded and checked process: graph for the engine, SOP view for people."""

    process_id: str
    name: str
    #: sha256 of the file's bytes: instances keep running on the version they started on
    version: str
    source: str
    xml: bytes = field(repr=False)
    header: SopHeader
    lanes: tuple[Lane, ...]
    steps: tuple[Step, ...]
    decisions: tuple[Decision, ...]
    nodes: Mapping[str, Node] = field(repr=False)
    start_node: str
    #: the start event's form (camunda:formData / formKey), checked when an instance starts
    start_form: tuple[FormField, ...] = ()
    start_form_key: str | None = None
    #: call activities that are rows of the SOP (a ``panggil`` row, the Keterkaitan made
    #: executable): numbered and laned like steps, but the engine runs them, not a person,
    #: so they are not ``steps`` (no work item, no SLA of their own)
    calls: tuple[Step, ...] = ()
    #: the event subprocesses of the process itself (13.5.4)
    event_subprocesses: tuple[str, ...] = ()
    #: False for a process its file marks isExecutable="false" beside the ones it runs
    #: (BPMN 2.0, 10.2): kept for its picture and SOP document, never started
    #: (:class:`~sopflow.errors.NotExecutableError`); ``start_node`` is "" when it has
    #: no start event
    executable: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "_steps_by_id", {s.id: s for s in self.steps})
        # the tasks of a joint step share their number: it names none of them alone
        by_no: dict[int, Step | None] = {}
        for step in self.steps:
            by_no[step.no] = None if step.no in by_no else step
        object.__setattr__(self, "_steps_by_no", by_no)

    def refuse_unless_executable(self, why: str = "started") -> None:
        """Raise NotExecutableError for a process kept for pictures only (BPMN 2.0, 10.2)."""
        if not self.executable:
            from sopflow.errors import NotExecutableError

            raise NotExecutableError(
                f'process {self.process_id!r} is marked isExecutable="false": it is kept '
                f"for its picture and SOP document and is never {why}",
                file=self.source,
                element=self.process_id,
            )

    def step(self, task_id: str) -> Step | None:
        return self._steps_by_id.get(task_id)  # type: ignore[attr-defined, no-any-return]

    @property
    def rows(self) -> tuple[Step, ...]:
        """Every row of the SOP in number order: the steps and the call rows."""
        return tuple(sorted((*self.steps, *self.calls), key=lambda s: s.no))

    def row(self, element_id: str) -> Step | None:
        """The step or call row of an element id (a decision may lead to either)."""
        return self.step(element_id) or next((c for c in self.calls if c.id == element_id), None)

    def step_by_no(self, no: int) -> Step | None:
        """The step numbered ``no``; None when there is none, or several (a joint step's
        tasks: name one by its task id)."""
        return self._steps_by_no.get(no)  # type: ignore[attr-defined, no-any-return]

    def _step_no(self, task_id: str | None) -> int | None:
        step = self.step(task_id) if task_id else None
        return step.no if step else None

    def lane(self, name: str) -> Lane | None:
        return next((lane for lane in self.lanes if lane.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``sopflow show --json``."""
        return {
            "process_id": self.process_id,
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "header": self.header.to_dict(),
            "lanes": [{"id": la.id, "name": la.name, "role": la.role} for la in self.lanes],
            "decisions": [
                {
                    "gateway": d.gateway_id,
                    "step": d.step_id,
                    "step_no": self._step_no(d.step_id),
                    "field": d.field,
                    "ya": d.yes_target,
                    "tidak": d.no_target,
                }
                for d in self.decisions
            ],
            "steps": [
                {
                    "no": s.no,
                    "id": s.id,
                    "name": s.name,
                    "lane": s.lane,
                    "role": s.role,
                    "kelengkapan": list(s.kelengkapan),
                    "waktu": s.waktu,
                    "output": list(s.output),
                    "keterangan": s.keterangan,
                    **_assignment_dict(s),
                }
                for s in sorted(self.steps, key=lambda s: s.no)
            ],
        }


def _assignment_dict(step: Step) -> dict[str, Any]:
    """The other-modeler attributes a step has, for ``show --json`` (absent ones left out)."""
    found: dict[str, Any] = {
        "assignee": step.assignee,
        "candidate_users": list(step.candidate_users),
        "candidate_groups": list(step.candidate_groups),
        "due_date": step.due_date,
        "follow_up_date": step.follow_up_date,
        "form_key": step.form_key,
        "form": [f.id for f in step.form],
        # in no lane and with no assignment: any actor may act (Step.is_open)
        "open": step.is_open,
    }
    return {key: value for key, value in found.items() if value}
