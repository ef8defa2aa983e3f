"""What the join rules need to know about a definition's graph, computed once.

The inclusive join's rule (BPMN 13.4.3) is non-local: it may fire only when no token of
its scope can still reach it without passing through it. Asking that per action would
walk the graph each time; instead the set of nodes upstream of each inclusive join is
computed once per definition version and cached.
"""

from __future__ import annotations

import threading
from collections import deque

from sopflow.definitions.model import NodeKind, ProcessDefinition

__all__ = ["Graph", "graph_of"]


class Graph:
    """Reverse edges of one definition and, lazily, each join's upstream set."""

    def __init__(self, definition: ProcessDefinition) -> None:
        self._back: dict[str, list[str]] = {node_id: [] for node_id in definition.nodes}
        for node in definition.nodes.values():
            for flow in node.outgoing:
                if flow.target in self._back:
                    self._back[flow.target].append(node.id)
        #: does any node wait for a condition? (else nothing re-evaluates after a change)
        self.conditional = any(
            n.event is not None and n.event.condition is not None for n in definition.nodes.values()
        )
        self._upstream: dict[str, frozenset[str]] = {}
        for node in definition.nodes.values():
            if node.kind is NodeKind.INCLUSIVE_GATEWAY and len(node.incoming) > 1:
                self._upstream[node.id] = self._walk(node.id)

    def _walk(self, join: str) -> frozenset[str]:
        """Nodes with a path to ``join`` that does not pass through ``join``.

        Paths stay in the join's scope: a token inside a subprocess is represented in
        that scope by the token waiting at the subprocess node, which is in this set
        when the subprocess leads to the join.
        """
        seen: set[str] = set()
        queue = deque(self._back[join])
        while queue:
            current = queue.popleft()
            if current in seen or current == join:
                continue
            seen.add(current)
            queue.extend(self._back[current])
        return frozenset(seen)

    def upstream(self, join: str) -> frozenset[str]:
        return self._upstream.get(join, frozenset())


_CACHE: dict[str, Graph] = {}
_LOCK = threading.Lock()


def graph_of(definition: ProcessDefinition) -> Graph:
    """The graph of a definition version, built on first use (definitions are immutable)."""
    found = _CACHE.get(definition.version)
    if found is None:
        found = Graph(definition)
        with _LOCK:
            if len(_CACHE) > 256:
                _CACHE.clear()
            _CACHE[definition.version] = found
    return found
