"""Service, send and business-rule tasks: work done by a program, as a job (BPMN 10.3.3).

Reaching the task commits the state with a job, so the state before it is never lost
whatever the work does. A ``service`` job runs the Python handler the application
registered for the task (in whichever worker holds handlers); an ``external`` job waits
for an outside worker to ``fetch_and_lock`` its topic and complete it (Camunda's
external task pattern). Either way the job's success leaves the task with the handler's
(or worker's) data; a failure is retried and ends as an incident; a
:class:`~sopflow.errors.BpmnError` goes to :func:`throw_bpmn_error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sopflow.errors import BpmnError
from sopflow.jobs.context import Waited
from sopflow.jobs.model import EXTERNAL, SERVICE, JobRow, NewJob
from sopflow.jobs.retry import parse_retry_cycle
from sopflow.runtime.behaviours.activities import Activity
from sopflow.runtime.data import check_data
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.runtime.machine import Machine

__all__ = ["MissingHandlerError", "ServiceTask", "throw_bpmn_error"]


class MissingHandlerError(LookupError):
    """A service job reached a worker without the task's handler: a failure, retried."""


def throw_bpmn_error(m: Machine, token: Token, error: BpmnError) -> None:
    """Throw a business error from ``token``'s activity (BPMN 10.5.6, 13.5.6).

    The one place every error thrown by a handler or an external worker goes through,
    so error catching (boundary events up the scope chain, event subprocesses) extends
    this function alone. Until something catches it the error propagates: the job's
    runner turns an uncaught BpmnError into an incident on the instance.

    The catch (sopflow events) is :func:`sopflow.runtime.triggers.throw`: boundary
    events and event subprocesses scope by scope, then the calling instance; an error
    nothing catches is raised there, inside the job, as before.
    """
    from sopflow.runtime.triggers import throw

    throw(m, token, "error", error.code, error.message)


class ServiceTask(Activity):
    def start(self, m: Machine, token: Token) -> None:
        node = m.node(token)
        spec = node.jobs
        topic: str | None = None
        kind = SERVICE
        if spec.implementation == "external":
            kind, topic = EXTERNAL, spec.topic
        elif m.jobs.external_by_default and node.id not in m.jobs.services:
            kind, topic = EXTERNAL, node.id
        retries = parse_retry_cycle(spec.retry_cycle).retries
        now = m.jobs.now_ms
        m.schedule(token, NewJob(kind, now, node.id, topic=topic, retries=retries))
        m.waited(Waited(token.id, node.id, kind, True, due_at=now))

    def fire(self, m: Machine, token: Token | None, job: JobRow) -> None:
        assert token is not None
        error = job.payload.get("error")
        if isinstance(error, dict):
            throw_bpmn_error(m, token, BpmnError(str(error["code"]), str(error.get("message", ""))))
            return
        updates: Any
        if job.kind == EXTERNAL:
            updates = job.payload.get("result")
        else:
            handler = m.jobs.services.get(token.node)
            if handler is None:
                raise MissingHandlerError(
                    f"no Python handler is registered for service task {token.node} in this "
                    "worker (Engine(service_handlers=...))"
                )
            try:
                updates = handler(dict(m.data))
            except BpmnError as exc:
                throw_bpmn_error(m, token, exc)
                return
        if updates:
            m.data.update(check_data(updates, m.instance_id, token.node))
        m.waited(Waited(token.id, token.node, job.kind, False, "completed"))
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.withdraw(token)
        kind = EXTERNAL if m.node(token).jobs.implementation == "external" else SERVICE
        m.waited(Waited(token.id, token.node, kind, False, outcome))
