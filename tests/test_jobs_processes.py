"""Worker processes on one database: every job takes effect exactly once, even when a
worker is killed mid-run (issue 11; the row-lease design of docs/workers.md).

2,000 instances wait at timers that are all due; several ``sopflow worker`` processes
run them, one is killed with SIGKILL while working. Its leases run out and the others
take its jobs over; at the end every instance completed and every timer fired once:
one ``wait.ended`` per instance, no job left. The same for 500 external tasks taken by
four external-worker processes.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from _jobs_bpmn import catch, chain
from _stores import BACKENDS, drop_schema, new_url, raw_execute
from sopflow.definitions.catalog import Catalog
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.testing import FakeClock

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ENGINE = Actor("loket", "pelaksana")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    found = new_url(str(request.param), tmp_path)
    yield found
    if found.startswith("postgresql"):
        drop_schema(found)


def catalog_with(tmp_path: Path, data: bytes) -> Path:
    directory = tmp_path / "catalog"
    directory.mkdir(exist_ok=True)
    (directory / "p.bpmn").write_bytes(data)
    return directory


def start_many(url: str, catalog: Path, count: int) -> None:
    """``count`` instances started an hour ago, so their PT1M timers are all due now."""
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    engine = Engine(Catalog.from_directory(catalog), open_store(url), clock=clock)
    for _ in range(count):
        engine.start("p", actor=ENGINE)
    engine.store.close()


def counts(url: str) -> tuple[int, int, int]:
    """(completed instances, wait.ended events, jobs left)."""
    done = raw_execute(url, "SELECT COUNT(*) FROM sopflow_instances WHERE status = 'completed'")
    ended = raw_execute(url, "SELECT COUNT(*) FROM sopflow_audit WHERE event = 'wait.ended'")
    left = raw_execute(url, "SELECT COUNT(*) FROM sopflow_jobs")
    return int(done[0][0]), int(ended[0][0]), int(left[0][0])


def once_per_instance(url: str) -> list[tuple[object, ...]]:
    return raw_execute(
        url,
        "SELECT instance, COUNT(*) FROM sopflow_audit WHERE event = 'wait.ended'"
        " GROUP BY instance HAVING COUNT(*) <> 1",
    )


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def kill_one_when_busy(
    procs: list[subprocess.Popen[bytes]], url: str, *, at_least: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while counts(url)[0] < at_least:
        assert time.monotonic() < deadline, "the workers made no progress"
        time.sleep(0.05)
    procs[0].send_signal(signal.SIGKILL)
    procs[0].wait(timeout=10)


def wait_all(procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        left = max(1.0, deadline - time.monotonic())
        try:
            proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise AssertionError("a worker did not finish in time") from None


def test_timers_due_at_once_fire_once_each_with_a_worker_killed(url: str, tmp_path: Path) -> None:
    total = 2000 if url.startswith("postgresql") else 1000
    workers = 4 if url.startswith("postgresql") else 2
    catalog = catalog_with(tmp_path, chain("p", catch("tunggu", "timeDuration", "PT1M")))
    start_many(url, catalog, total)
    assert counts(url) == (0, 0, total)
    command = [
        sys.executable, "-m", "sopflow", "worker", "--db", url, "--catalog", str(catalog),
        "--until-idle", "--lease", "2", "--batch", "20",
    ]  # fmt: skip
    procs = [
        subprocess.Popen(command, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(workers)
    ]
    kill_one_when_busy(procs, url, at_least=total // 10, timeout=60)
    wait_all(procs[1:], timeout=90)
    assert procs[0].returncode == -signal.SIGKILL
    for proc in procs[1:]:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else b""
    assert counts(url) == (total, total, 0)
    assert once_per_instance(url) == []


def test_external_tasks_completed_once_each_with_a_worker_killed(url: str, tmp_path: Path) -> None:
    total = 500
    task = '<bpmn:serviceTask id="kirim" camunda:type="external" camunda:topic="ekinerja"/>'
    catalog = catalog_with(tmp_path, chain("p", task))
    start_many(url, catalog, total)
    command = [
        sys.executable,
        str(ROOT / "tests" / "_job_workers.py"),
        url,
        str(catalog),
        "ekinerja",
    ]
    procs = [
        subprocess.Popen(
            [*command, f"w{n}", "2"], env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for n in range(4)
    ]
    kill_one_when_busy(procs, url, at_least=total // 10, timeout=60)
    wait_all(procs[1:], timeout=90)
    for proc in procs[1:]:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else b""
    assert counts(url) == (total, total, 0)
    assert once_per_instance(url) == []
    by = raw_execute(url, "SELECT COUNT(*) FROM sopflow_instances WHERE state LIKE ?", ["%oleh%"])
    assert int(by[0][0]) == total
