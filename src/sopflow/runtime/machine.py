"""The token machine: moves tokens over a definition's graph, knowing no element kind.

Every element kind's meaning lives in its behaviour (:mod:`sopflow.runtime.behaviours`);
the machine offers them a small vocabulary — wait here, leave by these flows, consume
this token, open a child scope, terminate a scope — and keeps an agenda so a long chain
of pass-through nodes never recurses. One machine runs one action on one loaded
:class:`~sopflow.runtime.state.State`; what it changed comes back as :class:`Effects`,
which the action turns into one store :class:`~sopflow.stores.base.Change`. Nothing is
written if any behaviour raises, so a failed action leaves the instance as it was.

The join rules need to know where tokens can still go: :mod:`sopflow.runtime.graph`
computes that once per definition.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sopflow.definitions.model import Flow, Node, ProcessDefinition
from sopflow.errors import (
    DefinitionError,
    ExpressionError,
    GatewayError,
    ScriptHandlerError,
    TaskDataError,
)
from sopflow.jobs.context import JobContext, Waited
from sopflow.jobs.model import ASYNC, JobRow, NewJob
from sopflow.runtime.behaviours.base import Behaviour
from sopflow.runtime.data import check_data
from sopflow.runtime.expressions import compile_expression
from sopflow.runtime.graph import Graph, graph_of
from sopflow.runtime.state import State, Token
from sopflow.runtime.views import GatewayDecision

__all__ = ["MAX_HOPS", "Closed", "Effects", "Machine"]

#: Activations in one action without reaching a wait state: a loop with no task in it.
MAX_HOPS = 10_000


@dataclass(frozen=True, slots=True)
class Closed:
    """A wait state ended without being completed (a terminate end, a sibling, a cancel)."""

    token: int
    node: str
    outcome: str
    reason: str


@dataclass(slots=True)
class Effects:
    """What one action did to the tokens, for the action to write down."""

    #: tokens that reached a wait state (a step row each), with the item they are for
    opened: list[tuple[Token, str | None]] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    path: list[GatewayDecision] = field(default_factory=list)
    #: the top-level scope has no token left: the instance is done
    finished: bool = False
    #: jobs to write with the action, tokens whose waiting jobs it withdraws, and the
    #: waits that began or ended (sopflow.jobs)
    new_jobs: list[NewJob] = field(default_factory=list)
    drop_jobs_of: list[int] = field(default_factory=list)
    waits: list[Waited] = field(default_factory=list)
    #: call activity tokens that wait for a child instance to be started
    calls: list[Token] = field(default_factory=list)
    #: call activity tokens ended around their child: (token id, outcome, reason)
    ended_calls: list[tuple[int, str, str]] = field(default_factory=list)
    #: messages and signals thrown for other instances: (kind, name, data)
    thrown: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    #: an error no scope caught, passed to the calling instance: (kind, code, message,
    #: what it carries: SpiffArena's payload wrapped under BODY, or None)
    raised: tuple[str, str, str, dict[str, Any] | None] | None = None
    #: escalations no scope caught, passed to the calling instance: (code, message, carried)
    escalated: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)


class Machine:
    """Run the behaviours of one definition over one state, for one action."""

    def __init__(
        self,
        definition: ProcessDefinition,
        state: State,
        *,
        instance_id: str,
        scripts: Mapping[str, Callable[[dict[str, Any]], Mapping[str, Any] | None]],
        jobs: JobContext | None = None,
        outer: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.definition = definition
        #: does the calling instance catch this (kind, code)? (call activities)
        self.outer = outer
        self.jobs = jobs if jobs is not None else JobContext.default()
        self._resumed: set[tuple[int, str, str]] = set()
        self.state = state
        self.instance_id = instance_id
        self.scripts = scripts
        self.graph: Graph = graph_of(definition)
        self.effects = Effects()
        self._agenda: deque[Token] = deque()
        self._hops = 0

    # -- what the actions call ---------------------------------------------------------
    def start(self, at_node: str | None = None, arrived: tuple[int, ...] = ()) -> Effects:
        """A new instance: one token at the top-level start event (13.5.1), or at the
        start event ``at_node`` (a timer start event that fired). ``arrived``: which
        definitions of a parallel multiple start event have occurred (10.5.2: it starts
        the process once all have; until then the token waits at it)."""
        from sopflow.runtime.behaviours.multiple import arrived_key
        from sopflow.runtime.triggers import arm_scope

        token = self.state.new_token(at_node or self.definition.start_node, None)
        for index in arrived:
            self.state.hold(token.id, arrived_key(self.node(token), index), True)
        self._schedule(token)
        arm_scope(self, None)
        self._run()
        return self.effects

    def complete(self, token: Token) -> Effects:
        """A wait state was completed (a step done): its behaviour decides what follows.

        The completion's data is merged already; a SpiffArena postScript runs now, before
        the token leaves, so the outgoing conditions see what it set."""
        self.hook(token, "postScript")
        self.behaviour(token).complete(self, token)
        self._run()
        return self.effects

    def fire(self, token: Token | None, job: JobRow) -> Effects:
        """A job of this instance is due: an asynchronous continuation goes on here; any
        other kind goes to the behaviour of the job's node (a timer event, a task)."""
        if job.kind == ASYNC:
            if token is None or token.node != job.node:
                return self.effects  # stale: its token went on; the job is just consumed
            at = str(job.payload.get("at", "before"))
            self._resumed.add((token.id, token.node, at))
            if at == "before":
                self._schedule(token)
            else:
                self.leave(token)
        else:
            self.catcher(token, job).fire(self, token, job)
        self._run()
        return self.effects

    def catcher(self, token: Token | None, job: JobRow) -> Behaviour:
        """Whose job it is: the waiting token's own node (or its event-based gateway),
        else the job's node (a boundary event, an event subprocess's start event)."""
        from sopflow.definitions.model import NodeKind
        from sopflow.runtime.behaviours import behaviour_for

        if token is not None and (
            token.node == job.node or self.node(token).kind is NodeKind.EVENT_GATEWAY
        ):
            return self.behaviour(token)
        return behaviour_for(self.definition.nodes[job.node or ""])

    def throw(
        self,
        token: Token,
        kind: str,
        code: str,
        message: str = "",
        carried: dict[str, Any] | None = None,
    ) -> Effects:
        """An error or escalation arrives at ``token`` from outside this run (a child
        instance's error reaching its call activity), with what it carries."""
        from sopflow.runtime.triggers import throw

        throw(self, token, kind, code, message, carried)
        self._run()
        return self.effects

    # -- the vocabulary behaviours use ---------------------------------------------------
    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    def node(self, token: Token) -> Node:
        return self.definition.nodes[token.node]

    def hook(self, token: Token, name: str) -> None:
        """SpiffArena's ``preScript`` / ``postScript`` of the token's task, when the file
        gives one: the application's handler ``"<task id>:<name>"`` (a script handler) runs
        with the task's data and its returned changes join the instance data. The file's
        script text is never executed. A handler that raises refuses the whole action
        (:class:`ScriptHandlerError`): the action's one transaction writes nothing."""
        node = self.node(token)
        if name not in node.hooks:
            return
        if (node.multi is not None or node.loop is not None) and (
            self.is_inner(token) != node.scripts_on_instances
        ):
            return  # a repeated task's hooks run around the body, or on each instance
        key = f"{node.id}:{name}"
        handler = self.scripts.get(key)
        if handler is None:  # the loader refuses this file without the handler
            raise DefinitionError(f"{name} has no registered handler {key!r}", element=node.id)
        try:
            updates = handler(dict(self.variables(token)))
        except Exception as exc:
            raise ScriptHandlerError(
                f"the handler {key!r} raised {type(exc).__name__}: {exc}; nothing was written",
                instance_id=self.instance_id,
                task_id=node.id,
            ) from exc
        if updates:
            self.data.update(check_data(updates, self.instance_id, node.id))

    def behaviour(self, token: Token) -> Behaviour:
        """The token's behaviour: a loop or multi-instance body, or the element's own."""
        from sopflow.runtime.behaviours import behaviour_for

        return behaviour_for(self.node(token), inner=self.is_inner(token))

    def is_inner(self, token: Token) -> bool:
        """Is this one instance of a loop or multi-instance body (same node, one scope up)?"""
        if token.scope is None:
            return False
        body = self.state.token(token.scope)
        return body is not None and body.node == token.node

    def variables(self, token: Token | None) -> dict[str, Any]:
        """The data a condition at ``token`` sees: the instance data, and the local
        variables (loopCounter, the element variable) of every body instance around it."""
        local: dict[str, Any] = {}
        current = token
        while current is not None:
            found = self.state.scopes.get(current.id, {}).get("vars")
            if found:
                local = {**found, **local}
            current = None if current.scope is None else self.state.token(current.scope)
        return {**self.state.data, **local} if local else self.state.data

    def item_of(self, token: Token) -> str | None:
        """What a step is for, when it is one instance of a multi-instance or loop."""
        current: Token | None = token
        while current is not None:
            found = self.state.scopes.get(current.id, {}).get("label")
            if found is not None:
                return str(found)
            current = None if current.scope is None else self.state.token(current.scope)
        return None

    def evaluate(self, text: str, token: Token, what: str, **extra: Any) -> object:
        try:
            return compile_expression(text).evaluate({**self.variables(token), **extra})
        except ExpressionError as exc:
            raise TaskDataError(
                f"{token.node}: {what} cannot be evaluated: {exc}", instance_id=self.instance_id
            ) from None

    def spawn(self, node: str, scope: int, local: dict[str, Any]) -> Token:
        """A new instance inside a body's scope, with its local variables; scheduled."""
        token = self.state.new_token(node, scope)
        self.state.scopes[token.id] = local
        self._schedule(token)
        return token

    def wait(self, token: Token) -> None:
        """The token stays here until an action completes it: a step row is opened."""
        self.effects.opened.append((token, self.item_of(token)))

    def take(self, token: Token, flows: list[Flow]) -> None:
        """The token leaves by ``flows``: one new token down each, ``copies`` times."""
        self._release(token)
        self.state.remove(token)
        copies = self.node(token).completion_quantity
        for flow in flows:
            for _ in range(copies):
                self._schedule(self.state.new_token(flow.target, token.scope, flow.id))
        if not flows:
            self._after_removal(token.scope)

    def leave(self, token: Token) -> None:
        """Leave an activity or event by its outgoing flows (13.2.1 implicit split).

        Unconditional flows are all taken; a conditional flow when its condition holds;
        the default flow only when no conditional flow holds (13.3.1: "all other
        outgoing conditional flows are false"). No flow at all ends the token (an
        implicit end); flows none of which can be taken is a GatewayError.
        """
        if self.is_inner(token):
            # one instance of a body is done: the body decides what follows (13.3.6/7)
            body = self.state.token(token.scope)  # type: ignore[arg-type]
            local = self.state.scopes.get(token.id, {})
            self._release(token)
            self.state.remove(token)
            assert body is not None
            self.behaviour(body).inner_completed(self, body, local)
            return
        if self._deferred(token, "after"):
            return
        node = self.node(token)
        flows = node.outgoing
        if not flows:
            self.consume(token)
            return
        taken: list[Flow] = []
        default: Flow | None = None
        conditional_held = False
        for flow in flows:
            if flow.is_default:
                default = flow
            elif flow.condition is None:
                taken.append(flow)
            elif self.holds(flow, node, token):
                self.decided(node, flow)
                taken.append(flow)
                conditional_held = True
        if not conditional_held and default is not None:
            self.decided(node, default)
            taken.append(default)
        if not taken:
            raise GatewayError(
                "no condition of its outgoing flows holds and it has no default flow",
                element=node.id,
                instance_id=self.instance_id,
            )
        self.take(token, taken)

    def holds(self, flow: Flow, node: Node, token: Token | None = None) -> bool:
        assert flow.condition is not None
        try:
            return compile_expression(flow.condition).evaluate_bool(self.variables(token))
        except ExpressionError as exc:
            raise TaskDataError(
                f"{node.id} cannot decide on flow {flow.id}: {exc}", instance_id=self.instance_id
            ) from None

    def decided(self, node: Node, flow: Flow) -> None:
        self.effects.path.append(GatewayDecision(node.id, flow.id, flow.name, flow.target))

    def consume(self, token: Token) -> None:
        """The token ends here (an end event, a join that absorbed it)."""
        self._release(token)
        self.state.remove(token)
        self._after_removal(token.scope)

    def absorb(self, token: Token) -> None:
        """Remove a token a join consumed; unlike :meth:`consume`, no scope check."""
        self.state.remove(token)

    def emit(self, node: Node, scope: int | None) -> Token:
        """A fresh token at ``node`` (a join's output), not scheduled: leave it next."""
        return self.state.new_token(node.id, scope)

    def enter(self, container: Token, start: str) -> None:
        """Open the scope of ``container`` with one token at its start event (13.3.4)."""
        from sopflow.runtime.triggers import arm_scope

        self._schedule(self.state.new_token(start, container.id))
        arm_scope(self, container)

    def place(self, node: str, scope: int | None) -> Token:
        """A new token at ``node`` in ``scope``, scheduled (a boundary event, a link)."""
        token = self.state.new_token(node, scope)
        self._schedule(token)
        return token

    def terminate_scope(self, scope: int | None, *, outcome: str, reason: str) -> None:
        """End every token of a scope, deepest first, each through its behaviour."""
        for token in list(self.state.in_scope(scope)):
            if self.state.token(token.id) is None:
                continue
            self.terminate(token, outcome=outcome, reason=reason)

    def terminate(self, token: Token, *, outcome: str, reason: str) -> None:
        if self.node(token).jobs.async_before or self.node(token).jobs.async_after:
            self.withdraw(token)  # a pending continuation ends with its token
        self.behaviour(token).terminate(self, token, outcome=outcome, reason=reason)
        self._release(token)
        self.state.remove(token)
        self._agenda = deque(t for t in self._agenda if t.id != token.id)

    def close(self, token: Token, *, outcome: str, reason: str) -> None:
        """A wait state ends without completion: its open step row gets ``outcome``.

        A wait this same action opened has no row yet: it is dropped, not closed (its
        token id may already name an older row: the step this action completes)."""
        if any(opened is token for opened, _ in self.effects.opened):
            self.effects.opened = [e for e in self.effects.opened if e[0] is not token]
            return
        self.effects.closed.append(Closed(token.id, token.node, outcome, reason))

    def schedule(self, token: Token | None, job: NewJob) -> None:
        """Write ``job`` with this action, bound to ``token`` (withdrawn when it ends)."""
        self.effects.new_jobs.append(replace(job, token=None if token is None else token.id))

    def withdraw(self, token: Token) -> None:
        """Drop every job waiting on ``token``: it is ending without them."""
        self.effects.drop_jobs_of.append(token.id)
        self.effects.new_jobs = [j for j in self.effects.new_jobs if j.token != token.id]

    def waited(self, waited: Waited) -> None:
        """A wait began or ended (the audit trail's ``wait.began`` / ``wait.ended``)."""
        self.effects.waits.append(waited)

    def tokens_at(self, node: Node, scope: int | None) -> list[Token]:
        """Tokens that arrived at ``node`` in ``scope`` and wait there (oldest first)."""
        return [t for t in self.state.tokens if t.node == node.id and t.scope == scope and t.flow]

    def could_still_arrive(self, node: Node, scope: int | None) -> bool:
        """Can a token of ``scope`` not waiting at ``node`` still reach it (13.4.3)?"""
        upstream = self.graph.upstream(node.id)
        return any(
            t.node in upstream
            for t in self.state.tokens
            if t.scope == scope and not (t.node == node.id and t.flow)
        )

    # -- the loop -------------------------------------------------------------------------
    def _schedule(self, token: Token) -> None:
        self._agenda.append(token)

    def _run(self) -> None:
        while True:
            while self._agenda:
                token = self._agenda.popleft()
                if self.state.token(token.id) is None:
                    continue  # terminated while it waited on the agenda
                self._hops += 1
                if self._hops > MAX_HOPS:
                    raise DefinitionError(
                        f"more than {MAX_HOPS} nodes passed without reaching a task: a loop "
                        "with no task",
                        element=token.node,
                    )
                behaviour = self.behaviour(token)
                if not behaviour.keeps_arrival(self.node(token)):
                    token.flow = None  # only a token waiting to be joined keeps its flow
                if self._deferred(token, "before"):
                    continue
                if self.node(token).boundaries and not self.is_inner(token):
                    from sopflow.runtime.triggers import arm_boundaries

                    arm_boundaries(self, token)
                behaviour.activate(self, token)
            if not self._settle() and not self._conditions():
                return

    def _release(self, token: Token) -> None:
        """A token that leaves an activity or scope withdraws its boundary events'
        and event subprocesses' jobs and subscriptions (they wait with it)."""
        node = self.node(token)
        if node.event_subprocesses or (node.boundaries and not self.is_inner(token)):
            self.withdraw(token)

    def _conditions(self) -> bool:
        """Re-evaluate waiting conditional events after the data changed (10.5.5)."""
        from sopflow.runtime.triggers import conditions_changed

        return conditions_changed(self)

    def _deferred(self, token: Token, at: str) -> bool:
        """camunda:asyncBefore / asyncAfter: commit here and go on in a job, unless this
        is that job going on."""
        spec = self.node(token).jobs
        if not (spec.async_before if at == "before" else spec.async_after):
            return False
        key = (token.id, token.node, at)
        if key in self._resumed:
            self._resumed.discard(key)
            return False
        self.schedule(token, NewJob(ASYNC, self.jobs.now_ms, token.node, payload={"at": at}))
        return True

    def _settle(self) -> bool:
        """Give joins whose rule depends on other tokens a chance to fire; True if one did."""
        for token in list(self.state.tokens):
            if token.flow is None or self.state.token(token.id) is None:
                continue
            behaviour = self.behaviour(token)
            settle = getattr(behaviour, "settle", None)
            if settle is not None and settle(self, token):
                return True
        return False

    def _after_removal(self, scope: int | None) -> None:
        if self.state.in_scope(scope):
            return
        if scope is None:
            self.effects.finished = True
            return
        container = self.state.token(scope)
        if container is None:  # the container itself is being terminated
            return
        self.behaviour(container).child_completed(self, container)
