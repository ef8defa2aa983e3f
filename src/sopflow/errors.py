"""The one exception hierarchy of sopflow.

Every error a user can cause is a :class:`SopflowError`, so an application can catch
one type; the CLI turns any of them into a single line and exit status 1. Each error
names what it is about (file and line, element, instance, task) because the person
reading it is usually an office administrator looking at a file or an instance, not
at a traceback.

::

    SopflowError
    ├── DefinitionError            a BPMN file or SOP table cannot be used
    │   ├── UnsafeDocumentError    hostile XML: entities, DTDs, oversized input
    │   ├── BpmnSchemaError        not valid BPMN 2.0 (XSD) or not well-formed XML
    │   ├── SopCheckError          a sopflow rule fails (lanes, reachability, gateways ...)
    │   ├── TableError             an SOP table file cannot be compiled
    │   ├── UnknownProcessError    no process with that id in the catalog
    │   └── NotExecutableError     a process marked isExecutable="false" asked to run
    ├── ExpressionError            a condition outside the safe expression language
    ├── WaktuError                 a Mutu Baku waktu text that cannot be read
    ├── TimerError                 a timer text that names no date, duration or cycle
    ├── CalendarError              an invalid work-calendar configuration
    ├── RuntimeFault               an action on an instance is refused
    │   ├── InstanceNotFoundError
    │   ├── TaskNotFoundError      unknown task, or not ready (already completed)
    │   ├── InstanceClosedError    the instance is completed or cancelled
    │   ├── ChildInstanceError     a call activity's child cancelled on its own: cancel the root
    │   ├── PermissionDeniedError  the actor lacks the task's lane role
    │   │   ├── UnitAccessError        no position in the instance's unit
    │   │   ├── SeparationOfDutiesError  the actor did a step this one checks
    │   │   ├── DefinitiveOnlyError    a Plh./Plt. may not take this step
    │   │   └── EvaluatorError         no evaluator position for the SOP's unit
    │   ├── ClaimedError           the task is claimed by another actor
    │   ├── TaskDataError          missing or invalid task data (e.g. ``disetujui``)
    │   │   └── GatewayError       no outgoing flow of a gateway or activity can be taken
    │   ├── ClockError             an action dated before its step or the last action
    │   ├── ConflictError          another writer changed the instance first
    │   │   └── RevisionMismatchError  an If-Match revision the instance has moved past
    │   └── TaskAlreadyCompletedError  (also a TaskNotFoundError) the step is done
    │   │   └── JobLockedError     an external task or job is locked by another worker
    │   ├── TaskAlreadyCompletedError  (also a TaskNotFoundError) the step is done
    │   ├── JobNotFoundError       no such job or external task (done, or never made)
    │   ├── IncidentNotFoundError  no open incident with that id
    │   └── EventError             a message or signal cannot be delivered as asked
    │       ├── MessageNotCorrelatedError  nothing waits for the message (nothing changed)
    │       └── MessageAmbiguousError      several catchers match and all=False
    ├── BpmnError                  a business error a handler throws (code, message)
    └── StoreError                 the database cannot be used
        ├── SchemaVersionError     written by a newer sopflow, or unmigratable
        ├── CorruptInstanceError   one stored instance cannot be read
        ├── CorruptDefinitionError a stored definition does not match its version
        └── ChainBrokenError       an instance's audit/step hash chain does not verify
    EvaluationError                an SOP evaluation that cannot be recorded as given
    └── EvaluationNotFoundError    no stored evaluation with that number
    DirectoryError                 a staff directory row or file cannot be used
    └── NipError                   an NIP that is not 18 digits of date, TMT, gender
    RendererUnavailableError       no headless Chromium to print a document as PDF
    WebAuthError                   the web layer refuses a request (sopflow[web])
    ├── AuthenticationError        no valid session, password or trusted header
    │   └── LoginThrottledError    too many failed logins for the account or address
    └── CsrfError                  a state-changing request without its CSRF token
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuthenticationError",
    "BpmnError",
    "BpmnSchemaError",
    "CalendarError",
    "ChainBrokenError",
    "ChildInstanceError",
    "ClaimedError",
    "ClockError",
    "ConflictError",
    "CorruptDefinitionError",
    "CorruptInstanceError",
    "CsrfError",
    "DefinitionError",
    "DefinitiveOnlyError",
    "DirectoryError",
    "EvaluationError",
    "EvaluationNotFoundError",
    "EvaluatorError",
    "EventError",
    "ExpressionError",
    "GatewayError",
    "IncidentNotFoundError",
    "InstanceClosedError",
    "InstanceNotFoundError",
    "JobLockedError",
    "JobNotFoundError",
    "LoginThrottledError",
    "MessageAmbiguousError",
    "MessageNotCorrelatedError",
    "NipError",
    "NotExecutableError",
    "PermissionDeniedError",
    "RendererUnavailableError",
    "RevisionMismatchError",
    "RuntimeFault",
    "SchemaVersionError",
    "SeparationOfDutiesError",
    "SopCheckError",
    "SopflowError",
    "StoreError",
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
]


class SopflowError(Exception):
    """Base of every error a user of sopflow can cause."""


class DefinitionError(SopflowError):
    """A process definition (BPMN file or SOP table) cannot be used.

    Renders as ``file:line: element-id: message``; parts that are unknown are left out,
    so the message always starts with the most precise location available.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        element: str | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.element = element
        #: the documented code of ``sopflow validate --json`` (docs/other-modelers.md), if set
        self.code = code
        #: for code ``needs-handler``: the script handler key that satisfies it, when it is
        #: not the element's id (a SpiffArena preScript: ``"<task id>:preScript"``)
        self.handler: str | None = None
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.element:
            where += f"{self.element}: "
        return f"{where}{self.message}"


class UnsafeDocumentError(DefinitionError):
    """The XML is hostile or oversized: DTD, entity, external reference, size limit."""


class BpmnSchemaError(DefinitionError):
    """The file is not well-formed XML or not valid against the BPMN 2.0 schema.

    ``problems`` lists every schema finding and then every SOP finding of the file.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        element: str | None = None,
        problems: list[DefinitionError] | None = None,
    ) -> None:
        self.problems: list[DefinitionError] = problems or []
        super().__init__(message, file=file, line=line, element=element)


class SopCheckError(DefinitionError):
    """A sopflow rule does not hold; ``problems`` lists every finding, not just the first."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        element: str | None = None,
        problems: list[DefinitionError] | None = None,
    ) -> None:
        self.problems: list[DefinitionError] = problems or []
        super().__init__(message, file=file, line=line, element=element)


class TableError(DefinitionError):
    """An SOP table file cannot be compiled into BPMN."""


class UnknownProcessError(DefinitionError):
    """No process with this id in the catalog."""


class NotExecutableError(DefinitionError):
    """A process its file marks isExecutable="false" was asked to run (started, called,
    or named by a start event): it is in the catalog for its picture and document only.
    """


class ExpressionError(SopflowError):
    """An expression outside sopflow's safe expression language, or one that fails."""

    def __init__(self, message: str, *, expression: str | None = None) -> None:
        self.message = message
        self.expression = expression
        text = message if expression is None else f"{message} in {expression!r}"
        super().__init__(text)


class WaktuError(SopflowError):
    """A Mutu Baku waktu text that names no duration sopflow can read."""

    def __init__(self, text: str, reason: str = "not a duration sopflow can read") -> None:
        self.text = text
        super().__init__(f"waktu {text!r}: {reason}")


class TimerError(SopflowError):
    """A timer's date, duration or cycle text (or its expression's value) cannot be read."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        super().__init__(f"timer {text!r}: {reason}")


class BpmnError(SopflowError):
    """A business error (BPMN 10.5.6 error event) thrown by a handler or an external worker.

    ``code`` is matched against the ``errorCode`` of error catch events; one that nothing
    catches puts the instance into an incident.
    """

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message
        super().__init__(f"BPMN error {code!r}" + (f": {message}" if message else ""))


class CalendarError(SopflowError):
    """An invalid work-calendar configuration."""


class RuntimeFault(SopflowError):
    """An action on an instance is refused; nothing was changed."""

    def __init__(
        self,
        message: str,
        *,
        instance_id: str | None = None,
        task_id: str | None = None,
    ) -> None:
        self.message = message
        self.instance_id = instance_id
        self.task_id = task_id
        parts = []
        if instance_id:
            parts.append(f"instance {instance_id}")
        if task_id:
            parts.append(f"task {task_id}")
        prefix = (", ".join(parts) + ": ") if parts else ""
        super().__init__(prefix + message)


class InstanceNotFoundError(RuntimeFault):
    """No instance with this id."""


class TaskNotFoundError(RuntimeFault):
    """No such task, or it is not ready (never reached, or already completed)."""


class InstanceClosedError(RuntimeFault):
    """The instance is completed or cancelled; it takes no more actions."""


class ChildInstanceError(RuntimeFault):
    """The instance was started by a call activity of another instance, so it is not
    cancelled on its own: its parent waits for it. Cancel the root instance, which
    cancels its children (Zeebe refuses the same way); ``parent_id`` and ``root_id``
    name them."""

    def __init__(
        self, message: str, *, instance_id: str, parent_id: str, root_id: str
    ) -> None:
        self.parent_id = parent_id
        self.root_id = root_id
        super().__init__(message, instance_id=instance_id)


class PermissionDeniedError(RuntimeFault):
    """The actor does not hold the role of the task's lane."""


class UnitAccessError(PermissionDeniedError):
    """The actor holds no position in the instance's unit (or its sections)."""


class SeparationOfDutiesError(PermissionDeniedError):
    """The actor did a step this step must be checked independently of."""


class DefinitiveOnlyError(PermissionDeniedError):
    """The step needs the definitive holder of the position; a Plh./Plt. may not take it."""


class EvaluatorError(PermissionDeniedError):
    """The actor holds no evaluator position (docs/authority.md, "Who evaluates an SOP")
    in the SOP's unit or a parent unit, so may not record its evaluation."""


class ClaimedError(RuntimeFault):
    """The task is claimed by another actor."""


class TaskDataError(RuntimeFault):
    """Task data is missing or of the wrong type (e.g. a decision without ``disetujui``)."""


class ScriptHandlerError(RuntimeFault):
    """An application's handler for a task's preScript / postScript raised (SpiffArena
    conventions): the action that ran it is refused and nothing was written."""


class GatewayError(TaskDataError):
    """No outgoing flow can be taken: no condition holds and there is no default flow.

    Raised by the action that led the token there (BPMN 13.4.2 calls it an exception);
    nothing is written, so the step that was being completed stays open. ``element``
    is the gateway (or activity) that could not decide.
    """

    def __init__(self, message: str, *, element: str, instance_id: str | None = None) -> None:
        self.element = element
        super().__init__(f"{element}: {message}", instance_id=instance_id)


class ClockError(RuntimeFault):
    """An action dated before its step became ready or before the instance's last action."""


class ConflictError(RuntimeFault):
    """Another writer changed the instance first; reload and retry if still wanted."""


class RevisionMismatchError(ConflictError):
    """The caller acted on a revision of the instance (``If-Match``) that is no longer
    current: someone acted in between, so the caller's view is stale (HTTP 412)."""


class TaskAlreadyCompletedError(TaskNotFoundError, ConflictError):
    """The step was already completed, by someone else or by an earlier call.

    Both a TaskNotFoundError (the step is not ready) and a ConflictError (another
    writer got there first), so either ``except`` catches the lost race.
    """


class JobNotFoundError(RuntimeFault):
    """No job or external task with this id: already done, withdrawn, or never created."""


class JobLockedError(ConflictError):
    """The external task or job is locked by another worker (or not locked by this one)."""


class IncidentNotFoundError(RuntimeFault):
    """No open incident with this id."""


class EventError(RuntimeFault):
    """A message or signal cannot be delivered as asked; nothing was changed."""


class MessageNotCorrelatedError(EventError):
    """No waiting catch and no start event matches the message (BPMN 10.5.4: a message
    that nobody waits for is refused, not kept for later)."""


class MessageAmbiguousError(EventError):
    """Several waiting catches match the message and the call did not ask for all."""


class StoreError(SopflowError):
    """The database cannot be used."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this sopflow, or cannot be migrated."""


class CorruptInstanceError(StoreError):
    """One stored instance cannot be read; other instances are unaffected."""

    def __init__(self, instance_id: str | None, reason: str) -> None:
        self.instance_id = instance_id
        self.reason = reason
        where = f"instance {instance_id}: " if instance_id else ""
        super().__init__(f"{where}stored state is unreadable: {reason}")


class CorruptDefinitionError(StoreError):
    """A stored definition's bytes do not hash to its version: it was edited in the store."""

    def __init__(self, version: str, reason: str) -> None:
        self.version = version
        super().__init__(f"stored definition {version[:12]}: {reason}; no action runs on it")


class ChainBrokenError(StoreError):
    """An instance's hash chain does not verify: a stored row was changed or removed."""

    def __init__(self, instance_id: str, reason: str) -> None:
        self.instance_id = instance_id
        self.reason = reason
        super().__init__(f"instance {instance_id}: audit chain broken: {reason}")


class DirectoryError(SopflowError):
    """A staff directory row or file cannot be used; names the file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.field = field
        where = self.file or ""
        if line is not None:
            where += f":{line}" if where else f"line {line}"
        if field:
            where += f" ({field})" if where else f"field {field}"
        super().__init__(f"{where}: {message}" if where else message)


class EvaluationError(SopflowError):
    """An SOP evaluation (Permenpan-RB 35/2012) that cannot be recorded as given: a
    criterion missing or unknown, a catatan too long, a date that is not one; names the
    field (``kriteria.mudah_dipahami``, ``tanggal``) so a form can point at it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class EvaluationNotFoundError(EvaluationError):
    """No stored evaluation with that number."""


class NipError(DirectoryError):
    """An NIP that is not 18 digits: birth date, TMT year and month, gender 1/2, sequence."""


class RendererUnavailableError(SopflowError):
    """A document cannot be printed to PDF here: headless Chromium (Debian's ``chromium``,
    or ``SOPFLOW_CHROMIUM``) is missing or failed. The HTML document still works."""


class WebAuthError(SopflowError):
    """The web layer (``sopflow serve``) refuses a request before it reaches the engine."""


class AuthenticationError(WebAuthError):
    """No valid session, password or trusted header: log in (again)."""


class LoginThrottledError(AuthenticationError):
    """Too many failed logins for this account or address; wait and try again."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class CsrfError(WebAuthError):
    """A state-changing request made with a session cookie lacks its CSRF token."""
