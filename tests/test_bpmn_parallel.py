"""Parallel gateways and several steps open at once (BPMN 2.0, 13.4.1)."""

from __future__ import annotations

import json

import pytest
from tests._bpmn import ENGINE_FIXTURES, STAF, engine_for, ready

from sopflow.definitions.loader import load_definition_bytes
from sopflow.errors import DefinitionError, SopCheckError, TaskAlreadyCompletedError
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def test_parallel_split_opens_one_step_per_outgoing_flow(store: Store, clock: FakeClock) -> None:
    """13.4.1: a parallel split sends a token down every outgoing flow; each step gets its
    own row with its own ready time, due date and SLA status."""
    engine = engine_for(store, clock, "parallel_loop")
    iid = engine.start("parallel_loop", actor=STAF).instance_id
    clock.advance(minutes=5)
    progress = engine.complete(iid, "siapkan", actor=STAF)
    assert sorted(progress.ready) == ["cek_a", "cek_b"]
    items = engine.work_list(instance_id=iid)
    assert sorted(i.task_id for i in items) == ["cek_a", "cek_b"]
    assert {i.ready_at for i in items} == {clock.now()}
    rows = [r for r in store.open_steps(instance_id=iid)]
    assert len({r.token for r in rows}) == 2  # two branches, two tokens


def test_parallel_join_waits_for_every_incoming_flow(store: Store, clock: FakeClock) -> None:
    """13.4.1: the join fires only when each incoming flow holds a token."""
    engine = engine_for(store, clock, "parallel_loop")
    iid = engine.start("parallel_loop", actor=STAF).instance_id
    engine.complete(iid, "siapkan", actor=STAF)
    assert engine.complete(iid, "cek_a", actor=STAF).ready == ("cek_b",)
    with pytest.raises(TaskAlreadyCompletedError):
        engine.complete(iid, "cek_a", actor=STAF)
    assert engine.complete(iid, "cek_b", actor=STAF).ready == ("putus",)


def test_parallel_join_inside_a_return_loop_entered_three_times(
    store: Store, clock: FakeClock
) -> None:
    """13.4.1 in a loop: a join entered again by a later pass fires on that pass's tokens
    only (the trap of SpiffWorkflow #341 and Flowable #4166), and the state stays the same
    size however many passes went before."""
    engine = engine_for(store, clock, "parallel_loop")
    iid = engine.start("parallel_loop", actor=STAF).instance_id
    sizes = []
    for answer in (False, False, True):
        engine.complete(iid, "siapkan", actor=STAF)
        sizes.append(len(store.load_instance(iid).state))
        # the branches finish in a different order on each pass
        first, second = ("cek_a", "cek_b") if answer else ("cek_b", "cek_a")
        assert engine.complete(iid, first, actor=STAF).ready == (second,)
        assert ready(engine, iid) == [second]
        assert engine.complete(iid, second, actor=STAF).ready == ("putus",)
        progress = engine.complete(iid, "putus", actor=STAF, data={"disetujui": answer})
    assert progress.status == "completed"
    assert sizes[1] == sizes[2]  # same tokens, same data: the passes left nothing behind
    history = engine.history(iid)
    assert [h.task_id for h in history].count("cek_a") == 3
    passes = [r.pass_no for r in store.steps(iid) if r.task == "cek_b"]
    assert passes == [1, 2, 3]
    assert json.loads(store.load_instance(iid).state)["k"] == []


def test_a_condition_on_a_parallel_split_is_a_load_error() -> None:
    """13.4.1: a parallel gateway does not evaluate conditions; one drawn on its flow is
    a modelling error, refused at load with the flow named."""
    text = (ENGINE_FIXTURES / "parallel_loop.bpmn").read_text()
    text = text.replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="cek_a"/>',
        '<bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="cek_a">'
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">x</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>",
    )
    with pytest.raises(SopCheckError, match="f3: a flow leaving a parallelGateway takes no"):
        load_definition_bytes(text.encode(), source="p.bpmn")


@pytest.mark.parametrize("value", ["0", "-1", "dua"])
def test_start_quantity_below_one_is_a_load_error(value: str) -> None:
    """13.3.2: startQuantity is a whole number from 1 (the XSD already refuses text)."""
    text = (ENGINE_FIXTURES / "parallel_loop.bpmn").read_text()
    text = text.replace(
        '<bpmn:userTask id="cek_a" name="Periksa bagian A"/>',
        f'<bpmn:userTask id="cek_a" name="Periksa bagian A" startQuantity="{value}"/>',
    )
    with pytest.raises(DefinitionError, match=r"cek_a: .*startQuantity"):
        load_definition_bytes(text.encode(), source="p.bpmn")


def test_completion_quantity_sends_that_many_tokens(store: Store, clock: FakeClock) -> None:
    """13.3.2: completionQuantity tokens leave by each outgoing flow; a later activity with
    startQuantity 2 waits for both of them and starts once."""
    text = (ENGINE_FIXTURES / "parallel_loop.bpmn").read_text()
    text = text.replace(
        '<bpmn:userTask id="siapkan" name="Siapkan berkas"/>',
        '<bpmn:userTask id="siapkan" name="Siapkan berkas" completionQuantity="2"/>',
    )
    definition = load_definition_bytes(text.encode(), source="q.bpmn")
    from tests.conftest import ListCatalog

    from sopflow.runtime.engine import Engine

    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("parallel_loop", actor=STAF).instance_id
    engine.complete(iid, "siapkan", actor=STAF)
    # two tokens through the fork: each branch has two steps open
    assert ready(engine, iid) == ["cek_a", "cek_a", "cek_b", "cek_b"]
