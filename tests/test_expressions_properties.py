"""Properties of the expression language and its dialects, checked with hypothesis.

Two kinds: an oracle property (a JUEL or FEEL condition means what the same condition
means in sopflow's language, for generated conditions and data) and robustness
properties (any text, any data: a value or an ExpressionError, never another exception).

The suite runs a bounded number of examples. The same file is the fuzz target: set
``SOPFLOW_FUZZ_EXAMPLES`` to run it longer outside the suite (docs/expressions.md), e.g.
``SOPFLOW_FUZZ_EXAMPLES=200000 .venv/bin/python -m pytest -q tests/test_expressions_properties.py``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sopflow.errors import ExpressionError
from sopflow.runtime.expressions import compile_expression

EXAMPLES = int(os.environ.get("SOPFLOW_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=EXAMPLES <= 150,
)


@dataclass(frozen=True)
class Expr:
    """One condition in three spellings: sopflow's language, JUEL and FEEL."""

    sopflow: str
    juel: str
    feel: str | None  # None where FEEL has no spelling in the subset (modulo, for one)


NAMES = ("a", "b", "c")
_numbers = st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False, width=32)
_texts = st.text(alphabet="abc ok'\"\\", max_size=6)


def _literal(value: object) -> Expr:
    if isinstance(value, bool):
        word = "true" if value else "false"
        return Expr(word, word, word)
    if value is None:
        return Expr("null", "null", "null")
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return Expr(repr(value), f'"{escaped}"', f'"{escaped}"')
    text = repr(value)
    if text.startswith("-"):
        return Expr(f"({text})", f"({text})", f"({text})")
    return Expr(text, text, text)


_atoms = st.one_of(
    st.sampled_from(NAMES).map(lambda n: Expr(n, n, n)),
    st.one_of(_numbers, _texts, st.booleans(), st.none()).map(_literal),
)

_BINARY = {"+": "+", "-": "-", "*": "*", "/": "/", "%": None}
_COMPARE = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_JUEL_WORDS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def binary(op: str, left: Expr, right: Expr) -> Expr:
        feel_op = _BINARY[op]
        feel = None
        if feel_op and left.feel is not None and right.feel is not None:
            feel = f"({left.feel} {feel_op} {right.feel})"
        juel_op = {"%": "mod", "/": "div"}.get(op, op)
        return Expr(
            f"({left.sopflow} {op} {right.sopflow})", f"({left.juel} {juel_op} {right.juel})", feel
        )

    def compare(op: str, words: bool, left: Expr, right: Expr) -> Expr:
        juel_op = _JUEL_WORDS[op] if words else op
        feel = None
        if left.feel is not None and right.feel is not None:
            feel = f"({left.feel} {_COMPARE[op]} {right.feel})"
        return Expr(
            f"({left.sopflow} {op} {right.sopflow})", f"({left.juel} {juel_op} {right.juel})", feel
        )

    def boolean(op: str, left: Expr, right: Expr) -> Expr:
        juel_op = {"and": "&&", "or": "||"}[op]
        feel = None
        if left.feel is not None and right.feel is not None:
            feel = f"({left.feel} {op} {right.feel})"
        return Expr(
            f"({left.sopflow} {op} {right.sopflow})", f"({left.juel} {juel_op} {right.juel})", feel
        )

    def negate(inner: Expr) -> Expr:
        feel = None if inner.feel is None else f"not({inner.feel})"
        return Expr(f"(not {inner.sopflow})", f"(!{inner.juel})", feel)

    return st.one_of(
        st.builds(binary, st.sampled_from(sorted(_BINARY)), children, children),
        st.builds(compare, st.sampled_from(sorted(_COMPARE)), st.booleans(), children, children),
        st.builds(boolean, st.sampled_from(["and", "or"]), children, children),
        st.builds(negate, children),
    )


expressions = st.recursive(_atoms, _combine, max_leaves=8)
values = st.one_of(_numbers, _texts, st.booleans(), st.none())
task_data = st.fixed_dictionaries({name: values for name in NAMES})


def _outcome(text: str, data: dict[str, object]) -> tuple[str, object]:
    try:
        return ("value", compile_expression(text).evaluate(data))
    except ExpressionError:
        return ("error", None)


def _same(left: tuple[str, object], right: tuple[str, object]) -> bool:
    if left[0] != right[0]:
        return False
    a, b = left[1], right[1]
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    return a == b and type(a) is type(b)


@FUZZ
@given(expressions, task_data)
def test_juel_means_what_the_same_sopflow_condition_means(
    expression: Expr, data: dict[str, object]
) -> None:
    """Oracle: ``${...}`` is read into the language's own tree, so both agree on every input."""
    assert _same(_outcome("${" + expression.juel + "}", data), _outcome(expression.sopflow, data))


@FUZZ
@given(expressions, task_data)
def test_feel_means_what_the_same_sopflow_condition_means(
    expression: Expr, data: dict[str, object]
) -> None:
    """Oracle for FEEL's ``= ...`` spelling of the same generated condition."""
    if expression.feel is None:
        return
    assert _same(_outcome("= " + expression.feel, data), _outcome(expression.sopflow, data))


_fragments = st.sampled_from(
    [
        "${",
        "#{",
        "}",
        "=",
        "(",
        ")",
        "[",
        "]",
        "..",
        ",",
        ".",
        "!",
        "&&",
        "||",
        "==",
        "!=",
        "<",
        ">",
        "<=",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "?",
        ":",
        " and ",
        " or ",
        " not ",
        " in ",
        " eq ",
        " empty ",
        " div ",
        " mod ",
        " between ",
        "not(",
        "a",
        "b",
        "x.y",
        "f(1)",
        "'s'",
        '"s"',
        "1",
        "1.5",
        "1e308",
        "10",
        "99999999999999999999999",
        "true",
        "null",
        "__class__",
        ".contains(",
        "\x00",
        "\ud800",
        "\n",
        "#",
        "\\",
    ]
)
_hostile_text = st.one_of(
    st.lists(_fragments, max_size=40).map("".join),
    st.text(max_size=80),
)
_hostile_values = st.one_of(
    values,
    st.integers(),
    st.lists(values, max_size=5),
    st.floats(),
    st.text(max_size=20),
)


@FUZZ
@given(_hostile_text, st.dictionaries(st.sampled_from((*NAMES, "x", "y")), _hostile_values))
def test_any_text_and_data_give_a_value_or_an_expression_error(
    text: str, data: dict[str, object]
) -> None:
    """Robustness: no input makes the compiler or interpreter raise anything untyped."""
    for candidate in (text, "${" + text + "}", "= " + text):
        with contextlib.suppress(ExpressionError):
            compile_expression(candidate).evaluate(data)


@FUZZ
@given(
    st.sampled_from(["s * n", "n * s", "${s * n == s}", "= s * n = s", "n * n * n", "n + 1 > n"]),
    st.one_of(st.text(max_size=3), st.lists(st.integers(), max_size=3), st.integers()),
    st.integers(),
)
def test_arithmetic_on_any_numbers_is_bounded(text: str, s: object, n: int) -> None:
    """Issue 15: repetition and big-number arithmetic end in a value or ExpressionError."""
    try:
        result = compile_expression(text).evaluate({"s": s, "n": n})
    except ExpressionError:
        return
    if isinstance(result, str | list):
        assert len(result) <= 10_000
