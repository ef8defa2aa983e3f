"""Bodies that repeat an activity: multi-instance (BPMN 13.3.7) and standard loops (13.3.6).

A body is a token at the activity's node; each instance is a token at the same node one
scope down, with its local variables (``loopCounter``, the element variable) in the
state's scope data. The instance runs the activity's own behaviour; when it completes,
:meth:`Machine.leave` hands it back to the body, which starts the next one, checks the
completion condition, or leaves by the activity's outgoing flows. What a body keeps
(counts, the items, the outputs) lives only while it runs: nothing is left behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sopflow.definitions.model import MultiInstance, StandardLoop
from sopflow.errors import TaskDataError
from sopflow.runtime.behaviours.base import CANCELLED, Behaviour
from sopflow.runtime.state import Token

if TYPE_CHECKING:
    from sopflow.runtime.machine import Machine

__all__ = ["MAX_INSTANCES", "LoopBody", "MultiInstanceBody"]

#: Instances one multi-instance body may start: a cardinality from hostile data is
#: refused before a single row is written.
MAX_INSTANCES = 1000


def _label(value: object) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    return None


class MultiInstanceBody(Behaviour):
    """Parallel or sequential instances, one per item or ``loopCardinality`` times."""

    def _spec(self, m: Machine, token: Token) -> MultiInstance:
        spec = m.node(token).multi
        assert spec is not None
        return spec

    def activate(self, m: Machine, token: Token) -> None:
        spec = self._spec(m, token)
        items: list[Any] | None = None
        if spec.collection is not None:
            value = m.evaluate(spec.collection, token, "the input collection")
            if not isinstance(value, list):
                raise TaskDataError(
                    f"{token.node}: the input collection {spec.collection!r} is "
                    f"{type(value).__name__}, not a list",
                    instance_id=m.instance_id,
                )
            items, count = value, len(value)
        else:
            assert spec.cardinality is not None
            value = m.evaluate(spec.cardinality, token, "loopCardinality")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TaskDataError(
                    f"{token.node}: loopCardinality {spec.cardinality!r} must be a whole "
                    f"number from 0; got {value!r}",
                    instance_id=m.instance_id,
                )
            count = value
        if count > MAX_INSTANCES:
            raise TaskDataError(
                f"{token.node}: {count} instances asked for; at most {MAX_INSTANCES}",
                instance_id=m.instance_id,
            )
        m.hook(token, "preScript")  # SpiffWorkflow: on the body, unless scriptsOnInstances
        if count == 0:
            if spec.output is not None:
                m.data[spec.output] = []
            m.hook(token, "postScript")
            m.leave(token)
            return
        body: dict[str, Any] = {"n": count, "c": 0, "s": 0}
        if items is not None:
            body["items"] = items
        if spec.output is not None:
            body["out"] = [None] * count
        m.state.scopes[token.id] = body
        for _ in range(1 if spec.sequential else count):
            self._next(m, token)

    def _next(self, m: Machine, token: Token) -> None:
        spec = self._spec(m, token)
        body = m.state.scopes[token.id]
        k = body["s"]
        body["s"] = k + 1
        local: dict[str, Any] = {"loopCounter": k}
        label = str(k + 1)
        if "items" in body:
            item = body["items"][k]
            local[spec.element or "item"] = item
            label = _label(item) or label
        m.spawn(token.node, token.id, {"vars": local, "label": label})

    def inner_completed(self, m: Machine, token: Token, local: dict[str, Any]) -> None:
        spec = self._spec(m, token)
        body = m.state.scopes[token.id]
        body["c"] += 1
        k = local.get("vars", {}).get("loopCounter", 0)
        if "out" in body:
            body["out"][k] = m.data.get(spec.output_element) if spec.output_element else None
        active = len(m.state.in_scope(token.id))
        done = body["c"] == body["n"]
        if not done and spec.completion is not None:
            value = m.evaluate(
                spec.completion,
                token,
                "completionCondition",
                nrOfInstances=body["n"],
                nrOfCompletedInstances=body["c"],
                nrOfActiveInstances=active,
                loopCounter=k,
            )
            done = value is True
        if done:
            m.terminate_scope(
                token.id, outcome=CANCELLED, reason=f"completion condition of {token.node}"
            )
            if spec.output is not None:
                m.data[spec.output] = body["out"]
            m.state.scopes.pop(token.id, None)
            m.hook(token, "postScript")
            m.leave(token)
        elif spec.sequential:
            self._next(m, token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.terminate_scope(token.id, outcome=outcome, reason=reason)


class LoopBody(Behaviour):
    """Repeat while ``loopCondition`` holds (tested before or after), at most
    ``loopMaximum`` times."""

    def _spec(self, m: Machine, token: Token) -> StandardLoop:
        spec = m.node(token).loop
        assert spec is not None
        return spec

    def activate(self, m: Machine, token: Token) -> None:
        spec = self._spec(m, token)
        m.hook(token, "preScript")  # SpiffWorkflow: on the body, unless scriptsOnInstances
        if (spec.test_before and not self._again(m, token, 0)) or spec.maximum == 0:
            m.hook(token, "postScript")
            m.leave(token)
            return
        m.state.scopes[token.id] = {"k": 0}
        self._spawn(m, token, 0)

    def _again(self, m: Machine, token: Token, k: int) -> bool:
        spec = self._spec(m, token)
        if spec.maximum is not None and k >= spec.maximum:
            return False
        if spec.condition is None:
            return True
        return m.evaluate(spec.condition, token, "loopCondition", loopCounter=k) is True

    def _spawn(self, m: Machine, token: Token, k: int) -> None:
        m.spawn(token.node, token.id, {"vars": {"loopCounter": k}, "label": str(k + 1)})

    def inner_completed(self, m: Machine, token: Token, local: dict[str, Any]) -> None:
        k = local.get("vars", {}).get("loopCounter", 0) + 1
        if self._again(m, token, k):
            self._spawn(m, token, k)
            return
        m.state.scopes.pop(token.id, None)
        m.hook(token, "postScript")
        m.leave(token)

    def terminate(self, m: Machine, token: Token, *, outcome: str, reason: str) -> None:
        m.terminate_scope(token.id, outcome=outcome, reason=reason)
