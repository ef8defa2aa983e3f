"""sopflow: run Indonesian government SOPs as executable BPMN 2.0 processes.

The public API is what ``__all__`` lists; modules whose names start with an underscore,
and everything not listed here, may change without notice.

Names are imported on first use (PEP 562): ``import sopflow`` costs almost nothing, so
the command line's ``--help`` and a verb that needs only the store do not pay for the
BPMN loader, the work calendar (``holidays``), structlog or the engine
(docs/performance.md). Type checkers see the plain imports below.
"""

from __future__ import annotations

import importlib

#: False at run time, True for type checkers (mypy and pyright read the name, not its
#: value): saves importing ``typing`` (about 10 ms) for ``sopflow --help``.
TYPE_CHECKING = False

if TYPE_CHECKING:
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
        AuthenticationError,
        BpmnError,
        BpmnSchemaError,
        CalendarError,
        ChainBrokenError,
        ChildInstanceError,
        ClaimedError,
        ClockError,
        ConflictError,
        CorruptDefinitionError,
        CorruptInstanceError,
        CsrfError,
        DefinitionError,
        DefinitiveOnlyError,
        DirectoryError,
        EventError,
        ExpressionError,
        GatewayError,
        IncidentNotFoundError,
        InstanceClosedError,
        InstanceNotFoundError,
        JobLockedError,
        JobNotFoundError,
        LoginThrottledError,
        MessageAmbiguousError,
        MessageNotCorrelatedError,
        NipError,
        NotExecutableError,
        PermissionDeniedError,
        RevisionMismatchError,
        RuntimeFault,
        SchemaVersionError,
        ScriptHandlerError,
        SeparationOfDutiesError,
        SopCheckError,
        SopflowError,
        StoreError,
        TableError,
        TaskAlreadyCompletedError,
        TaskDataError,
        TaskNotFoundError,
        TimerError,
        UnitAccessError,
        UnknownProcessError,
        UnsafeDocumentError,
        WaktuError,
        WebAuthError,
    )
    from sopflow.events.api import Delivered
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

_EXPORTS: dict[str, str] = {
    "AuthenticationError": "sopflow.errors",
    "CsrfError": "sopflow.errors",
    "LoginThrottledError": "sopflow.errors",
    "RevisionMismatchError": "sopflow.errors",
    "WebAuthError": "sopflow.errors",
    "Actor": "sopflow.runtime.views",
    "BpmnError": "sopflow.errors",
    "BpmnSchemaError": "sopflow.errors",
    "CalendarError": "sopflow.errors",
    "Catalog": "sopflow.definitions.catalog",
    "ChainBrokenError": "sopflow.errors",
    "ChildInstanceError": "sopflow.errors",
    "ClaimedError": "sopflow.errors",
    "Clock": "sopflow.runtime.clock",
    "ClockError": "sopflow.errors",
    "ConflictError": "sopflow.errors",
    "CorruptDefinitionError": "sopflow.errors",
    "CorruptInstanceError": "sopflow.errors",
    "DECISION_FIELD": "sopflow.definitions.model",
    "DEFAULT_URL": "sopflow.stores",
    "Decision": "sopflow.definitions.model",
    "DefinitionError": "sopflow.errors",
    "DefinitiveOnlyError": "sopflow.errors",
    "Delivered": "sopflow.events.api",
    "DirectoryError": "sopflow.errors",
    "Engine": "sopflow.runtime.engine",
    "EventError": "sopflow.errors",
    "ExpressionError": "sopflow.errors",
    "GatewayDecision": "sopflow.runtime.views",
    "GatewayError": "sopflow.errors",
    "HariPolicy": "sopflow.sla.durations",
    "IncidentNotFoundError": "sopflow.errors",
    "InstanceClosedError": "sopflow.errors",
    "InstanceNotFoundError": "sopflow.errors",
    "InstanceView": "sopflow.runtime.views",
    "JobLockedError": "sopflow.errors",
    "JobNotFoundError": "sopflow.errors",
    "Lane": "sopflow.definitions.model",
    "MessageAmbiguousError": "sopflow.errors",
    "MessageNotCorrelatedError": "sopflow.errors",
    "NipError": "sopflow.errors",
    "NotExecutableError": "sopflow.errors",
    "PermissionDeniedError": "sopflow.errors",
    "ProcessDefinition": "sopflow.definitions.model",
    "Progress": "sopflow.runtime.views",
    "ROLE_CODES": "sopflow.definitions.model",
    "RuntimeFault": "sopflow.errors",
    "SchemaVersionError": "sopflow.errors",
    "ScriptHandlerError": "sopflow.errors",
    "ScriptHandler": "sopflow.runtime.engine",
    "SeparationOfDutiesError": "sopflow.errors",
    "SlaPolicy": "sopflow.sla.policy",
    "SopCheckError": "sopflow.errors",
    "SopHeader": "sopflow.definitions.model",
    "SopflowError": "sopflow.errors",
    "Standard": "sopflow.sla.durations",
    "StandardKind": "sopflow.sla.durations",
    "Step": "sopflow.definitions.model",
    "StepRecord": "sopflow.runtime.views",
    "Store": "sopflow.stores",
    "StoreError": "sopflow.errors",
    "SystemClock": "sopflow.runtime.clock",
    "TableError": "sopflow.errors",
    "TaskAlreadyCompletedError": "sopflow.errors",
    "TaskDataError": "sopflow.errors",
    "TaskNotFoundError": "sopflow.errors",
    "TimerError": "sopflow.errors",
    "UnitAccessError": "sopflow.errors",
    "UnknownProcessError": "sopflow.errors",
    "UnsafeDocumentError": "sopflow.errors",
    "WaktuError": "sopflow.errors",
    "WorkCalendar": "sopflow.sla.calendar",
    "WorkItem": "sopflow.runtime.views",
    "compile_expression": "sopflow.runtime.expressions",
    "configure_logging": "sopflow.logging",
    "load_definition": "sopflow.definitions.loader",
    "load_definition_bytes": "sopflow.definitions.loader",
    "open_store": "sopflow.stores",
    "parse_waktu": "sopflow.sla.durations",
}

__version__ = "0.1.0"

__all__ = [
    "DECISION_FIELD",
    "DEFAULT_URL",
    "ROLE_CODES",
    "Actor",
    "AuthenticationError",
    "BpmnError",
    "BpmnSchemaError",
    "CalendarError",
    "Catalog",
    "ChainBrokenError",
    "ChildInstanceError",
    "ClaimedError",
    "Clock",
    "ClockError",
    "ConflictError",
    "CorruptDefinitionError",
    "CorruptInstanceError",
    "CsrfError",
    "Decision",
    "DefinitionError",
    "DefinitiveOnlyError",
    "Delivered",
    "DirectoryError",
    "Engine",
    "EventError",
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
    "LoginThrottledError",
    "MessageAmbiguousError",
    "MessageNotCorrelatedError",
    "NipError",
    "NotExecutableError",
    "PermissionDeniedError",
    "ProcessDefinition",
    "Progress",
    "RevisionMismatchError",
    "RuntimeFault",
    "SchemaVersionError",
    "ScriptHandler",
    "ScriptHandlerError",
    "SeparationOfDutiesError",
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
    "UnitAccessError",
    "UnknownProcessError",
    "UnsafeDocumentError",
    "WaktuError",
    "WebAuthError",
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


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sopflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
