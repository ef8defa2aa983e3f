"""The safe expression language plugged into SpiffWorkflow (its script engine).

Apart from :mod:`sopflow.runtime.expressions` so that evaluating a condition does not
import SpiffWorkflow's BPMN package: only parsing a file and running the token machine
need it (a listing such as ``sopflow inbox`` does neither; issue 14). Both names are
still importable from :mod:`sopflow.runtime.expressions`.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

from sopflow.errors import ExpressionError
from sopflow.runtime.expressions import _excerpt, check_expression, compile_expression

__all__ = ["SafeEnvironment", "SafeScriptEngine", "ScriptHandler"]

#: a Python function that does a script task's work on the task data, in place
ScriptHandler = Callable[[MutableMapping[str, object]], None]


class SafeEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Evaluates conditions with the safe language; runs only registered script handlers."""

    def __init__(self, handlers: Mapping[str, ScriptHandler] | None = None) -> None:
        super().__init__({})
        self.handlers: dict[str, ScriptHandler] = dict(handlers or {})

    def register(self, name: str, handler: ScriptHandler) -> None:
        """Let a script task whose script text is exactly ``name`` call ``handler``."""
        if not name.isidentifier():
            raise ExpressionError(f"script handler name {name!r} is not an identifier")
        self.handlers[name] = handler

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, object],
        external_context: Mapping[str, object] | None = None,
    ) -> object:
        data: Mapping[str, object] = ChainMap(dict(context), dict(external_context or {}))
        return compile_expression(expression).evaluate(data)

    def execute(
        self,
        script: str,
        context: MutableMapping[str, object],
        external_context: Mapping[str, object] | None = None,
    ) -> bool:
        name = script.strip() if isinstance(script, str) else ""
        handler = self.handlers.get(name)
        if handler is None:
            raise ExpressionError(
                "script tasks are refused; register a Python handler under the script's name",
                expression=_excerpt(str(script)),
            )
        handler(context)
        return True

    def call_service(self, context: Mapping[str, object], **kwargs: object) -> object:
        raise ExpressionError("service tasks are not supported by sopflow's safe engine")


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """A SpiffWorkflow script engine that never hands BPMN text to eval or exec.

    Set it on every workflow, including each one deserialized (the serializer restores
    SpiffWorkflow's default engine).
    """

    def __init__(self, handlers: Mapping[str, ScriptHandler] | None = None) -> None:
        super().__init__(environment=SafeEnvironment(handlers))

    def register(self, name: str, handler: ScriptHandler) -> None:
        """Allow the script task whose script text is ``name`` to run ``handler``."""
        self.environment.register(name, handler)

    def validate(self, expression: str) -> None:
        check_expression(expression)

    def evaluate(
        self, task: Any, expression: str, external_context: Mapping[str, object] | None = None
    ) -> object:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as exc:
            raise _at_task(exc, task) from exc

    def execute(
        self, task: Any, script: str, external_context: Mapping[str, object] | None = None
    ) -> bool:
        try:
            return bool(self.environment.execute(script, task.data, external_context or {}))
        except ExpressionError as exc:
            raise _at_task(exc, task) from exc


def _at_task(exc: ExpressionError, task: Any) -> ExpressionError:
    """Name the BPMN element whose condition or script failed, for the office reading it."""
    spec = getattr(task, "task_spec", None)
    element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or "unknown task"
    label = getattr(spec, "bpmn_name", None)
    where = f"{element} ({label})" if label else str(element)
    return ExpressionError(f"{where}: {exc.message}", expression=exc.expression)
