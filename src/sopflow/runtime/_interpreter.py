"""The interpreter of checked expressions: strict about types, bounded in size.

Only trees that passed the checker of :mod:`sopflow.runtime.expressions` reach it. It
never compares values of different kinds silently (``nilai == '80'`` with a number is an
error, not false) and stops any computation that would grow past the language's limits
(integers of MAX_INT_BITS, strings and lists of MAX_SEQUENCE_LENGTH), so a hostile file
cannot make the server build a huge value.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sopflow.errors import ExpressionError
from sopflow.runtime._grammar import (
    BINARY,
    COMPARE,
    LITERAL_NAMES,
    MAX_INT_BITS,
    MAX_SEQUENCE_LENGTH,
    is_empty_test,
)

__all__ = ["Interpreter", "kind_of"]

ORDERING: Final[Mapping[type[ast.cmpop], Callable[[Any, Any], bool]]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def kind_of(value: object) -> str:
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


def magnitude(number: int) -> str:
    """A number for a message: 10**23 is not printed in full (nor 10**4000)."""
    if number.bit_length() <= 64:
        return str(number)
    sign = "a negative" if number < 0 else "a"
    return f"{sign} number of {number.bit_length()} bits"


def number_of(value: object) -> int | float | None:
    """The value as a number, or None: true and false are not numbers here."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


@dataclass(frozen=True, eq=False)
class Interpreter:
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
            if node.id in LITERAL_NAMES:
                return LITERAL_NAMES[node.id]
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
        if is_empty_test(node):  # JUEL's empty: null, "" or an empty list
            assert isinstance(node, ast.Call)
            value = self.run(node.args[0])
            return value is None or (isinstance(value, str | list | tuple) and len(value) == 0)
        raise self.fail(f"cannot evaluate {type(node).__name__}", node)  # checked at compile

    def truth(self, value: object, node: ast.expr, what: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{what} needs true or false, got {kind_of(value)}", node)
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
        number = number_of(value)
        if number is None:
            raise self.fail(f"unary minus or plus needs a number, got {kind_of(value)}", node)
        return -number if isinstance(node.op, ast.USub) else +number

    def binary(self, node: ast.BinOp) -> object:
        left = self.run(node.left)
        right = self.run(node.right)
        symbol = BINARY.get(type(node.op))
        if symbol is None:  # only reachable with a tree that bypassed the checker
            raise self.fail(f"cannot evaluate {type(node.op).__name__}", node)
        left_number, right_number = number_of(left), number_of(right)
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
                        f"repeats {magnitude(count)} times; the limit is {MAX_SEQUENCE_LENGTH}",
                        node,
                    )
                self.bound_length(len(sequence) * max(count, 0), node)
                return sequence * count if isinstance(sequence, str) else list(sequence) * count
        raise self.fail(f"cannot apply {symbol} to {kind_of(left)} and {kind_of(right)}", node)

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
        ordering = ORDERING.get(type(op))
        if ordering is None:  # only reachable with a tree that bypassed the checker
            raise self.fail(f"cannot evaluate {type(op).__name__}", node)
        kinds = (kind_of(left), kind_of(right))
        if kinds not in (("number", "number"), ("text", "text")):
            symbol = COMPARE[type(op)]
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
        kinds = (kind_of(left), kind_of(right))
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
                raise self.fail(f"'in' a text needs a text on the left, got {kind_of(item)}", node)
            return item in container
        if isinstance(container, list | tuple):
            return any(self.equal_scalar(item, element, node) for element in container)
        raise self.fail(f"'in' needs a list or a text on the right, got {kind_of(container)}", node)
