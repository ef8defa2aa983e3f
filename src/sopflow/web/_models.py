"""The API's typed shapes: what the OpenAPI 3.1 document publishes.

They mirror the library's views (``WorkItem.to_dict``, ``StepRecord.to_dict``,
``InstanceView.to_dict``) field for field, so the API, the CLI's ``--json`` and the
library say the same thing in the same words; times are ISO-8601 with the office's offset.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from sopflow.reports.evaluation import CRITERIA, MAX_CATATAN

__all__ = [
    "AssignmentIn",
    "CancelIn",
    "ClaimIn",
    "CompleteIn",
    "DirectoryOut",
    "EvaluationIn",
    "EvaluationOut",
    "HoldingOut",
    "InstanceOut",
    "InstancePage",
    "LoginIn",
    "ProcessOut",
    "ProcessSummary",
    "ProgressOut",
    "SessionOut",
    "SlaSummary",
    "StartIn",
    "StepRecordOut",
    "WorkItemOut",
]

_STRICT = ConfigDict(extra="forbid")
#: instance data and form values: JSON objects of bounded size (checked by the engine)
Data = dict[str, Any]


class LoginIn(BaseModel):
    model_config = _STRICT
    nip: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class HoldingOut(BaseModel):
    role: str
    kind: str = Field(description="definitif, plt or plh")
    position: str | None
    position_name: str | None
    unit: str | None
    basis: str | None


class SessionOut(BaseModel):
    nip: str
    nama: str | None
    csrf_token: str | None = Field(description="repeat as X-CSRF-Token on cookie requests")
    positions: list[HoldingOut]
    admin: bool


class ProcessSummary(BaseModel):
    process_id: str
    name: str
    nomor: str | None
    kecamatan: str | None
    pemerintah: str | None
    version: str
    steps: int
    executable: bool = Field(
        description='False for a picture-only process (isExecutable="false"): drawn and '
        "documented, never started"
    )


class ProcessOut(BaseModel):
    """The SOP table of a process: identity (header), lanes, decisions and its rows."""

    process_id: str
    name: str
    version: str
    source: str
    header: dict[str, Any]
    lanes: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    steps: list[dict[str, Any]]


class StartIn(BaseModel):
    model_config = _STRICT
    data: Data = Field(default_factory=dict)
    unit: str | None = Field(
        default=None, max_length=64, description="default: the SOP's kecamatan"
    )


class ClaimIn(BaseModel):
    model_config = _STRICT
    item: str | None = Field(default=None, max_length=200)


class CompleteIn(BaseModel):
    model_config = _STRICT
    data: Data = Field(default_factory=dict)
    item: str | None = Field(default=None, max_length=200)


class CancelIn(BaseModel):
    model_config = _STRICT
    reason: str = Field(min_length=1, max_length=2000)


class GatewayDecisionOut(BaseModel):
    gateway: str
    flow: str
    label: str | None
    target: str


class ProgressOut(BaseModel):
    instance_id: str
    status: str
    ready: list[str]
    path: list[GatewayDecisionOut]
    revision: int


class WorkItemOut(BaseModel):
    instance_id: str
    process_id: str
    version: str
    task_id: str
    step_no: int | None
    name: str | None
    lane: str | None
    role: str | None
    kelengkapan: list[str]
    output: list[str]
    waktu: str | None
    ready_at: str | None
    due_at: str | None
    sla_status: str | None
    claimed_by: str | None
    token: int | None
    pass_: int | None = Field(alias="pass")
    item: str | None
    form_key: str | None
    form: dict[str, Any] | None
    unit: str | None = None
    acting_as: str | None = Field(default=None, description='"Plh. Camat Cibatu" and the like')

    model_config = ConfigDict(populate_by_name=True)


class StepRecordOut(BaseModel):
    task_id: str
    step_no: int | None
    name: str | None
    lane: str | None
    role: str | None
    ready_at: str | None
    completed_at: str | None
    actor: str | None
    claimed_by: str | None
    data: dict[str, Any] | None
    path: list[GatewayDecisionOut]
    waktu: str | None
    due_at: str | None
    token: int | None
    pass_: int | None = Field(alias="pass")
    item: str | None
    outcome: str | None
    reason: str | None
    signed_as: str | None

    model_config = ConfigDict(populate_by_name=True)


class InstanceOut(BaseModel):
    instance_id: str
    process_id: str
    version: str
    status: str
    started_at: str | None
    started_by: str
    last_action_at: str | None
    ended_at: str | None
    cancel_reason: str | None
    data: dict[str, Any]
    open_steps: list[WorkItemOut]
    history: list[StepRecordOut]
    parent: str | None
    children: list[str]
    revision: int = Field(description="send as If-Match to act only on this revision")
    unit: str | None


class InstanceRowOut(BaseModel):
    instance_id: str
    process_id: str
    status: str
    started_at: str | None
    started_by: str
    last_action_at: str | None
    ended_at: str | None
    revision: int
    unit: str | None


class InstancePage(BaseModel):
    items: list[InstanceRowOut]
    total: int
    limit: int
    offset: int


class OpenStepOut(BaseModel):
    instance_id: str
    process_id: str
    task_id: str
    step_no: int | None
    role: str | None
    status: str
    standard: str | None
    ready_at: str
    due_at: str | None
    claimed_by: str | None
    unit: str | None


class SlaSummary(BaseModel):
    at: str
    counts: dict[str, int]
    per_process: dict[str, dict[str, int]]
    open_steps: list[OpenStepOut]


class SlaChanges(BaseModel):
    since: str
    until: str = Field(description="pass as until to page through the same window")
    items: list[OpenStepOut]
    total: int
    limit: int
    offset: int


class UnitOut(BaseModel):
    kode: str
    nama: str
    induk: str | None


class PositionOut(BaseModel):
    kode: str
    nama: str
    unit: str
    peran: str


class PersonOut(BaseModel):
    nip: str
    nama: str


class AssignmentOut(BaseModel):
    nip: str
    jabatan: str
    mulai: str
    selesai: str | None
    jenis: str
    dasar: str


class DirectoryOut(BaseModel):
    units: list[UnitOut]
    positions: list[PositionOut]
    people: list[PersonOut]
    assignments: list[AssignmentOut]


class AssignmentIn(BaseModel):
    model_config = _STRICT
    nip: str = Field(min_length=1, max_length=64)
    jabatan: str = Field(min_length=1, max_length=64)
    mulai: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    selesai: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    jenis: str = Field(default="definitif", pattern="^(definitif|plt|plh)$")
    dasar: str = Field(min_length=1, max_length=500)


class EndAssignmentIn(BaseModel):
    model_config = _STRICT
    nip: str = Field(min_length=1, max_length=64)
    jabatan: str = Field(min_length=1, max_length=64)
    selesai: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")


# ------------------------------------------------- messages, signals, jobs, incidents


class CorrelateIn(BaseModel):
    """A message from outside (BPMN 2.0 10.5.4: exactly one receiver unless ``all``)."""

    model_config = _STRICT
    message_name: str = Field(min_length=1, max_length=200)
    instance_id: str | None = Field(default=None, max_length=100)
    correlation: dict[str, str | int | float | bool] | None = Field(
        default=None, description="field -> value the waiting instance's data must equal"
    )
    data: Data = Field(default_factory=dict)
    all: bool = Field(default=False, description="deliver to every match instead of refusing")


class SignalIn(BaseModel):
    """A signal broadcast (BPMN 2.0 10.5.4: every waiting catch, every signal start)."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=200)
    data: Data = Field(default_factory=dict)


class DeliveredOut(BaseModel):
    instances: list[str] = Field(description="instances that moved on")
    started: list[str] = Field(description="instances a start event began")


class FetchIn(BaseModel):
    model_config = _STRICT
    topic: str = Field(min_length=1, max_length=200)
    worker_id: str = Field(min_length=1, max_length=200)
    max_tasks: int = Field(default=1, ge=1, le=100)
    lock_seconds: float = Field(default=300.0, gt=0, le=7 * 24 * 3600)


class ExternalTaskOut(BaseModel):
    id: int
    topic: str
    instance_id: str
    process_id: str | None
    task_id: str
    data: dict[str, Any]
    retries: int
    locked_until: str
    error: str | None


class ExternalCompleteIn(BaseModel):
    model_config = _STRICT
    worker_id: str = Field(min_length=1, max_length=200)
    data: Data = Field(default_factory=dict)


class ExternalFailIn(BaseModel):
    model_config = _STRICT
    worker_id: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=2000)
    retries: int = Field(ge=0, le=100, description="attempts left; 0 raises an incident")
    retry_in_seconds: float = Field(default=0.0, ge=0, le=7 * 24 * 3600)


class ExternalFailOut(BaseModel):
    incident_id: int | None = Field(description="the incident raised when no retry is left")


class BpmnErrorIn(BaseModel):
    model_config = _STRICT
    worker_id: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=2000)


class IncidentOut(BaseModel):
    id: int
    job_id: int | None
    instance_id: str | None
    process_id: str | None
    kind: str
    node: str | None
    message: str
    at: str
    resolved_at: str | None
    resolved_by: str | None


class RetryIn(BaseModel):
    model_config = _STRICT
    retries: int | None = Field(default=None, ge=1, le=100, description="default: the node's")


# ----------------------------------------------------------------------------- evaluasi

#: a criterion key as the client sends it (checked against the seven by the library)
CriterionKey = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class EvaluationIn(BaseModel):
    """One evaluation of an SOP against the seven criteria of Permenpan-RB 35/2012."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kriteria": {**dict.fromkeys(CRITERIA, True), "sinergi": "Tidak"},
                    "catatan": {"sinergi": "Belum selaras dengan SOP pelaporan kinerja."},
                }
            ]
        },
    )
    kriteria: dict[CriterionKey, StrictBool | Literal["Ya", "Tidak", "ya", "tidak"]] = Field(
        max_length=20,
        description="each of the seven criteria (GET /evaluation-criteria) -> Ya (true) "
        "or Tidak (false); all seven are required, no other key is accepted",
    )
    catatan: dict[CriterionKey, Annotated[str, StringConstraints(max_length=MAX_CATATAN)]] = (
        Field(default_factory=dict, max_length=20, description="criterion -> catatan")
    )
    tanggal: str | None = Field(
        default=None, max_length=10, description="YYYY-MM-DD; default today at the office"
    )
    version: str | None = Field(
        default=None, max_length=64, description="a stored version; default the current one"
    )


class CriterionOut(BaseModel):
    kriteria: str
    uraian: str
    ya: bool
    catatan: str


class EvaluationOut(BaseModel):
    id: int
    process_id: str
    version: str
    unit: str
    nip: str
    nama: str | None
    jabatan: str
    nama_jabatan: str
    jenis: str = Field(description="definitif, plt or plh: the holding the evaluator signed as")
    tanggal: str
    kriteria: list[CriterionOut]
    ya: int
    jumlah: int
    nilai: float = Field(description="the share of Ya, 0 to 1")


class CriterionDef(BaseModel):
    kriteria: str
    uraian: str
