"""sopflow: run Indonesian government SOPs as executable BPMN 2.0 processes.

The public API is what ``__all__`` lists; modules whose names start with an underscore,
and everything not listed here, may change without notice.
"""

from __future__ import annotations

from sopflow.definitions.catalog import Catalog
from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.model import (
    DECISION_FIELD,
    ROLE_CODES,
    Decision,
    Lane,
    ProcessDefinition,
    SopHeader,
    Step,
)
from sopflow.errors import (
    BpmnError,
    BpmnSchemaError,
    CalendarError,
    ClaimedError,
    ClockError,
    ConflictError,
    CorruptInstanceError,
    DefinitionError,
    ExpressionError,
    GatewayError,
    IncidentNotFoundError,
    InstanceClosedError,
    InstanceNotFoundError,
    JobLockedError,
    JobNotFoundError,
    PermissionDeniedError,
    RuntimeFault,
    SchemaVersionError,
    SopCheckError,
    SopflowError,
    StoreError,
    TableError,
    TaskAlreadyCompletedError,
    TaskDataError,
    TaskNotFoundError,
    TimerError,
    UnknownProcessError,
    UnsafeDocumentError,
    WaktuError,
)
from sopflow.logging import configure_logging
from sopflow.runtime.clock import Clock, SystemClock
from sopflow.runtime.engine import Engine, ScriptHandler
from sopflow.runtime.expressions import compile_expression
from sopflow.runtime.views import (
    Actor,
    GatewayDecision,
    InstanceView,
    Progress,
    StepRecord,
    WorkItem,
)
from sopflow.sla.calendar import WorkCalendar
from sopflow.sla.durations import HariPolicy, Standard, StandardKind, parse_waktu
from sopflow.sla.policy import SlaPolicy
from sopflow.stores import DEFAULT_URL, Store, open_store

__version__ = "0.1.0"

__all__ = [
    "DECISION_FIELD",
    "DEFAULT_URL",
    "ROLE_CODES",
    "Actor",
    "BpmnError",
    "BpmnSchemaError",
    "CalendarError",
    "Catalog",
    "ClaimedError",
    "Clock",
    "ClockError",
    "ConflictError",
    "CorruptInstanceError",
    "Decision",
    "DefinitionError",
    "Engine",
    "ExpressionError",
    "GatewayDecision",
    "GatewayError",
    "HariPolicy",
    "IncidentNotFoundError",
    "InstanceClosedError",
    "InstanceNotFoundError",
    "InstanceView",
    "JobLockedError",
    "JobNotFoundError",
    "Lane",
    "PermissionDeniedError",
    "ProcessDefinition",
    "Progress",
    "RuntimeFault",
    "SchemaVersionError",
    "ScriptHandler",
    "SlaPolicy",
    "SopCheckError",
    "SopHeader",
    "SopflowError",
    "Standard",
    "StandardKind",
    "Step",
    "StepRecord",
    "Store",
    "StoreError",
    "SystemClock",
    "TableError",
    "TaskAlreadyCompletedError",
    "TaskDataError",
    "TaskNotFoundError",
    "TimerError",
    "UnknownProcessError",
    "UnsafeDocumentError",
    "WaktuError",
    "WorkCalendar",
    "WorkItem",
    "__version__",
    "compile_expression",
    "configure_logging",
    "load_definition",
    "load_definition_bytes",
    "open_store",
    "parse_waktu",
]
