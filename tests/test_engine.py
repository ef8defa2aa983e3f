"""The engine, specified through its public API on a three-step review loop.

Step 1 (pelaksana) drafts, step 2 (sekcam) decides ``disetujui``: Ya goes on to step 3
(camat), Tidak returns to step 1 through a merging gateway.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from sopflow.errors import (
    ClaimedError,
    ClockError,
    ConflictError,
    InstanceClosedError,
    InstanceNotFoundError,
    PermissionDeniedError,
    TaskAlreadyCompletedError,
    TaskDataError,
    TaskNotFoundError,
    UnknownProcessError,
)
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.testing import FakeClock, capture_events

STAF = Actor("budi", {"pelaksana"})
SEKCAM = Actor("sari", {"sekcam"})
CAMAT = Actor("camat.pak", {"camat"})


def start(engine: Engine) -> str:
    return engine.start("review_loop", actor=STAF, data={"perihal": "LKjIP 2025"}).instance_id


def test_start_makes_the_first_step_ready_for_its_lane_role(engine: Engine) -> None:
    progress = engine.start("review_loop", actor=STAF)
    assert progress.status == "running"
    assert progress.ready == ("step_01",)
    [item] = engine.work_list()
    assert (item.instance_id, item.task_id, item.step_no) == (progress.instance_id, "step_01", 1)
    assert (item.name, item.lane, item.role) == ("Menyusun draft", "Staf Pelaksana", "pelaksana")
    assert item.kelengkapan == ("Data",) and item.output == ("Draft",)
    assert item.ready_at.isoformat() == "2025-08-04T01:00:00+00:00"
    # "30 menit" from Monday 08:00 WIB
    assert item.due_at is not None and item.due_at.isoformat() == "2025-08-04T01:30:00+00:00"
    assert item.sla_status == "on_track"


def test_instance_ids_are_uuids(engine: Engine) -> None:
    import uuid

    iid = start(engine)
    assert str(uuid.UUID(iid)) == iid


def test_unknown_process_is_a_typed_error(engine: Engine) -> None:
    with pytest.raises(UnknownProcessError):
        engine.start("no_such_sop", actor=STAF)


def test_a_full_run_approved_first_time(engine: Engine, clock: FakeClock) -> None:
    iid = start(engine)
    clock.advance(minutes=20)
    engine.complete(iid, 1, actor=STAF)
    clock.advance(hours=2)
    progress = engine.complete(iid, "step_02", actor=SEKCAM, data={"disetujui": True})
    assert [d.label for d in progress.path] == ["Ya"]
    clock.advance(minutes=10)
    assert engine.complete(iid, 3, actor=CAMAT).status == "completed"
    view = engine.status(iid)
    assert view.status == "completed" and view.open_steps == ()
    assert [(h.step_no, h.actor) for h in view.history] == [
        (1, "budi"),
        (2, "sari"),
        (3, "camat.pak"),
    ]
    assert view.history[1].data == {"disetujui": True}
    assert [d.gateway for d in view.history[1].path] == ["decision_02"]
    assert view.history[0].ready_at == clock.now() - timedelta(minutes=150)
    assert view.data == {"perihal": "LKjIP 2025", "disetujui": True}


def test_work_list_filters_by_role_process_and_instance(engine: Engine) -> None:
    a, b = start(engine), start(engine)
    engine.complete(a, 1, actor=STAF)
    assert {i.instance_id for i in engine.work_list(role="pelaksana")} == {b}
    assert {i.instance_id for i in engine.work_list(role=["sekcam", "camat"])} == {a}
    assert [i.instance_id for i in engine.work_list(instance_id=a)] == [a]
    assert len(engine.work_list(process_id="review_loop")) == 2
    assert engine.work_list(process_id="other") == []
    assert engine.work_list(role=[]) == []


def test_actor_without_the_lane_role_is_refused_and_nothing_changes(engine: Engine, store) -> None:
    iid = start(engine)
    before = store.load_instance(iid)
    with capture_events() as events, pytest.raises(PermissionDeniedError, match="role 'pelaksana'"):
        engine.complete(iid, 1, actor=SEKCAM)
    assert store.load_instance(iid) == before
    assert [e["event"] for e in events] == ["permission.denied"]
    assert events[0]["actor"] == "sari" and events[0]["task_id"] == "step_01"


@pytest.mark.parametrize("task", ["step_99", 99, "nonsense"])
def test_unknown_task_is_a_typed_error(engine: Engine, task: object) -> None:
    iid = start(engine)
    with pytest.raises(TaskNotFoundError, match="no step"):
        engine.complete(iid, task, actor=STAF)  # type: ignore[arg-type]


def test_a_step_not_reached_yet_cannot_be_completed(engine: Engine) -> None:
    iid = start(engine)
    with pytest.raises(TaskNotFoundError, match="not reached"):
        engine.complete(iid, 3, actor=CAMAT)


def test_completing_twice_is_refused_as_already_completed(engine: Engine, store) -> None:
    iid = start(engine)
    engine.complete(iid, 1, actor=STAF)
    before = store.load_instance(iid)
    with pytest.raises(TaskAlreadyCompletedError, match="already completed by budi") as caught:
        engine.complete(iid, 1, actor=STAF)
    assert isinstance(caught.value, ConflictError) and isinstance(caught.value, TaskNotFoundError)
    assert store.load_instance(iid) == before


def test_unknown_instance(engine: Engine) -> None:
    with pytest.raises(InstanceNotFoundError, match="instance 0000"):
        engine.complete("0000", 1, actor=STAF)


@pytest.mark.parametrize("data", [{}, {"disetujui": "ya"}, {"disetujui": 1}, {"disetujui": None}])
def test_a_decision_needs_a_boolean_disetujui_and_the_task_stays_open(
    engine: Engine, data: dict
) -> None:
    iid = start(engine)
    engine.complete(iid, 1, actor=STAF)
    with pytest.raises(TaskDataError, match="'disetujui' must be true"):
        engine.complete(iid, 2, actor=SEKCAM, data=data)
    assert [i.task_id for i in engine.work_list(instance_id=iid)] == ["step_02"]


def test_a_decision_from_an_earlier_pass_does_not_count(engine: Engine) -> None:
    iid = start(engine)
    engine.complete(iid, 1, actor=STAF)
    engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": False})
    engine.complete(iid, 1, actor=STAF)
    with pytest.raises(TaskDataError):
        engine.complete(iid, 2, actor=SEKCAM)


def test_tidak_returns_to_the_step_to_redo(engine: Engine) -> None:
    iid = start(engine)
    engine.complete(iid, 1, actor=STAF)
    progress = engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": False})
    assert progress.ready == ("step_01",)
    assert [d.label for d in progress.path] == ["Tidak"]


def test_one_instance_survives_a_thousand_returns_with_constant_state(
    engine: Engine, store, clock: FakeClock
) -> None:
    iid = start(engine)
    sizes = set()
    for _ in range(1000):
        clock.advance(minutes=1)
        engine.complete(iid, 1, actor=STAF)
        clock.advance(minutes=1)
        engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": False})
        sizes.add(len(store.load_instance(iid).state))
    engine.complete(iid, 1, actor=STAF)
    engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": True})
    assert engine.complete(iid, 3, actor=CAMAT).status == "completed"
    assert len(sizes) == 1  # the state does not grow with returns
    assert len(store.steps(iid)) == 2003


def test_claimed_step_cannot_be_completed_by_a_colleague_until_released(engine: Engine) -> None:
    iid = start(engine)
    colleague = Actor("dewi", {"pelaksana"})
    engine.claim(iid, 1, actor=STAF)
    assert engine.work_list(instance_id=iid)[0].claimed_by == "budi"
    with pytest.raises(ClaimedError, match="claimed by 'budi'"):
        engine.complete(iid, 1, actor=colleague)
    with pytest.raises(ClaimedError):
        engine.claim(iid, 1, actor=colleague)
    with pytest.raises(ClaimedError):
        engine.release(iid, 1, actor=colleague)
    engine.release(iid, 1, actor=STAF)
    assert engine.work_list(instance_id=iid)[0].claimed_by is None
    engine.complete(iid, 1, actor=colleague)


def test_claim_needs_the_lane_role(engine: Engine) -> None:
    iid = start(engine)
    with pytest.raises(PermissionDeniedError):
        engine.claim(iid, 1, actor=CAMAT)


def test_cancel_needs_a_reason_and_closes_the_instance(engine: Engine) -> None:
    iid = start(engine)
    with pytest.raises(TaskDataError, match="reason"):
        engine.cancel(iid, reason="  ", actor=CAMAT)
    engine.cancel(iid, reason="SOP dicabut", actor=CAMAT)
    view = engine.status(iid)
    assert (view.status, view.cancel_reason) == ("cancelled", "SOP dicabut")
    assert engine.work_list() == []
    with pytest.raises(InstanceClosedError, match="cancelled"):
        engine.complete(iid, 1, actor=STAF)
    with pytest.raises(InstanceClosedError):
        engine.cancel(iid, reason="again", actor=CAMAT)


def test_a_completed_instance_takes_no_more_actions(engine: Engine) -> None:
    iid = start(engine)
    engine.complete(iid, 1, actor=STAF)
    engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": True})
    engine.complete(iid, 3, actor=CAMAT)
    with pytest.raises(InstanceClosedError, match="completed"):
        engine.complete(iid, 3, actor=CAMAT)


def test_actions_dated_before_the_step_or_the_last_action_are_refused(
    engine: Engine, clock: FakeClock
) -> None:
    iid = start(engine)
    ready = clock.now()
    with pytest.raises(ClockError, match="before the step became ready"):
        engine.complete(iid, 1, actor=STAF, at=ready - timedelta(minutes=1))
    engine.claim(iid, 1, actor=STAF, at=ready + timedelta(hours=1))
    with pytest.raises(ClockError, match="before the instance's last action"):
        engine.complete(iid, 1, actor=STAF, at=ready + timedelta(minutes=30))
    engine.complete(iid, 1, actor=STAF, at=ready + timedelta(hours=2))
    [h] = [h for h in engine.history(iid) if h.completed_at]
    assert h.completed_at == ready + timedelta(hours=2)


def test_naive_times_are_refused(engine: Engine) -> None:
    from datetime import datetime

    iid = start(engine)
    with pytest.raises(ClockError, match="no time zone"):
        engine.complete(iid, 1, actor=STAF, at=datetime(2025, 8, 4, 9, 0))


def test_data_must_be_json(engine: Engine) -> None:
    with pytest.raises(TaskDataError, match="JSON"):
        engine.start("review_loop", actor=STAF, data={"x": object()})


def test_audit_events_carry_the_context(engine: Engine, store, clock: FakeClock) -> None:
    with capture_events() as events:
        iid = start(engine)
        engine.claim(iid, 1, actor=STAF)
        engine.complete(iid, 1, actor=STAF)
        engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": True})
        engine.complete(iid, 3, actor=CAMAT)
    names = [e["event"] for e in events]
    assert names == [
        "instance.started",
        "task.ready",
        "task.claimed",
        "task.completed",
        "task.ready",
        "task.completed",
        "gateway.decided",
        "task.ready",
        "task.completed",
        "instance.completed",
    ]
    for e in events:
        assert e["instance_id"] == iid and e["process_id"] == "review_loop"
        assert len(e["version"]) == 64
        assert {"task_id", "actor", "timestamp"} <= e.keys()
    completed = [e for e in events if e["event"] == "task.completed"]
    assert [(e["step_no"], e["role"], e["actor"]) for e in completed] == [
        (1, "pelaksana", "budi"),
        (2, "sekcam", "sari"),
        (3, "camat", "camat.pak"),
    ]
    assert events[0]["timestamp"] == clock.now().isoformat()
    # the same trail is stored with the instance, in the same transactions
    assert [a.event for a in store.audit(iid)] == names


def test_instances_keep_running_on_the_version_they_started_on(
    review_loop, store, clock: FakeClock, tmp_path
) -> None:
    from tests.conftest import ListCatalog

    from sopflow.definitions.loader import load_definition

    old = Engine(ListCatalog(review_loop), store, clock=clock)
    iid = old.start("review_loop", actor=STAF).instance_id
    changed = tmp_path / "review_loop.bpmn"
    changed.write_bytes(review_loop.xml.replace(b"Menandatangani", b"Menandatangani laporan"))
    new_def = load_definition(changed)
    assert new_def.version != review_loop.version
    new = Engine(ListCatalog(new_def), store, clock=clock)  # e.g. after a restart
    new.complete(iid, 1, actor=STAF)
    new.complete(iid, 2, actor=SEKCAM, data={"disetujui": True})
    [item] = new.work_list(instance_id=iid)
    assert item.name == "Menandatangani" and item.version == review_loop.version
    fresh = new.start("review_loop", actor=STAF).instance_id
    assert new.status(fresh).version == new_def.version


def test_status_json_shape_has_offsets(engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    iid = start(engine)
    data = engine.status(iid).to_dict(ZoneInfo("Asia/Jakarta"))
    assert data["started_at"] == "2025-08-04T08:00:00+07:00"
    assert data["open_steps"][0]["task_id"] == "step_01"
    json.dumps(data)
