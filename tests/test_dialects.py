"""Specification of the JUEL and FEEL condition subsets (docs/expressions.md, "Dialects").

BPMN 2.0 (section 10.5.1, ``tFormalExpression``) leaves the expression language of a
``conditionExpression`` to the file: Camunda 7 and Flowable write JUEL (``${...}``), Zeebe
writes FEEL (``= ...``). sopflow reads a subset of each into the tree of its own language,
so the same whitelist, limits and strict types apply; everything else is refused with the
dialect named and a rewrite suggested.
"""

from __future__ import annotations

import pytest

from sopflow.errors import ExpressionError
from sopflow.runtime.expressions import MAX_SEQUENCE_LENGTH, compile_expression


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("${approved}", {"approved": True}, True),
        ("#{amount > 1000}", {"amount": 1500}, True),
        ("#{amount > 1000}", {"amount": 1000}, False),
        ("${!approved}", {"approved": True}, False),
        ("${not approved}", {"approved": False}, True),
        ("${a && b || c}", {"a": True, "b": False, "c": True}, True),
        ("${a and b or c}", {"a": False, "b": True, "c": False}, False),
        ("${x eq 1 and y ne 'a'}", {"x": 1, "y": "b"}, True),
        ("${x lt 2 && x le 2 && x gt 0 && x ge 1}", {"x": 1}, True),
        ("${x == 'ok'}", {"x": "ok"}, True),
        ('${x != "ok"}', {"x": "ok"}, False),
        ("${empty catatan}", {"catatan": ""}, True),
        ("${empty catatan}", {"catatan": None}, True),
        ("${empty catatan}", {"catatan": []}, True),
        ("${not empty catatan}", {"catatan": "revisi"}, True),
        ("${empty catatan}", {"catatan": 0}, False),
        ('${status.contains("ok")}', {"status": "berkas ok"}, True),
        ("${daftar.contains(3)}", {"daftar": [1, 2]}, False),
        ("${x mod 2 == 0}", {"x": 4}, True),
        ("${x % 3 == 1}", {"x": 4}, True),
        ("${x div 2 == 2.5}", {"x": 5}, True),
        ("${x / 4 * 100 >= 75}", {"x": 3}, True),
        ("${-x + 1 == 0}", {"x": 1}, True),
        ("${x == null}", {"x": None}, True),
        ("${ approved == true }", {"approved": True}, True),
    ],
)
def test_juel_subset(text: str, data: dict[str, object], expected: object) -> None:
    """Camunda 7 / Flowable JUEL conditions run with the meaning JUEL gives them."""
    expression = compile_expression(text)
    assert expression.dialect == "juel"
    assert expression.evaluate(data) == expected


def test_juel_precedence_follows_juel_not_python() -> None:
    """``!a == b`` is ``(!a) == b`` in JUEL; Python's ``not a == b`` would negate the comparison."""
    expression = compile_expression("${!a == b}")
    assert expression.evaluate({"a": True, "b": False}) is True
    assert compile_expression("${empty x == false}").evaluate({"x": "isi"}) is True


def test_juel_comparisons_are_left_associative() -> None:
    """JUEL reads ``a == b == c`` as ``(a == b) == c``; sopflow keeps that reading."""
    assert compile_expression("${1 == 1 == true}").evaluate({}) is True


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("= approved", {"approved": True}, True),
        ("=approved = false", {"approved": False}, True),
        ("= nilai >= 80 and status != null", {"nilai": 85, "status": "x"}, True),
        ("= a or not(b)", {"a": False, "b": False}, True),
        ('= status in ["lengkap", "ok"]', {"status": "ok"}, True),
        ('= status in ["lengkap", "ok"]', {"status": "kurang"}, False),
        ("= nilai in [1..10]", {"nilai": 10}, True),
        ("= nilai in [1..10)", {"nilai": 10}, False),
        ("= nilai in (1..10]", {"nilai": 1}, False),
        ("= nilai in ]1..10[", {"nilai": 5}, True),
        ("= nilai between 1 and 5", {"nilai": 5}, True),
        ("= jumlah * 2 + 1 > 10", {"jumlah": 5}, True),
        ("= x = null", {"x": None}, True),
        ('= kota = "Purwakarta"', {"kota": "Purwakarta"}, True),
    ],
)
def test_feel_subset(text: str, data: dict[str, object], expected: object) -> None:
    """Zeebe/Camunda 8 FEEL conditions (the ``=`` prefix) with FEEL's meaning."""
    expression = compile_expression(text)
    assert expression.dialect == "feel"
    assert expression.evaluate(data) == expected


def test_spiffarena_python_comparisons_keep_working() -> None:
    """SpiffArena writes Python comparisons; they are sopflow's own language."""
    expression = compile_expression("approved == True and amount > 10")
    assert expression.dialect is None
    assert expression.evaluate({"approved": True, "amount": 11}) is True


def test_names_of_dialect_conditions_are_listed() -> None:
    """The loader checks names against the fields steps and forms can set."""
    assert compile_expression("${a && !empty b}").names == {"a", "b"}
    assert compile_expression("= x in [1..y_max]").names == {"x", "y_max"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${a} and ${b}", r"JUEL: text around or between \$\{...\}.*inside one"),
        ("${a}${b}", "JUEL: text around or between"),
        ("${order.amount > 1}", r"JUEL: the method or property \.amount.*contains"),
        ("${x.size() > 0}", r"JUEL: the method or property \.size"),
        (
            "${''.getClass().forName('java.lang.Runtime')}",
            r"JUEL: the method or property \.getClass",
        ),
        ("${execution.getVariable('x')}", r"JUEL: the method or property \.getVariable"),
        ("${foo(1)}", "JUEL: calling a function"),
        ("${fn:startsWith(a, 'x')}", "JUEL"),
        ("${a ? b : c}", "JUEL: the conditional operator.*gateway"),
        ("${a = 1}", "JUEL: assignment '='.*== or eq"),
        ("${a[0]}", "JUEL: indexing"),
        ("${a instanceof b}", "JUEL: instanceof"),
        ("${__class__}", "JUEL: a name starting with '__'"),
        ("${a", "JUEL: an expression must end with"),
        ("${}", "JUEL: empty expression"),
        ("${empty}", "JUEL: not a valid expression"),
        ("${a ** 2}", "JUEL"),
        ("${1e999 > x}", "JUEL: not allowed: a number out of the float range"),
        ("= a == b", "FEEL: '==' .*single '='"),
        ("= a && b", "FEEL: the operator '&&'.*and"),
        ("= a || b", "FEEL: the operator '\\|\\|'.*or"),
        ("= !a", "FEEL: the operator '!'.*not"),
        ("= not a", r"FEEL: 'not' without brackets.*not\(condition\)"),
        ("= 'x' = y", "FEEL: a string in single quotes"),
        ("= f(x)", "FEEL: calling a function"),
        ("= order.amount > 1", "FEEL: property access"),
        ("= if a then b else c", "FEEL: 'if' expressions"),
        ("= some x in y satisfies x > 1", "FEEL: 'some' expressions"),
        ("= x in y", "FEEL: 'in' with something other than a list or a range"),
        ("= x in (1, 2)", r"FEEL: a list in \( \)"),
        ("= x in [a]", "FEEL: not allowed: a list element that is not a literal"),
        ("= a < b < c", "FEEL: a chained comparison.*'and'"),
        ("= 2 ** 8 > x", "FEEL: '\\*\\*'"),
        ("=", "FEEL: empty expression"),
        ("= x in [1..", "FEEL: not a valid expression"),
    ],
)
def test_outside_the_subsets_is_refused_with_the_dialect_named(text: str, message: str) -> None:
    """Anything outside a subset is refused, never guessed at, and says how to rewrite it."""
    with pytest.raises(ExpressionError, match=message):
        compile_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "${" + "(" * 40 + "1" + ")" * 40 + "}",
        "${" + "!" * 5000 + "a}",
        "${" + "empty " * 5000 + "a}",
        "= " + "-" * 5000 + "1",
        "= " + "not(" * 100 + "a" + ")" * 100,
        "${" + " + ".join(["1"] * 300) + "}",
        "${" + " || ".join(["a"] * 300) + "}",
        "= " + " or ".join(["a"] * 300),
        "${'\x00'}" * 2 + "}",
        "${a \ud800}",
        "= x in [" + ", ".join(["1"] * 400) + "]",
        "${" + "a" * 2000 + "}",
    ],
)
def test_hostile_dialect_input_is_refused_with_a_typed_error(text: str) -> None:
    """Deep nesting, huge inputs and odd characters end in ExpressionError, never a crash."""
    with pytest.raises(ExpressionError):
        compile_expression(text)


def test_dialects_share_the_languages_strict_types() -> None:
    """``${nilai == '80'}`` with a number is an error, not a quiet false (as in sopflow)."""
    with pytest.raises(ExpressionError, match="cannot compare number with text"):
        compile_expression("${nilai == '80'}").evaluate({"nilai": 80})
    with pytest.raises(ExpressionError, match="'and' needs true or false"):
        compile_expression("= nilai and true").evaluate({"nilai": 1})


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("'' * 99999999999999999999999", {}),
        ("'a' * -100000000000000000000000", {}),
        ("x * n", {"x": "ab", "n": 10**30}),
        ("n * x", {"x": [1], "n": -(10**30)}),
        ("${x * n == ''}", {"x": "", "n": 10**25}),
        ('= x * n = ""', {"x": "", "n": 10**25}),
    ],
)
def test_repetition_counts_are_bounded(text: str, data: dict[str, object]) -> None:
    """Issue 15: these raised OverflowError (a traceback at a gateway); now a typed error."""
    with pytest.raises(ExpressionError, match=f"the limit is {MAX_SEQUENCE_LENGTH}"):
        compile_expression(text).evaluate(data)


def test_big_numbers_from_task_data_are_bounded() -> None:
    """A number of thousands of digits in the task data cannot make arithmetic run away."""
    with pytest.raises(ExpressionError, match="bits"):
        compile_expression("n * n > 1").evaluate({"n": 10**4000})
    with pytest.raises(ExpressionError, match="number out of range"):
        compile_expression("n / d > 1").evaluate({"n": 2**255, "d": 1e-300})


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("${approved}", "${!approved}", True),
        ("#{not approved}", "#{approved}", True),
        ("${score > 5}", "${score <= 5}", True),
        ("${foo != 'bar'}", "${foo == 'bar'}", True),
        ('= status = "ok"', '= status != "ok"', True),
        ("x in ['a']", "x not in ['a']", True),
        ("score > 5", "score < 5", False),
        ("${a}", "${!b}", False),
        ("${a}", "${a}", False),
        ("${a", "${!a}", False),
    ],
)
def test_complementary_conditions_cover_every_case(first: str, second: str, expected: bool) -> None:
    """A gateway whose two flows negate each other needs no default (BPMN 2.0 13.3.2)."""
    from sopflow.runtime.expressions import complementary

    assert complementary(first, second) is expected
    assert complementary(second, first) is expected
