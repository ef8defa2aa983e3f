"""What a node says about jobs: its timer, asynchronous continuations, external topic, retries.

Read from the BPMN element by :func:`read_job_spec` and kept on :attr:`Node.jobs`, so the
runtime never looks at XML again. The Camunda attributes are the ones the Camunda
Modeler writes; sopflow also reads a plain ``async`` property (``before``, ``after`` or
``both``) so a file drawn in another modeler can ask for the same without the camunda
namespace.

- ``<bpmn:timerEventDefinition>`` with ``timeDate``, ``timeDuration`` or ``timeCycle``
  (BPMN 2.0 section 10.5.5, table 10.104): ISO 8601, an Indonesian waktu ("2 hari kerja"),
  or an expression of the safe language written ``${...}`` or ``=...``;
- ``camunda:asyncBefore`` / ``camunda:asyncAfter``: the engine commits before the node
  starts / after it ends and continues in a job;
- ``camunda:type="external"`` with ``camunda:topic``: an external task;
- ``camunda:failedJobRetryTimeCycle``: how often and how long apart a failing job retries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sopflow.definitions.loader import RawProcess
    from sopflow.errors import DefinitionError

__all__ = ["NO_JOBS", "JobSpec", "TimerDefinition", "check_jobs", "read_job_spec"]

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_CAMUNDA = "http://camunda.org/schema/1.0/bpmn"

#: the three ways BPMN writes a timer (10.5.5), by element name
TIMER_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}


@dataclass(frozen=True, slots=True)
class TimerDefinition:
    """A timer as written: ``kind`` is date, duration or cycle; ``text`` is unparsed."""

    kind: str
    text: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class JobSpec:
    timer: TimerDefinition | None = None
    async_before: bool = False
    async_after: bool = False
    #: camunda:type as written (None, or "external"), and camunda:topic
    implementation: str | None = None
    topic: str | None = None
    retry_cycle: str | None = None
    #: a timer definition whose text is missing or not one element (a finding)
    problem: str | None = None


NO_JOBS = JobSpec()


def _line(elem: Any) -> int | None:
    line = elem.sourceline
    return line if isinstance(line, int) else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def read_job_spec(elem: Any, properties: dict[str, str]) -> JobSpec:
    """The job attributes of one lxml element (``properties``: its camunda properties)."""
    timer: TimerDefinition | None = None
    problem: str | None = None
    definition = elem.find(f"{{{_BPMN}}}timerEventDefinition")
    if definition is not None:
        given = [
            child
            for child in definition
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{_BPMN}}}")
        ]
        kinds = [(TIMER_KINDS.get(c.tag.split("}")[1]), c) for c in given]
        known = [(k, c) for k, c in kinds if k is not None]
        if len(known) != 1:
            problem = (
                "a timer event definition needs exactly one of timeDate, timeDuration or "
                f"timeCycle (BPMN 10.5.5); it has {len(known)}"
            )
        else:
            kind, child = known[0]
            text = (child.text or "").strip()
            if not text:
                problem = f"the timer's {child.tag.split('}')[1]} is empty"
            timer = TimerDefinition(kind, text, _line(child))
    async_prop = properties.get("async", "").strip().lower()
    retry = elem.find(f"{{{_BPMN}}}extensionElements/{{{_CAMUNDA}}}failedJobRetryTimeCycle")
    retry_text = (retry.text or "").strip() if retry is not None else ""
    implementation = elem.get(f"{{{_CAMUNDA}}}type")
    topic = (elem.get(f"{{{_CAMUNDA}}}topic") or "").strip() or None
    spec = JobSpec(
        timer=timer,
        async_before=_flag(elem.get(f"{{{_CAMUNDA}}}asyncBefore"))
        or async_prop in ("before", "both"),
        async_after=_flag(elem.get(f"{{{_CAMUNDA}}}asyncAfter")) or async_prop in ("after", "both"),
        implementation=implementation.strip() if implementation else None,
        topic=topic,
        retry_cycle=retry_text or None,
        problem=problem,
    )
    return NO_JOBS if spec == NO_JOBS else spec


def check_jobs(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    """Timers that cannot be read, external tasks without a topic, bad retry cycles."""
    from sopflow.definitions.model import NodeKind
    from sopflow.errors import TimerError
    from sopflow.jobs.retry import parse_retry_cycle
    from sopflow.jobs.timers import check_timer

    found: list[DefinitionError] = []
    for node in raw.nodes.values():
        spec = node.jobs
        if node.kind is None or spec is NO_JOBS:
            continue
        if spec.problem is not None:
            found.append(raw.error(spec.problem, line=node.line, element=node.id))
        if spec.timer is not None and spec.problem is None:
            if (
                node.tag == "startEvent"
                and node.scope is not None
                and raw.nodes[node.scope].kind is not NodeKind.EVENT_SUBPROCESS
            ):
                found.append(
                    raw.error(
                        "a timer start event inside an embedded subprocess is not BPMN "
                        "(10.5.2: an embedded subprocess starts with a none start event)",
                        line=node.line,
                        element=node.id,
                    )
                )
            try:
                check_timer(spec.timer)
            except TimerError as exc:
                found.append(
                    raw.error(str(exc), line=spec.timer.line or node.line, element=node.id)
                )
        if node.kind is NodeKind.SERVICE_TASK and spec.implementation is not None:
            if spec.implementation != "external":
                found.append(
                    raw.error(
                        f"camunda:type={spec.implementation!r} is not run by sopflow: use "
                        'camunda:type="external" with a camunda:topic, or a Python handler',
                        line=node.line,
                        element=node.id,
                    )
                )
            elif spec.topic is None:
                found.append(
                    raw.error(
                        "an external task needs a camunda:topic for its workers to fetch",
                        line=node.line,
                        element=node.id,
                    )
                )
        if spec.retry_cycle is not None:
            try:
                parse_retry_cycle(spec.retry_cycle)
            except TimerError as exc:
                found.append(
                    raw.error(f"failedJobRetryTimeCycle: {exc}", line=node.line, element=node.id)
                )
    return found
