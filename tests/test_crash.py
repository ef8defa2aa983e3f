"""A process killed with SIGKILL mid-stream leaves nothing half-written.

A worker (``_workers.py churn``) starts instances and works their steps as fast as it
can; the test kills it at a random moment, several times over, on a SQLite file and on
a PostgreSQL schema. Afterwards every instance must be whole: its state token is the task
of its single open step row, every completed row has an actor, the audit trail counts
match the rows, the revision counts the actions, and the engine can still finish it.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from _stores import raw_execute, store_url_fixture  # noqa: F401  (fixture)
from conftest import FIXTURES, ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores.base import Store

KILLS = 5
WORKERS = Path(__file__).with_name("_workers.py")
BPMN = FIXTURES / "engine" / "review_loop.bpmn"
EVERYONE = Actor("finisher", {"pelaksana", "sekcam", "camat"})


def churn_and_kill(url: str, seed: int, rng: random.Random) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(WORKERS), "churn", url, str(BPMN), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "busy":
            assert proc.stderr is not None
            raise AssertionError(f"worker did not start: {line!r} {proc.stderr.read()[-2000:]}")
        time.sleep(rng.uniform(0.05, 0.4))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def check_whole(store: Store, engine: Engine, instance_id: str) -> None:
    row = store.load_instance(instance_id)
    token = json.loads(row.state)["t"]
    steps = store.steps(instance_id)
    open_rows = [s for s in steps if s.completed_at is None]
    done_rows = [s for s in steps if s.completed_at is not None]
    where = f"instance {instance_id} ({row.status})"

    if row.status == "completed":
        assert token is None and open_rows == [], where
        assert done_rows and done_rows[-1].task == "step_03", where
    else:
        assert [s.task for s in open_rows] == [token], where
        assert steps[-1] is open_rows[0], where
    for s in done_rows:
        assert s.actor and s.completed_at is not None and s.completed_at >= s.ready_at, where

    events = Counter(a.event for a in store.audit(instance_id))
    assert events["instance.started"] == 1, where
    assert events["task.ready"] == len(steps), where
    assert events["task.completed"] == len(done_rows), where
    assert events["instance.completed"] == (row.status == "completed"), where
    assert events["instance.cancelled"] == (row.status == "cancelled"), where
    actions = (
        events["task.completed"]
        + events["task.claimed"]
        + events["task.released"]
        + events["instance.cancelled"]
    )
    assert row.revision == actions, where

    view = engine.status(instance_id)
    assert len(view.history) == len(steps), where
    if row.status == "running":
        assert [w.task_id for w in view.open_steps] == [token], where


def finish(engine: Engine, instance_id: str) -> None:
    for _ in range(20):
        items = engine.work_list(instance_id=instance_id)
        if not items:
            break
        item = items[0]
        if item.claimed_by not in (None, EVERYONE.id):
            engine.release(instance_id, item.task_id, actor=Actor(item.claimed_by, {item.role}))
        data = {"disetujui": True} if item.task_id == "step_02" else {}
        engine.complete(instance_id, item.task_id, actor=EVERYONE, data=data)
    assert engine.status(instance_id).status == "completed"


def test_sigkill_mid_stream_leaves_every_instance_whole_and_workable(
    store_url: str,
    review_loop: ProcessDefinition,
) -> None:
    open_store(store_url).close()
    rng = random.Random(20250804)
    for kill in range(KILLS):
        churn_and_kill(store_url, kill, rng)

    if store_url.startswith("sqlite"):
        assert raw_execute(store_url, "PRAGMA integrity_check") == [("ok",)]
    store = open_store(store_url)
    engine = Engine(ListCatalog(review_loop), store)
    instances = store.instances()
    assert len(instances) >= KILLS, "the worker should have started instances before each kill"
    statuses = Counter(i.status for i in instances)
    for row in instances:
        check_whole(store, engine, row.instance_id)
    for row in instances:
        if row.status == "running":
            finish(engine, row.instance_id)
            check_whole(store, engine, row.instance_id)
    assert statuses["running"] > 0, statuses
    store.close()
