"""Events inside the token machine: arming catches, throwing, and who catches a throw.

Everything here works on one machine run, so an event's whole effect — the activity a
boundary event interrupts, the steps it closes, the jobs and subscriptions it withdraws,
the token it sends on — is written in the one transaction of the action that made it
happen (a job firing, a message delivered, a step completed).

- :func:`arm_boundaries` / :func:`arm_scope`: when an activity starts, its timer,
  message and signal boundary events start to wait (a job or a subscription row bound
  to the activity's token, 13.5.3); when a scope opens, the start events of its event
  subprocesses do (bound to the scope's container token, 13.5.4). Both are withdrawn
  with the token, so an activity that ends leaves no job behind.
- :func:`occur`: a boundary event happened — interrupting ones terminate the activity
  (its open steps closed as cancelled, with the reason) and leave by their own flow;
  non-interrupting ones send a new token and the activity goes on.
- :func:`throw`: an error or escalation looks for its catcher from the throwing token
  outwards (boundary events of each enclosing activity, then the event subprocesses of
  each enclosing scope, 13.5.6 / 13.5.4), then in the calling instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import (
    CONDITIONAL,
    ESCALATION,
    MESSAGE,
    SIGNAL,
    TIMER,
    Node,
    NodeKind,
)
from sopflow.errors import BpmnError, ExpressionError, TaskDataError, TimerError
from sopflow.events.payloads import keep_item, receive, wrapped
from sopflow.jobs.context import Waited
from sopflow.jobs.model import NewJob
from sopflow.jobs.timers import first_due
from sopflow.runtime.expressions import compile_expression
from sopflow.runtime.state import Token
from sopflow.runtime.views import to_ms

if TYPE_CHECKING:
    from sopflow.jobs.model import JobRow
    from sopflow.runtime.machine import Machine

__all__ = [
    "ERROR_JOB",
    "arm_boundaries",
    "arm_scope",
    "conditions_changed",
    "find_catcher",
    "holds",
    "occur",
    "start_event_subprocess",
    "subscribe",
    "take_data",
    "throw",
]

#: the job an uncaught error waits in when no job was running: its run opens the incident
ERROR_JOB = "error"

#: the id of the stand-in job of a signal an instance throws to its own catches
SELF = 0


def subscription(kind: str, name: str | None) -> str:
    """The indexed subscription key of a message or signal catch."""
    return f"{kind}:{name}"


def subscribe(m: Machine, token: Token | None, node: Node) -> None:
    """Make ``node`` wait for its message or signal, bound to ``token``."""
    event = node.event
    assert event is not None and event.kind in (MESSAGE, SIGNAL)
    m.schedule(
        token,
        NewJob(event.kind, None, node.id, subscription=subscription(event.kind, event.name)),
    )


def arm_timer(m: Machine, token: Token | None, node: Node) -> None:
    """Write the job of ``node``'s timer (a boundary or event-subprocess start timer)."""
    timer = node.jobs.timer
    assert timer is not None
    try:
        due = first_due(
            timer, start=m.jobs.now, data=m.data, calendar=m.jobs.calendar, hari=m.jobs.hari
        )
    except TimerError as exc:
        raise TaskDataError(f"{node.id}: {exc}", instance_id=m.instance_id) from None
    if due is not None:
        m.schedule(token, NewJob(TIMER, to_ms(due), node.id, payload={"n": 0}))


def arm(m: Machine, token: Token | None, node: Node) -> None:
    """Make one catching node wait, whatever it waits for (timer, message, signal)."""
    if node.jobs.timer is not None:
        arm_timer(m, token, node)
    elif node.event is not None and node.event.kind in (MESSAGE, SIGNAL):
        subscribe(m, token, node)


def arm_boundaries(m: Machine, token: Token) -> None:
    """The activity at ``token`` started: its boundary events wait with it (13.5.3)."""
    for boundary in m.node(token).boundaries:
        arm(m, token, m.definition.nodes[boundary])


def event_subprocesses(m: Machine, container: Token | None) -> tuple[str, ...]:
    if container is None:
        return m.definition.event_subprocesses
    return m.definition.nodes[container.node].event_subprocesses


def arm_scope(m: Machine, container: Token | None) -> None:
    """A scope opened: the start events of its event subprocesses wait (13.5.4)."""
    for esp in event_subprocesses(m, container):
        start = m.definition.nodes[esp].start
        if start is not None:
            arm(m, container, m.definition.nodes[start])


def take_data(m: Machine, job: JobRow) -> None:
    """The data a message or signal brought (checked by the API that delivered it)."""
    data = job.payload.get("data")
    node = m.definition.nodes.get(job.node or "")
    if node is not None and node.event is not None and node.event.kind == MESSAGE:
        receive(m, node, data)  # into its messageVariable, conversation remembered
    elif node is not None and node.event is not None and node.event.variable is not None:
        keep_item(m, node, data if isinstance(data, dict) else None)  # SpiffArena's
    elif isinstance(data, dict) and data and not wrapped(data):
        m.data.update(data)


def rearm(m: Machine, token: Token | None, node: Node, job: JobRow) -> None:
    """A non-interrupting catch stays: a cycle's next occurrence, a new subscription."""
    from sopflow.runtime.behaviours.timers import reschedule_cycle

    if node.jobs.timer is not None:
        if node.jobs.timer.kind == "cycle":
            reschedule_cycle(m, token, node, job)
    elif job.id != SELF:  # a signal of this instance left the subscription row in place
        arm(m, token, node)


# ------------------------------------------------------------------ happening
def occur(m: Machine, activity: Token, boundary: Node, reason: str) -> None:
    """Boundary event ``boundary`` of the activity at ``activity`` happened (13.5.3)."""
    if boundary.interrupting:
        m.terminate(activity, outcome="cancelled", reason=f"{boundary.id}: {reason}")
    m.place(boundary.id, activity.scope)


def start_event_subprocess(m: Machine, container: Token | None, esp: Node, reason: str) -> None:
    """Start event subprocess ``esp`` in the scope of ``container`` (13.5.4): an
    interrupting one first terminates everything else running in that scope."""
    scope = None if container is None else container.id
    if esp.interrupting:
        m.terminate_scope(scope, outcome="cancelled", reason=f"{esp.id}: {reason}")
    token = m.state.new_token(esp.id, scope)
    assert esp.start is not None
    m.enter(token, esp.start)


def interrupted(m: Machine, container: Token | None) -> bool:
    """Is an interrupting event subprocess running in the scope of ``container``? Then
    the scope is ending, and its other event subprocesses no longer start (13.5.4)."""
    scope = None if container is None else container.id
    for token in m.state.in_scope(scope):
        node = m.node(token)
        if node.kind is NodeKind.EVENT_SUBPROCESS and node.interrupting:
            return True
    return False


def _matches(node: Node, kind: str, code: str | None) -> bool:
    event = node.event
    return event is not None and event.kind == kind and (event.name is None or event.name == code)


def find_catcher(
    m: Machine, token: Token, kind: str, code: str | None
) -> tuple[Token | None, Node] | None:
    """Who catches an error or escalation thrown at ``token``: (the activity or scope
    container token, the boundary event or event subprocess), nearest first.

    Boundary events of a multi-instance activity belong to the whole activity, so an
    instance of its body is passed over and its body token asked instead.
    """
    current = token
    while True:
        inner = m.is_inner(current)
        if not inner:
            for boundary in m.node(current).boundaries:
                node = m.definition.nodes[boundary]
                if _matches(node, kind, code):
                    return current, node
        container = None if current.scope is None else m.state.token(current.scope)
        if not inner:
            for esp in event_subprocesses(m, container):
                start = m.definition.nodes[esp].start
                if start is not None and _matches(m.definition.nodes[start], kind, code):
                    return container, m.definition.nodes[esp]
        if container is None:
            return None
        current = container


def _catching_node(m: Machine, node: Node) -> Node:
    """The event that catches: a boundary event itself, an event subprocess's start."""
    if node.kind is NodeKind.EVENT_SUBPROCESS and node.start is not None:
        return m.definition.nodes[node.start]
    return node


def throw(
    m: Machine,
    token: Token,
    kind: str,
    code: str | None,
    message: str = "",
    carried: dict[str, Any] | None = None,
) -> bool:
    """Throw an error or escalation at ``token``; True if the thrower goes on.

    ``carried`` is what it carries (SpiffArena's payloadExpression, evaluated by the
    thrower, :func:`sopflow.events.payloads.item_body`); the catch keeps it in its
    variableName, in this instance or in the calling one.

    An error always ends the thrower's path. Uncaught, it goes to the calling instance
    when that one catches it (``m.outer``); else, inside a job, it is raised so the job
    becomes an incident; outside one, the token waits in an ``error`` job whose run does
    that. An uncaught escalation changes nothing (10.5.6: it is not an error).
    """
    found = find_catcher(m, token, kind, code)
    what = f"{kind} {code!r}" + (f": {message}" if message else "")
    if found is not None:
        owner, node = found
        keep_item(m, _catching_node(m, node), carried)
        if node.kind is NodeKind.EVENT_SUBPROCESS:
            start_event_subprocess(m, owner, node, f"{what} thrown at {token.node}")
        else:
            assert owner is not None
            occur(m, owner, node, f"{what} thrown at {token.node}")
        return kind == ESCALATION and m.state.token(token.id) is not None
    if kind == ESCALATION:
        if m.outer is not None and m.outer(kind, code or ""):
            m.effects.escalated.append((code or "", message, carried))
        return True
    if m.outer is not None and m.outer(kind, code or ""):
        m.effects.raised = (kind, code or "", message, carried)
        m.terminate_scope(None, outcome="cancelled", reason=f"{what} thrown to the caller")
        return False
    if m.jobs.job is not None:
        raise BpmnError(code or "", message or f"uncaught at {token.node}")
    m.schedule(
        token,
        NewJob(ERROR_JOB, m.jobs.now_ms, token.node, payload={"code": code, "message": message}),
    )
    return False


def holds(m: Machine, token: Token | None, node: Node) -> bool:
    """A conditional event's condition, on the instance data (10.5.5)."""
    event = node.event
    assert event is not None and event.kind == CONDITIONAL and event.condition is not None
    try:
        return compile_expression(event.condition).evaluate_bool(m.variables(token))
    except ExpressionError as exc:
        raise TaskDataError(
            f"{node.id}: the condition cannot be evaluated: {exc}", instance_id=m.instance_id
        ) from None


def _conditional(node: Node) -> bool:
    return node.event is not None and node.event.kind == CONDITIONAL


def _entered(m: Machine, token: Token) -> bool:
    """Is ``token`` a scope that runs now (an entered subprocess, one body instance)?
    A multi-instance or loop body's own token is not: its instances are the scopes."""
    node = m.node(token)
    if (node.multi is not None or node.loop is not None) and not m.is_inner(token):
        return False
    return bool(m.state.in_scope(token.id))


def waiting_conditions(m: Machine) -> list[tuple[Token | None, Node]]:
    """Every conditional event that waits now, with the token it waits with: tokens at
    conditional catch events; activities with a conditional boundary event (the
    boundary node); running scopes (None: the process) whose event subprocesses start
    with a conditional start event (that start event). Re-evaluated after every change."""
    if not m.graph.conditional:
        return []  # the usual case: one cached flag per definition, no walk
    found: list[tuple[Token | None, Node]] = []
    containers: list[Token | None] = [None] if m.state.tokens else []
    for token in m.state.tokens:
        node = m.node(token)
        if node.kind is NodeKind.CATCH_EVENT and _conditional(node):
            found.append((token, node))
        elif node.boundaries and not m.is_inner(token):
            found += [
                (token, m.definition.nodes[b])
                for b in node.boundaries
                if _conditional(m.definition.nodes[b])
            ]
        if node.event_subprocesses and _entered(m, token):
            containers.append(token)
    for container in containers:
        for esp in event_subprocesses(m, container):
            start = m.definition.nodes[esp].start
            if start is not None and _conditional(m.definition.nodes[start]):
                found.append((container, m.definition.nodes[start]))
    return found


def conditions_changed(m: Machine) -> bool:
    """Re-evaluate the waiting conditional events after the data changed (10.5.5); True
    when one fired (the machine runs again, then looks again).

    A conditional event fires when its condition turns from false to true, not while
    it stays true: the value each condition had when last looked at is kept in the
    state (:attr:`State.held`, with the token it waits with, so it goes when the token
    goes). A catch event's token leaves when its condition holds; an interrupting
    boundary event cancels its activity; a non-interrupting one sends a token and may
    fire again once its condition was false in between (13.5.3); an event subprocess's
    conditional start event starts it, interrupting or not (13.5.4).
    """
    for owner, node in waiting_conditions(m):
        key = 0 if owner is None else owner.id
        was = m.state.holding(key, node.id)
        now = holds(m, owner, node)
        if now == was:
            continue
        if node.kind is NodeKind.CATCH_EVENT:
            assert owner is not None
            m.waited(Waited(owner.id, node.id, CONDITIONAL, False, "held"))
            m.leave(owner)
            return True
        if not now:  # false again: the next rise fires it again
            m.state.hold(key, node.id, False)
            continue
        if node.kind is NodeKind.BOUNDARY:
            assert owner is not None
            m.state.hold(key, node.id, True)  # an interrupting one drops it with its token
            occur(m, owner, node, "condition holds")
            return True
        if interrupted(m, owner):
            continue  # an interrupting event subprocess is ending this scope already
        m.state.hold(key, node.id, True)
        esp = m.definition.nodes[node.scope or ""]
        start_event_subprocess(m, owner, esp, f"conditional event {node.id}")
        return True
    return False


def signal_self(
    m: Machine, thrower: Token, name: str, carried: dict[str, Any] | None = None
) -> None:
    """A signal thrown by this instance reaches its own waiting catches too (10.5.4:
    "all" catching signal events), in this run: intermediate catches, event-based
    gateways, boundary events and event-subprocess start events."""
    from sopflow.jobs.model import JobRow

    def job(node: Node, token: Token | None) -> JobRow:
        return JobRow(
            SELF,
            SIGNAL,
            m.instance_id,
            None,
            None,
            node.id,
            None if token is None else token.id,
            None,
            None,
            {"signal": name} if carried is None else {"signal": name, "data": carried},
            0,
            0,
            None,
            None,
            None,
            None,
            None,
            0,
        )

    def catches(node: Node) -> bool:
        return any(e.kind == SIGNAL and e.name == name for e in node.definitions)

    targets: list[tuple[Token | None, Node]] = []
    containers: list[Token | None] = [None]
    for token in list(m.state.tokens):
        if token.id == thrower.id:
            continue
        node = m.node(token)
        if node.kind in (NodeKind.CATCH_EVENT, NodeKind.MULTIPLE_CATCH) and catches(node):
            targets.append((token, node))
        elif node.kind is NodeKind.EVENT_GATEWAY:
            targets += [
                (token, m.definition.nodes[f.target])
                for f in node.outgoing
                if catches(m.definition.nodes[f.target])
            ][:1]
        elif not m.is_inner(token):
            targets += [
                (token, m.definition.nodes[b])
                for b in node.boundaries
                if catches(m.definition.nodes[b])
            ]
        if node.event_subprocesses:
            containers.append(token)
    for container in containers:
        for esp in event_subprocesses(m, container):
            start = m.definition.nodes[esp].start
            if start is not None and catches(m.definition.nodes[start]):
                targets.append((container, m.definition.nodes[start]))
    for waiting, target in targets:
        if waiting is not None and m.state.token(waiting.id) is not waiting:
            continue  # ended by an earlier catch of the same signal
        stand_in = job(target, waiting)
        m.catcher(waiting, stand_in).fire(m, waiting, stand_in)


def thrown_payload(m: Machine) -> dict[str, Any]:
    """What a message or signal thrown by this instance carries: a copy of its data."""
    return dict(m.data)
