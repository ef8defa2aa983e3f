"""Embedded subprocess scopes and the terminate end event (BPMN 2.0, 13.3.4, 13.5.6)."""

from __future__ import annotations

from tests._bpmn import STAF, engine_for, ready

from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def _outcomes(store: Store, iid: str) -> dict[str, str | None]:
    return {r.task: r.outcome for r in store.steps(iid)}


def test_terminate_end_inside_nested_subprocesses_ends_only_its_scope(
    store: Store, clock: FakeClock
) -> None:
    """13.5.6: a terminate end event ends the subprocess it is in: the sibling step
    ``t1`` is closed as terminated, the inner subprocess completes and the outer one
    goes on to ``sesudah``; the top-level ``tunggu`` is untouched."""
    engine = engine_for(store, clock, "terminate_nested")
    iid = engine.start("terminate_nested", actor=STAF).instance_id
    assert ready(engine, iid) == ["t1", "t2", "tunggu"]
    clock.advance(minutes=3)
    progress = engine.complete(iid, "t2", actor=STAF)
    assert sorted(progress.ready) == ["sesudah", "tunggu"]
    assert ready(engine, iid) == ["sesudah", "tunggu"]
    t1 = next(r for r in store.steps(iid) if r.task == "t1")
    assert (t1.outcome, t1.actor) == ("terminated", None)
    assert t1.reason == "terminate end event d_term" and t1.completed_at is not None
    events = [a.event for a in store.audit(iid)]
    assert events.count("task.terminated") == 1
    # a step a terminate end closed is not completed work
    assert "t1" not in {r.task for r in store.completed_steps(instance_id=iid)}
    engine.complete(iid, "sesudah", actor=STAF)
    assert engine.complete(iid, "tunggu", actor=STAF, data={"hentikan": False}).status == (
        "completed"
    )


def test_subprocess_completes_when_no_token_is_left_in_it(store: Store, clock: FakeClock) -> None:
    """13.3.4: the inner subprocess ends when both its branches reached an end event."""
    engine = engine_for(store, clock, "terminate_nested")
    iid = engine.start("terminate_nested", actor=STAF).instance_id
    assert sorted(engine.complete(iid, "t1", actor=STAF).ready) == ["t2", "tunggu"]
    assert sorted(engine.complete(iid, "t2", actor=STAF).ready) == ["sesudah", "tunggu"]
    assert [r.outcome for r in store.steps(iid) if r.task in ("t1", "t2")] == [
        "completed",
        "completed",
    ]


def test_terminate_end_at_top_level_ends_the_instance_and_every_open_step(
    store: Store, clock: FakeClock
) -> None:
    """13.5.6: at the top level a terminate end event ends the whole instance: the steps
    still open in nested subprocesses are closed as terminated."""
    engine = engine_for(store, clock, "terminate_nested")
    iid = engine.start("terminate_nested", actor=STAF).instance_id
    progress = engine.complete(iid, "tunggu", actor=STAF, data={"hentikan": True})
    assert (progress.status, progress.ready) == ("completed", ())
    outcomes = _outcomes(store, iid)
    assert outcomes == {"t1": "terminated", "t2": "terminated", "tunggu": "completed"}
    assert store.open_steps(instance_id=iid) == []
    assert engine.status(iid).status == "completed"
