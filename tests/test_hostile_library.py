"""Hostile input through the library API (issue 15): a typed SopflowError, nothing written.

An application passes whatever its users typed; the engine must refuse what no store can
keep (NUL bytes, lone surrogates, NaN) or what would break its own readers (times out of
range, data nested past :data:`sopflow.runtime.data.MAX_DEPTH`), before any write.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sopflow.errors import ClockError, CorruptInstanceError, RuntimeFault, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor, from_ms
from sopflow.stores.base import Store

PROCESS = "review_loop"
ROOT = Path(__file__).resolve().parent.parent


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.parametrize(
    "data",
    [
        {"x": math.nan},
        {"x": math.inf},
        {"x": [1, {"y": -math.inf}]},
        {"x": "a\x00b"},
        {"a\x00": 1},
        {"x": "\udcff"},
        _nested(101),
        _nested(5000),
    ],
    ids=["nan", "inf", "nested-inf", "nul", "nul-key", "surrogate", "deep", "deeper"],
)
def test_data_no_store_keeps_exactly_is_refused_before_anything_is_written(
    engine: Engine, store: Store, data: dict[str, Any]
) -> None:
    with pytest.raises(TaskDataError):
        engine.start(PROCESS, actor=Actor("a", "camat"), data=data)
    assert store.instances() == []


def test_data_nested_100_deep_is_still_accepted(engine: Engine) -> None:
    engine.start(PROCESS, actor=Actor("a", "camat"), data=_nested(99))


@pytest.mark.parametrize("actor_id", [None, "", "a\x00b", "a\udcff", "a\nb", "\x1b[2J", 7])
def test_an_actor_id_that_cannot_be_stored_or_printed_is_a_typed_error(actor_id: Any) -> None:
    with pytest.raises(RuntimeFault):
        Actor(actor_id, "camat")


def test_a_role_must_be_text_too() -> None:
    with pytest.raises(RuntimeFault):
        Actor("a", [None])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "at",
    [
        "2025-08-04T08:00+07:00",
        1754269200,
        datetime(2025, 8, 4, 8, 0),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(3000, 1, 1, tzinfo=UTC),
    ],
    ids=["string", "number", "naive", "year-1", "year-3000"],
)
def test_an_action_time_must_be_an_aware_datetime_in_1900_2200(
    engine: Engine, store: Store, at: Any
) -> None:
    with pytest.raises(ClockError):
        engine.start(PROCESS, actor=Actor("a", "camat"), at=at)
    assert store.instances() == []


@pytest.mark.parametrize("ms", [-62170156800000 - 10**12, 10**17, "soon", None, 1.5, True])
def test_a_damaged_stored_time_is_a_corrupt_instance_error(ms: Any) -> None:
    with pytest.raises(CorruptInstanceError):
        from_ms(ms)


def test_the_edges_of_the_window_read_back_in_every_zone() -> None:
    """Years 2..9998 show in UTC-12 and UTC+14 without leaving datetime's range."""
    from datetime import timedelta, timezone

    from sopflow.runtime.views import STORED_MAX_MS, STORED_MIN_MS

    for ms in (STORED_MIN_MS, STORED_MAX_MS):
        for hours in (-12, 14):
            from_ms(ms).astimezone(timezone(timedelta(hours=hours))).isoformat()


@pytest.mark.parametrize("no", ["1" + "0" * 26, "10000", "0"])
def test_a_step_number_the_store_cannot_keep_fails_validate(tmp_path: Path, no: str) -> None:
    """10^26 passed validate and then overflowed the store's integer column at start."""
    from sopflow.definitions.loader import load_definition
    from sopflow.errors import DefinitionError

    source = (ROOT / "bpmn" / "pace-data-kinerja.bpmn").read_text(encoding="utf-8")
    assert 'name="no" value="1"' in source
    bad = tmp_path / "bad.bpmn"
    bad.write_text(source.replace('name="no" value="1"', f'name="no" value="{no}"', 1),
                   encoding="utf-8")
    with pytest.raises(DefinitionError, match="1 to 9999"):
        load_definition(bad)
