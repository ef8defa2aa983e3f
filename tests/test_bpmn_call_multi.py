"""Multi-instance call activities: one child instance per item (BPMN 2.0, 13.3.7 applied
to the call activity of 13.3.5).

``sebar_paralel`` calls ``tugas_seksi`` once per item of ``daftar_seksi`` (camunda:collection,
elementVariable ``seksi``) and collects each child's ``hasil`` in item order
(loopDataOutputRef / outputDataItem); ``sebar_urut`` calls it ``jumlah`` times one after
the other (loopCardinality, isSequential); ``sebar_cukup`` ends the rest when two children
have completed (completionCondition).
"""

from __future__ import annotations

import pytest
from tests._bpmn import ENGINE_FIXTURES, STAF

from sopflow.definitions.catalog import Catalog
from sopflow.definitions.loader import load_definitions_bytes
from sopflow.errors import DefinitionError, InstanceClosedError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

CALLS_MULTI = ENGINE_FIXTURES / "calls_multi"
SEKSI = ["Pemerintahan", "Trantib", "Kesos"]


@pytest.fixture
def engine(store: Store, clock: FakeClock) -> Engine:
    return Engine(Catalog.from_directory(CALLS_MULTI), store, clock=clock)


def test_a_parallel_multi_instance_call_starts_one_linked_child_per_item(
    engine: Engine,
) -> None:
    """13.3.7 (parallel) with 13.3.5: every item gets a child instance at once, in the
    transaction of the action that reached the call; each child is linked to the parent as
    a single call's child is, and receives its item and loopCounter by camunda:in."""
    parent = engine.start("sebar_paralel", actor=STAF, data={"daftar_seksi": SEKSI})
    assert parent.ready == ()
    children = engine.status(parent.instance_id).children
    assert len(children) == 3
    views = [engine.status(c) for c in children]
    assert {v.parent for v in views} == {parent.instance_id}
    assert sorted((v.data["urutan"], v.data["seksi"]) for v in views) == list(enumerate(SEKSI))
    assert len(engine.work_list()) == 3  # each child's own step, each with its own SLA


def test_the_outputs_of_the_children_are_collected_in_item_order(engine: Engine) -> None:
    """13.3.7 loopDataOutputRef / outputDataItem: one value per instance, in the order of
    the items whatever order the children finish in; the parent continues after the last."""
    parent = engine.start("sebar_paralel", actor=STAF, data={"daftar_seksi": SEKSI})
    children = engine.status(parent.instance_id).children
    for child in reversed(children):
        seksi = engine.status(child).data["seksi"]
        assert engine.status(parent.instance_id).open_steps == ()
        engine.complete(child, "kerjakan", actor=STAF, data={"hasil": f"ok {seksi}"})
    view = engine.status(parent.instance_id)
    assert view.data["semua_hasil"] == [f"ok {s}" for s in SEKSI]
    assert [w.task_id for w in view.open_steps] == ["sebar_paralel_sesudah"]


def test_a_sequential_multi_instance_call_starts_the_next_child_when_one_completes(
    engine: Engine,
) -> None:
    """13.3.7 (isSequential): loopCardinality children, one at a time; the next child is
    started in the transaction of the completion that ended the one before."""
    parent = engine.start("sebar_urut", actor=STAF, data={"jumlah": 2}).instance_id
    [first] = engine.status(parent).children
    assert engine.status(first).data == {"urutan": 0}
    engine.complete(first, "kerjakan", actor=STAF, data={"hasil": "a"})
    done, second = engine.status(parent).children
    assert (done, engine.status(second).data) == (first, {"urutan": 1})
    assert engine.status(parent).open_steps == ()
    engine.complete(second, "kerjakan", actor=STAF, data={"hasil": "b"})
    assert [w.task_id for w in engine.status(parent).open_steps] == ["sebar_urut_sesudah"]


def test_a_completion_condition_cancels_the_remaining_children(engine: Engine) -> None:
    """13.3.7 completionCondition (nrOfCompletedInstances >= 2): when it holds, the
    children still running are cancelled in the same transaction (their open steps closed
    as cancelled), and the parent goes on."""
    parent = engine.start("sebar_cukup", actor=STAF, data={"daftar_seksi": SEKSI}).instance_id
    first, second, third = engine.status(parent).children
    engine.complete(first, "kerjakan", actor=STAF)
    assert engine.status(second).status == "running"
    engine.complete(third, "kerjakan", actor=STAF)
    view = engine.status(second)
    assert (view.status, view.cancel_reason) == (
        "cancelled",
        "completion condition of sebar_cukup_panggil",
    )
    with pytest.raises(InstanceClosedError):
        engine.complete(second, "kerjakan", actor=STAF)
    assert [w.task_id for w in engine.work_list()] == ["sebar_cukup_sesudah"]


def test_cancelling_the_parent_cancels_every_child_of_the_multi_instance(
    engine: Engine,
) -> None:
    """A parent's cancel ends all its children, however many the multi-instance made."""
    parent = engine.start("sebar_paralel", actor=STAF, data={"daftar_seksi": SEKSI}).instance_id
    engine.cancel(parent, reason="dicabut", actor=STAF)
    assert {engine.status(c).status for c in engine.status(parent).children} == {"cancelled"}
    assert engine.work_list() == []


@pytest.mark.parametrize(
    ("process", "data", "message"),
    [
        ("sebar_urut", {"jumlah": -1}, "must be a whole number from 0; got -1"),
        ("sebar_urut", {"jumlah": 1.5}, "must be a whole number from 0; got 1.5"),
        ("sebar_paralel", {"daftar_seksi": "Trantib"}, "is str, not a list"),
    ],
)
def test_a_bad_cardinality_or_collection_is_refused_and_nothing_is_written(
    engine: Engine, store: Store, process: str, data: dict[str, object], message: str
) -> None:
    """13.3.7: a negative or non-integer cardinality, or a collection that is no list, is
    a typed error of the action that reached the call; no parent and no child is stored."""
    with pytest.raises(TaskDataError, match=message):
        engine.start(process, actor=STAF, data=data)
    assert store.instances() == []


def test_a_standard_loop_on_a_call_activity_is_still_refused_at_load() -> None:
    """Only multi-instance repeats a call activity; standardLoopCharacteristics on one is
    refused at load, naming the element."""
    data = (CALLS_MULTI / "sebar.bpmn").read_bytes()
    looped = data.replace(
        b'<bpmn:multiInstanceLoopCharacteristics isSequential="true">\n'
        b"        <bpmn:loopCardinality>jumlah</bpmn:loopCardinality>\n"
        b"      </bpmn:multiInstanceLoopCharacteristics>",
        b"<bpmn:standardLoopCharacteristics/>",
    )
    assert looped != data
    with pytest.raises(DefinitionError, match="sebar_urut_panggil: standardLoop on bpmn:call"):
        load_definitions_bytes(looped, source="sebar.bpmn")
