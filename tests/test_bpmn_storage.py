"""Storage of many tokens: schema 3, 0.1 instances after the upgrade, concurrent branches.

One action is still one transaction guarded by the instance revision. Two officers
completing two different parallel steps of one instance at the same moment must both
land: the loser of the revision race reads again and retries, because its step is still
open (BPMN 2.0, 13.4.1: the branches are independent until the join).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import pytest
from tests._bpmn import ENGINE_FIXTURES, STAF, fixture
from tests.conftest import FIXTURES, ListCatalog

from _stores import raw_execute, store_url_fixture  # noqa: F401  (fixture)
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores._schema import MIGRATIONS, SCHEMA_VERSION
from sopflow.stores.base import Change
from test_concurrency import Worker


def test_two_writers_completing_two_parallel_steps_both_land(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact interleaving: B reads, A completes cek_a and commits, B writes cek_b.
    B's write loses the revision race; the engine reads again, finds cek_b still open
    and lands it on top of A's change, so the join fires."""
    definition = fixture("parallel_loop")
    first = Engine(ListCatalog(definition), open_store(store_url))
    second = Engine(ListCatalog(definition), open_store(store_url))
    iid = first.start("parallel_loop", actor=STAF).instance_id
    first.complete(iid, "siapkan", actor=STAF)
    real_apply = second.store.apply
    calls = []

    def apply_after_the_other_commits(change: Change) -> None:
        if not calls:
            first.complete(iid, "cek_a", actor=Actor("ani", {"pelaksana"}), data={"a": 1})
        calls.append(change.expected_revision)
        real_apply(change)

    monkeypatch.setattr(second.store, "apply", apply_after_the_other_commits)
    progress = second.complete(iid, "cek_b", actor=Actor("bayu", {"pelaksana"}), data={"b": 2})
    monkeypatch.undo()
    assert calls == [1, 2]  # one conflict, one retry on the fresh revision
    assert progress.ready == ("putus",)
    done = {r.task: r.actor for r in first.store.steps(iid) if r.completed_at is not None}
    assert done == {"siapkan": "budi", "cek_a": "ani", "cek_b": "bayu"}
    assert first.status(iid).data == {"a": 1, "b": 2}
    [(revision,)] = raw_execute(
        store_url, "SELECT revision FROM sopflow_instances WHERE uuid = ?", [iid]
    )
    assert revision == 3
    first.store.close()
    second.store.close()


def test_two_processes_completing_two_parallel_steps_at_once_both_land(store_url: str) -> None:
    """The same race between two real OS processes, each with its own connection."""
    open_store(store_url).close()
    bpmn = ENGINE_FIXTURES / "parallel_loop.bpmn"
    pair = [Worker(store_url, name, bpmn) for name in ("ani@cek_a", "bayu@cek_b")]
    store = open_store(store_url)
    engine = Engine(ListCatalog(fixture("parallel_loop")), store)
    try:
        for w in pair:
            assert w.read() == "ready"
        for n in range(10):
            iid = engine.start("parallel_loop", actor=STAF, data={"ronde": n}).instance_id
            engine.complete(iid, "siapkan", actor=STAF)
            fire_at = time.time() + 0.04
            for w in pair:
                w.send(f"{iid} {fire_at:.6f}")
            assert sorted(w.read() for w in pair) == ["ok", "ok"], n
            assert [i.task_id for i in engine.work_list(instance_id=iid)] == ["putus"]
            events = [a.event for a in store.audit(iid)]
            assert events.count("task.completed") == 3 and events.count("task.ready") == 4
    finally:
        for w in pair:
            w.stop()
        store.close()


def _schema_2_database(path: Path) -> None:
    """A database as sopflow 0.1 wrote it: schema 2, one instance in state format 1,
    waiting at step 2 after one pass through step 1."""
    review = (FIXTURES / "engine" / "review_loop.bpmn").read_bytes()
    version = hashlib.sha256(review).hexdigest()
    conn = sqlite3.connect(path)
    for n in (1, 2):
        for statement in MIGRATIONS[n]:
            assert isinstance(statement, str)
            conn.execute(statement.format(pk="INTEGER PRIMARY KEY", blob="BLOB", bigint="INTEGER"))
    conn.execute("INSERT INTO sopflow_meta VALUES ('schema_version', '2')")
    conn.execute(
        "INSERT INTO sopflow_definitions (id, version, process_id, source, xml)"
        " VALUES (1, ?, 'review_loop', 'review_loop.bpmn', ?)",
        (version, review),
    )
    state = json.dumps({"t": "step_02", "d": {"perihal": "LKjIP"}})
    conn.execute(
        "INSERT INTO sopflow_instances (id, uuid, definition, status, state, revision,"
        " started_at, started_by, last_action_at) VALUES (1, 'old-1', 1, 'running', ?, 1,"
        " 1754269200000, 'budi', 1754269260000)",
        (state,),
    )
    conn.execute(
        "INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at, completed_at,"
        " actor, data) VALUES (1, 'step_01', 1, 'pelaksana', 1754269200000, 1754269260000,"
        " 'budi', '{}')"
    )
    conn.execute(
        "INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at)"
        " VALUES (1, 'step_02', 2, 'sekcam', 1754269260000)"
    )
    conn.commit()
    conn.close()


def test_an_instance_stored_by_0_1_keeps_running_after_the_upgrade(tmp_path: Path) -> None:
    """Migration 3 adds the token columns; a 0.1 state ``{"t": .., "d": ..}`` still loads,
    its open step (no token recorded) is found by its node, and the next write is in
    format 2. Old rows get outcome 'completed' and their pass numbers."""
    path = tmp_path / "old.db"
    _schema_2_database(path)
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version() == SCHEMA_VERSION
        engine = Engine(ListCatalog(fixture("review_loop")), store)
        sekcam = Actor("sari", {"sekcam"})
        assert [w.task_id for w in engine.work_list(instance_id="old-1")] == ["step_02"]
        progress = engine.complete("old-1", 2, actor=sekcam, data={"disetujui": False})
        assert progress.ready == ("step_01",)
        assert json.loads(store.load_instance("old-1").state)["v"] == 2
        rows = store.steps("old-1")
        assert [(r.task, r.pass_no, r.outcome) for r in rows] == [
            ("step_01", 1, "completed"),
            ("step_02", 1, "completed"),
            ("step_01", 2, None),
        ]
        assert engine.status("old-1").data == {"perihal": "LKjIP", "disetujui": False}


def test_an_unknown_state_format_is_a_corrupt_instance_not_a_crash(tmp_path: Path) -> None:
    from sopflow.errors import CorruptInstanceError

    path = tmp_path / "odd.db"
    _schema_2_database(path)
    conn = sqlite3.connect(path)
    conn.execute('UPDATE sopflow_instances SET state = \'{"v": 99, "d": {}}\'')
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        engine = Engine(ListCatalog(fixture("review_loop")), store)
        with pytest.raises(CorruptInstanceError, match="state format 99"):
            engine.complete("old-1", 2, actor=Actor("sari", {"sekcam"}), data={"disetujui": True})


def test_an_instances_open_steps_are_read_through_the_partial_index(tmp_path: Path) -> None:
    """Flat cost: after schema 3's pass index, "this instance's open steps" still walks the
    open-steps partial index, not every pass the instance ever recorded."""
    from sopflow.stores._sqlread import _STEP_COLUMNS, _STEP_FROM

    path = tmp_path / "plan.db"
    open_store(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path)
    plan = conn.execute(
        f"EXPLAIN QUERY PLAN SELECT {_STEP_COLUMNS}{_STEP_FROM} WHERE s.completed_at IS NULL"
        " AND (i.status || '') = 'running' AND i.uuid = ? ORDER BY s.ready_at, s.id",
        ("x",),
    ).fetchall()
    conn.close()
    assert any("sopflow_steps_instance_open" in str(row[-1]) for row in plan), plan
