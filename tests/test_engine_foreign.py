"""Files sopflow did not write: a bpmn.io drawing with an embedded subprocess, script tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES, ListCatalog

from sopflow.definitions.loader import load_definition
from sopflow.errors import DefinitionError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

FOREIGN = FIXTURES / "bpmn" / "foreign_bpmnio.bpmn"
SCRIPT = FIXTURES / "engine" / "script_task.bpmn"

STAF = Actor("ani", {"Staf Keuangan"})
KEPALA = Actor("pak.kabag", {"Kepala Bagian"})


@pytest.fixture
def foreign(store: Store, clock: FakeClock) -> Engine:
    return Engine(ListCatalog(load_definition(FOREIGN)), store, clock=clock)


def test_lanes_without_roles_take_their_names_as_roles(foreign: Engine) -> None:
    iid = foreign.start("Process_1q2w3e4", actor=STAF, data={"amount": 500}).instance_id
    [item] = foreign.work_list(instance_id=iid)
    assert (item.lane, item.role) == ("Staf Keuangan", "Staf Keuangan")


@pytest.mark.parametrize(
    ("amount", "approver_needed"),
    [(500, True), (50, False)],
)
def test_conditions_route_and_the_subprocess_runs(
    foreign: Engine, amount: int, approver_needed: bool
) -> None:
    iid = foreign.start("Process_1q2w3e4", actor=STAF, data={"amount": amount}).instance_id
    foreign.complete(iid, "Activity_0terima", actor=STAF)
    if approver_needed:
        [item] = foreign.work_list(instance_id=iid)
        assert item.task_id == "Activity_1setuju"
        foreign.complete(iid, "Activity_1setuju", actor=KEPALA)
    [item] = foreign.work_list(instance_id=iid)
    assert item.task_id == "Activity_0pindai"  # inside the embedded subprocess
    assert foreign.complete(iid, item.task_id, actor=Actor("x", {item.role or ""})).status == (
        "completed"
    )


def test_a_condition_naming_missing_data_is_a_clear_error_and_nothing_changes(
    foreign: Engine, store: Store
) -> None:
    iid = foreign.start("Process_1q2w3e4", actor=STAF).instance_id
    before = store.load_instance(iid)
    with pytest.raises(TaskDataError, match="name 'amount' is not in the task data"):
        foreign.complete(iid, "Activity_0terima", actor=STAF)
    assert store.load_instance(iid) == before
    foreign.complete(iid, "Activity_0terima", actor=STAF, data={"amount": 1})


def test_a_script_task_without_a_handler_is_refused_at_load() -> None:
    with pytest.raises(DefinitionError, match="hitung_capaian"):
        load_definition(SCRIPT)


def test_a_registered_handler_runs_instead_of_the_script_text(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []

    def hitung(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(dict(data))
        return {"capaian": data["realisasi"] / data["target"] * 100}

    definition = load_definition(SCRIPT, script_handlers={"hitung_capaian"})
    engine = Engine(
        ListCatalog(definition), store, clock=clock, script_handlers={"hitung_capaian": hitung}
    )
    kasubag = Actor("k", {"kasubag"})
    low = engine.start("capaian", actor=kasubag).instance_id
    progress = engine.complete(low, "isi", actor=kasubag, data={"realisasi": 6, "target": 10})
    assert progress.ready == ("tinjau",)
    assert engine.status(low).data["capaian"] == 60
    high = engine.start("capaian", actor=kasubag).instance_id
    progress = engine.complete(high, "isi", actor=kasubag, data={"realisasi": 9, "target": 10})
    assert progress.status == "completed"
    assert len(calls) == 2
