"""An instance's state: its tokens, their scopes, and the data.

The stored document is compact JSON and never grows with returns or loop passes: a
token is consumed when it moves on, and history goes to the step table, not here.

Format 2 (written by this release)::

    {"v": 2,
     "k": [[id, node, scope, flow], ...],   # tokens; scope = id of the container token
     "s": {"<token id>": {...}},             # local data of a container (multi-instance, loop)
     "c": {"<token id>": [node, ...]},       # conditional events whose condition held last
     "r": {"<property>": value},             # correlation values (BPMN 8.4.7)
     "d": {...}}                             # the instance data

``c`` (written only when not empty) is the "last value" of the conditional events that
wait with a token (its boundary events, or the event-subprocess start events of the
scope it contains; ``0`` is the process's own scope): a node is listed while its
condition holds, so it fires when the condition turns true, not while it stays true
(BPMN 10.5.5). It goes with the token, so it never grows beyond the events waiting now.
``r`` (written only when not empty) holds the values of the correlation properties of
the conversations the instance took part in: a later message reaches it only when its
values match (BPMN 8.4.7); one value per property, so it does not grow either.

A new token takes the smallest id no live token holds, so ids stay small whatever the
number of passes (a token moving along a sequence gets its own id back: the id names a
branch), and nothing in the document counts passes: the store numbers a step's passes.

A token's ``scope`` is the id of the token that waits at the embedded subprocess holding
it (None at the top level), so a scope needs no record of its own and terminating one
is "every token whose scope chain reaches it". ``flow`` is the sequence flow a token
arrived by while it waits at a join.

Format 1 (sopflow 0.1) is ``{"t": node or null, "d": {...}}``: one token, no ids. It
still loads: the token becomes token 1, and the subprocesses around its node get the
container tokens 0.1 never wrote down.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import CorruptInstanceError

__all__ = ["FORMAT", "State", "Token", "dump_state", "load_state"]

#: The state format this release writes.
FORMAT = 2


@dataclass(slots=True)
class Token:
    """A token: where it is, in which scope, and (at a join) by which flow it came."""

    id: int
    node: str
    scope: int | None = None
    flow: str | None = None


@dataclass(slots=True)
class State:
    tokens: list[Token]
    data: dict[str, Any]
    scopes: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: token id (0: the process's scope) -> conditional events whose condition held last
    held: dict[int, list[str]] = field(default_factory=dict)
    #: correlation property -> value of the conversations it took part in (BPMN 8.4.7)
    correlations: dict[str, Any] = field(default_factory=dict)

    def new_token(self, node: str, scope: int | None, flow: str | None = None) -> Token:
        taken = {t.id for t in self.tokens}
        free = next(i for i in range(1, len(taken) + 2) if i not in taken)
        token = Token(free, node, scope, flow)
        self.tokens.append(token)
        return token

    def token(self, token_id: int) -> Token | None:
        return next((t for t in self.tokens if t.id == token_id), None)

    def in_scope(self, scope: int | None) -> list[Token]:
        return [t for t in self.tokens if t.scope == scope]

    def inside(self, container: int) -> list[Token]:
        """Every token nested, at any depth, in the scope of ``container``."""
        found: list[Token] = []
        frontier = {container}
        while frontier:
            level = [t for t in self.tokens if t.scope in frontier]
            found += level
            frontier = {t.id for t in level}
        return found

    def remove(self, token: Token) -> None:
        self.tokens = [t for t in self.tokens if t.id != token.id]
        self.scopes.pop(token.id, None)
        self.held.pop(token.id, None)

    def holding(self, owner: int, node: str) -> bool:
        """Did the condition of ``node`` (waiting with ``owner``) hold when last looked at?"""
        return node in self.held.get(owner, ())

    def hold(self, owner: int, node: str, value: bool) -> None:
        """Remember the condition's value now (only true ones are written down)."""
        nodes = self.held.get(owner, [])
        if value and node not in nodes:
            self.held[owner] = [*nodes, node]
        elif not value and node in nodes:
            rest = [n for n in nodes if n != node]
            if rest:
                self.held[owner] = rest
            else:
                del self.held[owner]


def dump_state(state: State) -> str:
    doc: dict[str, Any] = {
        "v": FORMAT,
        "k": [[t.id, t.node, t.scope, t.flow] for t in state.tokens],
        "d": state.data,
    }
    if state.scopes:
        doc["s"] = {str(k): v for k, v in state.scopes.items()}
    if state.held:
        doc["c"] = {str(k): v for k, v in state.held.items()}
    if state.correlations:
        doc["r"] = state.correlations
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def load_state(text: str, instance_id: str, definition: ProcessDefinition) -> State:
    """Read either format; anything else is a CorruptInstanceError for this instance only."""
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict) or not isinstance(raw.get("d"), dict):
            raise ValueError("unexpected shape")
        if "v" not in raw:
            return _load_v1(raw, definition)
        if raw["v"] != FORMAT:
            raise ValueError(f"state format {raw['v']!r} is not one this sopflow reads")
        tokens = []
        for entry in raw["k"]:
            tid, node, scope, flow = entry
            if not isinstance(tid, int) or not isinstance(node, str):
                raise ValueError("malformed token")
            if node not in definition.nodes:
                raise ValueError(f"token at unknown node {node!r}")
            tokens.append(Token(tid, node, scope, flow))
        scopes = {int(k): v for k, v in raw.get("s", {}).items()}
        held = {int(k): [str(n) for n in v] for k, v in raw.get("c", {}).items()}
        correlations = raw.get("r", {})
        if not isinstance(correlations, dict):
            raise ValueError("malformed correlations")
        return State(tokens, raw["d"], scopes, held, correlations)
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptInstanceError(instance_id, str(exc)) from None


def _load_v1(raw: dict[str, Any], definition: ProcessDefinition) -> State:
    node = raw.get("t")
    state = State([], raw["d"])
    if node is None:
        return state
    if not isinstance(node, str) or node not in definition.nodes:
        raise ValueError(f"token at unknown node {node!r}")
    chain: list[str] = []
    current = definition.nodes[node].scope
    while current is not None:
        chain.append(current)
        current = definition.nodes[current].scope
    scope: int | None = None
    for container in reversed(chain):
        scope = state.new_token(container, scope).id
    state.new_token(node, scope)
    return state
