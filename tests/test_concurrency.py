"""Two writers, one ready step: exactly one completes it, the other gets a ConflictError.

The race runs between two real OS processes with their own store connections, as two
officers' application processes would, on a SQLite file and on PostgreSQL. Each round is
a fresh instance; both workers are told the same wall-clock moment to act.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from _stores import raw_execute, store_url_fixture  # noqa: F401  (fixture)
from conftest import FIXTURES, ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import ConflictError, TaskAlreadyCompletedError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores.base import Change, Store

ROUNDS = 30
WORKERS = Path(__file__).with_name("_workers.py")
BPMN = FIXTURES / "engine" / "review_loop.bpmn"
STAF = Actor("budi", {"pelaksana"})


class Worker:
    """One ``_workers.py race`` process, driven line by line."""

    def __init__(self, url: str, name: str, bpmn: Path = BPMN) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKERS), "race", url, str(bpmn), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def read(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            assert self.proc.stderr is not None
            raise AssertionError(f"worker {self.name} died: {self.proc.stderr.read()[-2000:]}")
        return line

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def workers(store_url: str) -> Iterator[tuple[Worker, Worker]]:
    open_store(store_url).close()  # create the schema once, before both processes open it
    pair = (Worker(store_url, "ani"), Worker(store_url, "bayu"))
    try:
        for w in pair:
            assert w.read() == "ready"
        yield pair
    finally:
        for w in pair:
            w.stop()


def test_two_processes_completing_the_same_step_one_wins_one_conflicts(
    workers: tuple[Worker, Worker],
    store_url: str,
    review_loop: ProcessDefinition,
) -> None:
    store = open_store(store_url)
    engine = Engine(ListCatalog(review_loop), store)
    outcomes: Counter[str] = Counter()
    for n in range(ROUNDS):
        iid = engine.start("review_loop", actor=STAF, data={"ronde": n}).instance_id
        fire_at = time.time() + 0.04
        for w in workers:
            w.send(f"{iid} {fire_at:.6f}")
        answers = sorted(w.read() for w in workers)
        assert answers[0].startswith("conflict ") and answers[1] == "ok", (n, answers)
        outcomes[answers[0]] += 1

        # No lost update, no duplicate: one completed step 1, one ready step 2, and the
        # winner's data is what the store holds.
        steps = store.steps(iid)
        assert [(s.task, s.completed_at is not None) for s in steps] == [
            ("step_01", True),
            ("step_02", False),
        ], n
        winner = steps[0].actor
        assert winner in ("ani", "bayu") and steps[0].data == {"oleh": winner}
        assert engine.status(iid).data["oleh"] == winner
        events = [a.event for a in store.audit(iid)]
        assert events.count("task.completed") == 1 and events.count("task.ready") == 2
        [(revision,)] = raw_execute(
            store_url, "SELECT revision FROM sopflow_instances WHERE uuid = ?", [iid]
        )
        assert revision == 1
    # Both ways of losing are ConflictErrors: the stale revision, or finding it completed.
    assert set(outcomes) <= {"conflict ConflictError", "conflict TaskAlreadyCompletedError"}
    store.close()


def test_a_lost_update_is_refused_even_when_both_read_first(
    store_url: str,
    review_loop: ProcessDefinition,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The exact interleaving: B reads, A completes and commits, B writes. B must lose.

    B's write fails on the revision; the engine reads again, finds the step already
    completed and says so (a TaskAlreadyCompletedError is a ConflictError)."""
    first = Engine(ListCatalog(review_loop), open_store(store_url))
    second = Engine(ListCatalog(review_loop), open_store(store_url))
    iid = first.start("review_loop", actor=STAF).instance_id
    real_apply = second.store.apply

    def apply_after_the_other_commits(change: Change) -> None:
        first.complete(iid, 1, actor=Actor("ani", {"pelaksana"}), data={"oleh": "ani"})
        real_apply(change)

    monkeypatch.setattr(second.store, "apply", apply_after_the_other_commits)
    with pytest.raises(ConflictError) as caught:
        second.complete(iid, 1, actor=Actor("bayu", {"pelaksana"}), data={"oleh": "bayu"})
    assert isinstance(caught.value, TaskAlreadyCompletedError)
    assert iid in str(caught.value) and "already completed by ani" in str(caught.value)
    monkeypatch.undo()

    [one, two] = first.store.steps(iid)
    assert (one.actor, one.data, two.task, two.completed_at) == (
        "ani",
        {"oleh": "ani"},
        "step_02",
        None,
    )
    # Reloading shows B what happened, as a typed error.
    with pytest.raises(TaskAlreadyCompletedError, match="ani"):
        second.complete(iid, 1, actor=Actor("bayu", {"pelaksana"}))
    first.store.close()
    second.store.close()


def test_two_stores_storing_the_same_new_definition_at_once_both_succeed(
    store_url: str,
    review_loop: ProcessDefinition,
) -> None:
    """Two processes starting the first instance of a new version at the same moment."""
    stores: list[Store] = [open_store(store_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def store_it(s: Store) -> None:
        barrier.wait()
        try:
            s.ensure_definition(
                review_loop.version, review_loop.process_id, review_loop.source, review_loop.xml
            )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=store_it, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert raw_execute(store_url, "SELECT COUNT(*) FROM sopflow_definitions") == [(1,)]
    for s in stores:
        Engine(ListCatalog(review_loop), s).start("review_loop", actor=STAF)
        s.close()


def test_processes_opening_a_new_database_at_once_all_succeed(
    store_url: str,
    review_loop: ProcessDefinition,
) -> None:
    """Several application processes deployed together create the schema exactly once."""
    barrier = threading.Barrier(4)
    opened: list[Store] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            opened.append(open_store(store_url))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(raw_execute(store_url, "SELECT key FROM sopflow_meta")) == 1
    for s in opened:
        Engine(ListCatalog(review_loop), s).start("review_loop", actor=STAF)
        s.close()
