"""Properties of ``--at`` and ``--data`` parsing (issue 15), with a bounded number of examples.

Whatever text arrives on the command line, parsing gives a value the engine accepts or one
typed error, never a traceback, a time outside 1900..2200 or a non-finite number.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from sopflow.cli._common import parse_at, parse_data, parse_value
from sopflow.errors import SopflowError
from sopflow.runtime.clock import EARLIEST, LATEST
from sopflow.runtime.data import check_data

EXAMPLES = settings(max_examples=200, deadline=None)

offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@EXAMPLES
@given(st.text(max_size=80))
def test_any_text_is_a_time_in_the_window_or_a_typed_error(text: str) -> None:
    try:
        moment = parse_at(text)
    except SopflowError:
        return
    assert moment is not None and moment.tzinfo is not None
    assert EARLIEST <= moment < LATEST


@EXAMPLES
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), offsets)
def test_any_iso_time_reads_back_exactly_or_is_refused_for_its_year(
    naive: datetime, tz: timezone
) -> None:
    moment = naive.replace(tzinfo=tz)
    try:
        parsed = parse_at(moment.isoformat())
    except SopflowError:
        assert not EARLIEST <= moment < LATEST
        return
    assert parsed == moment and EARLIEST <= moment < LATEST
    parsed.astimezone(UTC).isoformat()  # shows in any zone


@EXAMPLES
@given(st.text(max_size=40))
def test_a_data_value_is_text_or_a_finite_number_and_storable(text: str) -> None:
    value = parse_value(text)
    if isinstance(value, float):
        assert math.isfinite(value)
    elif not isinstance(value, int):
        assert value == text
    try:
        check_data({"x": value}, None, None)
    except SopflowError:
        assert isinstance(value, str) and ("\x00" in value or any(
            0xD800 <= ord(c) < 0xE000 for c in value))


@EXAMPLES
@given(st.text(min_size=1, max_size=10).filter(lambda k: "=" not in k and k.strip()),
       st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=10))
def test_data_json_reads_any_json_except_non_finite_numbers(key: str, value: object) -> None:
    try:
        text = json.dumps(value, allow_nan=True)
    except ValueError:
        return
    try:
        data = parse_data([], [f"{key}={text}"])
    except SopflowError:
        assert "NaN" in text or "Infinity" in text
        return
    assert data == {key.strip(): json.loads(text)}
