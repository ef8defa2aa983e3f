"""The safe expression language of gateway conditions.

A BPMN file is data written by someone else; SpiffWorkflow's default engine would hand its
condition text to Python's ``eval``, so ``__import__('os').system(...)`` in a condition would
run a command on the server. sopflow never gives file text to ``eval``/``exec``/``compile``:
a condition is parsed with :func:`ast.parse` (after a text pre-check that keeps the parser's
own recursion small), checked against a whitelist of node types, and interpreted here.

The language (reference: ``docs/expressions.md``) has names read from the task data, the
literals ``true``/``false``/``null`` (and Python's spellings), numbers, strings, list/tuple
literals on the right of ``in``, comparisons, ``and``/``or``/``not``, ``in``/``not in`` and
the arithmetic operators ``+ - * / // %``. It is strict about types: values of different
kinds are never compared silently, because a condition such as ``nilai == '80'`` that is
quietly false sends a document down the wrong branch of an SOP.

:class:`SafeScriptEngine` plugs the language into SpiffWorkflow and refuses script tasks
unless a Python handler was registered for them by name.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sopflow.errors import ExpressionError
from sopflow.runtime._dialects import detect_dialect, parse_dialect
from sopflow.runtime._grammar import (
    BINARY,
    COMPARE,
    LITERAL_NAMES,
    MAX_BRACKET_DEPTH,
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_LENGTH,
    MAX_NODES,
    MAX_OPERATORS,
    MAX_SEQUENCE_LENGTH,
    is_empty_test,
)
from sopflow.runtime._interpreter import Interpreter, kind_of

if TYPE_CHECKING:
    from sopflow.runtime.spiff_engine import SafeEnvironment, SafeScriptEngine, ScriptHandler

__all__ = [
    "MAX_BRACKET_DEPTH",
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_OPERATORS",
    "MAX_SEQUENCE_LENGTH",
    "Expression",
    "SafeEnvironment",
    "SafeScriptEngine",
    "ScriptHandler",
    "check_expression",
    "compile_expression",
    "complementary",
]

#: refused constructs and how the error message names them
_REFUSED: Final[Mapping[type[ast.AST], str]] = {
    ast.Call: "function calls",
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Slice: "slices",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.Starred: "starred expressions",
    ast.IfExp: "conditional expressions (x if c else y)",
    ast.Set: "set literals",
    ast.Dict: "dict literals",
    ast.Await: "await expressions",
    ast.Yield: "yield expressions",
    ast.YieldFrom: "yield expressions",
}


_REFUSED_OPERATORS: Final[Mapping[type[ast.operator], str]] = {
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.MatMult: "@",
}


_KEYWORD_OPERATOR = re.compile(r"\b(?:not|and|or|in|is)\b")
_SYMBOL_OPERATORS: Final = frozenset("+-*/%~&|^@:")
_COMPARISON_CHARS: Final = frozenset("<>=!")


def _excerpt(text: str) -> str:
    """Keep error messages one readable line even for a megabyte of hostile input."""
    return text if len(text) <= 120 else text[:117] + "..."


def _precheck(text: str) -> None:
    """Bound what ``ast.parse`` must recurse through, reading the text only.

    The scan skips string literals and comments the way the tokenizer does closely enough:
    where it errs, it over-counts, so it can refuse a harmless text but never lets deep
    nesting through to the parser.
    """
    code: list[str] = []
    depth = deepest = operators = 0
    previous_comparison = False
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "'\"":
            i += 1
            while i < n and text[i] != char:
                i += 2 if text[i] == "\\" else 1
            i += 1
            code.append(" ")
            previous_comparison = False
            continue
        if char == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
        comparison = char in _COMPARISON_CHARS
        if char in _SYMBOL_OPERATORS or (comparison and not previous_comparison):
            operators += 1
        previous_comparison = comparison
        code.append(char)
        i += 1
    if deepest > MAX_BRACKET_DEPTH:
        raise ExpressionError(
            f"brackets nested {deepest} deep; the limit is {MAX_BRACKET_DEPTH}",
            expression=_excerpt(text),
        )
    operators += len(_KEYWORD_OPERATOR.findall("".join(code)))
    if operators > MAX_OPERATORS:
        raise ExpressionError(
            f"{operators} operators; the limit is {MAX_OPERATORS}", expression=_excerpt(text)
        )


def _parse(text: str) -> ast.expr:
    try:
        with warnings.catch_warnings():
            # e.g. "invalid escape sequence '\\d'": a file's text must not write to our stderr
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" (column {exc.offset})" if exc.offset else ""
        raise ExpressionError(f"not a valid expression: {exc.msg}{where}", expression=text) from exc
    except (ValueError, MemoryError, RecursionError) as exc:
        # ValueError covers NUL characters and lone surrogates in the text
        raise ExpressionError(f"not a valid expression: {exc}", expression=text) from exc
    return tree.body


def _measure(root: ast.expr, text: str) -> None:
    """Refuse oversized trees iteratively, so the recursive checks below stay shallow."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            count += 1
            if count > MAX_NODES:
                raise ExpressionError(
                    f"more than {MAX_NODES} parts; split the condition", expression=text
                )
            if depth > MAX_DEPTH:
                raise ExpressionError(f"nested more than {MAX_DEPTH} deep", expression=text)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Checker:
    """Walk a parsed tree and refuse everything outside the language."""

    def __init__(self, text: str, *, dialect: str | None = None) -> None:
        self.text = text
        self.names: set[str] = set()
        #: JUEL's ``empty`` operator arrives as a call; only dialect trees may hold it
        self.dialect = dialect

    def refuse(self, what: str, node: ast.AST) -> ExpressionError:
        segment = ast.get_source_segment(self.text, node) or ""
        column = getattr(node, "col_offset", -1) + 1
        detail = f"{segment!r}, column {column}" if segment else f"column {column}"
        dialect = f"{self.dialect.upper()}: " if self.dialect else ""
        return ExpressionError(f"{dialect}not allowed: {what} ({detail})", expression=self.text)

    def check(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self.check(value)
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Invert):
                raise self.refuse("the bitwise operator ~", node)
            self.check(node.operand)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in BINARY:
                symbol = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
                raise self.refuse(f"the operator {symbol}", node)
            self.check(node.left)
            self.check(node.right)
        elif isinstance(node, ast.Compare):
            self.compare(node)
        elif isinstance(node, ast.List | ast.Tuple):
            raise self.refuse("a list or tuple outside the right side of 'in'", node)
        elif self.dialect is not None and is_empty_test(node):
            assert isinstance(node, ast.Call)
            self.check(node.args[0])
        else:
            what = _REFUSED.get(type(node), f"the construct {type(node).__name__}")
            raise self.refuse(what, node)

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                raise self.refuse(f"an integer longer than {MAX_INT_BITS} bits", node)
            return
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.refuse("a number out of the float range", node)
            return
        kind = {bytes: "bytes literals", complex: "complex numbers"}.get(
            type(value), f"{type(value).__name__} literals"
        )
        raise self.refuse(kind, node)

    def name(self, node: ast.Name) -> None:
        if node.id.startswith("__"):
            raise self.refuse("a name starting with '__'", node)
        if node.id not in LITERAL_NAMES:
            self.names.add(node.id)

    def compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if type(op) not in COMPARE:
                hint = " (write == null or != null)" if isinstance(op, ast.Is | ast.IsNot) else ""
                raise self.refuse(f"'is'{hint}", node)
        has_membership = any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        if has_membership and len(node.ops) > 1:
            raise self.refuse("'in' chained with another comparison", node)
        self.check(node.left)
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.List | ast.Tuple):
                for element in right.elts:
                    self.element(element)
            else:
                self.check(right)

    def element(self, node: ast.expr) -> None:
        """List elements are literals only: a list is a fixed set of allowed values."""
        if isinstance(node, ast.Constant):
            self.constant(node)
            return
        if isinstance(node, ast.Name) and node.id in LITERAL_NAMES:
            return
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)
        ):
            self.constant(node.operand)
            return
        raise self.refuse("a list element that is not a literal", node)




# -- evaluation -------------------------------------------------------------------------




# -- public API -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A condition that passed the checks; evaluate it as often as needed."""

    text: str
    names: frozenset[str]
    _tree: ast.expr = field(repr=False, compare=False)
    #: "juel" or "feel" for a condition written in another engine's dialect, else None
    dialect: str | None = None

    def evaluate(self, data: Mapping[str, object]) -> object:
        """The value of the expression with names read from ``data`` (task data)."""
        return Interpreter(self.text, data).run(self._tree)

    def evaluate_bool(self, data: Mapping[str, object]) -> bool:
        """Like :meth:`evaluate` but a gateway condition must come out true or false."""
        value = self.evaluate(data)
        if not isinstance(value, bool):
            raise ExpressionError(
                f"a condition must be true or false, got {kind_of(value)}", expression=self.text
            )
        return value


@functools.lru_cache(maxsize=1024)
def _compile(text: str) -> Expression:
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("empty expression", expression=text)
    if len(stripped) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(stripped)} characters long; the limit is {MAX_LENGTH}",
            expression=_excerpt(stripped),
        )
    dialect = detect_dialect(stripped)
    if dialect is None:
        _precheck(stripped)
        tree = _parse(stripped)
    else:
        tree = parse_dialect(stripped, dialect)
    _measure(tree, stripped)
    checker = _Checker(stripped, dialect=dialect)
    checker.check(tree)
    return Expression(stripped, frozenset(checker.names), tree, dialect)


def compile_expression(text: str) -> Expression:
    """Check ``text`` against the language once (cached by text); raise ExpressionError."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}")
    return _compile(text)


_NEGATED: Final[Mapping[type[ast.cmpop], type[ast.cmpop]]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _negation_of(a: ast.expr, b: ast.expr) -> bool:
    if isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.Not):
        return ast.dump(b.operand) == ast.dump(a)
    if isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.Not):
        return ast.dump(a.operand) == ast.dump(b)
    if isinstance(a, ast.Compare) and isinstance(b, ast.Compare):
        if len(a.ops) != 1 or len(b.ops) != 1:
            return False
        same_sides = ast.dump(a.left) == ast.dump(b.left) and ast.dump(
            a.comparators[0]
        ) == ast.dump(b.comparators[0])
        return same_sides and _NEGATED.get(type(a.ops[0])) is type(b.ops[0])
    return False


def complementary(first: str, second: str) -> bool:
    """Whether one condition is exactly the negation of the other, in any dialect.

    ``${approved}`` / ``${!approved}``, ``score > 5`` / ``score <= 5``, ``x == 'a'`` /
    ``x != 'a'``: two such flows cover every case, so their gateway needs no default.
    Conservative: anything else is False.
    """
    try:
        a, b = compile_expression(first), compile_expression(second)
    except ExpressionError:
        return False
    return _negation_of(a._tree, b._tree)


def check_expression(text: str) -> None:
    """Raise ExpressionError when ``text`` is outside the language; used when loading files."""
    compile_expression(text)


# -- SpiffWorkflow integration: sopflow.runtime.spiff_engine, imported on first use ---


def __getattr__(name: str) -> Any:
    if name in ("SafeEnvironment", "SafeScriptEngine", "ScriptHandler"):
        from sopflow.runtime import spiff_engine

        return getattr(spiff_engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
