"""Implicit splits and merges at activities, and the exclusive gateway's exception
(BPMN 2.0, 13.2.1, 13.3.1, 13.4.2)."""

from __future__ import annotations

import pytest
from tests._bpmn import STAF, engine_for, ready

from sopflow.errors import GatewayError, TaskDataError
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def test_implicit_split_from_a_task_with_a_conditional_and_a_default_flow(
    store: Store, clock: FakeClock
) -> None:
    """13.3.1: a task's unconditional flow always gets a token, a conditional one when it
    holds, and the default flow only when no conditional flow holds."""
    engine = engine_for(store, clock, "implicit_split")
    big = engine.start("implicit_split", actor=STAF).instance_id
    progress = engine.complete(big, "catat", actor=STAF, data={"jumlah": 20})
    assert sorted(progress.ready) == ["arsip", "besar"]
    assert [d.flow for d in progress.path] == ["f_besar"]
    small = engine.start("implicit_split", actor=STAF).instance_id
    progress = engine.complete(small, "catat", actor=STAF, data={"jumlah": 5})
    assert sorted(progress.ready) == ["arsip", "kecil"]
    assert [d.flow for d in progress.path] == ["f_kecil"]


def test_several_flows_into_a_task_merge_exclusively_each_token_passes(
    store: Store, clock: FakeClock
) -> None:
    """13.2.1: an activity with several incoming flows starts once per arriving token
    (an uncontrolled merge): two branches reaching ``lapor`` open it twice."""
    engine = engine_for(store, clock, "implicit_split")
    iid = engine.start("implicit_split", actor=STAF).instance_id
    engine.complete(iid, "catat", actor=STAF, data={"jumlah": 20})
    engine.complete(iid, "arsip", actor=STAF)
    engine.complete(iid, "besar", actor=STAF)
    assert ready(engine, iid) == ["lapor", "lapor"]
    assert engine.complete(iid, "lapor", actor=STAF).status == "running"
    assert engine.complete(iid, "lapor", actor=STAF).status == "completed"


def test_exclusive_gateway_with_no_condition_holding_and_no_default_is_a_typed_error(
    store: Store, clock: FakeClock
) -> None:
    """13.4.2: no condition true and no default is an exception. The error names the
    gateway, nothing is written, and the step being completed stays open."""
    engine = engine_for(store, clock, "open_gateway")
    iid = engine.start("open_gateway", actor=STAF).instance_id
    before = store.load_instance(iid)
    with pytest.raises(GatewayError, match="pilih: no condition holds") as caught:
        engine.complete(iid, "isi", actor=STAF, data={"jenis": 3})
    assert isinstance(caught.value, TaskDataError) and caught.value.element == "pilih"
    assert store.load_instance(iid) == before
    assert ready(engine, iid) == ["isi"]
    assert engine.complete(iid, "isi", actor=STAF, data={"jenis": 2}).ready == ("dua",)


def test_a_general_gateway_without_default_loads(store: Store, clock: FakeClock) -> None:
    """The SOP load check stays for decisions only: a gateway that routes no keputusan
    may leave cases open; the run-time error above covers it."""
    engine = engine_for(store, clock, "open_gateway")
    assert engine.catalog.get("open_gateway").nodes["pilih"].kind == "exclusive_gateway"
