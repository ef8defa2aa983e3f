"""Message payloads and correlation properties, in the safe expression language.

BPMN 2.0 8.4.3 gives a message an item definition (what it carries), and 8.4.7 gives it
correlation properties: values retrieved from the message (``messagePath``) that say
which conversation, and so which waiting instance, the message belongs to. A throw
event's payload is evaluated on the thrower's data when it throws (13.5.1); a catch
stores what arrived in its ``messageVariable`` when it names one, else merges a dict
payload into its data (13.5.2). Without a payload a message carries the thrower's data.

The file's text is never given to ``eval``. A payload is either one value of the safe
language (:mod:`sopflow.runtime.expressions`) or a dict display of text keys to such
values (SpiffArena's ``{'num': task_num, 'name': task_name}``); a value may also be a
*path*: a name followed by subscripts with literal keys (``source_task['num']``), read
from nested dicts and lists. The dict is parsed with :func:`ast.parse` after the same
text pre-check and size bounds as a condition, each value then compiled by the
language itself. A correlation property's retrieval expression is a path.

Correlation (8.4.7, as SpiffWorkflow runs it): an instance that throws or receives a
message with correlation properties remembers their values (its conversation); a
message is delivered only to waiting instances whose remembered values equal the
message's, an instance that remembers none taking part for the first time.
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sopflow.errors import ExpressionError, TaskDataError
from sopflow.runtime.expressions import MAX_LENGTH, Expression, compile_expression

if TYPE_CHECKING:
    from sopflow.definitions.model import EventDefinition, Node
    from sopflow.jobs.model import JobRow
    from sopflow.runtime.engine import Engine
    from sopflow.runtime.machine import Machine
    from sopflow.runtime.state import Token

__all__ = [
    "BODY",
    "MAX_FIELDS",
    "MAX_PATH",
    "Path",
    "Payload",
    "body_of",
    "check_variable",
    "compile_path",
    "compile_payload",
    "correlated",
    "correlation_values",
    "item_body",
    "keep_item",
    "receive",
    "start_data",
    "thrown_body",
    "wrapped",
]

#: most keys of a dict payload
MAX_FIELDS: Final = 64
#: most subscripts in one path
MAX_PATH: Final = 8
#: longest key of a dict payload or a path, in characters
_MAX_KEY: Final = 200
#: a payload that is not a dict travels wrapped under this key (never a field name a
#: BPMN file or the safe language can write: it is not an identifier)
BODY: Final = "$payload"

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def _refuse(what: str, text: str) -> ExpressionError:
    excerpt = text if len(text) <= 120 else text[:117] + "..."
    return ExpressionError(f"payload: {what}", expression=excerpt)


def _parse(text: str) -> ast.expr:
    from sopflow.runtime import expressions

    expressions._precheck(text)  # bounds brackets and operators before the parser runs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise _refuse(f"not a valid expression: {exc.msg}", text) from exc
    except (ValueError, MemoryError, RecursionError) as exc:
        raise _refuse(f"not a valid expression: {exc}", text) from exc
    expressions._measure(tree, text)
    return tree


@dataclass(frozen=True, slots=True)
class Path:
    """``name['key'][0]...``: a value read from the data, through nested dicts and lists."""

    text: str
    name: str
    keys: tuple[str | int, ...]

    def evaluate(self, data: Mapping[str, object]) -> object:
        if self.name not in data:
            raise ExpressionError(f"name {self.name!r} is not in the data", expression=self.text)
        value: object = data[self.name]
        for key in self.keys:
            in_dict = isinstance(key, str) and isinstance(value, dict) and key in value
            in_list = (
                isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value)
            )
            if in_dict or in_list:
                value = value[key]  # type: ignore[index]
            else:
                raise ExpressionError(
                    f"{key!r} is not in the value read (a {type(value).__name__})",
                    expression=self.text,
                )
        return value


def _path(node: ast.expr, text: str) -> Path | None:
    """The path ``node`` is, None when it is no path, ExpressionError for a bad key."""
    keys: list[str | int] = []
    while isinstance(node, ast.Subscript):
        key = node.slice
        if not isinstance(key, ast.Constant) or isinstance(key.value, bool):
            raise _refuse("a subscript key must be a literal text or whole number", text)
        literal = key.value
        if (isinstance(literal, str) and len(literal) <= _MAX_KEY) or (
            isinstance(literal, int) and abs(literal) < 2**31
        ):
            keys.append(literal)
        else:
            raise _refuse("a subscript key must be a short text or a whole number", text)
        node = node.value
    if not keys or not isinstance(node, ast.Name):
        return None if not keys else _fail_base(text)
    if node.id.startswith("__"):
        raise _refuse("a name starting with '__'", text)
    if len(keys) > MAX_PATH:
        raise _refuse(f"more than {MAX_PATH} subscripts", text)
    return Path(text, node.id, tuple(reversed(keys)))


def _fail_base(text: str) -> Path:
    raise _refuse("only a name may be subscripted (name['key'])", text)


def _value(node: ast.expr, whole: str) -> Value:
    if isinstance(node, ast.Dict):
        return _dict(node, whole)
    segment = ast.get_source_segment(whole, node) or ""
    if not segment:
        raise _refuse("a value that cannot be read", whole)
    path = _path(node, segment)
    if path is not None:
        return path
    return compile_expression(segment)


def _dict(tree: ast.Dict, whole: str) -> Payload:
    """A dict display of text keys to values (dicts nest; the tree is bounded already)."""
    if len(tree.keys) > MAX_FIELDS:
        raise _refuse(f"more than {MAX_FIELDS} keys", whole)
    fields: list[tuple[str, Value]] = []
    for key, value in zip(tree.keys, tree.values, strict=True):
        if key is None:
            raise _refuse("'**' unpacking is not allowed", whole)
        if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
            raise _refuse("every key must be a literal text ('name': value)", whole)
        if not key.value or len(key.value) > _MAX_KEY:
            raise _refuse("a key must be a text of 1 to 200 characters", whole)
        if any(key.value == seen for seen, _ in fields):
            raise _refuse(f"the key {key.value!r} is given twice", whole)
        fields.append((key.value, _value(value, whole)))
    segment = ast.get_source_segment(whole, tree) or whole
    return Payload(segment, tuple(fields), None)


@dataclass(frozen=True, slots=True)
class Payload:
    """A parsed payload: a dict of values (which may be dicts), or one value."""

    text: str
    fields: tuple[tuple[str, Value], ...] | None
    single: Value | None

    def evaluate(self, data: Mapping[str, object]) -> object:
        if self.fields is None:
            assert self.single is not None
            return self.single.evaluate(data)
        return {key: value.evaluate(data) for key, value in self.fields}


Value = Expression | Path | Payload


@functools.lru_cache(maxsize=512)
def compile_payload(text: str) -> Payload:
    """Check ``text`` once (cached by text): ExpressionError for anything outside it."""
    if not isinstance(text, str):
        raise ExpressionError(f"a payload must be text, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise _refuse("empty", text)
    if len(stripped) > MAX_LENGTH:
        raise _refuse(f"{len(stripped)} characters long; the limit is {MAX_LENGTH}", stripped)
    if stripped.startswith(("${", "#{")):  # a JUEL value: the dialect's own subset
        return Payload(stripped, None, compile_expression(stripped))
    tree = _parse(stripped)
    if isinstance(tree, ast.Dict):
        return _dict(tree, stripped)
    if stripped.startswith("{"):
        raise _refuse("a text starting with '{' must be a dict of text keys", stripped)
    return Payload(stripped, None, _value(tree, stripped))


@functools.lru_cache(maxsize=512)
def compile_path(text: str) -> Path:
    """A correlation property's retrieval expression: a name, or a path."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped or len(stripped) > MAX_LENGTH:
        raise _refuse("a retrieval expression is a name or name['key']", text)
    tree = _parse(stripped)
    if isinstance(tree, ast.Name) and not tree.id.startswith("__"):
        return Path(stripped, tree.id, ())
    path = _path(tree, stripped)
    if path is None:
        raise _refuse("a retrieval expression is a name or name['key'] (8.4.7)", stripped)
    return path


def check_variable(text: str) -> str:
    """A catch's variable: a plain field name."""
    name = text.strip()
    if not _VARIABLE.fullmatch(name) or name.startswith("__"):
        raise ExpressionError(
            "a message variable is a field name (letters, digits, '_')", expression=name[:120]
        )
    return name


# ------------------------------------------------------------------------- runtime


def thrown_body(m: Machine, token: Token, node: Node) -> dict[str, Any]:
    """What a message thrown at ``node`` carries (13.5.1), and the thrower's part in its
    conversation remembered: the payload evaluated on the thrower's data now, or a copy
    of its data; a value that is not a dict travels wrapped under :data:`BODY`."""
    event = node.event
    assert event is not None
    if event.payload is None:
        body: dict[str, Any] = dict(m.data)
    else:
        value = _evaluated(m, token, node, event.payload, f"message {event.name!r}")
        if event.variable is not None:  # SpiffWorkflow's camunda dialect names it here
            value = {event.variable: value}
        body = value if isinstance(value, dict) else {BODY: value}
    _remember(m.state.correlations, event, body)
    return body


def item_body(m: Machine, token: Token, node: Node) -> dict[str, Any] | None:
    """What a signal, error or escalation thrown at ``node`` carries, when its
    bpmn:signal / error / escalation gives SpiffArena's ``payloadExpression`` or
    ``variableName``: the expression evaluated on the thrower's data now (None without
    one, as SpiffWorkflow's item-aware events throw), wrapped under :data:`BODY`. None
    when it gives neither: a signal then carries a copy of the thrower's data, an error
    or escalation nothing."""
    event = node.event
    if event is None or event.kind not in ("signal", "error", "escalation"):
        return None  # a message's payload is thrown_body's
    if event.payload is None and event.variable is None:
        return None
    value: object = None
    if event.payload is not None:
        value = _evaluated(m, token, node, event.payload, f"{event.kind} {event.name!r}")
    return {BODY: value}


def _evaluated(m: Machine, token: Token, node: Node, text: str, what: str) -> object:
    """A payload expression on the thrower's data now; a failure names the throw."""
    try:
        return compile_payload(text).evaluate(m.variables(token))
    except ExpressionError as exc:
        raise TaskDataError(
            f"{what}: {exc.message}", instance_id=m.instance_id, task_id=node.id
        ) from None


def keep_item(m: Machine, node: Node, carried: Mapping[str, Any] | None) -> None:
    """A signal, error or escalation catch whose event names a ``variableName`` keeps
    what arrived there: the thrower's payload, or None when none came (SpiffWorkflow's
    ``update_task_data``: ``data[variable] = payload``). A catch that names none keeps
    nothing of a payload, as in SpiffArena."""
    event = node.event
    if event is None or event.variable is None:
        return
    m.data[event.variable] = body_of(carried) if carried else None


def wrapped(data: object) -> bool:
    """Is this a payload thrown as SpiffArena's (:func:`item_body`), not plain data?"""
    return isinstance(data, Mapping) and set(data) == {BODY}


def body_of(data: Mapping[str, Any]) -> object:
    """The payload a message's data stand for (unwrapping a non-dict payload)."""
    if set(data) == {BODY}:
        return data[BODY]
    return dict(data)


def correlation_values(event: EventDefinition, body: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the message's correlation properties found in ``body``."""
    found: dict[str, Any] = {}
    for prop, text in event.correlation:
        try:
            found[prop] = compile_path(text).evaluate(body)
        except ExpressionError:
            continue  # the message has no value for it: it cannot be told apart by it
    return found


def _remember(into: dict[str, Any], event: EventDefinition, body: Mapping[str, Any]) -> None:
    for prop, value in correlation_values(event, body).items():
        into.setdefault(prop, value)


def receive(m: Machine, node: Node, data: object) -> None:
    """A catch at ``node`` takes a message's data (13.5.2): into its variable, or merged."""
    if not isinstance(data, dict) or not data:
        return
    event = node.event
    if event is None or event.kind != "message":
        m.data.update(data)
        return
    value = body_of(data)
    if event.variable is not None:
        m.data[event.variable] = value
    elif isinstance(value, dict):
        m.data.update(value)
    else:
        raise TaskDataError(
            f"message {event.name!r} brought a payload that is not a dict, and the catch "
            "names no messageVariable to keep it in",
            instance_id=m.instance_id,
            task_id=node.id,
        )
    _remember(m.state.correlations, event, data)


def start_data(node: Node, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A message start event's first data and conversation, from the message's data; a
    signal start event's, from the signal's (its variableName keeps a payload)."""
    event = node.event
    if event is not None and event.kind == "signal" and event.variable is not None:
        return {event.variable: body_of(data) if data else None}, {}
    if event is None or event.kind != "message":
        return ({} if wrapped(data) else dict(data)), {}
    value = body_of(data)
    if event.variable is not None:
        first: dict[str, Any] = {event.variable: value}
    elif isinstance(value, dict):
        first = value
    else:
        raise TaskDataError(
            f"message {event.name!r} brought a payload that is not a dict, and the start "
            "event names no messageVariable to keep it in",
            task_id=node.id,
        )
    return first, correlation_values(event, data)


def correlated(rt: Engine, waits: Iterable[JobRow], data: Mapping[str, Any]) -> list[JobRow]:
    """The waiting catches whose instance's conversation agrees with the message (8.4.7):
    every correlation property of the catch that the instance remembers has the value
    the message carries. Catches without correlation properties all agree."""
    from sopflow.runtime.state import load_state

    kept: list[JobRow] = []
    for job in waits:
        if job.instance_id is None:
            continue
        definition = rt.definition(job.version) if job.version else None
        if definition is None:  # an older row without its version: read the instance's
            definition = rt.definition(rt.store.load_instance(job.instance_id).version)
        node = definition.nodes.get(job.node or "")
        event = None if node is None else node.event
        if event is None or not event.correlation:
            kept.append(job)  # only catches with correlation properties read the state
            continue
        row = rt.store.load_instance(job.instance_id)
        definition = rt.definition(row.version)
        known = load_state(row.state, row.instance_id, definition).correlations
        carried = correlation_values(event, data)
        if all(
            prop not in known or (prop in carried and carried[prop] == known[prop])
            for prop, _ in event.correlation
        ):
            kept.append(job)
    return kept
