"""sopflow: run Indonesian government SOPs as executable BPMN 2.0 processes.

The public API is what ``__all__`` lists; modules whose names start with an underscore,
and everything not listed here, may change without notice.
"""

from __future__ import annotations

from sopflow.errors import (
    BpmnSchemaError,
    CalendarError,
    ClaimedError,
    ClockError,
    ConflictError,
    CorruptInstanceError,
    DefinitionError,
    ExpressionError,
    InstanceClosedError,
    InstanceNotFoundError,
    PermissionDeniedError,
    RuntimeFault,
    SchemaVersionError,
    SopCheckError,
    SopflowError,
    StoreError,
    TableError,
    TaskDataError,
    TaskNotFoundError,
    UnknownProcessError,
    UnsafeDocumentError,
    WaktuError,
)
from sopflow.definitions.model import (
    DECISION_FIELD,
    ROLE_CODES,
    Decision,
    Lane,
    ProcessDefinition,
    SopHeader,
    Step,
)

__version__ = "0.1.0"

__all__ = [
    "DECISION_FIELD",
    "ROLE_CODES",
    "BpmnSchemaError",
    "CalendarError",
    "ClaimedError",
    "ClockError",
    "ConflictError",
    "CorruptInstanceError",
    "Decision",
    "DefinitionError",
    "ExpressionError",
    "InstanceClosedError",
    "InstanceNotFoundError",
    "Lane",
    "PermissionDeniedError",
    "ProcessDefinition",
    "RuntimeFault",
    "SchemaVersionError",
    "SopCheckError",
    "SopHeader",
    "SopflowError",
    "Step",
    "StoreError",
    "TableError",
    "TaskDataError",
    "TaskNotFoundError",
    "UnknownProcessError",
    "UnsafeDocumentError",
    "WaktuError",
    "__version__",
]
