"""Completions per second: raw SpiffWorkflow, a fair hand-written baseline, sopflow on
SQLite and PostgreSQL at each durability, a bare psycopg INSERT+COMMIT loop, and 1 vs 4
worker processes on PostgreSQL.

The hand-written baseline (b) is what a user would write with SpiffWorkflow and SQLite:
the workflow serialized to JSON after every step, one UPDATE + COMMIT each. It stores the
process spec ONCE (a row of its own) and only the workflow's state per instance, as any
careful user would; the issue's earlier baseline stored the whole spec in every instance.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from _common import BPMN, PROCESS, ROOT


# --------------------------------------------------------------------------- SpiffWorkflow
class SpiffRunner:
    """Drives a SpiffWorkflow instance step by step, with sopflow's safe condition engine."""

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        from sopflow.runtime.expressions import SafeScriptEngine

        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec(PROCESS)
        self.engine = SafeScriptEngine()
        self._workflow = BpmnWorkflow
        self._ready = TaskState.READY

    def new(self) -> Any:
        wf = self._workflow(self.spec, script_engine=self.engine)
        wf.do_engine_steps()
        return wf

    def step(self, wf: Any, approve: bool = True) -> bool:
        """Complete the ready user task; False when nothing is ready (finished or stalled)."""
        tasks = wf.get_tasks(state=self._ready, manual=True)
        if not tasks:
            return False
        task = tasks[0]
        if task.task_spec.bpmn_id in ("step_10", "step_11"):
            task.set_data(disetujui=approve)
        task.run()
        wf.do_engine_steps()
        return True


def raw_run(runner: SpiffRunner, n: int) -> float:
    """Completions per second of n instances, in memory."""
    done = 0
    t0 = time.perf_counter()
    for _ in range(n):
        wf = runner.new()
        while runner.step(wf):
            done += 1
    return done / (time.perf_counter() - t0)


class SpiffJsonSqlite:
    """The fair hand-written baseline: spec stored once, state serialized after each step."""

    SPEC_KEYS = ("spec", "subprocess_specs")

    def __init__(self, path: Path, synchronous: str = "NORMAL") -> None:
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

        self.runner = SpiffRunner()
        self.serializer = BpmnWorkflowSerializer()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(f"PRAGMA synchronous = {synchronous}")
        self.db.execute("CREATE TABLE IF NOT EXISTS specs (id INTEGER PRIMARY KEY, spec TEXT)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS workflows (id TEXT PRIMARY KEY, spec INTEGER, state TEXT)"
        )
        whole = self.serializer.to_dict(self.runner.new())
        self.spec_parts = {k: whole[k] for k in self.SPEC_KEYS if k in whole}
        self.db.execute("INSERT INTO specs (spec) VALUES (?)", (json.dumps(self.spec_parts),))
        self.spec_id = self.db.execute("SELECT MAX(id) FROM specs").fetchone()[0]

    def _state(self, wf: Any) -> str:
        data = self.serializer.to_dict(wf)
        for key in self.SPEC_KEYS:
            data.pop(key, None)
        return json.dumps(data, cls=self.serializer.json_encoder_cls)

    def save(self, key: str, wf: Any, insert: bool = False) -> None:
        state = self._state(wf)
        self.db.execute("BEGIN IMMEDIATE")
        if insert:
            self.db.execute(
                "INSERT INTO workflows (id, spec, state) VALUES (?, ?, ?)",
                (key, self.spec_id, state),
            )
        else:
            self.db.execute("UPDATE workflows SET state = ? WHERE id = ?", (state, key))
        self.db.execute("COMMIT")

    def load(self, key: str) -> Any:
        (state,) = self.db.execute("SELECT state FROM workflows WHERE id = ?", (key,)).fetchone()
        data = json.loads(state, cls=self.serializer.json_decoder_cls)
        data.update(self.spec_parts)  # the spec is read once, kept like sopflow's catalog
        wf = self.serializer.from_dict(data)
        wf.script_engine = self.runner.engine  # the serializer restores Spiff's eval engine
        return wf

    def complete(self, key: str, approve: bool = True) -> bool:
        wf = self.load(key)
        done = self.runner.step(wf, approve)
        if done:
            self.save(key, wf)
        return done

    def start(self) -> str:
        key = str(uuid.uuid4())
        self.save(key, self.runner.new(), insert=True)
        return key


def spiff_json_run(base: SpiffJsonSqlite, n: int) -> float:
    done = 0
    t0 = time.perf_counter()
    for _ in range(n):
        key = base.start()
        while base.complete(key):
            done += 1
    return done / (time.perf_counter() - t0)


def spiff_json_bytes(base: SpiffJsonSqlite) -> float:
    rows = base.db.execute("SELECT COUNT(*), SUM(LENGTH(state)) FROM workflows").fetchone()
    return float(rows[1]) / rows[0]


# --------------------------------------------------------------------------- sopflow
class SopflowRunner:
    def __init__(self, url: str) -> None:
        from sopflow import Actor, Catalog, Engine, configure_logging, open_store
        from sopflow.testing import FakeClock

        configure_logging(level="error")  # audit and sla.* events still go to the store
        self.catalog = Catalog.from_directory(ROOT / "bpmn")
        self.store = open_store(url)
        self.clock = FakeClock("2025-08-04T08:00:00+07:00")
        self.engine = Engine(self.catalog, self.store, clock=self.clock)
        self.definition = self.catalog.get(PROCESS)
        self.actors = {s.role: Actor(f"{s.role}.bench", {s.role}) for s in self.definition.steps}

    def start(self) -> tuple[str, str | None]:
        p = self.engine.start(PROCESS, actor=self.actors["camat"])
        return p.instance_id, (p.ready[0] if p.ready else None)

    def complete(self, instance_id: str, task: str, approve: bool = True) -> str | None:
        step = self.definition.step(task)
        assert step is not None
        data = {"disetujui": approve} if step.decision_field else None
        self.clock.advance(seconds=30)
        p = self.engine.complete(instance_id, task, actor=self.actors[step.role], data=data)
        return p.ready[0] if p.ready else None

    def run(self, n: int) -> int:
        done = 0
        for _ in range(n):
            iid, task = self.start()
            while task is not None:
                task = self.complete(iid, task)
                done += 1
        return done


def sopflow_run(runner: SopflowRunner, n: int) -> float:
    t0 = time.perf_counter()
    done = runner.run(n)
    return done / (time.perf_counter() - t0)


def stored_bytes(runner: SopflowRunner) -> dict[str, Any]:
    """Bytes per completed instance: instance row + step rows + their indexes, no audit."""
    store: Any = runner.store
    if store.url.startswith(("sqlite", "memory")):
        conn = store._conn
        (n,) = conn.execute("SELECT COUNT(*) FROM sopflow_instances").fetchone()
        conn.execute("DELETE FROM sopflow_audit")
        conn.execute("VACUUM")
        rows = conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat"
            " WHERE name LIKE 'sopflow_instances%' OR name LIKE 'sopflow_steps%'"
            " OR name LIKE 'sqlite_autoindex_sopflow_instances%' GROUP BY name"
        ).fetchall()
        return {"bytes_per_instance": sum(r[1] for r in rows) / n, "measured_by": "dbstat"}
    rows = store._read(
        "SELECT (SELECT COUNT(*) FROM sopflow_instances), SUM(pg_total_relation_size(c.oid))"
        " FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace"
        " WHERE s.nspname = current_schema() AND c.relkind = 'r'"
        " AND c.relname IN ('sopflow_instances', 'sopflow_steps')"
    )
    n, total = rows[0]
    return {"bytes_per_instance": int(total) / n, "measured_by": "pg_total_relation_size"}


# --------------------------------------------------------------------------- bare psycopg
class BareInsertLoop:
    """The floor on this server: one INSERT and one COMMIT per row, nothing else."""

    def __init__(self, url: str, synchronous_commit: str) -> None:
        import psycopg

        from sopflow.stores.postgres import split_url

        dsn, own = split_url(url)
        self.conn = psycopg.connect(dsn, autocommit=False)
        self.conn.execute(f"SET synchronous_commit TO {synchronous_commit}")
        self.conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{own["schema"]}"')
        self.conn.execute(f'SET search_path TO "{own["schema"]}"')
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS bare (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)"
        )
        self.conn.commit()

    def run(self, n: int) -> float:
        t0 = time.perf_counter()
        for i in range(n):
            self.conn.execute("INSERT INTO bare (payload) VALUES (%s)", (f"row {i}",))
            self.conn.commit()
        return n / (time.perf_counter() - t0)


# --------------------------------------------------------------------------- workers
def _worker(url: str, n: int, barrier: Any, out: Any) -> None:
    runner = SopflowRunner(url)
    runner.run(1)  # warm: definition stored, statements prepared
    barrier.wait()
    t0 = time.monotonic()
    done = runner.run(n)
    out.put((t0, time.monotonic(), done))
    runner.store.close()


def workers_run(url: str, workers: int, n: int) -> float:
    """Completions per second of ``workers`` processes, each running n instances."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, n, barrier, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    start = min(r[0] for r in results)
    end = max(r[1] for r in results)
    return sum(r[2] for r in results) / (end - start)
