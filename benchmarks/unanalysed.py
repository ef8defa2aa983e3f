"""What an action costs on PostgreSQL tables that have no statistics, by schema.

Not part of ``make bench``: a diagnostic run by hand, whose output docs/performance.md
quotes ("Follow-up of 3 December 2026 (schema 12)")::

    SOPFLOW_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        python benchmarks/unanalysed.py [--runs 3000]

For each variant, a fresh schema is filled by ``--runs`` runs of the 12-step SOP through
the engine and never analysed (the server's autovacuum may still analyse it: the output
says whether the tables have statistics). Then two new processes each time 40 starts, 40
first completions and 40 statuses, one of each in turn: a new process plans the store's
statements against the full tables, as an application started after the load would.

Variants: ``schema 12`` as shipped; ``schema 11 indexes`` with the indexes on (instance)
of before; ``schema 11`` with those and the seal's plain join to the holdings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from _common import drop_schema, postgres_url
from throughput import SopflowRunner

VARIANTS = ("schema 12", "schema 11 indexes", "schema 11")
ACTIONS = 40


def _old_indexes(runner: SopflowRunner) -> None:
    """Schema 11's indexes on (instance), built on the still empty tables."""
    conn: Any = runner.store._conn  # type: ignore[attr-defined]
    for table in ("steps", "audit"):
        conn.execute(f"DROP INDEX sopflow_{table}_instance")
        conn.execute(f"CREATE INDEX sopflow_{table}_instance ON sopflow_{table}(instance)")


def _old_join(runner: SopflowRunner) -> None:
    """The seal's plain join to the holdings, for this process's store."""
    from sopflow.stores._chain import _HOLDING_JOIN

    runner.store._seal_holding_join = _HOLDING_JOIN  # type: ignore[attr-defined]


def measure(url: str, variant: str) -> dict[str, Any]:
    runner = SopflowRunner(url)
    if variant == "schema 11":
        _old_join(runner)
    samples: dict[str, list[float]] = {"start": [], "completion": [], "status": []}
    for _ in range(ACTIONS):
        t0 = time.perf_counter()
        iid, task = runner.start()
        t1 = time.perf_counter()
        assert task is not None
        runner.complete(iid, task)
        t2 = time.perf_counter()
        runner.engine.status(iid)
        t3 = time.perf_counter()
        samples["start"].append(t1 - t0)
        samples["completion"].append(t2 - t1)
        samples["status"].append(t3 - t2)
    runner.store.close()
    return {k: round(statistics.median(v) * 1000, 2) for k, v in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--measure", nargs=2, metavar=("URL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    if postgres_url() is None:
        print("set SOPFLOW_BENCH_POSTGRES_URL", file=sys.stderr)
        return 2
    for variant in VARIANTS:
        url = postgres_url()
        assert url is not None
        try:
            runner = SopflowRunner(url)
            if variant != "schema 12":
                _old_indexes(runner)
            if variant == "schema 11":
                _old_join(runner)
            runner.run(args.runs)
            (audit_rows, analysed) = runner.store._read(  # type: ignore[attr-defined]
                "SELECT (SELECT COUNT(*) FROM sopflow_audit), (SELECT COUNT(*) FROM pg_stats"
                " WHERE schemaname = current_schema() AND tablename = 'sopflow_audit')"
            )[0]
            runner.store.close()
            figures = [
                json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--measure", url, variant],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                )
                for _ in range(2)
            ]
            print(
                f"{variant}: {audit_rows:,} audit rows, statistics"
                f" {'present' if analysed else 'none'}; ms, median of {ACTIONS}, two processes:"
            )
            for what in ("start", "completion", "status"):
                print(f"  {what:10} " + ", ".join(str(f[what]) for f in figures))
        finally:
            drop_schema(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
