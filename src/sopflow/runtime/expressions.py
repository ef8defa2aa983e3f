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
import operator
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sopflow.errors import ExpressionError
from sopflow.runtime._dialects import EMPTY, detect_dialect, parse_dialect

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
_LITERAL_NAMES: Final[Mapping[str, object]] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}

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

_BINARY: Final[Mapping[type[ast.operator], str]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
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

_COMPARE: Final[Mapping[type[ast.cmpop], str]] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}

_ORDERING: Final[Mapping[type[ast.cmpop], Callable[[Any, Any], bool]]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
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
            if type(node.op) not in _BINARY:
                symbol = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
                raise self.refuse(f"the operator {symbol}", node)
            self.check(node.left)
            self.check(node.right)
        elif isinstance(node, ast.Compare):
            self.compare(node)
        elif isinstance(node, ast.List | ast.Tuple):
            raise self.refuse("a list or tuple outside the right side of 'in'", node)
        elif self.dialect is not None and _is_empty_test(node):
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
        if node.id not in _LITERAL_NAMES:
            self.names.add(node.id)

    def compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if type(op) not in _COMPARE:
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
        if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
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


def _is_empty_test(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == EMPTY
        and len(node.args) == 1
        and not node.keywords
    )


# -- evaluation -------------------------------------------------------------------------


def _kind(value: object) -> str:
    """The language's type of a value: bool is not a number, list and tuple are one kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _magnitude(number: int) -> str:
    """A number for a message: 10**23 is not printed in full (nor 10**4000)."""
    if number.bit_length() <= 64:
        return str(number)
    sign = "a negative" if number < 0 else "a"
    return f"{sign} number of {number.bit_length()} bits"


def _number(value: object) -> int | float | None:
    """The value as a number, or None: true and false are not numbers here."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


@dataclass(frozen=True, eq=False)
class _Interpreter:
    text: str
    data: Mapping[str, object]

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        segment = ast.get_source_segment(self.text, node)
        where = f" (at {segment!r})" if segment and segment != self.text else ""
        return ExpressionError(f"{message}{where}", expression=self.text)

    def run(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in _LITERAL_NAMES:
                return _LITERAL_NAMES[node.id]
            if node.id not in self.data:
                raise ExpressionError(
                    f"name {node.id!r} is not in the task data", expression=self.text
                )
            return self.data[node.id]
        if isinstance(node, ast.BoolOp):
            return self.boolean(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.List | ast.Tuple):
            return [self.run(element) for element in node.elts]
        if _is_empty_test(node):  # JUEL's empty: null, "" or an empty list
            assert isinstance(node, ast.Call)
            value = self.run(node.args[0])
            return value is None or (isinstance(value, str | list | tuple) and len(value) == 0)
        raise self.fail(f"cannot evaluate {type(node).__name__}", node)  # checked at compile

    def truth(self, value: object, node: ast.expr, what: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{what} needs true or false, got {_kind(value)}", node)
        return value

    def boolean(self, node: ast.BoolOp) -> bool:
        stop = isinstance(node.op, ast.Or)  # 'or' stops at the first true, 'and' at a false
        word = "or" if stop else "and"
        for value_node in node.values:
            if self.truth(self.run(value_node), value_node, f"'{word}'") is stop:
                return stop
        return not stop

    def unary(self, node: ast.UnaryOp) -> object:
        value = self.run(node.operand)
        if isinstance(node.op, ast.Not):
            return not self.truth(value, node.operand, "'not'")
        number = _number(value)
        if number is None:
            raise self.fail(f"unary minus or plus needs a number, got {_kind(value)}", node)
        return -number if isinstance(node.op, ast.USub) else +number

    def binary(self, node: ast.BinOp) -> object:
        left = self.run(node.left)
        right = self.run(node.right)
        symbol = _BINARY.get(type(node.op))
        if symbol is None:  # only reachable with a tree that bypassed the checker
            raise self.fail(f"cannot evaluate {type(node.op).__name__}", node)
        left_number, right_number = _number(left), _number(right)
        if left_number is not None and right_number is not None:
            return self.arithmetic(symbol, left_number, right_number, node)
        if symbol == "+":
            if isinstance(left, str) and isinstance(right, str):
                self.bound_length(len(left) + len(right), node)
                return left + right
            if isinstance(left, list | tuple) and isinstance(right, list | tuple):
                self.bound_length(len(left) + len(right), node)
                return [*left, *right]
        if symbol == "*":
            sequence, count = (left, right_number)
            if right_number is None:
                sequence, count = right, left_number
            if isinstance(sequence, str | list | tuple) and count is not None:
                if not isinstance(count, int):
                    raise self.fail("a text or list repeats only a whole number of times", node)
                # bound the count itself: '' * 10**23 is empty but Python cannot index it
                if abs(count) > MAX_SEQUENCE_LENGTH:
                    raise self.fail(
                        f"repeats {_magnitude(count)} times; the limit is {MAX_SEQUENCE_LENGTH}",
                        node,
                    )
                self.bound_length(len(sequence) * max(count, 0), node)
                return sequence * count if isinstance(sequence, str) else list(sequence) * count
        raise self.fail(f"cannot apply {symbol} to {_kind(left)} and {_kind(right)}", node)

    def bound_length(self, size: int, node: ast.AST) -> None:
        if size > MAX_SEQUENCE_LENGTH:
            raise self.fail(
                f"result would be {size} long; the limit is {MAX_SEQUENCE_LENGTH}", node
            )

    def arithmetic(
        self, symbol: str, left: int | float, right: int | float, node: ast.BinOp
    ) -> int | float:
        for operand in (left, right):
            if isinstance(operand, int) and operand.bit_length() > MAX_INT_BITS:
                raise self.fail(f"number longer than {MAX_INT_BITS} bits", node)
        try:
            if symbol == "+":
                result = left + right
            elif symbol == "-":
                result = left - right
            elif symbol == "*":
                result = left * right
            elif symbol == "/":
                result = left / right
            elif symbol == "//":
                result = left // right
            else:
                result = left % right
        except ZeroDivisionError as exc:
            raise self.fail("division by zero", node) from exc
        except OverflowError as exc:
            raise self.fail("number out of range", node) from exc
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise self.fail(f"result longer than {MAX_INT_BITS} bits", node)
        if isinstance(result, float) and not math.isfinite(result):
            raise self.fail("number out of range", node)
        return result

    def compare(self, node: ast.Compare) -> bool:
        left = self.run(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.run(right_node)
            if not self.compare_pair(op, left, right, node):
                return False
            left = right
        return True

    def compare_pair(self, op: ast.cmpop, left: object, right: object, node: ast.AST) -> bool:
        if isinstance(op, ast.In | ast.NotIn):
            found = self.contains(right, left, node)
            return found if isinstance(op, ast.In) else not found
        if isinstance(op, ast.Eq | ast.NotEq):
            same = self.equal(left, right, node)
            return same if isinstance(op, ast.Eq) else not same
        ordering = _ORDERING.get(type(op))
        if ordering is None:  # only reachable with a tree that bypassed the checker
            raise self.fail(f"cannot evaluate {type(op).__name__}", node)
        kinds = (_kind(left), _kind(right))
        if kinds not in (("number", "number"), ("text", "text")):
            symbol = _COMPARE[type(op)]
            raise self.fail(f"cannot compare {kinds[0]} {symbol} {kinds[1]}", node)
        return ordering(left, right)

    def equal(self, left: object, right: object, node: ast.AST) -> bool:
        """Equal values of one kind; null may be compared with anything."""
        if left is None or right is None:
            return left is None and right is None
        if isinstance(left, list | tuple) and isinstance(right, list | tuple):
            return len(left) == len(right) and all(
                self.equal_scalar(a, b, node) for a, b in zip(left, right, strict=True)
            )
        return self.equal_scalar(left, right, node)

    def equal_scalar(self, left: object, right: object, node: ast.AST) -> bool:
        """Lists inside lists are refused: data nested without bound must not recurse here."""
        kinds = (_kind(left), _kind(right))
        if "null" in kinds:
            return left is None and right is None
        if "list" in kinds:
            raise self.fail("lists inside lists cannot be compared", node)
        if kinds[0] != kinds[1] or kinds[0] not in ("bool", "number", "text"):
            raise self.fail(f"cannot compare {kinds[0]} with {kinds[1]}", node)
        return bool(left == right)

    def contains(self, container: object, item: object, node: ast.AST) -> bool:
        if isinstance(container, str):
            if not isinstance(item, str):
                raise self.fail(f"'in' a text needs a text on the left, got {_kind(item)}", node)
            return item in container
        if isinstance(container, list | tuple):
            return any(self.equal_scalar(item, element, node) for element in container)
        raise self.fail(f"'in' needs a list or a text on the right, got {_kind(container)}", node)


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
        return _Interpreter(self.text, data).run(self._tree)

    def evaluate_bool(self, data: Mapping[str, object]) -> bool:
        """Like :meth:`evaluate` but a gateway condition must come out true or false."""
        value = self.evaluate(data)
        if not isinstance(value, bool):
            raise ExpressionError(
                f"a condition must be true or false, got {_kind(value)}", expression=self.text
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
