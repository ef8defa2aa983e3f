"""The expression language's shared vocabulary: its limits, literals and operators.

The checker (:mod:`sopflow.runtime.expressions`) and the interpreter
(:mod:`sopflow.runtime._interpreter`) must agree exactly on what the language contains;
reading both from one table is what keeps a construct the checker let through from
meeting an interpreter that does not know it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Final

from sopflow.runtime._dialects import EMPTY

__all__ = [
    "BINARY",
    "COMPARE",
    "LITERAL_NAMES",
    "MAX_BRACKET_DEPTH",
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_OPERATORS",
    "MAX_SEQUENCE_LENGTH",
    "is_empty_test",
]

#: longest condition text, in characters (after stripping surrounding whitespace)
MAX_LENGTH: Final = 1000
#: deepest nesting of brackets, checked in the text before the parser sees it
MAX_BRACKET_DEPTH: Final = 16
#: most operators (symbols and the words not/and/or/in/is) in the text, checked before parsing
MAX_OPERATORS: Final = 100
#: most expression nodes in the parsed tree
MAX_NODES: Final = 200
#: deepest nesting of expression nodes in the parsed tree
MAX_DEPTH: Final = 32
#: largest integer, in bits (sign excluded), a literal or a computation may produce
MAX_INT_BITS: Final = 256
#: longest string or list a computation may produce
MAX_SEQUENCE_LENGTH: Final = 10_000

#: names that are literals, never read from the task data (so they shadow data keys)
LITERAL_NAMES: Final[Mapping[str, object]] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}

BINARY: Final[Mapping[type[ast.operator], str]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}

COMPARE: Final[Mapping[type[ast.cmpop], str]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}


def is_empty_test(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == EMPTY
        and len(node.args) == 1
        and not node.keywords
    )
