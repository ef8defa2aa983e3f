"""The job worker: takes due jobs with a lease and runs them, in real time.

Several workers may share one database. Each claims a small batch of due jobs (row
leases: ``locked_by``/``locked_until``; on PostgreSQL ``FOR UPDATE SKIP LOCKED``) and runs
them one transaction each; the change a job makes consumes the job only while this
worker still holds it, so a job never takes effect twice. A worker that dies leaves its
leases to run out; then the jobs are due again for the others. An idle worker polls
with a back-off (``poll`` doubling up to ``max_poll``), and wakes at the next due time
if that comes sooner.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sopflow.jobs.dispatch import job_store, run_job
from sopflow.logging import get_logger
from sopflow.runtime.views import to_ms

if TYPE_CHECKING:
    from sopflow.runtime.engine import Engine
    from sopflow.stores._jobs import JobStoreMixin

__all__ = ["Worker", "WorkerStats"]


@dataclass(slots=True)
class WorkerStats:
    done: int = 0
    failed: int = 0
    incidents: int = 0
    skipped: int = 0

    @property
    def ran(self) -> int:
        return self.done + self.failed + self.incidents


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Run an engine's due jobs until stopped, idle, or ``max_jobs`` ran."""

    def __init__(
        self,
        engine: Engine,
        *,
        worker_id: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 10,
        poll: float = 0.05,
        max_poll: float = 2.0,
        kinds: Iterable[str] | None = None,
    ) -> None:
        if lease <= timedelta(0) or batch < 1 or poll <= 0 or max_poll < poll:
            raise ValueError("lease and poll must be positive, batch >= 1, max_poll >= poll")
        self.engine = engine
        self.worker_id = worker_id or default_worker_id()
        self.lease_ms = round(lease.total_seconds() * 1000)
        self.batch = batch
        self.poll = poll
        self.max_poll = max_poll
        self.kinds = tuple(kinds) if kinds is not None else engine.job_kinds()
        self.stats = WorkerStats()
        self._stop = threading.Event()
        self._beat = threading.Event()
        self._log = get_logger("sopflow.worker")

    def stop(self) -> None:
        """Ask the loop to end after the job it is running (from a signal or a thread)."""
        self._stop.set()

    def run(
        self,
        *,
        until_idle: bool = False,
        max_jobs: int | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> WorkerStats:
        """Loop; ``until_idle`` ends when no job is due (leased ones count as due)."""
        store = job_store(self.engine)
        wait = sleep or self._stop.wait
        self.engine.schedule_start_timers()
        beat = threading.Thread(target=self._heartbeat, name="sopflow-lease", daemon=True)
        beat.start()
        try:
            return self._loop(store, wait, until_idle, max_jobs)
        finally:
            self._beat.set()
            beat.join(timeout=5)

    def _heartbeat(self) -> None:
        """While this worker lives, its leases do not run out under a long job: every
        third of the lease they are pushed a lease ahead. A dead worker's stop with it."""
        store = job_store(self.engine)
        while not self._beat.wait(self.lease_ms / 3000):
            try:
                store.extend_leases(
                    self.worker_id, until=to_ms(self.engine.clock.now()) + self.lease_ms
                )
            except Exception as exc:  # the database is away: the loop will notice too
                self._log.warning("worker.lease_failed", worker=self.worker_id, error=repr(exc))

    def _loop(
        self,
        store: JobStoreMixin,
        wait: Callable[[float], object],
        until_idle: bool,
        max_jobs: int | None,
    ) -> WorkerStats:
        delay = self.poll
        self._log.info("worker.started", worker=self.worker_id, kinds=list(self.kinds))
        while not self._stop.is_set():
            now = self.engine.clock.now()
            limit = self.batch
            if max_jobs is not None:
                limit = min(limit, max_jobs - self.stats.ran)
                if limit <= 0:
                    break
            jobs = store.claim_jobs(
                self.worker_id,
                now=to_ms(now),
                lease_ms=self.lease_ms,
                limit=limit,
                kinds=self.kinds,
            )
            if jobs:
                delay = self.poll
                for index, job in enumerate(jobs):
                    if self._stop.is_set():
                        for rest in jobs[index:]:
                            store.unlock_job(rest.id, self.worker_id)
                        break
                    outcome = run_job(
                        self.engine, job, worker=self.worker_id, now=self.engine.clock.now()
                    )
                    setattr(self.stats, _FIELD[outcome], getattr(self.stats, _FIELD[outcome]) + 1)
                continue
            next_due = store.next_due_at(self.kinds)
            now_ms = to_ms(self.engine.clock.now())
            if until_idle and (next_due is None or next_due > now_ms):
                break
            pause = delay
            if next_due is not None and next_due > now_ms:
                pause = min(pause, (next_due - now_ms) / 1000)
            # A due job we could not claim is leased by another worker: back off too.
            wait(max(pause, 0.001))
            delay = min(delay * 2, self.max_poll)
        self._log.info("worker.stopped", worker=self.worker_id, ran=self.stats.ran)
        return self.stats


_FIELD = {"done": "done", "failed": "failed", "incident": "incidents", "skipped": "skipped"}
