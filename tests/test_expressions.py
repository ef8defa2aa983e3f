"""Specification of the safe expression language of gateway conditions.

A condition in a BPMN file is text written by whoever drew the file. These tests pin down
what the language accepts and computes, and that nothing outside it ever runs.
"""

from __future__ import annotations

import ast
import math
import operator
import uuid
import warnings
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from sopflow.errors import ExpressionError, SopflowError
from sopflow.runtime.expressions import (
    MAX_BRACKET_DEPTH,
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_LENGTH,
    MAX_NODES,
    MAX_OPERATORS,
    MAX_SEQUENCE_LENGTH,
    Expression,
    SafeEnvironment,
    SafeScriptEngine,
    check_expression,
    compile_expression,
)

# -- happy paths taken from SOP decisions ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("disetujui == true", {"disetujui": True}, True),
        ("disetujui == true", {"disetujui": False}, False),
        ("disetujui == True", {"disetujui": True}, True),
        ("not disetujui", {"disetujui": False}, True),
        ("not disetujui", {"disetujui": True}, False),
        ("nilai >= 80 and status in ['lengkap', 'ok']", {"nilai": 85, "status": "ok"}, True),
        ("nilai >= 80 and status in ['lengkap', 'ok']", {"nilai": 79.5, "status": "ok"}, False),
        ("nilai >= 80 and status in ['lengkap', 'ok']", {"nilai": 90, "status": "kurang"}, False),
        ("jumlah * 2 + 1 > 10", {"jumlah": 5}, True),
        ("jumlah * 2 + 1 > 10", {"jumlah": 4}, False),
        ("catatan == null", {"catatan": None}, True),
        ("catatan != null", {"catatan": "revisi tabel 3"}, True),
        ("catatan == None", {"catatan": "x"}, False),
        ("status not in ('ditolak', 'batal')", {"status": "lengkap"}, True),
        ("'revisi' in catatan", {"catatan": "perlu revisi"}, True),
        ("kode in dokumen", {"kode": "LKjIP", "dokumen": ["Renstra", "LKjIP"]}, True),
        ("0 <= capaian < 100", {"capaian": 99.9}, True),
        ("0 <= capaian < 100", {"capaian": 100}, False),
        ("realisasi / target * 100 >= 75", {"realisasi": 3, "target": 4}, True),
        ("hari // 5 == 2 and hari % 5 == 1", {"hari": 11}, True),
        ("-selisih > +1", {"selisih": -3}, True),
        ("x in [-1, +2, 3.5, null, true]", {"x": 2}, True),
        ("unit + ' Paser' == 'Kab. Paser'", {"unit": "Kab."}, True),
        ("disetujui or alasan == 'x'", {"disetujui": True}, True),  # 'alasan' never read
        ("disetujui and alasan == 'x'", {"disetujui": False}, False),
        ("\n   disetujui == true\n  ", {"disetujui": True}, True),  # as BPMN files indent it
        ("disetujui == true # komentar", {"disetujui": True}, True),
        ("(nilai\n >= 80)", {"nilai": 80}, True),
        ("dokumen == lampiran", {"dokumen": ("a", "b"), "lampiran": ["a", "b"]}, True),
        ("dokumen != lampiran", {"dokumen": ["a"], "lampiran": ["a", "b"]}, True),
        ("nilai", {"nilai": {"a": 1}}, {"a": 1}),  # a bare name yields the value as it is
    ],
)
def test_happy_paths_evaluate_like_the_sop_reads(
    text: str, data: dict[str, object], expected: object
) -> None:
    assert compile_expression(text).evaluate(data) == expected


def test_names_lists_the_data_an_expression_reads_and_not_its_literals() -> None:
    expression = compile_expression("nilai >= 80 and status in ['ok', null] or true != false")
    assert expression.names == frozenset({"nilai", "status"})
    assert compile_expression("1 + 2 == 3").names == frozenset()


def test_literal_names_win_over_task_data_with_the_same_key() -> None:
    assert compile_expression("true").evaluate({"true": False}) is True
    assert compile_expression("null").evaluate({"null": 1}) is None


def test_compiled_expressions_are_cached_by_text() -> None:
    text = f"nomor == {uuid.uuid4().int % 10**6}"
    assert compile_expression(text) is compile_expression(text)


def test_check_expression_returns_none_or_raises() -> None:
    check_expression("disetujui == true")
    with pytest.raises(ExpressionError):
        check_expression("open('x')")


def test_expression_error_is_a_sopflow_error_so_the_cli_prints_one_line() -> None:
    with pytest.raises(SopflowError) as info:
        compile_expression("open('/etc/passwd')")
    assert "\n" not in str(info.value)


@given(
    a=st.integers(min_value=-(10**12), max_value=10**12),
    b=st.integers(min_value=-(10**12), max_value=10**12),
    symbol=st.sampled_from(["+", "-", "*", "//", "%", "<", "<=", ">", ">=", "==", "!="]),
)
def test_integer_operators_agree_with_python(a: int, b: int, symbol: str) -> None:
    python: dict[str, Callable[[int, int], object]] = {
        "+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv,
        "%": operator.mod, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    }
    expression = compile_expression(f"a {symbol} b")
    if symbol in ("//", "%") and b == 0:
        with pytest.raises(ExpressionError, match="division by zero"):
            expression.evaluate({"a": a, "b": b})
    else:
        assert expression.evaluate({"a": a, "b": b}) == python[symbol](a, b)


@given(
    a=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    b=st.floats(allow_nan=False, allow_infinity=False, min_value=1e-3, max_value=1e6),
)
def test_true_division_agrees_with_python(a: float, b: float) -> None:
    assert compile_expression("a / b").evaluate({"a": a, "b": b}) == a / b


# -- evaluation errors name what went wrong ------------------------------------------------


def test_a_missing_name_is_named() -> None:
    with pytest.raises(ExpressionError, match="name 'disetujui' is not in the task data"):
        compile_expression("disetujui == true").evaluate({"nilai": 1})


@pytest.mark.parametrize(
    ("text", "data", "message"),
    [
        ("nilai < 80", {"nilai": "79"}, "cannot compare text < number"),
        ("nilai == 80", {"nilai": "80"}, "cannot compare text with number"),
        ("disetujui == 1", {"disetujui": True}, "cannot compare bool with number"),
        ("disetujui < true", {"disetujui": False}, "cannot compare bool < bool"),
        ("not disetujui", {"disetujui": None}, "'not' needs true or false, got null"),
        ("not disetujui", {"disetujui": "ya"}, "'not' needs true or false, got text"),
        ("a and b", {"a": 1, "b": True}, "'and' needs true or false, got number"),
        ("a or b", {"a": False, "b": "x"}, "'or' needs true or false, got text"),
        ("a + b", {"a": "x", "b": 1}, "cannot apply \\+ to text and number"),
        ("a % b", {"a": "%s", "b": 1}, "cannot apply % to text and number"),
        ("a + 1", {"a": True}, "cannot apply \\+ to bool and number"),
        ("-a", {"a": "x"}, "unary minus or plus needs a number, got text"),
        ("x in s", {"x": 1, "s": "abc"}, "'in' a text needs a text on the left"),
        ("x in [1, 2]", {"x": "1"}, "cannot compare text with number"),
        ("x in d", {"x": 1, "d": {"x": 1}}, "'in' needs a list or a text on the right"),
        ("a == b", {"a": {}, "b": {}}, "cannot compare dict with dict"),
        ("a == b", {"a": [[1]], "b": [[1]]}, "lists inside lists cannot be compared"),
        ("1 / 0", {}, "division by zero"),
        ("1 % n", {"n": 0}, "division by zero"),
        ("1e300 * 1e300", {}, "number out of range"),
        ("s * 2.5", {"s": "ab"}, "whole number of times"),
    ],
)
def test_type_errors_are_refused_not_silently_false(
    text: str, data: dict[str, object], message: str
) -> None:
    with pytest.raises(ExpressionError, match=message) as info:
        compile_expression(text).evaluate(data)
    assert repr(text.strip()) in str(info.value)


def test_evaluate_bool_demands_a_truth_value() -> None:
    expression = compile_expression("nilai")
    assert compile_expression("nilai > 1").evaluate_bool({"nilai": 2}) is True
    with pytest.raises(ExpressionError, match="must be true or false, got number"):
        expression.evaluate_bool({"nilai": 2})


# -- hostile input is refused at load time -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("x.__class__", "attribute access"),
        ("__import__('os').system('true')", "function calls"),
        ("__import__", "a name starting with '__'"),
        ("__builtins__", "a name starting with '__'"),
        ("open('x')", "function calls"),
        ("().__class__.__bases__[0]", "subscripts"),
        ("x[0]", "subscripts"),
        ("lambda: 1", "lambdas"),
        ("[x for x in y]", "comprehensions"),
        ("{x: 1 for x in y}", "comprehensions"),
        ("{x for x in y}", "comprehensions"),
        ("(x for x in y)", "generator expressions"),
        ("9**9**9**9", "the operator \\*\\*"),
        ("'a' * 10**9", "the operator \\*\\*"),
        ("f'{x}'", "f-strings"),
        ("f'{x.__class__}'", "f-strings"),
        ("(y := 1)", "assignment expressions"),
        ("b'x'", "bytes literals"),
        ("1j", "complex numbers"),
        ("...", "ellipsis"),
        ("{1}", "set literals"),
        ("{'a': 1}", "dict literals"),
        ("a if b else c", "conditional expressions"),
        ("x is None", "'is'"),
        ("x is not None", "'is'"),
        ("~x", "the bitwise operator ~"),
        ("a << 2", "the operator <<"),
        ("a & b", "the operator &"),
        ("a @ b", "the operator @"),
        ("a | b", "the operator \\|"),
        ("a ^ b", "the operator \\^"),
        ("a >> b", "the operator >>"),
        ("[1, 2]", "a list or tuple outside the right side of 'in'"),
        ("(1, 2)", "a list or tuple outside the right side of 'in'"),
        ("x in [y]", "a list element that is not a literal"),
        ("x in [[1]]", "a list element that is not a literal"),
        ("x in [1] == y", "'in' chained with another comparison"),
        ("(yield)", "yield"),
        ("2 ** 1000 > 1", "the operator \\*\\*"),
        (str(2**MAX_INT_BITS), f"an integer longer than {MAX_INT_BITS} bits"),
        ("1e999", "a number out of the float range"),
    ],
)
def test_constructs_outside_the_language_are_refused_and_named(text: str, construct: str) -> None:
    with pytest.raises(ExpressionError, match=f"not allowed: {construct}") as info:
        compile_expression(text)
    assert repr(text) in str(info.value)  # the message quotes the text


@pytest.mark.parametrize(
    "text",
    ["", "   ", "x = 1", "import os", "disetujui ==", "*a", "(1 +", "'unterminated", "\x00",
     "\ud800", "a\nb", " \t\n"],
)
def test_text_that_is_not_an_expression_is_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(text)


@pytest.mark.parametrize("value", [None, 1, b"x == 1", ["x"], {"x": 1}, 1.5])
def test_non_text_input_is_refused(value: Any) -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        compile_expression(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(" * 10_000 + "1" + ")" * 10_000, "characters long"),
        ("not " * 10_000 + "x", "characters long"),
        ("1+" * 100_000 + "1", "characters long"),
        ("x" * (MAX_LENGTH + 1), "characters long"),
        ("(" * (MAX_BRACKET_DEPTH + 1) + "1" + ")" * (MAX_BRACKET_DEPTH + 1), "brackets nested"),
        ("[" * 300, "brackets nested"),
        ("-" * 500 + "1", "operators"),
        ("not " * 200 + "x", "operators"),
        ("1+" * (MAX_OPERATORS + 1) + "1", "operators"),
        ("x" + ".a" * 400, f"nested more than {MAX_DEPTH} deep"),
        ("1+" * (MAX_DEPTH + 1) + "1", f"nested more than {MAX_DEPTH} deep"),
        ("a or " * 90 + "b or c or d or e or f or g or h or i or j or k or l or m or n or o or "
         "p or q or r or s or t or u or v or w or x or y or z", "operators"),
    ],
)
def test_oversized_or_deep_input_is_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        compile_expression(text)


def test_too_many_parts_is_refused() -> None:
    # a flat 'in' list keeps depth and operators small while the node count grows
    text = "x in [" + ", ".join(["1"] * MAX_NODES) + "]"
    assert len(text) <= MAX_LENGTH
    with pytest.raises(ExpressionError, match=f"more than {MAX_NODES} parts"):
        compile_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 150 + "1" + ")" * 150,
        "[" * 180 + "]" * 180,
        "-" * 999 + "1",
        "not " * 249 + "x",
        "'(' + " + "(" * 100 + "x" + ")" * 100,
    ],
)
def test_deep_nesting_is_refused_before_the_parser_sees_it(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def parse_spy(source: str, *args: Any, **kwargs: Any) -> ast.AST:
        calls.append(source)
        raise AssertionError("ast.parse reached")

    monkeypatch.setattr(ast, "parse", parse_spy)
    with pytest.raises(ExpressionError):
        compile_expression(text)
    assert calls == []


def test_parsing_writes_no_warnings(recwarn: pytest.WarningsRecorder) -> None:
    warnings.simplefilter("always")
    text = f"nomor == '\\d{uuid.uuid4().hex}'"  # an invalid escape: Python would warn
    assert compile_expression(text).evaluate({"nomor": "x"}) is False
    assert len(recwarn) == 0


def test_brackets_and_operators_inside_strings_do_not_count() -> None:
    text = "catatan == '" + "((((-+" * 40 + "'"
    assert compile_expression(text).evaluate({"catatan": "x"}) is False


def test_results_are_bounded_at_evaluation() -> None:
    with pytest.raises(ExpressionError, match="the limit is"):
        compile_expression("s * n").evaluate({"s": "a", "n": 10**9})
    with pytest.raises(ExpressionError, match="the limit is"):
        compile_expression("'a' * 10000 * 10000").evaluate({})
    with pytest.raises(ExpressionError, match="the limit is"):
        compile_expression("n * s").evaluate({"s": [0], "n": 2**200})
    with pytest.raises(ExpressionError, match="the limit is"):
        compile_expression("s + s").evaluate({"s": "a" * MAX_SEQUENCE_LENGTH})
    with pytest.raises(ExpressionError, match=f"longer than {MAX_INT_BITS} bits"):
        compile_expression("n * n").evaluate({"n": 2**200})
    with pytest.raises(ExpressionError, match=f"longer than {MAX_INT_BITS} bits"):
        compile_expression("n + 1").evaluate({"n": 10**1000})
    assert compile_expression("s * 3").evaluate({"s": "ab"}) == "ababab"
    assert compile_expression("2 * s").evaluate({"s": [1]}) == [1, 1]
    assert compile_expression("s * n").evaluate({"s": "ab", "n": -2}) == ""
    assert len(str(compile_expression("s * n").evaluate({"s": "a", "n": MAX_SEQUENCE_LENGTH}))) == (
        MAX_SEQUENCE_LENGTH
    )


# -- fuzzing: nothing but ExpressionError ever escapes -----------------------------------

_TOKENS = [
    "x", "y", "disetujui", "nilai", "true", "null", "None", "__import__", "__class__", "1",
    "0", "2.5", "1e308", "'a'", '"b"', "f'{x}'", "b'x'", "(", ")", "[", "]", "{", "}", ",",
    ".", ":", ":=", "+", "-", "*", "**", "/", "//", "%", "@", "~", "<", "<=", "==", "!=",
    ">", "is", "in", "not", "and", "or", "if", "else", "lambda", "for", "yield", " ", "\n",
    "#", "\\", "'", "j", "_",
]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_random_text_raises_nothing_but_expression_error(text: str) -> None:
    try:
        expression = compile_expression(text)
    except ExpressionError as exc:
        assert "\n" not in exc.message
        return
    assert expression.text == text.strip()


@settings(max_examples=600, deadline=None)
@given(
    tokens=st.lists(st.sampled_from(_TOKENS), max_size=40),
    data=st.dictionaries(
        st.sampled_from(["x", "y", "disetujui", "nilai"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
        | st.lists(st.integers(), max_size=3),
    ),
)
def test_token_soup_compiles_and_evaluates_without_surprises(
    tokens: list[str], data: dict[str, object]
) -> None:
    try:
        expression = compile_expression(" ".join(tokens))
    except ExpressionError:
        return
    assert isinstance(expression, Expression)
    assert expression.names <= set(tokens)
    assert not any(name.startswith("__") for name in expression.names)
    try:
        value = expression.evaluate(data)
    except ExpressionError:
        return
    if isinstance(value, float):
        assert math.isfinite(value) or any(
            isinstance(v, float) and not math.isfinite(v) for v in data.values()
        )
    if isinstance(value, int) and not isinstance(value, bool):
        assert value.bit_length() <= MAX_INT_BITS or any(
            isinstance(v, int) and v == value for v in data.values()
        )


# -- SpiffWorkflow with SafeScriptEngine ---------------------------------------------------

_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:i="http://www.w3.org/2001/XMLSchema-instance"
    id="defs" targetNamespace="http://sopflow.test">
  <bpmn:process id="periksa" isExecutable="true">
    <bpmn:startEvent id="mulai"/>
    <bpmn:sequenceFlow id="f1" sourceRef="mulai" targetRef="kerja"/>
    <bpmn:{task_tag} id="kerja" name="Periksa data kinerja">{task_body}</bpmn:{task_tag}>
    <bpmn:sequenceFlow id="f2" sourceRef="kerja" targetRef="apakah_disetujui"/>
    <bpmn:exclusiveGateway id="apakah_disetujui" name="Disetujui?" default="tidak"/>
    <bpmn:sequenceFlow id="ya" sourceRef="apakah_disetujui" targetRef="selesai_ya">
    <bpmn:conditionExpression i:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="tidak" sourceRef="apakah_disetujui" targetRef="selesai_tidak"/>
    <bpmn:endEvent id="selesai_ya"/>
    <bpmn:endEvent id="selesai_tidak"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _workflow(
    condition: str,
    engine: Any,
    *,
    script: str | None = None,
) -> BpmnWorkflow:
    from xml.sax.saxutils import escape

    if script is None:
        tag, body = "userTask", ""
    else:
        tag, body = "scriptTask", f"<bpmn:script>{escape(script)}</bpmn:script>"
    parser = BpmnParser()
    parser.add_bpmn_str(
        _BPMN.format(task_tag=tag, task_body=body, condition=escape(condition)).encode(),
        "periksa.bpmn",
    )
    return BpmnWorkflow(parser.get_spec("periksa"), script_engine=engine)


def _complete_user_task(workflow: BpmnWorkflow, data: dict[str, object]) -> None:
    workflow.do_engine_steps()
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.set_data(**data)
    task.run()
    workflow.do_engine_steps()


def _ended_at(workflow: BpmnWorkflow) -> set[str]:
    return {
        t.task_spec.bpmn_id
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.bpmn_id in ("selesai_ya", "selesai_tidak")
    }


@pytest.mark.parametrize(("disetujui", "end"), [(True, "selesai_ya"), (False, "selesai_tidak")])
def test_safe_engine_routes_a_gateway_by_the_condition(disetujui: bool, end: str) -> None:
    workflow = _workflow("disetujui == true", SafeScriptEngine())
    _complete_user_task(workflow, {"disetujui": disetujui})
    assert workflow.completed
    assert _ended_at(workflow) == {end}


def test_safe_engine_names_the_gateway_when_data_is_missing() -> None:
    workflow = _workflow("disetujui == true", SafeScriptEngine())
    message = r"^apakah_disetujui \(Disetujui\?\): name 'disetujui' is not in the task data"
    with pytest.raises(ExpressionError, match=message):
        _complete_user_task(workflow, {"nilai": 1})


def test_hostile_condition_runs_under_the_default_engine_but_not_under_safe_engine(
    tmp_path: Path,
) -> None:
    # The default engine really runs the command: this is the threat, not a hypothetical.
    witness = tmp_path / f"pwned-{uuid.uuid4().hex}"
    hostile = f"__import__('os').system('touch {witness}') == 0"
    _complete_user_task(_workflow(hostile, None), {})
    assert witness.exists()

    target = tmp_path / f"pwned-{uuid.uuid4().hex}"
    hostile = f"__import__('os').system('touch {target}') == 0"
    workflow = _workflow(hostile, SafeScriptEngine())
    with pytest.raises(ExpressionError, match="not allowed: function calls"):
        _complete_user_task(workflow, {})
    assert not target.exists()
    assert not workflow.completed


def test_safe_engine_refuses_scripts_without_a_registered_handler(tmp_path: Path) -> None:
    target = tmp_path / f"pwned-{uuid.uuid4().hex}"
    workflow = _workflow(
        "true", SafeScriptEngine(), script=f"import os\nos.system('touch {target}')"
    )
    with pytest.raises(ExpressionError, match=r"^kerja \(Periksa data kinerja\): script tasks"):
        workflow.do_engine_steps()
    assert not target.exists()


def test_safe_engine_runs_a_registered_handler_by_name() -> None:
    seen: list[dict[str, object]] = []

    def hitung_capaian(data: MutableMapping[str, object]) -> None:
        seen.append(dict(data))
        data["capaian"] = 80

    engine = SafeScriptEngine({"hitung_capaian": hitung_capaian})
    workflow = _workflow("capaian >= 75", engine, script="  hitung_capaian\n")
    workflow.do_engine_steps()
    assert workflow.completed
    assert _ended_at(workflow) == {"selesai_ya"}
    assert len(seen) == 1

    other = SafeScriptEngine()
    other.register("hitung_capaian", hitung_capaian)
    workflow = _workflow("capaian >= 90", other, script="hitung_capaian")
    workflow.do_engine_steps()
    assert _ended_at(workflow) == {"selesai_tidak"}


def test_safe_environment_reads_data_objects_after_task_data() -> None:
    environment = SafeEnvironment()
    assert environment.evaluate("a + b", {"a": 1}, {"a": 100, "b": 2}) == 3
    with pytest.raises(ExpressionError, match="not in the task data"):
        environment.evaluate("c", {"a": 1}, {"b": 2})
    with pytest.raises(ExpressionError, match="not allowed"):
        environment.evaluate("__import__('os')", {}, None)
    with pytest.raises(ExpressionError, match="service tasks"):
        environment.call_service({}, operation_name="x")
    with pytest.raises(ExpressionError, match="not an identifier"):
        environment.register("import os", lambda data: None)


def test_safe_engine_validate_uses_the_language() -> None:
    engine = SafeScriptEngine()
    engine.validate("disetujui == true")
    with pytest.raises(ExpressionError):
        engine.validate("open('x')")
