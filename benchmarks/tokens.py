"""Flat cost with many tokens (issue 10): a completion after 1, 10, 100 and 1,000 returns
through a parallel block, and a completion in a 50-item parallel multi-instance task.

Everything goes through the public API (``Catalog``, ``Engine``, ``open_store``) on a
SQLite file store with a fake clock, with the fixtures of ``benchmarks/fixtures``:
``bench_parallel_return`` (siapkan, a parallel split into cek_a and cek_b, their join,
putus whose Tidak returns before the split) and ``bench_multi_instance`` (one report per
desa, then a summary).

One instance is driven to each mark (1, 10, 100, 1,000 returns). A run times one whole
pass on each of them, interleaved, each run starting at the next measure: siapkan, cek_a,
cek_b, putus (Tidak), the four completions timed one by one; the figure is their mean,
in ms per completion. A pass leaves the instance where it was, one return later, so the
mark of N returns is measured over passes N+1 .. N+runs (noise for the 1,000; for the 1,
its samples are the young ones). The ratio cost(1,000) / cost(1) is the figure that must
stay near 1. The multi-instance runs start a fresh instance with 50 desa (and, as its
baseline in the same loop, one with 1 desa) and time the completion of the first item,
while 50 are open, and of the last one, which closes the body and collects the outputs.

The stored state is the instance's ``state`` column (bytes, as written); the step rows
(history) grow by one per completion by design and are counted apart.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from _common import MIN_RUNS, figure, ratio

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PARALLEL = "bench_parallel_return"
MULTI = "bench_multi_instance"
MARKS: tuple[int, ...] = (1, 10, 100, 1000)
PASS = ("siapkan", "cek_a", "cek_b", "putus")


class TokenBench:
    def __init__(self, url: str) -> None:
        from sopflow import Actor, Catalog, Engine, configure_logging, open_store
        from sopflow.testing import FakeClock

        configure_logging(level="error")
        self.store = open_store(url)
        self.clock = FakeClock("2025-08-04T08:00:00+07:00")
        self.engine = Engine(Catalog.from_directory(FIXTURES), self.store, clock=self.clock)
        self.actor = Actor("pelaksana.bench", {"pelaksana"})

    def complete(self, iid: str, task: str, **kw: Any) -> Any:
        self.clock.advance(seconds=30)
        return self.engine.complete(iid, task, actor=self.actor, **kw)

    def one_pass(self, iid: str) -> list[float]:
        """One return through the block: four completions, each timed (seconds)."""
        times = []
        for task in PASS:
            data = {"disetujui": False} if task == "putus" else None
            t0 = time.perf_counter()
            self.complete(iid, task, data=data)
            times.append(time.perf_counter() - t0)
        return times

    def at_returns(self, returns: int) -> str:
        iid: str = self.engine.start(PARALLEL, actor=self.actor).instance_id
        for _ in range(returns):
            self.one_pass(iid)
        return iid

    def state_bytes(self, iid: str) -> int:
        return len(self.store.load_instance(iid).state.encode())

    def step_rows(self, iid: str) -> int:
        return len(self.store.steps(iid))

    def multi(self, items: int) -> tuple[float, float, int, int]:
        """(first completion s, last completion s, state bytes with all open, after)."""
        desa = [f"Desa {n:02d}" for n in range(items)]
        iid = self.engine.start(MULTI, actor=self.actor, data={"desa": desa}).instance_id
        full = self.state_bytes(iid)
        times, ready = [], ()
        for n, name in enumerate(desa):
            t0 = time.perf_counter()
            ready = self.complete(iid, "laporan", item=name, data={"hasil": n}).ready
            times.append(time.perf_counter() - t0)
        assert ready == ("rangkum",)
        first, last = times[0], times[-1]
        return first, last, full, self.state_bytes(iid)


def rotated(runs: int, measures: dict[str, Any], unit: str) -> dict[str, Any]:
    """Interleaved as ``_common.interleaved``, each run starting one measure later.

    With a fixed order the same mark always came first after the multi-instance runs
    (and whatever checkpoint of the WAL they left); rotating spreads that over all.
    The two measures of one multi-instance instance stay next to each other.
    """
    runs = max(runs, MIN_RUNS)
    groups: list[list[str]] = []
    for name in measures:
        if name.endswith("_last"):
            groups[-1].append(name)
        else:
            groups.append([name])
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for n in range(runs):
        k = n % len(groups)
        for group in groups[k:] + groups[:k]:
            for name in group:
                samples[name].append(measures[name]())
    return {name: figure(values, unit) for name, values in samples.items()}


def flat_tokens(work: Path, runs: int) -> dict[str, Any]:
    bench = TokenBench(f"sqlite:///{work / 'tokens.db'}")
    bench.at_returns(1)  # warm: definitions stored, caches filled
    built: dict[str, float] = {}
    instances: dict[int, str] = {}
    for mark in MARKS:
        t0 = time.perf_counter()
        instances[mark] = bench.at_returns(mark)
        built[str(mark)] = round(time.perf_counter() - t0, 1)
    state = {
        str(mark): {"state_bytes": bench.state_bytes(iid), "step_rows": bench.step_rows(iid)}
        for mark, iid in instances.items()
    }
    multi_state: dict[str, Any] = {}

    def returns_measure(mark: int) -> Any:
        def measure() -> float:
            times = bench.one_pass(instances[mark])
            return 1000 * sum(times) / len(times)

        return measure

    def multi_measure(items: int, which: str) -> Any:
        # first and last come from one instance: the 'first' measure runs it, 'last' reads
        def measure() -> float:
            if which == "first":
                first, last, full, after = bench.multi(items)
                multi_state[str(items)] = {"open_state_bytes": full, "after_state_bytes": after}
                multi_state[f"last_{items}"] = last
                return 1000 * first
            return 1000 * float(multi_state.pop(f"last_{items}"))

        return measure

    measures = {f"returns_{m}": returns_measure(m) for m in MARKS}
    measures["multi_1_first"] = multi_measure(1, "first")
    measures["multi_1_last"] = multi_measure(1, "last")
    measures["multi_50_first"] = multi_measure(50, "first")
    measures["multi_50_last"] = multi_measure(50, "last")
    figures = rotated(runs, measures, "ms per completion")
    after = {str(mark): bench.state_bytes(iid) for mark, iid in instances.items()}
    bench.store.close()
    return {
        "store": "SQLite file, synchronous=normal, fake clock",
        "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "marks": list(MARKS),
        "build_seconds": built,
        "stored": state,
        "state_bytes_after_runs": after,
        "multi_instance_state": multi_state,
        **figures,
        "ratios": {
            **{
                f"returns_{m}_over_1": ratio(figures[f"returns_{m}"], figures["returns_1"])
                for m in MARKS[1:]
            },
            "multi_50_first_over_multi_1": ratio(
                figures["multi_50_first"], figures["multi_1_first"]
            ),
            "multi_50_first_over_returns_1": ratio(figures["multi_50_first"], figures["returns_1"]),
        },
    }
