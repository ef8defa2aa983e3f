"""sopflow benchmark: throughput, storage and SLA-scan cost on the Purbalingga SOP.

Run from the repository root (after `make test` or `pip install -e '.[dev]'`)::

    python benchmarks/run.py            # full run (minutes); writes benchmarks/results/latest.json
    python benchmarks/run.py --quick    # smaller numbers, for a smoke run

Four ways to run the same 12-step SOP (decisions approved):

a) raw SpiffWorkflow in memory, no persistence;
b) what a user would write by hand: SpiffWorkflow, the whole workflow serialized to JSON
   into SQLite after every step (one UPDATE + COMMIT per step);
c) sopflow on SQLite (a file database, WAL, synchronous=NORMAL);
d) sopflow on PostgreSQL (when SOPFLOW_BENCH_POSTGRES_URL or SOPFLOW_TEST_POSTGRES_URL is set).

Figures: completions per second, stored bytes per completed instance (audit rows excluded),
the cost of one completion after 1, 10, 100 and 1,000 returns, and the SLA scan of open
instances against the naive scan that loads every instance.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BPMN = ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn"
PROCESS = "purbalingga_pengukuran_kinerja"
RETURN_LEVELS = (1, 10, 100, 1000)


# --------------------------------------------------------------------------- SpiffWorkflow
def spiff_spec() -> Any:
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser

    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec(PROCESS)


class SpiffRunner:
    """Drives a SpiffWorkflow instance step by step, with sopflow's safe condition engine."""

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        from sopflow.runtime.expressions import SafeScriptEngine

        self.spec = spiff_spec()
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


def bench_raw(n: int) -> dict[str, Any]:
    runner = SpiffRunner()
    completions = 0
    start = time.perf_counter()
    for _ in range(n):
        wf = runner.new()
        while runner.step(wf):
            completions += 1
    elapsed = time.perf_counter() - start
    return {"completions": completions, "seconds": elapsed, "per_second": completions / elapsed}


class SpiffJsonSqlite:
    """The hand-written baseline: serialize the whole workflow after every step."""

    def __init__(self, path: Path) -> None:
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

        self.runner = SpiffRunner()
        self.serializer = BpmnWorkflowSerializer()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("CREATE TABLE workflows (id TEXT PRIMARY KEY, state TEXT NOT NULL)")

    def save(self, key: str, wf: Any, insert: bool = False) -> None:
        state = self.serializer.serialize_json(wf)
        sql = (
            "INSERT INTO workflows (state, id) VALUES (?, ?)"
            if insert
            else "UPDATE workflows SET state = ? WHERE id = ?"
        )
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(sql, (state, key))
        self.db.execute("COMMIT")

    def load(self, key: str) -> Any:
        (state,) = self.db.execute("SELECT state FROM workflows WHERE id = ?", (key,)).fetchone()
        wf = self.serializer.deserialize_json(state)
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


def bench_spiff_json(n: int, workdir: Path) -> dict[str, Any]:
    path = workdir / "spiff-json.db"
    base = SpiffJsonSqlite(path)
    completions = 0
    start = time.perf_counter()
    for _ in range(n):
        key = base.start()
        while base.complete(key):
            completions += 1
    elapsed = time.perf_counter() - start
    base.db.execute("VACUUM")
    stored = sum(len(r[0]) for r in base.db.execute("SELECT state FROM workflows"))
    base.db.close()
    return {
        "completions": completions,
        "seconds": elapsed,
        "per_second": completions / elapsed,
        "bytes_per_instance": stored / n,
        "file_bytes_per_instance": path.stat().st_size / n,
    }


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


def bench_sopflow(url: str, n: int) -> dict[str, Any]:
    runner = SopflowRunner(url)
    completions = 0
    start = time.perf_counter()
    for _ in range(n):
        iid, task = runner.start()
        while task is not None:
            task = runner.complete(iid, task)
            completions += 1
    elapsed = time.perf_counter() - start
    result = {"completions": completions, "seconds": elapsed, "per_second": completions / elapsed}
    result.update(stored_bytes(runner, n))
    runner.store.close()
    return result


def stored_bytes(runner: SopflowRunner, n: int) -> dict[str, Any]:
    """Bytes per completed instance: instance row + step rows + their indexes, no audit."""
    store: Any = runner.store
    if store.url.startswith(("sqlite", "memory")):
        conn = store._conn
        conn.execute("DELETE FROM sopflow_audit")
        conn.execute("VACUUM")
        rows = conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat"
            " WHERE name LIKE 'sopflow_instances%' OR name LIKE 'sopflow_steps%'"
            " OR name LIKE 'sqlite_autoindex_sopflow_instances%' GROUP BY name"
        ).fetchall()
        return {
            "bytes_per_instance": sum(r[1] for r in rows) / n,
            "measured_by": "sqlite dbstat pages",
        }
    with store._conn.cursor() as cur:
        cur.execute(
            "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c"
            " JOIN pg_namespace s ON s.oid = c.relnamespace"
            " WHERE s.nspname = current_schema() AND c.relkind = 'r'"
            " AND c.relname IN ('sopflow_instances', 'sopflow_steps')"
        )
        (total,) = cur.fetchone()
    store._conn.commit()
    return {"bytes_per_instance": int(total) / n, "measured_by": "pg_total_relation_size"}


# --------------------------------------------------------------------------- returns
def returns_cost(
    start: Callable[[], Any],
    complete: Callable[[Any, bool], bool],
    levels: tuple[int, ...],
    samples: int = 20,
) -> dict[str, Any]:
    """Milliseconds per completion after N returns (step 10 Tidak -> back to step 9)."""
    out: dict[str, Any] = {}
    handle = start()
    # walk to step 9: 8 approvals
    for _ in range(8):
        complete(handle, True)
    done = 0
    for level in levels:
        try:
            while done < level:
                if not (complete(handle, True) and complete(handle, False)):
                    raise RuntimeError("stalled")
                done += 1
            times = []
            for _ in range(samples // 2):
                t0 = time.perf_counter()
                ok = complete(handle, True) and complete(handle, False)
                times.append((time.perf_counter() - t0) / 2)
                if not ok:
                    raise RuntimeError("stalled")
                done += 1
            out[str(level)] = round(statistics.median(times) * 1000, 3)
        except RuntimeError:
            out[str(level)] = f"stalled after {done} returns"
            break
    return out


def returns_raw() -> dict[str, Any]:
    runner = SpiffRunner()
    return returns_cost(runner.new, lambda wf, ok: runner.step(wf, ok), RETURN_LEVELS)


def returns_spiff_json(workdir: Path) -> dict[str, Any]:
    base = SpiffJsonSqlite(workdir / "spiff-json-returns.db")
    return returns_cost(base.start, lambda key, ok: base.complete(key, ok), RETURN_LEVELS)


def returns_sopflow(url: str) -> dict[str, Any]:
    runner = SopflowRunner(url)
    state: dict[str, Any] = {}

    def start() -> str:
        iid, task = runner.start()
        state["task"] = task
        return iid

    def complete(iid: str, approve: bool) -> bool:
        if state["task"] is None:
            return False
        state["task"] = runner.complete(iid, state["task"], approve)
        return True

    result = returns_cost(start, complete, RETURN_LEVELS)
    runner.store.close()
    return result


# --------------------------------------------------------------------------- SLA scan
def sla_scan(url: str, n: int) -> dict[str, Any]:
    """Scan n open instances: the monitor's one query against loading every instance."""
    from sopflow.sla.monitor import Monitor

    runner = SopflowRunner(url)
    t0 = time.perf_counter()
    for i in range(n):
        runner.start()
        if i % 50 == 0:
            runner.clock.advance(minutes=7)
    fill = time.perf_counter() - t0
    at = runner.clock.now()
    monitor = Monitor(runner.store, policy=runner.engine.sla)
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        rows = monitor.scan(at=at)
        timings.append(time.perf_counter() - t0)
    # With an escalation hook the scan also reads which steps were already announced;
    # measured after the first scan has announced every step at risk or breached.
    escalating = Monitor(runner.store, policy=runner.engine.sla, escalate=True)
    escalating.scan(at=at)
    hook_timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        escalating.scan(at=at)
        hook_timings.append(time.perf_counter() - t0)
    counts = rows.counts()
    t0 = time.perf_counter()
    naive = naive_scan(runner, at)
    naive_seconds = time.perf_counter() - t0
    assert naive == len(rows), (naive, len(rows))
    runner.store.close()
    return {
        "open_instances": n,
        "open_steps": len(rows),
        "fill_seconds": round(fill, 1),
        "statuses": counts,
        "scan_seconds": round(min(timings), 4),
        "scan_with_escalation_seconds": round(min(hook_timings), 4),
        "naive_scan_seconds": round(naive_seconds, 3),
    }


def naive_scan(runner: SopflowRunner, at: datetime) -> int:
    """Without the step table: load every instance, decode it, compute its step's status."""
    engine = runner.engine
    count = 0
    for row in runner.store.instances(status="running"):
        state = json.loads(engine.store.load_instance(row.instance_id).state)
        definition = engine.definition(row.version)
        step = definition.step(state["t"])
        if step is None:
            continue
        ready = datetime.fromtimestamp(row.last_action_at / 1000, UTC)
        due, risk = engine.sla.deadlines(definition, step, ready)
        engine.sla.status(
            None if due is None else due.timestamp() * 1000,
            None if risk is None else risk.timestamp() * 1000,
            at,
        )
        count += 1
    return count


# --------------------------------------------------------------------------- main
def postgres_url() -> str | None:
    url = os.environ.get("SOPFLOW_BENCH_POSTGRES_URL") or os.environ.get(
        "SOPFLOW_TEST_POSTGRES_URL"
    )
    if not url:
        return None
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}schema=sopflow_bench_{uuid.uuid4().hex[:8]}"


def drop_schema(url: str) -> None:
    import psycopg

    base, _, query = url.partition("?")
    schema = dict(p.split("=", 1) for p in query.split("&"))["schema"]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def machine() -> dict[str, Any]:
    import SpiffWorkflow

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "spiffworkflow": getattr(SpiffWorkflow, "__version__", "3.2"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small numbers: a smoke run")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    parser.add_argument("--instances", type=int, help="instances per throughput run")
    parser.add_argument("--scan", type=int, help="open instances for the SLA scan")
    args = parser.parse_args(argv)
    n = args.instances or (30 if args.quick else 300)
    scan_n = args.scan or (5_000 if args.quick else 100_000)
    results: dict[str, Any] = {"machine": machine(), "sop": PROCESS, "instances": n}
    with tempfile.TemporaryDirectory(prefix="sopflow-bench-") as tmp:
        work = Path(tmp)
        print(f"sopflow benchmark on {PROCESS}: {n} instances per run", file=sys.stderr)
        results["a_raw_spiffworkflow"] = bench_raw(n)
        results["b_spiffworkflow_json_sqlite"] = bench_spiff_json(n, work)
        results["c_sopflow_sqlite"] = bench_sopflow(f"sqlite:///{work / 'sopflow.db'}", n)
        pg = postgres_url()
        if pg:
            try:
                results["d_sopflow_postgres"] = bench_sopflow(pg, n)
            finally:
                drop_schema(pg)
        results["returns_ms_per_completion"] = {
            "a_raw_spiffworkflow": returns_raw(),
            "b_spiffworkflow_json_sqlite": returns_spiff_json(work),
            "c_sopflow_sqlite": returns_sopflow(f"sqlite:///{work / 'returns.db'}"),
        }
        if pg:
            pg2 = postgres_url()
            assert pg2
            try:
                results["returns_ms_per_completion"]["d_sopflow_postgres"] = returns_sopflow(pg2)
            finally:
                drop_schema(pg2)
        results["sla_scan_sqlite"] = sla_scan(f"sqlite:///{work / 'scan.db'}", scan_n)

    a = results["a_raw_spiffworkflow"]["per_second"]
    b = results["b_spiffworkflow_json_sqlite"]["per_second"]
    c = results["c_sopflow_sqlite"]["per_second"]
    results["ratios"] = {"c_over_a": round(c / a, 2), "c_over_b": round(c / b, 2)}

    print("\nThroughput (12-step Purbalingga SOP, decisions approved)")
    print(f"{'run':34} {'completions/s':>14} {'stored B/instance':>18}")
    for key in (
        "a_raw_spiffworkflow",
        "b_spiffworkflow_json_sqlite",
        "c_sopflow_sqlite",
        "d_sopflow_postgres",
    ):
        if key in results:
            r = results[key]
            print(f"{key:34} {r['per_second']:>14,.0f} {fmt(r.get('bytes_per_instance', '-')):>18}")
    print(f"\nc/a = {results['ratios']['c_over_a']}  c/b = {results['ratios']['c_over_b']}")
    print("\nms per completion after N returns")
    print(f"{'run':34} " + " ".join(f"{lvl:>22}" for lvl in RETURN_LEVELS))
    for key, row in results["returns_ms_per_completion"].items():
        print(
            f"{key:34} " + " ".join(f"{fmt(row.get(str(lvl), '-')):>22}" for lvl in RETURN_LEVELS)
        )
    s = results["sla_scan_sqlite"]
    print(
        f"\nSLA scan of {s['open_instances']:,} open instances on SQLite: {s['scan_seconds']} s"
        f" (with escalation: {s['scan_with_escalation_seconds']} s;"
        f" naive, loading every instance: {s['naive_scan_seconds']} s)"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
