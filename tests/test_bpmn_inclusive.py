"""Inclusive gateways: the split and the non-local join rule (BPMN 2.0, 13.4.3)."""

from __future__ import annotations

import pytest
from tests._bpmn import STAF, engine_for, ready

from sopflow.errors import GatewayError
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def test_inclusive_split_takes_every_flow_whose_condition_holds(
    store: Store, clock: FakeClock
) -> None:
    """13.4.3: each flow whose condition is true gets a token; the default is not taken."""
    engine = engine_for(store, clock, "inclusive_loop")
    progress = engine.start("inclusive_loop", actor=STAF, data={"x": 1, "y": 1})
    assert sorted(progress.ready) == ["a", "b"]
    assert {d.flow for d in progress.path} == {"f_a", "f_b"}


def test_inclusive_split_takes_the_default_only_when_no_condition_holds(
    store: Store, clock: FakeClock
) -> None:
    """13.4.3: the default flow is taken only if none of the conditions is true."""
    engine = engine_for(store, clock, "inclusive_loop")
    iid = engine.start("inclusive_loop", actor=STAF, data={"x": 0, "y": 0}).instance_id
    assert ready(engine, iid) == ["c"]
    # one token reached the join: nothing else can arrive, so it fires at once
    assert engine.complete(iid, "c", actor=STAF).ready == ("akhir",)


def test_inclusive_join_waits_for_a_token_still_upstream_in_a_loop(
    store: Store, clock: FakeClock
) -> None:
    """13.4.3: the join fires when no token of its scope can still reach it. A token
    looping on ``b`` can, so the join holds ``a``'s token through every pass of the loop."""
    engine = engine_for(store, clock, "inclusive_loop")
    iid = engine.start("inclusive_loop", actor=STAF, data={"x": 1, "y": 1}).instance_id
    assert engine.complete(iid, "a", actor=STAF).ready == ("b",)
    for _ in range(3):
        assert engine.complete(iid, "b", actor=STAF, data={"lagi": True}).ready == ("b",)
    assert engine.complete(iid, "b", actor=STAF, data={"lagi": False}).ready == ("akhir",)
    assert engine.complete(iid, "akhir", actor=STAF).status == "completed"
    assert [h.task_id for h in engine.history(iid)].count("akhir") == 1


def test_inclusive_join_fires_once_the_last_upstream_token_arrives(
    store: Store, clock: FakeClock
) -> None:
    """13.4.3: the order of arrival does not matter; the join fires exactly once."""
    engine = engine_for(store, clock, "inclusive_loop")
    iid = engine.start("inclusive_loop", actor=STAF, data={"x": 1, "y": 1}).instance_id
    assert engine.complete(iid, "b", actor=STAF, data={"lagi": False}).ready == ("a",)
    assert engine.complete(iid, "a", actor=STAF).ready == ("akhir",)


def test_inclusive_split_with_no_condition_and_no_default_is_a_typed_error(
    store: Store, clock: FakeClock
) -> None:
    """13.4.3: no condition true and no default flow is an exception; nothing is stored."""
    from tests._bpmn import ENGINE_FIXTURES
    from tests.conftest import ListCatalog

    from sopflow.definitions.loader import load_definition_bytes
    from sopflow.runtime.engine import Engine

    text = (ENGINE_FIXTURES / "inclusive_loop.bpmn").read_text()
    text = text.replace(
        '<bpmn:inclusiveGateway id="split" default="f_c"/>', '<bpmn:inclusiveGateway id="split"/>'
    )
    text = text.replace(
        '<bpmn:sequenceFlow id="f_c" sourceRef="split" targetRef="c"/>',
        '<bpmn:sequenceFlow id="f_c" sourceRef="split" targetRef="c">'
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">z</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>",
    )
    engine = Engine(
        ListCatalog(load_definition_bytes(text.encode(), source="i.bpmn")), store, clock=clock
    )
    with pytest.raises(GatewayError, match="split: no condition holds") as caught:
        engine.start("inclusive_loop", actor=STAF, data={"x": 0, "y": 0, "z": False})
    assert caught.value.element == "split"
    assert store.instances() == []
