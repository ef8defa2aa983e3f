"""JUEL and FEEL conditions, parsed into the expression language's own tree.

Camunda 7 and Flowable write gateway conditions in JUEL (``${approved}``, ``#{amount > 1000}``),
Zeebe and Camunda 8 in FEEL (``= approved``). Rather than a second interpreter, each dialect
has a small recursive-descent parser here that builds the same :mod:`ast` nodes the sopflow
language is parsed into; the caller then runs the same size checks, the same whitelist and
the same strict interpreter. So a JUEL or FEEL text can never do anything a sopflow condition
cannot, and every dialect shares one set of limits.

Only a documented subset is read (``docs/expressions.md``); anything else is refused with the
dialect named and, where one exists, the rewrite that says the same thing in the subset.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from sopflow.errors import ExpressionError

__all__ = ["EMPTY", "detect_dialect", "parse_dialect"]

#: the function name of the ``empty`` operator in a dialect tree (plain text cannot call it)
EMPTY: Final = "empty"

#: deepest nesting (brackets, unary operators) a dialect parser follows before refusing
_MAX_NESTING: Final = 16

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d+|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>\.\.|==|!=|<=|>=|&&|\|\||\*\*|[-+*/%<>=!().,\[\]{}?:;])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, name, string, op, end
    text: str
    column: int  # 1-based, in the whole condition text


def detect_dialect(text: str) -> str | None:
    """``"juel"`` for ``${...}`` / ``#{...}``, ``"feel"`` for ``= ...``, else None (sopflow)."""
    if text.startswith(("${", "#{")):
        return "juel"
    if text.startswith("="):
        return "feel"
    return None


def parse_dialect(text: str, dialect: str) -> ast.expr:
    """The tree of a JUEL or FEEL condition (``text`` already stripped), or ExpressionError."""
    if dialect == "juel":
        if not text.endswith("}"):
            raise ExpressionError("JUEL: an expression must end with '}'", expression=text)
        return _Juel(text, text[2:-1], 3).parse()
    return _Feel(text, text[1:], 2).parse()


def _refuse(dialect: str, text: str, what: str, hint: str | None = None) -> ExpressionError:
    name = {"juel": "JUEL", "feel": "FEEL"}[dialect]
    advice = f"; {hint}" if hint else ""
    return ExpressionError(
        f"{name}: {what} is not in sopflow's {name} subset{advice}", expression=text
    )


def _unescape(literal: str) -> str:
    r"""A quoted string's value: ``\\``, ``\'``, ``\"`` and ``\n``/``\t`` escapes."""
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


_N = TypeVar("_N", bound=ast.AST)


def _node(node: _N, token: _Token) -> _N:
    """Give a built node a position, so the checker's messages can say the column."""
    node.lineno = node.end_lineno = 1  # type: ignore[attr-defined]
    node.col_offset = token.column - 1  # type: ignore[attr-defined]
    node.end_col_offset = token.column - 1 + len(token.text)  # type: ignore[attr-defined]
    return node


class _Parser:
    """Tokens and the shared pieces of both dialects' recursive descent."""

    dialect = ""
    keywords: frozenset[str] = frozenset()
    #: whether ``name.method(...)`` is read on (JUEL's ``.contains``) or refused at the name
    methods = False

    def __init__(self, text: str, body: str, first_column: int) -> None:
        self.text = text
        self.tokens = self.tokenize(body, first_column)
        self.pos = 0
        self.nesting = 0

    def refuse(self, what: str, hint: str | None = None) -> ExpressionError:
        return _refuse(self.dialect, self.text, what, hint)

    def tokenize(self, body: str, first_column: int) -> list[_Token]:
        tokens: list[_Token] = []
        i = 0
        while i < len(body):
            match = _TOKEN.match(body, i)
            if match is None and body[i] in "$#" and self.dialect == "juel":
                raise self.refuse(
                    "text around or between ${...} (a composite expression)",
                    "write the whole condition inside one ${...}",
                )
            if match is None:
                raise self.refuse(f"the character {body[i]!r} (column {i + first_column})")
            kind = match.lastgroup or ""
            if kind != "space":
                tokens.append(_Token(kind, match.group(), i + first_column))
            i = match.end()
        tokens.append(_Token("end", "", len(body) + first_column))
        return tokens

    @property
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def at(self, *texts: str) -> bool:
        token = self.peek
        return token.kind in ("op", "name") and token.text in texts

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> _Token:
        if not self.at(text):
            raise self.unexpected(f"expected {text!r}")
        return self.take()

    def unexpected(self, why: str = "") -> ExpressionError:
        token = self.peek
        found = "the end" if token.kind == "end" else repr(token.text)
        detail = f" ({why})" if why else ""
        return ExpressionError(
            f"{self.dialect.upper()}: not a valid expression: {found} at column "
            f"{token.column}{detail}",
            expression=self.text,
        )

    def deeper(self) -> None:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise ExpressionError(
                f"{self.dialect.upper()}: nested more than {_MAX_NESTING} deep",
                expression=self.text,
            )

    def parse(self) -> ast.expr:
        if self.peek.kind == "end":
            raise ExpressionError(f"{self.dialect.upper()}: empty expression", expression=self.text)
        tree = self.expression()
        if self.peek.kind != "end":
            raise self.trailing()
        return tree

    def trailing(self) -> ExpressionError:
        return self.unexpected()

    def expression(self) -> ast.expr:
        raise NotImplementedError

    def boolean(
        self, words: tuple[str, ...], op: ast.boolop, operand: Callable[[], ast.expr]
    ) -> ast.expr:
        first = operand()
        values = [first]
        while self.at(*words):
            self.take()
            values.append(operand())
        if len(values) == 1:
            return first
        node = ast.BoolOp(op=op, values=values)
        return ast.copy_location(node, first)

    def binary(
        self, operators: dict[str, ast.operator], operand: Callable[[], ast.expr]
    ) -> ast.expr:
        left = operand()
        while self.peek.text in operators and self.peek.kind in ("op", "name"):
            token = self.take()
            right = operand()
            left = _node(ast.BinOp(left=left, op=operators[token.text], right=right), token)
        return left

    def literal(self) -> ast.expr | None:
        token = self.peek
        if token.kind == "number":
            self.take()
            value: int | float = (
                float(token.text) if re.search(r"[.eE]", token.text) else int(token.text)
            )
            return _node(ast.Constant(value=value), token)
        if token.kind == "string":
            self.take()
            return _node(ast.Constant(value=_unescape(token.text)), token)
        if token.kind == "name" and token.text in ("true", "false", "null"):
            self.take()
            constant = {"true": True, "false": False, "null": None}[token.text]
            return _node(ast.Constant(value=constant), token)
        return None

    def name(self) -> ast.expr:
        token = self.take()
        if token.text in self.keywords:
            raise self.refuse(f"the word {token.text!r} here (column {token.column})")
        if token.text.startswith("__"):
            raise self.refuse(f"a name starting with '__' ({token.text!r})")
        if self.at("("):
            raise self.refuse(
                f"calling a function ({token.text}(...), column {token.column})",
                "decide on task data with comparisons; compute values in a handler",
            )
        if self.at(".") and not self.methods:
            raise self.refuse(
                f"property access ({token.text}.…, column {token.column})",
                "put the value in a task-data field of its own and name that field",
            )
        if self.at("["):
            raise self.refuse(f"indexing ({token.text}[...], column {token.column})")
        return _node(ast.Name(id=token.text, ctx=ast.Load()), token)

    def parenthesized(self) -> ast.expr:
        self.deeper()
        self.take()
        inner = self.expression()
        self.expect(")")
        self.nesting -= 1
        return inner


_JUEL_COMPARE: Final[dict[str, type[ast.cmpop]]] = {
    "==": ast.Eq,
    "eq": ast.Eq,
    "!=": ast.NotEq,
    "ne": ast.NotEq,
    "<": ast.Lt,
    "lt": ast.Lt,
    ">": ast.Gt,
    "gt": ast.Gt,
    "<=": ast.LtE,
    "le": ast.LtE,
    ">=": ast.GtE,
    "ge": ast.GtE,
}
_JUEL_EQUALITY: Final = ("==", "eq", "!=", "ne")


class _Juel(_Parser):
    """JUEL 2.2 (the Unified EL of Camunda 7 and Flowable), restricted to data decisions."""

    dialect = "juel"
    methods = True
    keywords = frozenset(
        [
            "and",
            "or",
            "not",
            "eq",
            "ne",
            "lt",
            "gt",
            "le",
            "ge",
            "div",
            "mod",
            "empty",
            "true",
            "false",
            "null",
            "instanceof",
        ]
    )

    def trailing(self) -> ExpressionError:
        if self.at("instanceof"):
            return self.refuse("instanceof")
        if self.at("="):
            return self.refuse("assignment '='", "compare with == or eq")
        if self.at("}"):
            return self.refuse(
                "text around or between ${...} (a composite expression)",
                "write the whole condition inside one ${...}",
            )
        return self.unexpected()

    def expression(self) -> ast.expr:
        if self.at("?"):
            raise self.unexpected()
        value = self.boolean(("||", "or"), ast.Or(), self.conjunction)
        if self.at("?"):
            raise self.refuse(
                "the conditional operator a ? b : c",
                "model the choice as a gateway with one flow per case",
            )
        return value

    def conjunction(self) -> ast.expr:
        return self.boolean(("&&", "and"), ast.And(), self.equality)

    def equality(self) -> ast.expr:
        return self.comparison(_JUEL_EQUALITY, self.relation)

    def relation(self) -> ast.expr:
        ordering = tuple(k for k in _JUEL_COMPARE if k not in _JUEL_EQUALITY)
        return self.comparison(ordering, self.sum)

    def comparison(self, words: tuple[str, ...], operand: Callable[[], ast.expr]) -> ast.expr:
        """Left-associative, one operator per node: JUEL reads ``a == b == c`` as (a == b) == c."""
        left = operand()
        while self.at(*words):
            token = self.take()
            right = operand()
            op = _JUEL_COMPARE[token.text]()
            left = _node(ast.Compare(left=left, ops=[op], comparators=[right]), token)
        return left

    def sum(self) -> ast.expr:
        return self.binary({"+": ast.Add(), "-": ast.Sub()}, self.product)

    def product(self) -> ast.expr:
        ops: dict[str, ast.operator] = {
            "*": ast.Mult(),
            "/": ast.Div(),
            "div": ast.Div(),
            "%": ast.Mod(),
            "mod": ast.Mod(),
        }
        return self.binary(ops, self.unary)

    def unary(self) -> ast.expr:
        token = self.peek
        if self.at("-", "!", "not", "empty"):
            self.deeper()
            self.take()
            operand = self.unary()
            self.nesting -= 1
            if token.text == "-":
                return _node(ast.UnaryOp(op=ast.USub(), operand=operand), token)
            if token.text == "empty":
                func = _node(ast.Name(id=EMPTY, ctx=ast.Load()), token)
                return _node(ast.Call(func=func, args=[operand], keywords=[]), token)
            return _node(ast.UnaryOp(op=ast.Not(), operand=operand), token)
        return self.value()

    def value(self) -> ast.expr:
        base = self.primary()
        while self.at("."):
            self.take()
            method = self.peek
            if method.kind != "name":
                raise self.unexpected("expected a method name after '.'")
            self.take()
            if method.text != "contains" or not self.at("("):
                raise self.refuse(
                    f"the method or property .{method.text} (column {method.column})",
                    'only .contains("...") is read, on a text or a list',
                )
            self.deeper()
            self.take()
            argument = self.expression()
            self.expect(")")
            self.nesting -= 1
            base = _node(ast.Compare(left=argument, ops=[ast.In()], comparators=[base]), method)
        if self.at("["):
            raise self.refuse(f"indexing with [...] (column {self.peek.column})")
        return base

    def primary(self) -> ast.expr:
        token = self.peek
        constant = self.literal()
        if constant is not None:
            return constant
        if token.kind == "name":
            return self.name()
        if self.at("("):
            return self.parenthesized()
        if self.at("${", "#{", "{"):
            raise self.refuse("nested ${...}")
        if self.at("="):
            raise self.refuse("assignment '='", "compare with == or eq")
        raise self.unexpected()


_FEEL_COMPARE: Final[dict[str, type[ast.cmpop]]] = {
    "=": ast.Eq,
    "!=": ast.NotEq,
    "<": ast.Lt,
    ">": ast.Gt,
    "<=": ast.LtE,
    ">=": ast.GtE,
}


class _Feel(_Parser):
    """FEEL (DMN 1.3, as Zeebe writes conditions after '='), restricted to data decisions."""

    dialect = "feel"
    keywords = frozenset(
        [
            "and",
            "or",
            "not",
            "in",
            "between",
            "true",
            "false",
            "null",
            "if",
            "then",
            "else",
            "for",
            "some",
            "every",
        ]
    )

    def trailing(self) -> ExpressionError:
        hints = {"&&": "FEEL writes and", "||": "FEEL writes or", "==": "FEEL compares with '='"}
        if self.peek.text in hints and self.peek.kind == "op":
            return self.refuse(f"the operator {self.peek.text!r}", hints[self.peek.text])
        return self.unexpected()

    def expression(self) -> ast.expr:
        if self.at("if", "for", "some", "every"):
            raise self.refuse(f"'{self.peek.text}' expressions", "model the choice as a gateway")
        return self.boolean(("or",), ast.Or(), self.conjunction)

    def conjunction(self) -> ast.expr:
        return self.boolean(("and",), ast.And(), self.comparison)

    def comparison(self) -> ast.expr:
        left = self.sum()
        if self.at("=="):
            raise self.refuse("'=='", "FEEL compares with a single '='")
        if self.at(*_FEEL_COMPARE):
            token = self.take()
            right = self.sum()
            op = _FEEL_COMPARE[token.text]()
            node = _node(ast.Compare(left=left, ops=[op], comparators=[right]), token)
            if self.at(*_FEEL_COMPARE):
                raise self.refuse(
                    f"a chained comparison (column {self.peek.column})",
                    "join two comparisons with 'and'",
                )
            return node
        if self.at("in"):
            token = self.take()
            return self.membership(left, token)
        if self.at("between"):
            token = self.take()
            low = self.sum()
            self.expect("and")
            high = self.sum()
            ops: list[ast.cmpop] = [ast.LtE(), ast.LtE()]
            return _node(ast.Compare(left=low, ops=ops, comparators=[left, high]), token)
        return left

    def membership(self, left: ast.expr, token: _Token) -> ast.expr:
        """``x in [1, 2]``, ``x in [1..10]`` (also with ``(`` ``)`` ``]`` ``[`` open ends)."""
        if not self.at("[", "(", "]"):
            raise self.refuse(
                "'in' with something other than a list or a range",
                'write x in ["a", "b"] or x in [1..10]',
            )
        opening = self.take()
        if self.at("]", ")") and opening.text == "[":
            self.take()
            return _node(
                ast.Compare(
                    left=left, ops=[ast.In()], comparators=[ast.List(elts=[], ctx=ast.Load())]
                ),
                token,
            )
        first = self.sum()
        if self.at(".."):
            self.take()
            high = self.sum()
            if not self.at("]", ")", "["):
                raise self.unexpected("a range ends with ] or )")
            closing = self.take()
            low_op: ast.cmpop = ast.LtE() if opening.text == "[" else ast.Lt()
            high_op: ast.cmpop = ast.LtE() if closing.text == "]" else ast.Lt()
            return _node(
                ast.Compare(left=first, ops=[low_op, high_op], comparators=[left, high]), token
            )
        if opening.text != "[":
            raise self.refuse("a list in ( )", 'write the list in [ ]: x in ["a", "b"]')
        elements = [first]
        while self.at(","):
            self.take()
            elements.append(self.sum())
        self.expect("]")
        values = ast.List(elts=elements, ctx=ast.Load())
        return _node(ast.Compare(left=left, ops=[ast.In()], comparators=[values]), token)

    def sum(self) -> ast.expr:
        return self.binary({"+": ast.Add(), "-": ast.Sub()}, self.product)

    def product(self) -> ast.expr:
        if self.peek.text == "**":
            raise self.refuse("'**'")
        node = self.binary({"*": ast.Mult(), "/": ast.Div()}, self.unary)
        if self.at("**"):
            raise self.refuse("'**' (powers)")
        return node

    def unary(self) -> ast.expr:
        token = self.peek
        if self.at("-"):
            self.deeper()
            self.take()
            operand = self.unary()
            self.nesting -= 1
            return _node(ast.UnaryOp(op=ast.USub(), operand=operand), token)
        if self.at("not"):
            self.take()
            if not self.at("("):
                raise self.refuse("'not' without brackets", "write not(condition)")
            inner = self.parenthesized()
            return _node(ast.UnaryOp(op=ast.Not(), operand=inner), token)
        return self.primary()

    def primary(self) -> ast.expr:
        token = self.peek
        if token.kind == "string" and token.text.startswith("'"):
            raise self.refuse(
                f"a string in single quotes (column {token.column})", 'FEEL strings use "..."'
            )
        constant = self.literal()
        if constant is not None:
            return constant
        if token.kind == "name":
            return self.name()
        if self.at("("):
            return self.parenthesized()
        if self.at("&&", "||", "!"):
            word = {"&&": "and", "||": "or", "!": "not(...)"}[token.text]
            raise self.refuse(f"the operator {token.text!r}", f"FEEL writes {word}")
        if self.at("==", "="):
            raise self.unexpected()
        raise self.unexpected()
