"""Multi-instance activities (BPMN 2.0, 13.3.7) and standard loops (13.3.6)."""

from __future__ import annotations

from typing import Any

import pytest
from tests._bpmn import ENGINE_FIXTURES, STAF, engine_for, fixture, ready
from tests.conftest import ListCatalog

from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.errors import SopCheckError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

SEKSI = ["Kasi Pemerintahan", "Kasi Trantib", "Kasi Kesos"]


def test_parallel_multi_instance_opens_one_step_per_item_and_names_the_item(
    store: Store, clock: FakeClock
) -> None:
    """13.3.7: a parallel multi-instance task creates one instance per item of its input
    collection (camunda:collection / camunda:elementVariable); each step row, work item
    and history record says which item it is for."""
    engine = engine_for(store, clock, "mi_collection")
    iid = engine.start("mi_collection", actor=STAF, data={"seksi": SEKSI}).instance_id
    items = engine.work_list(instance_id=iid)
    assert sorted(i.item or "" for i in items) == sorted(SEKSI)
    assert {i.task_id for i in items} == {"laporan"}
    assert len({i.token for i in items}) == 3


def test_outputs_are_collected_in_item_order_whatever_the_completion_order(
    store: Store, clock: FakeClock
) -> None:
    """13.3.7: loopDataOutputRef collects each instance's outputDataItem, in item order."""
    engine = engine_for(store, clock, "mi_collection")
    iid = engine.start("mi_collection", actor=STAF, data={"seksi": SEKSI}).instance_id
    for name in reversed(SEKSI):
        engine.complete(iid, "laporan", actor=STAF, item=name, data={"hasil": f"dari {name}"})
    assert ready(engine, iid) == ["rangkum"]
    assert engine.status(iid).data["hasil_semua"] == [f"dari {s}" for s in SEKSI]
    assert [h.item for h in engine.history(iid) if h.task_id == "laporan"] == SEKSI


def test_an_item_with_no_open_instance_is_named_in_the_error(
    store: Store, clock: FakeClock
) -> None:
    from sopflow.errors import TaskNotFoundError

    engine = engine_for(store, clock, "mi_collection")
    iid = engine.start("mi_collection", actor=STAF, data={"seksi": SEKSI}).instance_id
    with pytest.raises(TaskNotFoundError, match="no open instance for item 'Kasi Umum'"):
        engine.complete(iid, "laporan", actor=STAF, item="Kasi Umum")


def test_completion_condition_cancels_the_remaining_instances(
    store: Store, clock: FakeClock
) -> None:
    """13.3.7: when completionCondition holds (nrOfCompletedInstances >= 2) the other
    instances are cancelled: their open steps are closed as cancelled, with the reason."""
    engine = engine_for(store, clock, "mi_completion")
    iid = engine.start("mi_completion", actor=STAF, data={"jumlah_penilai": 4}).instance_id
    assert ready(engine, iid) == ["nilai"] * 4
    assert engine.complete(iid, "nilai", actor=STAF).ready == ("nilai",) * 3
    assert engine.complete(iid, "nilai", actor=STAF).ready == ("putuskan",)
    outcomes = sorted((r.outcome or "open") for r in store.steps(iid) if r.task == "nilai")
    assert outcomes == ["cancelled", "cancelled", "completed", "completed"]
    cancelled = [r for r in store.steps(iid) if r.outcome == "cancelled"]
    assert {r.reason for r in cancelled} == {"completion condition of nilai"}
    assert [a.event for a in store.audit(iid)].count("task.cancelled") == 2
    assert {r.item for r in store.steps(iid) if r.task == "nilai"} == {"1", "2", "3", "4"}


def test_a_parallel_multi_instance_of_50_items(store: Store, clock: FakeClock) -> None:
    """13.3.7 at the size of a kecamatan's desa list: 50 open steps, one per item, and the
    instance state drops back once they are done."""
    engine = engine_for(store, clock, "mi_collection")
    desa = [f"Desa {n:02d}" for n in range(50)]
    iid = engine.start("mi_collection", actor=STAF, data={"seksi": desa}).instance_id
    assert len(engine.work_list(instance_id=iid)) == 50
    for n in range(50):
        progress = engine.complete(iid, "laporan", actor=STAF, data={"hasil": n})
    assert progress.ready == ("rangkum",)
    assert engine.status(iid).data["hasil_semua"] == list(range(50))
    assert store.load_instance(iid).state.count('"laporan"') == 0


def test_sequential_multi_instance_runs_one_instance_at_a_time(
    store: Store, clock: FakeClock
) -> None:
    """13.3.7 isSequential: the next instance starts when the previous one completed; on
    a script task (a registered handler) and on an embedded subprocess."""
    seen: list[int] = []

    def hitung(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data["loopCounter"])
        return {"dihitung": len(seen)}

    definition = load_definition(ENGINE_FIXTURES / "mi_sequential.bpmn", script_handlers=["hitung"])
    engine = Engine(ListCatalog(definition), store, clock=clock, script_handlers={"hitung": hitung})
    iid = engine.start("mi_sequential", actor=STAF, data={"berkas_n": 2}).instance_id
    assert seen == [0, 1, 2]
    assert [(w.task_id, w.item) for w in engine.work_list(instance_id=iid)] == [("isi", "1")]
    assert engine.complete(iid, "isi", actor=STAF).ready == ("isi",)
    assert [w.item for w in engine.work_list(instance_id=iid)] == ["2"]
    assert engine.complete(iid, "isi", actor=STAF).status == "completed"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "must be a whole number from 0; got -1"),
        (2.5, "must be a whole number from 0; got 2.5"),
        ("3", "must be a whole number from 0; got '3'"),
        (True, "must be a whole number from 0; got True"),
        (10**9, "1000000000 instances asked for; at most 1000"),
    ],
)
def test_hostile_cardinality_is_a_typed_error_and_nothing_is_stored(
    store: Store, clock: FakeClock, value: object, message: str
) -> None:
    """13.3.7: loopCardinality is a non-negative integer; text from a form, a negative or
    fractional number and a huge count are refused before anything is written."""
    engine = engine_for(store, clock, "mi_completion")
    with pytest.raises(TaskDataError, match=message):
        engine.start("mi_completion", actor=STAF, data={"jumlah_penilai": value})
    assert store.instances() == []


def test_a_collection_that_is_not_a_list_is_a_typed_error(store: Store, clock: FakeClock) -> None:
    engine = engine_for(store, clock, "mi_collection")
    with pytest.raises(TaskDataError, match="input collection 'seksi' is str, not a list"):
        engine.start("mi_collection", actor=STAF, data={"seksi": "Kasi Trantib"})


def test_zero_instances_pass_straight_on(store: Store, clock: FakeClock) -> None:
    """13.3.7: a cardinality of 0 creates no instance; the activity completes at once."""
    engine = engine_for(store, clock, "mi_collection")
    iid = engine.start("mi_collection", actor=STAF, data={"seksi": []}).instance_id
    assert ready(engine, iid) == ["rangkum"]


def test_standard_loop_repeats_while_its_condition_holds(store: Store, clock: FakeClock) -> None:
    """13.3.6: loopCondition tested after each pass (testBefore false)."""
    engine = engine_for(store, clock, "standard_loop")
    iid = engine.start("standard_loop", actor=STAF).instance_id
    assert engine.complete(iid, "perbaiki", actor=STAF, data={"selesai": False}).ready == (
        "perbaiki",
    )
    assert [w.item for w in engine.work_list(instance_id=iid)] == ["2"]
    assert engine.complete(iid, "perbaiki", actor=STAF, data={"selesai": True}).status == (
        "completed"
    )


def test_standard_loop_stops_at_loop_maximum(store: Store, clock: FakeClock) -> None:
    """13.3.6: loopMaximum bounds the passes even while the condition still holds."""
    engine = engine_for(store, clock, "standard_loop")
    iid = engine.start("standard_loop", actor=STAF).instance_id
    for _ in range(2):
        engine.complete(iid, "perbaiki", actor=STAF, data={"selesai": False})
    assert engine.complete(iid, "perbaiki", actor=STAF, data={"selesai": False}).status == (
        "completed"
    )
    assert [r.pass_no for r in store.steps(iid)] == [1, 2, 3]


def test_negative_loop_maximum_is_a_load_error() -> None:
    text = (
        (ENGINE_FIXTURES / "standard_loop.bpmn")
        .read_text()
        .replace('loopMaximum="3"', 'loopMaximum="-1"')
    )
    with pytest.raises(SopCheckError, match="perbaiki: loopMaximum='-1' is not a whole number"):
        load_definition_bytes(text.encode(), source="l.bpmn")


def test_multi_instance_without_cardinality_or_collection_is_a_load_error() -> None:
    text = fixture("mi_completion").xml.decode()
    start = text.index("<bpmn:loopCardinality")
    end = text.index("</bpmn:loopCardinality>") + len("</bpmn:loopCardinality>")
    with pytest.raises(SopCheckError, match="nilai: multi-instance needs a loopCardinality"):
        load_definition_bytes((text[:start] + text[end:]).encode(), source="m.bpmn")
