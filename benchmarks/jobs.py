"""Job benchmark: timers fired per second by 1, 2 and 4 worker processes on PostgreSQL,
and the cost of the due-job query with 1,000,000 jobs waiting.

    python benchmarks/jobs.py --quick       # 600 timers per run, 1,000,000 waiting jobs
    python benchmarks/jobs.py               # 3,000 timers per run

Needs SOPFLOW_BENCH_POSTGRES_URL or SOPFLOW_TEST_POSTGRES_URL; each measurement uses a
schema of its own, dropped afterwards. :func:`measure` is what the benchmark harness
(benchmarks/run.py) calls; it returns the figures as a dict.

Throughput: N instances wait at a PT1M timer that fell due an hour ago; W worker
processes (the same ``Worker`` loop as ``sopflow worker``, lease 30 s, batch 20) are
started, import and connect, then all begin at one agreed moment; the figure is N
divided by the time from that moment to the last worker's end.

Due query: the jobs table gets 1,000,000 rows due in the future plus 100 due now; the
figures are the server's execution time of the due query (EXPLAIN ANALYZE), the median
time of one whole claim of 10 due jobs from Python (query, lease write, commit, rows
read back) and of the idle poll (``next_due_at``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="https://sopflow.id/bpmn">
  <bpmn:process id="tunggu" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

WORKER = """
import sys, time, logging, structlog
from datetime import timedelta
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
from sopflow.definitions.catalog import Catalog
from sopflow.jobs.worker import Worker
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
engine = Engine(Catalog.from_directory(sys.argv[2]), open_store(sys.argv[1]))
worker = Worker(engine, lease=timedelta(seconds=30), batch=20)
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
stats = worker.run(until_idle=True)
print(time.time(), stats.ran)
"""


def _schema_url(base: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema=sopflow_bench_{secrets.token_hex(4)}"


def _drop(url: str) -> None:
    import psycopg

    base, _, schema = url.rpartition("schema=")
    with psycopg.connect(base.rstrip("?&"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def throughput(base: str, workers: int, timers: int, catalog: Path) -> dict[str, Any]:
    import logging

    import structlog

    from sopflow.definitions.catalog import Catalog
    from sopflow.runtime.engine import Engine
    from sopflow.runtime.views import Actor
    from sopflow.stores import open_store
    from sopflow.testing import FakeClock

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    url = _schema_url(base)
    try:
        clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
        engine = Engine(Catalog.from_directory(catalog), open_store(url), clock=clock)
        for _ in range(timers):
            engine.start("tunggu", actor=Actor("bench"))
        engine.store.close()
        go = time.time() + 3.0  # every worker has imported and connected by then
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, url, str(catalog), str(go)],
                stdout=subprocess.PIPE,
                env=env,
            )
            for _ in range(workers)
        ]
        ends, ran = [], 0
        for proc in procs:
            out, _ = proc.communicate(timeout=600)
            end, count = out.split()
            ends.append(float(end))
            ran += int(count)
        elapsed = max(ends) - go
        return {
            "workers": workers,
            "timers": timers,
            "ran": ran,
            "seconds": round(elapsed, 2),
            "jobs_per_second": round(timers / elapsed, 1),
        }
    finally:
        _drop(url)


def due_query(base: str, waiting: int) -> dict[str, Any]:
    import psycopg

    from sopflow.stores import open_store

    url = _schema_url(base)
    try:
        store = open_store(url)
        now = int(time.time() * 1000)
        base_dsn, _, schema = url.rpartition("schema=")
        started = time.perf_counter()
        with psycopg.connect(base_dsn.rstrip("?&")) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(
                "INSERT INTO sopflow_jobs (kind, node, due_at, retries, attempts, created_at)"
                " SELECT 'timer', 't', %s + g * 1000, 3, 0, %s FROM generate_series(1, %s) g",
                (now + 3_600_000, now, waiting),
            )
            conn.execute(
                "INSERT INTO sopflow_jobs (kind, node, due_at, retries, attempts, created_at)"
                " SELECT 'timer', 't', %s - g, 3, 0, %s FROM generate_series(1, 100) g",
                (now, now),
            )
            conn.execute("ANALYZE sopflow_jobs")
            conn.commit()
            # The query alone, as the server runs it (no round trip, no commit).
            plan = conn.execute(
                "EXPLAIN (ANALYZE, FORMAT JSON) SELECT j.id FROM sopflow_jobs j"
                " WHERE j.topic IS NULL AND j.incident IS NULL AND j.due_at <= %s"
                " AND (j.locked_until IS NULL OR j.locked_until <= %s) AND j.kind IN ('timer')"
                " ORDER BY j.due_at, j.id LIMIT 10 FOR UPDATE SKIP LOCKED",
                (now, now),
            ).fetchone()
            conn.rollback()
        query_ms = plan[0][0]["Execution Time"] if plan else None
        loaded = time.perf_counter() - started
        claims, polls = [], []
        for n in range(10):
            t = time.perf_counter()
            got = store.claim_jobs(  # type: ignore[attr-defined]
                f"bench{n}", now=now, lease_ms=60_000, limit=10, kinds=["timer"]
            )
            claims.append(time.perf_counter() - t)
            assert len(got) == 10
            t = time.perf_counter()
            store.next_due_at(["timer"])  # type: ignore[attr-defined]
            polls.append(time.perf_counter() - t)
        store.close()
        return {
            "waiting_jobs": waiting,
            "load_seconds": round(loaded, 1),
            "due_query_ms": query_ms,
            "claim_10_ms": round(statistics.median(claims) * 1000, 2),
            "idle_poll_ms": round(statistics.median(polls) * 1000, 2),
        }
    finally:
        _drop(url)


def measure(*, quick: bool = False, postgres_url: str | None = None) -> dict[str, Any]:
    base = (
        postgres_url
        or os.environ.get("SOPFLOW_BENCH_POSTGRES_URL")
        or os.environ.get("SOPFLOW_TEST_POSTGRES_URL")
    )
    if not base:
        return {"skipped": "no PostgreSQL URL (SOPFLOW_BENCH_POSTGRES_URL)"}
    import tempfile

    timers = 600 if quick else 3000
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp)
        (catalog / "tunggu.bpmn").write_text(TIMER_BPMN)
        runs = [throughput(base, w, timers, catalog) for w in (1, 2, 4)]
    return {
        "cpu_count": os.cpu_count(),
        "throughput": runs,
        "due_query": due_query(base, 1_000_000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(measure(quick=args.quick), indent=2))


if __name__ == "__main__":
    main()
