"""Call activities: child instances of other catalog processes (BPMN 2.0, 10.3.5, 13.3.5).

``induk`` calls ``anak`` (camunda:in perihal, camunda:out hasil_anak -> hasil), which
calls ``cucu`` (camunda:in/out variables="all").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests._bpmn import ENGINE_FIXTURES, STAF

from sopflow.definitions.catalog import Catalog, validate_paths
from sopflow.errors import ChildInstanceError, DefinitionError, InstanceClosedError, RuntimeFault
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

CALLS = ENGINE_FIXTURES / "calls"
#: the same family, with induk's data passed by the standard's data associations
#: (data objects, the call's dataInput/dataOutput) instead of camunda:in/out
ASSOCIATIONS = ENGINE_FIXTURES / "calls_assoc"


def _family(
    store: Store, clock: FakeClock, directory: Path = CALLS
) -> tuple[Engine, str, str, str]:
    engine = Engine(Catalog.from_directory(directory), store, clock=clock)
    parent = engine.start("induk", actor=STAF, data={"perihal": "Surat", "rahasia": 1})
    [child] = engine.status(parent.instance_id).children
    engine.complete(child, "kerjakan", actor=STAF, data={"hasil_anak": "selesai"})
    [grandchild] = engine.status(child).children
    return engine, parent.instance_id, child, grandchild


def test_a_call_activity_starts_a_linked_child_instance(store: Store, clock: FakeClock) -> None:
    """13.3.5: the called process runs as an instance of its own, with its own steps and
    status; camunda:in passes only the mapped variables."""
    engine = Engine(Catalog.from_directory(CALLS), store, clock=clock)
    progress = engine.start("induk", actor=STAF, data={"perihal": "Surat", "rahasia": 1})
    assert progress.ready == ()
    view = engine.status(progress.instance_id)
    [child] = view.children
    child_view = engine.status(child)
    assert (child_view.process_id, child_view.parent) == ("anak", progress.instance_id)
    assert child_view.data == {"perihal": "Surat"}
    assert [w.task_id for w in engine.work_list(instance_id=child)] == ["kerjakan"]


@pytest.mark.parametrize("directory", [CALLS, ASSOCIATIONS], ids=["camunda", "associations"])
def test_a_call_two_levels_deep_completes_up_the_family(
    store: Store, clock: FakeClock, directory: Path
) -> None:
    """13.3.5: a child's completion completes the call activity in its parent, in the same
    transaction, up to the top; camunda:out (or a dataOutputAssociation) maps the result
    back, and only what is mapped."""
    engine, parent, child, grandchild = _family(store, clock, directory)
    assert engine.status(child).data == {"perihal": "Surat", "hasil_anak": "selesai"}
    assert engine.status(grandchild).data["hasil_anak"] == "selesai"
    progress = engine.complete(grandchild, "periksa", actor=STAF, data={"catatan": "ok"})
    assert progress.status == "completed"
    assert engine.status(child).status == "completed"
    assert engine.status(child).data["catatan"] == "ok"  # variables="all" out
    view = engine.status(parent)
    assert view.status == "running" and view.data["hasil"] == "selesai"
    assert "catatan" not in view.data
    assert [w.task_id for w in view.open_steps] == ["sesudah"]


def test_cancelling_a_parent_cancels_its_children_and_theirs(
    store: Store, clock: FakeClock
) -> None:
    """A parent's cancel ends the whole family in one transaction."""
    engine, parent, child, grandchild = _family(store, clock)
    engine.cancel(parent, reason="permohonan dicabut", actor=STAF)
    for iid in (parent, child, grandchild):
        view = engine.status(iid)
        assert (view.status, view.cancel_reason) == ("cancelled", "permohonan dicabut")
    assert engine.work_list() == []
    with pytest.raises(InstanceClosedError):
        engine.complete(grandchild, "periksa", actor=STAF)


def test_a_child_instance_is_not_cancelled_on_its_own_but_through_its_root(
    store: Store, clock: FakeClock
) -> None:
    """13.3.5: the called process ends its call activity only by completing (or throwing);
    cancelling a child alone would leave the caller waiting forever. As Zeebe does, the
    cancel is refused naming the parent and the root to cancel instead; nothing changes."""
    engine, parent, child, grandchild = _family(store, clock)
    before = {iid: store.load_instance(iid).revision for iid in (parent, child, grandchild)}
    with pytest.raises(ChildInstanceError) as refused:
        engine.cancel(grandchild, reason="salah", actor=STAF)
    error = refused.value
    assert isinstance(error, RuntimeFault)
    assert (error.instance_id, error.parent_id, error.root_id) == (grandchild, child, parent)
    assert str(error).startswith(f"instance {grandchild}: started by call activity ")
    assert f"of instance {child}" in str(error) and f"cancel the root instance {parent}" in str(
        error
    )
    assert {iid: store.load_instance(iid).revision for iid in before} == before
    assert [engine.status(i).status for i in (parent, child, grandchild)] == ["running"] * 3
    with pytest.raises(ChildInstanceError, match=f"cancel the root instance {parent}"):
        engine.cancel(child, reason="salah", actor=STAF)
    engine.cancel(parent, reason="salah", actor=STAF)  # the root: the whole family ends
    assert [engine.status(i).status for i in (parent, child, grandchild)] == ["cancelled"] * 3


def test_the_cli_refuses_cancelling_a_child_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI prints the refusal as one line naming the root, and exits 1."""
    from sopflow.cli import main
    from sopflow.stores import open_store

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SOPFLOW_DB", url)
    monkeypatch.setenv("SOPFLOW_CATALOG", str(CALLS))
    disk = open_store(url)
    try:
        engine = Engine(Catalog.from_directory(CALLS), disk, clock=clock_at_work())
        parent = engine.start("induk", actor=STAF, data={"perihal": "Surat"}).instance_id
        [child] = engine.status(parent).children
    finally:
        disk.close()
    code = main(["cancel", child, "--reason", "salah", "--at", "2025-08-04T09:00:00+07:00"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and f"cancel the root instance {parent}" in err


def clock_at_work() -> FakeClock:
    return FakeClock("2025-08-04T08:00:00+07:00")


def test_a_call_to_a_process_not_in_the_catalog_is_a_load_error(tmp_path: Path) -> None:
    """The catalog refuses a calledElement that no file defines, naming the caller."""
    shutil.copy(CALLS / "induk.bpmn", tmp_path / "induk.bpmn")
    with pytest.raises(DefinitionError, match=r"induk\.bpmn: panggil_anak: calls process 'anak'"):
        Catalog.from_directory(tmp_path)
    [problem] = validate_paths([tmp_path])
    assert "which no file of the catalog defines" in str(problem)


def test_a_terminate_end_in_the_parent_cancels_the_running_child(
    store: Store, clock: FakeClock
) -> None:
    """13.5.6 with 13.3.5: terminating the scope of a call activity ends its child
    instance (and the child's children) in the same transaction."""
    engine = Engine(Catalog.from_directory(CALLS), store, clock=clock)
    parent = engine.start("henti", actor=STAF).instance_id
    [child] = engine.status(parent).children
    engine.complete(child, "kerjakan", actor=STAF)
    [grandchild] = engine.status(child).children
    assert engine.complete(parent, "putus", actor=STAF, data={"batal": True}).status == (
        "completed"
    )
    for iid in (child, grandchild):
        view = engine.status(iid)
        assert (view.status, view.cancel_reason) == ("cancelled", "terminate end event batal")
    assert engine.work_list() == []
