"""A process killed with SIGKILL mid-stream leaves nothing half-written.

Two workers (``_workers.py churn``) at once start instances and work their steps as fast
as they can; the test kills each at its own random moment, three rounds over (six kills),
on a SQLite file and on a PostgreSQL schema. Afterwards every instance must be whole: its
state token is the task of its single open step row, every completed row has an actor,
the audit trail counts match the rows, the revision counts the actions, and the engine
can still finish it.
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

ROUNDS = 3  # each round: WRITERS churn processes at once, each killed at its own moment
WRITERS = 2
WORKERS = Path(__file__).with_name("_workers.py")
BPMN = FIXTURES / "engine" / "review_loop.bpmn"
EVERYONE = Actor("finisher", {"pelaksana", "sekcam", "camat"})


def churn_and_kill(url: str, seeds: list[int], rng: random.Random) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKERS), "churn", url, str(BPMN), str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in seeds
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stderr is not None
            line = proc.stdout.readline().strip()
            if line != "busy":
                raise AssertionError(f"worker did not start: {line!r} {proc.stderr.read()[-2000:]}")
        started = time.monotonic()
        for proc, at in sorted(
            ((p, rng.uniform(0.05, 0.4)) for p in procs), key=lambda pair: pair[1]
        ):
            time.sleep(max(0.0, started + at - time.monotonic()))
            if proc.poll() is not None:
                assert proc.stderr is not None
                raise AssertionError(f"worker failed on its own: {proc.stderr.read()[-2000:]}")
            proc.send_signal(signal.SIGKILL)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    assert [p.returncode for p in procs] == [-signal.SIGKILL] * len(procs)


def check_whole(store: Store, engine: Engine, instance_id: str) -> None:
    row = store.load_instance(instance_id)
    tokens = json.loads(row.state)["k"]
    token = tokens[0][1] if tokens else None
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
    for n in range(ROUNDS):
        churn_and_kill(store_url, [n * WRITERS + w for w in range(WRITERS)], rng)

    if store_url.startswith("sqlite"):
        assert raw_execute(store_url, "PRAGMA integrity_check") == [("ok",)]
    store = open_store(store_url)
    engine = Engine(ListCatalog(review_loop), store)
    instances = store.instances()
    assert len(instances) >= ROUNDS, "the workers should have started instances"
    for row in instances:
        check_whole(store, engine, row.instance_id)
    for row in instances:
        if row.status == "running":
            finish(engine, row.instance_id)
            check_whole(store, engine, row.instance_id)
    store.close()
