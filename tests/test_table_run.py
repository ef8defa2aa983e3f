"""A compiled SOP table with a joint step, a per-item step and a call runs through the Engine.

The fixture ``rapat-seksi-laporan.toml`` uses all three row keys: step 2 is done by the
Kasi and the Kasubag together (``pelaksana = [...]``: a parallel split, one task per lane,
a join; BPMN 2.0 section 13.4.1), step 3 once per seksi (``untuk_setiap``: a parallel
multi-instance task, 13.3.7), step 5 runs the SOP of ``himpun-data-kinerja.toml``
(``panggil``: a call activity, 13.3.5). Step 4 returns to step 2, so the join is entered
again by a later pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sopflow.definitions.catalog import Catalog
from sopflow.definitions.compiler import compile_table
from sopflow.definitions.loader import load_definition_bytes, problems_of
from sopflow.definitions.table import parse_table
from sopflow.errors import SopCheckError, TaskNotFoundError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

TABLES = Path(__file__).resolve().parent / "fixtures" / "tables"
CAMAT = Actor("camat-1", "camat")
SEKCAM = Actor("sekcam-1", "sekcam")
KASI = Actor("kasi-1", "kasi")
KASUBAG = Actor("kasubag-1", "kasubag")
SEKSI = ["Kasi Pemerintahan", "Kasi Trantib"]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    for name in ("rapat-seksi-laporan", "himpun-data-kinerja"):
        data = compile_table(parse_table(TABLES / f"{name}.toml"))
        (tmp_path / f"{name}.bpmn").write_bytes(data)
    return Catalog.from_directory(tmp_path)


def _open(engine: Engine, instance_id: str) -> list[tuple[str, str | None, str | None]]:
    return sorted((w.task_id, w.role, w.item) for w in engine.work_list(instance_id=instance_id))


def _joint_step(engine: Engine, instance_id: str) -> None:
    """Both lanes' tasks of step 2 are ready; the join waits for the second."""
    items = engine.work_list(instance_id=instance_id)
    assert sorted((w.task_id, w.step_no, w.lane, w.role) for w in items) == [
        ("step_02_1", 2, "Kasi", "kasi"),
        ("step_02_2", 2, "Kasubag", "kasubag"),
    ]
    assert len({w.due_at for w in items}) == 1  # each its own row, with the same waktu
    engine.complete(instance_id, "step_02_1", actor=KASI)
    assert _open(engine, instance_id) == [("step_02_2", "kasubag", None)]
    engine.complete(instance_id, "step_02_2", actor=KASUBAG)


def _per_seksi(engine: Engine, instance_id: str) -> None:
    """One task of step 3 per item of the list given at start, each naming its item."""
    assert _open(engine, instance_id) == [("step_03", "kasi", s) for s in SEKSI]
    engine.complete(instance_id, 3, actor=KASI, item="Kasi Trantib")
    assert _open(engine, instance_id) == [("step_03", "kasi", "Kasi Pemerintahan")]
    engine.complete(instance_id, 3, actor=KASI, item="Kasi Pemerintahan")


def test_the_fixture_runs_end_to_end_with_a_return_and_a_child_sop(
    catalog: Catalog, store: Store, clock: FakeClock
) -> None:
    engine = Engine(catalog, store, clock=clock)
    started = engine.start("contoh_rapat_seksi", actor=CAMAT, data={"seksi": SEKSI})
    iid = started.instance_id
    engine.complete(iid, 1, actor=CAMAT)
    _joint_step(engine, iid)
    _per_seksi(engine, iid)
    # Tidak: back to the joint step, whose join must wait again for both of this pass
    engine.complete(iid, 4, actor=SEKCAM, data={"disetujui": False})
    _joint_step(engine, iid)
    _per_seksi(engine, iid)
    engine.complete(iid, 4, actor=SEKCAM, data={"disetujui": True})

    # step 5 runs the called SOP as a child instance; the parent waits for it
    assert _open(engine, iid) == []
    view = engine.status(iid)
    assert view.status == "running"
    [child] = view.children
    child_view = engine.status(child)
    assert (child_view.process_id, child_view.parent) == ("contoh_himpun_data", iid)
    assert child_view.data["seksi"] == SEKSI  # camunda:in variables="all"
    engine.complete(child, 1, actor=KASUBAG, data={"rekap": "lengkap"})
    engine.complete(child, 2, actor=SEKCAM)
    assert engine.status(child).status == "completed"

    # the child's completion continues the parent at step 6, with its data back
    assert _open(engine, iid) == [("step_06", "camat", None)]
    assert engine.status(iid).data["rekap"] == "lengkap"  # camunda:out variables="all"
    engine.complete(iid, 6, actor=CAMAT)
    final = engine.status(iid)
    assert final.status == "completed"

    # the history tells the joint step's tasks apart by lane and role, pass by pass
    joint = [
        (r.task_id, r.lane, r.role, r.actor, r.pass_no) for r in final.history if r.step_no == 2
    ]
    assert sorted(joint) == [
        ("step_02_1", "Kasi", "kasi", KASI.id, 1),
        ("step_02_1", "Kasi", "kasi", KASI.id, 2),
        ("step_02_2", "Kasubag", "kasubag", KASUBAG.id, 1),
        ("step_02_2", "Kasubag", "kasubag", KASUBAG.id, 2),
    ]
    per_item = [r.item for r in final.history if r.step_no == 3]
    assert sorted(per_item) == sorted(SEKSI * 2)
    assert all(r.outcome == "completed" for r in final.history)


def test_a_joint_steps_number_names_the_task_of_the_actors_role(
    catalog: Catalog, store: Store, clock: FakeClock
) -> None:
    """Both tasks of step 2 carry no=2 (one row, a symbol in each Pelaksana column: the
    Permenpan-RB 35/2012 flowchart convention; a parallel split, BPMN 2.0 section
    13.3.1). The number names the open task whose role the actor holds; when that is
    none, or several (one person holding both roles), it is refused with the task ids."""
    engine = Engine(catalog, store, clock=clock)
    iid = engine.start("contoh_rapat_seksi", actor=CAMAT, data={"seksi": SEKSI}).instance_id
    engine.complete(iid, 1, actor=CAMAT)
    for actor, why in (
        (SEKCAM, "holds none of their roles"),
        (Actor("both-1", ["kasi", "kasubag"]), "holds the role of several open ones"),
    ):
        with pytest.raises(TaskNotFoundError, match=why) as refused:
            engine.complete(iid, 2, actor=actor)
        assert "step_02_1 (kasi, open), step_02_2 (kasubag, open)" in str(refused.value)
    assert _open(engine, iid) == [("step_02_1", "kasi", None), ("step_02_2", "kasubag", None)]
    assert engine.complete(iid, 2, actor=KASI).ready == ("step_02_2",)
    # the kasi's task is done: for someone holding both roles, 2 now names the open one
    progress = engine.complete(iid, 2, actor=Actor("both-1", ["kasi", "kasubag"]))
    assert "step_02_1" not in progress.ready and "step_02_2" not in progress.ready
    assert [r.task for r in store.steps(iid) if r.step_no == 2] == ["step_02_1", "step_02_2"]


def test_the_call_row_is_numbered_but_no_step_of_the_work_list(catalog: Catalog) -> None:
    definition = catalog.get("contoh_rapat_seksi")
    assert [(s.no, s.id) for s in definition.calls] == [(5, "step_05")]
    assert 5 not in {s.no for s in definition.steps}
    assert [(s.no, s.id) for s in definition.steps if s.no == 2] == [
        (2, "step_02_1"),
        (2, "step_02_2"),
    ]
    (decision,) = definition.decisions
    assert (decision.yes_target, decision.no_target) == ("step_05", "step_02_1")
    assert definition.row("step_05") == definition.calls[0]
    assert definition.step("step_05") is None
    assert [s.no for s in definition.rows] == [1, 2, 2, 3, 4, 5, 6]


# ------------------------------------------------------------ step numbers in a file


def _compiled() -> bytes:
    return compile_table(parse_table(TABLES / "rapat-seksi-laporan.toml"))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a plain step numbered as the joint step
        ('<camunda:property name="no" value="3"/>', '<camunda:property name="no" value="2"/>'),
        # the call row numbered as a step
        ('<camunda:property name="no" value="5"/>', '<camunda:property name="no" value="6"/>'),
    ],
    ids=["step-shares-the-joint-number", "call-shares-a-step-number"],
)
def test_a_number_shared_outside_one_joint_step_is_refused(old: str, new: str) -> None:
    data = _compiled().decode()
    assert data.count(old) == 1
    with pytest.raises(SopCheckError, match="is also used by"):
        load_definition_bytes(data.replace(old, new).encode(), source="rapat.bpmn")


def test_tasks_sharing_a_number_must_be_the_branches_of_one_split() -> None:
    """Two tasks in one lane are no joint step (a joint step has one task per lane)."""
    data = _compiled().decode()
    lanes = data.split("<bpmn:flowNodeRef>step_02_2</bpmn:flowNodeRef>")
    assert len(lanes) == 2
    moved = (
        lanes[0].replace(
            "<bpmn:flowNodeRef>step_02_1</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>step_02_1</bpmn:flowNodeRef>"
            "<bpmn:flowNodeRef>step_02_2</bpmn:flowNodeRef>",
        )
        + lanes[1]
    )
    with pytest.raises(SopCheckError) as caught:
        load_definition_bytes(moved.encode(), source="rapat.bpmn")
    messages = [p.message for p in problems_of(caught.value)]
    assert any(m.startswith("step number 2 is also used by step_02_1") for m in messages)
