"""Worker processes for the concurrency and crash tests: real OS processes, real stores.

Run as ``python tests/_workers.py MODE URL BPMN [ARG]``; each opens its own store on URL
(a SQLite file or a PostgreSQL schema), exactly as a second application process would.

``race NAME[@TASK]``: prints ``ready``, then reads lines ``INSTANCE FIRE_AT`` from stdin; at
the wall-clock moment FIRE_AT (epoch seconds) it completes step TASK (default 1) of
INSTANCE as NAME and
prints ``ok``, ``conflict <ErrorClass>`` or ``error <ErrorClass> <message>``. The parent
sends the same line to two workers, so both act at the same moment.

``churn SEED``: starts instances and works their steps (complete with random decisions,
claim, release, cancel) as fast as it can, forever, printing ``busy`` after the first
action; the parent kills it with SIGKILL at a random moment. Several churn workers may
share a database: losing a race to another one is expected and skipped.
"""

from __future__ import annotations

import contextlib
import logging
import random
import sys
import time
from typing import Any

import structlog

from sopflow.definitions.loader import load_definition
from sopflow.errors import (
    ClaimedError,
    ConflictError,
    InstanceClosedError,
    SopflowError,
    TaskNotFoundError,
)
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store

EVERYONE = Actor("churn", {"pelaksana", "sekcam", "camat"})


class OneCatalog:
    def __init__(self, path: str) -> None:
        self.definition = load_definition(path)

    def get(self, process_id: str) -> Any:
        return self.definition

    def __iter__(self) -> Any:
        return iter([self.definition])


def _engine(url: str, bpmn: str) -> Engine:
    # Audit events are logged too; a worker's stdout is its protocol, so keep logs quiet.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    return Engine(OneCatalog(bpmn), open_store(url))


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def race(url: str, bpmn: str, name: str) -> None:
    name, _, task = name.partition("@")
    engine = _engine(url, bpmn)
    actor = Actor(name, {"pelaksana"})
    _say("ready")
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        instance_id, fire_at = line.split()
        pause = float(fire_at) - time.time()
        if pause > 0:
            time.sleep(pause)
        try:
            engine.complete(instance_id, task or 1, actor=actor, data={"oleh": name})
        except ConflictError as exc:
            _say(f"conflict {type(exc).__name__}")
        except SopflowError as exc:
            _say(f"error {type(exc).__name__} {exc}")
        else:
            _say("ok")
    engine.store.close()


def churn(url: str, bpmn: str, seed: int) -> None:
    engine = _engine(url, bpmn)
    rng = random.Random(seed)
    said = False
    while True:
        items = engine.work_list()
        roll = rng.random()
        # Another churn worker acting on the same instance first is the point, not a fault.
        with contextlib.suppress(
            ConflictError, ClaimedError, InstanceClosedError, TaskNotFoundError
        ):
            _one_action(engine, rng, items, roll, seed)
        if not said:
            _say("busy")
            said = True


def _one_action(
    engine: Engine, rng: random.Random, items: list[Any], roll: float, seed: int
) -> None:
    if not items or roll < 0.15:
        engine.start("review_loop", actor=EVERYONE, data={"seed": seed})
        return
    item = rng.choice(items)
    iid, task = item.instance_id, item.task_id
    if roll < 0.2:
        engine.cancel(iid, reason="churn", actor=EVERYONE)
    elif roll < 0.3 and item.claimed_by is None:
        engine.claim(iid, task, actor=EVERYONE)
    elif roll < 0.35 and item.claimed_by is not None:
        engine.release(iid, task, actor=EVERYONE)
    else:
        data = {"disetujui": rng.random() < 0.6} if task == "step_02" else {}
        engine.complete(iid, task, actor=EVERYONE, data=data)


def main(argv: list[str]) -> int:
    mode, url, bpmn, arg = argv[1], argv[2], argv[3], argv[4]
    if mode == "race":
        race(url, bpmn, arg)
    elif mode == "churn":
        churn(url, bpmn, int(arg))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
