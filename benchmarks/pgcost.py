"""Where a PostgreSQL completion's time goes, and why 4 workers do not give 2 x one.

Not part of ``make bench``: a diagnostic run by hand (Linux, the server on this host,
read through /proc), whose output docs/performance.md quotes::

    SOPFLOW_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        python benchmarks/pgcost.py [POSTMASTER_PID]

1. One worker: CPU per completion of this process (the engine and psycopg) and of its
   server backend (``pg_backend_pid()``, /proc/PID/stat), against the wall time; the
   same for the bare INSERT+COMMIT loop. A completion that is CPU on both sides in turn
   cannot go faster than their sum, whatever the disk does.
2. One and four worker processes (``throughput.workers_run``, the benchmark's own code)
   while a second connection samples ``pg_stat_activity`` (wait events of the workers'
   backends) and ``pg_locks`` (locks not granted) every 10 ms, and /proc/stat counts the
   machine's busy time. With the postmaster's pid, the server's CPU (its reaped
   children) is counted too.
"""

from __future__ import annotations

import collections
import os
import resource
import sys
import threading
import time
from pathlib import Path

from _common import cpu_share, cpu_ticks, drop_schema, postgres_url
from throughput import BareInsertLoop, SopflowRunner, workers_run

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, children: bool = False) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def one_worker(url: str, instances: int) -> None:
    runner = SopflowRunner(url)
    runner.run(2)
    backend = int(runner.store._read("SELECT pg_backend_pid()")[0][0])
    client, server, wall = time.process_time(), _proc_cpu(backend), time.perf_counter()
    done = runner.run(instances)
    wall = time.perf_counter() - wall
    client = time.process_time() - client
    server = _proc_cpu(backend) - server
    print(
        f"sopflow, 1 worker: {done / wall:.0f}/s; per completion: wall {wall / done * 1e3:.2f} ms,"
        f" this process CPU {client / done * 1e3:.2f} ms, its backend CPU"
        f" {server / done * 1e3:.2f} ms"
    )
    bare = BareInsertLoop(url, "on")
    pid = bare.conn.info.backend_pid
    n = 12 * instances
    client, server = time.process_time(), _proc_cpu(pid)
    rate = bare.run(n)
    print(
        f"bare INSERT+COMMIT: {rate:.0f}/s; per row: this process CPU"
        f" {(time.process_time() - client) / n * 1e3:.3f} ms, its backend CPU"
        f" {(_proc_cpu(pid) - server) / n * 1e3:.3f} ms"
    )
    runner.store.close()
    bare.conn.close()


def sampled_workers(url: str, workers: int, instances: int, postmaster: int | None) -> None:
    import psycopg

    from sopflow.stores.postgres import split_url

    monitor = psycopg.connect(split_url(url)[0], autocommit=True)
    waits: collections.Counter[tuple[str, str, str]] = collections.Counter()
    locks: collections.Counter[tuple[str, str]] = collections.Counter()
    samples = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal samples
        while not stop.is_set():
            for state, kind, event in monitor.execute(
                "SELECT state, COALESCE(wait_event_type, 'CPU'), COALESCE(wait_event, '-')"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchall():
                waits[(str(state), str(kind), str(event))] += 1
            for mode, kind in monitor.execute(
                "SELECT mode, locktype FROM pg_locks WHERE NOT granted"
            ).fetchall():
                locks[(str(mode), str(kind))] += 1
            samples += 1
            time.sleep(0.01)

    thread = threading.Thread(target=sample)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = _proc_cpu(postmaster, children=True) if postmaster else 0.0
    machine = cpu_ticks()
    thread.start()
    wall = time.perf_counter()
    rate = workers_run(url, workers, instances)
    time.sleep(0.5)  # the backends exit and are reaped
    wall = time.perf_counter() - wall
    stop.set()
    thread.join()
    share = cpu_share(machine, cpu_ticks()) or {"busy_percent": 0.0, "steal_percent": 0.0}
    # Not idle, as this line always counted it: the host's steal included, and named.
    busy = share["busy_percent"] + share["steal_percent"]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = (after.ru_utime + after.ru_stime) - (kids.ru_utime + kids.ru_stime)
    line = (
        f"{workers} worker(s): {rate:.0f}/s; machine busy {busy:.0f} % of its cores"
        f" ({share['steal_percent']:.1f} % stolen by its host)"
    )
    if postmaster:
        ours += _proc_cpu(postmaster, children=True) - server
        line += f", workers + server {ours / wall / (os.cpu_count() or 1) * 100:.0f} %"
    print(line + " (whole run, with the processes' start)")
    for key, count in waits.most_common(6):
        print(f"    {count / max(samples, 1):.2f} backends per sample {key}")
    print(f"    locks not granted: {dict(locks) or 'none'} in {samples} samples")
    monitor.close()


def main(argv: list[str]) -> int:
    postmaster = int(argv[0]) if argv else None
    url = postgres_url("&synchronous_commit=on")
    if url is None:
        print("set SOPFLOW_BENCH_POSTGRES_URL", file=sys.stderr)
        return 2
    try:
        one_worker(url, 40)
        for workers in (1, 4, 1, 4):
            sampled_workers(url, workers, 40 if workers == 1 else 20, postmaster)
    finally:
        drop_schema(url)  # as every other benchmark: no schema left behind
    return 0


if __name__ == "__main__":  # the workers are spawned: they import this module
    raise SystemExit(main(sys.argv[1:]))
