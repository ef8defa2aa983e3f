"""sopflow benchmark: throughput, durability, round trips, SLA in SQL, scale, CLI start.

Run from the repository root (after `make test` or `pip install -e '.[dev]'`)::

    python benchmarks/run.py            # full run (make bench); benchmarks/results/latest.json
    python benchmarks/run.py --quick    # small numbers, for development (a few minutes)

PostgreSQL figures need SOPFLOW_BENCH_POSTGRES_URL (or SOPFLOW_TEST_POSTGRES_URL); each
part uses a schema of its own, dropped afterwards. Every figure is the median of at least
five runs with min and max; figures that form a ratio are measured interleaved. The
machine (CPU, load average at start) is recorded with the results. Modules:
throughput.py (a-f), scale.py (bulk load, SLA in SQL, flat costs), startup.py (CLI),
tokens.py (flat cost with many tokens: returns through a parallel block, multi-instance).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PROCESS,
    ROOT,
    cpu_line,
    cpu_share,
    cpu_ticks,
    describe_machine,
    drop_schema,
    interleaved,
    postgres_url,
    ratio,
)

SIZES = {
    # name: (instances per throughput run, runs, scale N, small N, workers' instances)
    "quick": (3, 5, 20_000, 1_000, 5),
    "full": (15, 5, 1_000_000, 1_000, 15),
}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def throughput(work: Path, n: int, runs: int, cleanup: list[str]) -> dict[str, Any]:
    from throughput import (
        BareInsertLoop,
        SopflowRunner,
        SpiffJsonSqlite,
        SpiffRunner,
        raw_run,
        sopflow_run,
        spiff_json_bytes,
        spiff_json_run,
        stored_bytes,
    )

    raw = SpiffRunner()
    base = SpiffJsonSqlite(work / "spiff-json.db")
    c_normal = SopflowRunner(f"sqlite:///{work / 'normal.db'}?synchronous=normal")
    c_full = SopflowRunner(f"sqlite:///{work / 'full.db'}?synchronous=full")
    measures: dict[str, Callable[[], float]] = {
        "a_raw_spiffworkflow": lambda: raw_run(raw, n),
        "b_spiffworkflow_json_sqlite": lambda: spiff_json_run(base, n),
        "c_sopflow_sqlite_normal": lambda: sopflow_run(c_normal, n),
        "c_sopflow_sqlite_full": lambda: sopflow_run(c_full, n),
    }
    pg: dict[str, Any] = {}
    for sync in ("on", "off"):
        url = postgres_url(f"&synchronous_commit={sync}")
        if url is None:
            break
        cleanup.append(url)
        pg[f"d_sopflow_postgres_{sync}"] = SopflowRunner(url)
        pg[f"e_bare_psycopg_{sync}"] = BareInsertLoop(url, sync)
    for name, runner in pg.items():
        if name.startswith("d_"):
            measures[name] = lambda r=runner: sopflow_run(r, n)
        else:
            measures[name] = lambda r=runner: r.run(12 * n)
    for runner in (c_normal, c_full, *[r for k, r in pg.items() if k.startswith("d_")]):
        runner.run(1)  # warm: definition stored, caches filled
    log(f"throughput: {len(measures)} figures x {runs} interleaved runs")
    figures = interleaved(runs, measures, "completions/s (e: INSERT+COMMIT/s)")
    figures["ratios"] = {
        "c_normal_over_a": ratio(
            figures["c_sopflow_sqlite_normal"], figures["a_raw_spiffworkflow"]
        ),
        "c_normal_over_b": ratio(
            figures["c_sopflow_sqlite_normal"], figures["b_spiffworkflow_json_sqlite"]
        ),
    }
    for sync in ("on", "off"):
        if f"d_sopflow_postgres_{sync}" in figures:
            figures["ratios"][f"d_{sync}_over_e_{sync}"] = ratio(
                figures[f"d_sopflow_postgres_{sync}"], figures[f"e_bare_psycopg_{sync}"]
            )
    if "d_sopflow_postgres_on" in figures:
        # equal durability: FULL ~ synchronous_commit=on, NORMAL (WAL) ~ off
        figures["ratios"]["d_on_over_c_full"] = ratio(
            figures["d_sopflow_postgres_on"], figures["c_sopflow_sqlite_full"]
        )
        figures["ratios"]["d_off_over_c_normal"] = ratio(
            figures["d_sopflow_postgres_off"], figures["c_sopflow_sqlite_normal"]
        )
    figures["stored_bytes_per_instance"] = {
        "b_spiffworkflow_json_sqlite": spiff_json_bytes(base),
        "c_sopflow_sqlite": stored_bytes(c_normal)["bytes_per_instance"],
    }
    if "d_sopflow_postgres_on" in pg:
        figures["stored_bytes_per_instance"]["d_sopflow_postgres"] = stored_bytes(
            pg["d_sopflow_postgres_on"]
        )["bytes_per_instance"]
    return figures


def workers(n: int, runs: int, cleanup: list[str]) -> dict[str, Any] | None:
    from throughput import workers_run

    url = postgres_url("&synchronous_commit=on")
    if url is None:
        return None
    cleanup.append(url)
    log(f"workers: 1 vs 4 processes x {runs} interleaved runs")
    figures = interleaved(
        runs,
        {
            "one_worker": lambda: workers_run(url, 1, n),
            "four_workers": lambda: workers_run(url, 4, n),
        },
        "completions/s",
    )
    return {**figures, "four_over_one": ratio(figures["four_workers"], figures["one_worker"])}


def scale(
    work: Path, big: int, small: int, runs: int, cleanup: list[str]
) -> dict[str, dict[str, Any] | None]:
    """Both backends' scale figures. The two large stores are loaded at the same time
    (SQLite's copy runs in this process, PostgreSQL's in the server: two cores, and
    the loads were 15 of make bench's 23 minutes); nothing is measured until both
    are loaded, and each backend's figures are then measured alone."""
    from concurrent.futures import ThreadPoolExecutor

    from scale import flat_costs, load, sla_at_scale

    urls: dict[str, tuple[str, str]] = {
        "sqlite": (f"sqlite:///{work / 'large.db'}", f"sqlite:///{work / 'small-store.db'}")
    }
    large_url, small_url = postgres_url(), postgres_url()
    if large_url is not None and small_url is not None:
        cleanup += [large_url, small_url]
        urls["postgres"] = (large_url, small_url)
    log(f"scale on {', '.join(urls)}: loading {big:,} open + {big:,} completed instances each")
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        loading = {backend: pool.submit(load, pair[0], big, big) for backend, pair in urls.items()}
        large = {backend: future.result() for backend, future in loading.items()}
    out: dict[str, dict[str, Any] | None] = {"sqlite": None, "postgres": None}
    for backend, (_, small_url_of) in urls.items():
        log(f"  {backend}: loaded in {large[backend][1]['load_seconds']} s; SLA figures")
        sla = sla_at_scale(*large[backend], runs)
        small_store = load(small_url_of, small, small)
        log(f"  {backend}: flat costs")
        flat = flat_costs(small_store, large[backend], runs)
        for runner, _ in (large[backend], small_store):
            runner.store.close()
        out[backend] = {"sla": sla, "flat_costs": flat}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small numbers, for development")
    parser.add_argument("--out", default=None, help="results file (JSON)")
    parser.add_argument("--scale", type=int, help="open (and completed) instances at scale")
    parser.add_argument(
        "--only",
        choices=["throughput", "workers", "scale", "startup", "tokens"],
        action="append",
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    n, runs, big, small, per_worker = SIZES[mode]
    big = args.scale or big
    parts = set(args.only or ["throughput", "workers", "scale", "startup", "tokens"])
    out = Path(
        args.out or ROOT / "benchmarks" / "results" / f"{'quick' if args.quick else 'latest'}.json"
    )
    results: dict[str, Any] = {"machine": describe_machine(), "mode": mode, "sop": PROCESS}
    cleanup: list[str] = []
    shares: dict[str, Any] = results["machine"].setdefault("cpu_during", {})

    @contextmanager
    def part(name: str) -> Iterator[None]:
        before, t0 = cpu_ticks(), time.monotonic()
        yield
        share = cpu_share(before, cpu_ticks())
        if share is not None:
            shares[name] = {**share, "seconds": round(time.monotonic() - t0, 1)}

    try:
        with tempfile.TemporaryDirectory(prefix="sopflow-bench-") as tmp:
            work = Path(tmp)
            if "startup" in parts:
                from startup import startup

                log("CLI start")
                with part("startup"):
                    results["startup"] = startup(work, runs)
            if "tokens" in parts:
                from tokens import flat_tokens

                log("flat cost with many tokens: 1, 10, 100, 1,000 returns; multi-instance")
                with part("tokens"):
                    results["tokens"] = flat_tokens(work, 6 * runs)
            if "throughput" in parts:
                with part("throughput"):
                    results["throughput"] = throughput(work, n, runs, cleanup)
            if "workers" in parts:
                with part("workers"):
                    results["workers_postgres"] = workers(per_worker, runs, cleanup)
            if "scale" in parts:
                with part("scale"):
                    for backend, figures in scale(work, big, small, runs, cleanup).items():
                        results[f"scale_{backend}"] = figures
    finally:
        for url in cleanup:
            drop_schema(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(summary(results))
    log(f"written: {out}")
    return 0


def _fig(f: dict[str, Any] | None, digits: int = 1) -> str:
    if not f:
        return "-"
    return f"{f['median']:,.{digits}f} [{f['min']:,.{digits}f}..{f['max']:,.{digits}f}]"


def summary(r: dict[str, Any]) -> str:
    """The figures as text: median [min..max] of each, and the ratios the issue targets."""
    lines = [f"sopflow benchmark ({r['mode']}) on {r['machine']['cpu']} x{r['machine']['cpus']}"]
    if during := r["machine"].get("cpu_during"):
        lines.append(cpu_line(during))
    if t := r.get("throughput"):
        lines.append("\nThroughput, completions/s (e: INSERT+COMMIT/s), median [min..max]")
        for key, value in t.items():
            if isinstance(value, dict) and "median" in value:
                lines.append(f"  {key:32} {_fig(value, 0)}")
        lines.append(f"  ratios: {t['ratios']}")
        lines.append(f"  stored bytes/instance: {t['stored_bytes_per_instance']}")
    if w := r.get("workers_postgres"):
        lines.append(
            f"\nPostgreSQL workers: 1 = {_fig(w['one_worker'], 0)},"
            f" 4 = {_fig(w['four_workers'], 0)}"
            f" completions/s; 4/1 = {w['four_over_one']}"
        )
    for backend in ("sqlite", "postgres"):
        if s := r.get(f"scale_{backend}"):
            sla, flat = s["sla"], s["flat_costs"]
            lines.append(f"\nSLA at {sla['open_steps']:,} open steps on {backend} (s)")
            for key in ("full_scan", "summary", "changes"):
                lines.append(f"  {key:12} {_fig(sla[key], 3)}")
            lines.append(
                f"  summary/full = {sla['summary_over_full_scan']},"
                f" changes ({sla['changes_found']})"
                f"/full = {sla['changes_over_full_scan']}, peak RSS MB {sla['peak_rss_mb']}"
            )
            lines.append(f"Flat costs on {backend} (ms), small vs large: {flat['stored']}")
            for what in ("start", "worklist", "status", "completion"):
                lines.append(
                    f"  {what:12} {_fig(flat[f'{what}_small'], 2)}"
                    f" vs {_fig(flat[f'{what}_large'], 2)}"
                )
            lines.append(f"  large/small = {flat['large_over_small']}")
    if tk := r.get("tokens"):
        lines.append("\nFlat cost with many tokens, ms per completion (SQLite file)")
        for mark in tk["marks"]:
            stored = tk["stored"][str(mark)]
            lines.append(
                f"  after {mark:>5,} returns  {_fig(tk[f'returns_{mark}'], 2)}"
                f"  state {stored['state_bytes']} B, {stored['step_rows']} step rows"
            )
        for items in (1, 50):
            lines.append(
                f"  multi-instance {items:>2}: first {_fig(tk[f'multi_{items}_first'], 2)},"
                f" last {_fig(tk[f'multi_{items}_last'], 2)}"
            )
        lines.append(f"  ratios: {tk['ratios']}")
    if st := r.get("startup"):
        lines.append(
            f"\nCLI start (ms): python -c pass {_fig(st['python_c_pass'])}, --help"
            f" {_fig(st['sopflow_help'])}, inbox {_fig(st['sopflow_inbox'])};"
            f" help/bare = {st['help_over_bare']}, inbox/bare = {st['inbox_over_bare']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
