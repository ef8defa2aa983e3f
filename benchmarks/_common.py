"""What every benchmark module shares: repeated, interleaved timing and the machine's notes.

A figure is the median of at least five runs, reported with its min and max; figures that
are compared (a ratio) are measured in the same loop, one run of each in turn, so a
burst of load on the shared machine hits both sides alike instead of deciding the ratio.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BPMN = ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn"
PROCESS = "purbalingga_pengukuran_kinerja"
MIN_RUNS = 5


def figure(samples: list[float], unit: str) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "runs": len(samples),
        "unit": unit,
    }


def interleaved(
    runs: int, measures: dict[str, Callable[[], float]], unit: str
) -> dict[str, dict[str, Any]]:
    """Run each measure ``runs`` times, one of each in turn; a figure per measure."""
    runs = max(runs, MIN_RUNS)
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            samples[name].append(measure())
    return {name: figure(values, unit) for name, values in samples.items()}


def ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    return round(a["median"] / b["median"], 3)


def timed(fn: Callable[[], object]) -> float:
    import time

    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def describe_machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    try:
        import SpiffWorkflow

        spiff = getattr(SpiffWorkflow, "__version__", "3.x")
    except ImportError:
        spiff = None
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "load_average_at_start": load,
        "sqlite": sqlite3.sqlite_version,
        "spiffworkflow": spiff,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def cpu_ticks() -> list[int] | None:
    """The machine's CPU time so far, by kind (/proc/stat; None where there is none)."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None


def cpu_share(before: list[int] | None, after: list[int] | None) -> dict[str, float] | None:
    """How busy the machine was between two readings, and how much of its time the host
    of this virtual machine took for others (steal): a part whose figures spread widely
    on a shared host says so here instead of in the reader's guess."""
    if not before or not after:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8]) or 1  # user nice system idle iowait irq softirq steal
    idle = delta[3] + delta[4]
    steal = delta[7] if len(delta) > 7 else 0
    return {
        "busy_percent": round(100 * (total - idle - steal) / total, 1),
        "steal_percent": round(100 * steal / total, 1),
    }


def cpu_line(during: dict[str, Any]) -> str:
    """``cpu_share`` per part of a run, as one line of its report."""
    return "Machine busy / stolen by its host, % of CPU time, per part: " + ", ".join(
        f"{name} {v['busy_percent']:.0f} / {v['steal_percent']:.1f} ({v['seconds']:.0f} s)"
        for name, v in during.items()
    )


def postgres_base() -> str | None:
    return os.environ.get("SOPFLOW_BENCH_POSTGRES_URL") or os.environ.get(
        "SOPFLOW_TEST_POSTGRES_URL"
    )


def postgres_url(query: str = "") -> str | None:
    """A fresh schema on the benchmark's server (``query`` adds store options)."""
    base = postgres_base()
    if not base:
        return None
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema=sopflow_bench_{uuid.uuid4().hex[:8]}{query}"


def drop_schema(url: str) -> None:
    import psycopg

    from sopflow.stores.postgres import split_url

    dsn, own = split_url(url)
    schema = own["schema"]
    assert schema.startswith("sopflow_bench_")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
