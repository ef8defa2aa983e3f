"""Markdown tables of a results file, for docs/performance.md (no figure typed by hand).

python benchmarks/report.py [benchmarks/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def cell(f: dict[str, Any] | None, digits: int = 0) -> str:
    if not f:
        return "-"
    return f"{f['median']:,.{digits}f} ({f['min']:,.{digits}f}-{f['max']:,.{digits}f})"


def tables(r: dict[str, Any]) -> str:
    out: list[str] = []
    m = r["machine"]
    load = m.get("load_average_at_start")
    load = [round(x, 2) for x in load] if load else load
    out.append(
        f"Run of {m['date']} ({r['mode']}): {m['cpu']}, {m['cpus']} cores, load average at"
        f" start {load}, Python {m['python']}, SQLite {m['sqlite']},"
        f" SpiffWorkflow {m['spiffworkflow']}.\n"
    )
    if during := m.get("cpu_during"):
        from _common import cpu_line

        out.append(f"{cpu_line(during)}.\n")
    if t := r.get("throughput"):
        out.append("| run | completions/s, median (min-max) |\n|---|---:|")
        for key, value in t.items():
            if isinstance(value, dict) and "median" in value:
                out.append(f"| {key} | {cell(value)} |")
        out.append("")
        out.append("Ratios: " + ", ".join(f"{k} = {v}" for k, v in t["ratios"].items()) + "\n")
        out.append(
            "Stored bytes per completed instance: "
            + ", ".join(f"{k} {v:,.0f}" for k, v in t["stored_bytes_per_instance"].items())
            + "\n"
        )
    if w := r.get("workers_postgres"):
        out.append(
            f"PostgreSQL (synchronous_commit=on), completions/s: 1 worker {cell(w['one_worker'])},"
            f" 4 workers {cell(w['four_workers'])}; 4/1 = {w['four_over_one']}\n"
        )
    for backend in ("sqlite", "postgres"):
        s = r.get(f"scale_{backend}")
        if not s:
            continue
        sla, flat = s["sla"], s["flat_costs"]
        out.append(
            f"SLA on {backend}, {sla['open_steps']:,} open steps (seconds, median (min-max)):\n\n"
            "| query | seconds | / full scan |\n|---|---:|---:|\n"
            f"| full scan (Monitor.scan) | {cell(sla['full_scan'], 3)} | 1 |\n"
            f"| summary in SQL | {cell(sla['summary'], 3)} | {sla['summary_over_full_scan']} |\n"
            f"| change scan, {sla['changes_found']:,} changes | {cell(sla['changes'], 4)} |"
            f" {sla['changes_over_full_scan']} |\n"
        )
        out.append(
            f"Peak memory (VmHWM, MB) of a process doing one scan: SQL (summary, changes, 10"
            f" pages) {sla['peak_rss_mb']['sql_scan_process']}, full scan"
            f" {sla['peak_rss_mb']['full_scan_process']}\n"
        )
        st = flat["stored"]
        out.append(
            f"Per-action cost on {backend} (ms), {st['small']['open_instances']:,} +"
            f" {st['small']['completed_instances']:,} vs {st['large']['open_instances']:,} +"
            f" {st['large']['completed_instances']:,} stored (open + completed):\n\n"
            "| action | small | large | large / small |\n|---|---:|---:|---:|"
        )
        for what in ("start", "worklist", "status", "completion"):
            if f"{what}_small" not in flat:  # results from before starts were timed
                continue
            out.append(
                f"| {what} | {cell(flat[f'{what}_small'], 2)} | {cell(flat[f'{what}_large'], 2)}"
                f" | {flat['large_over_small'][what]} |"
            )
        out.append("")
    if tk := r.get("tokens"):
        out.append(
            f"Flat cost with many tokens ({tk['store']}), ms per completion, median (min-max):"
            "\n\n| instance | ms per completion | / after 1 return | state bytes | step rows |"
            "\n|---|---:|---:|---:|---:|"
        )
        for mark in tk["marks"]:
            st_ = tk["stored"][str(mark)]
            share = "1" if mark == 1 else tk["ratios"][f"returns_{mark}_over_1"]
            out.append(
                f"| after {mark:,} {'return' if mark == 1 else 'returns'} through the parallel"
                " block |"
                f" {cell(tk[f'returns_{mark}'], 2)} | {share} | {st_['state_bytes']:,} |"
                f" {st_['step_rows']:,} |"
            )
        mi = tk["multi_instance_state"]
        for items in (1, 50):
            out.append(
                f"| {items}-item multi-instance, first completion ({items} open) |"
                f" {cell(tk[f'multi_{items}_first'], 2)} | - |"
                f" {mi[str(items)]['open_state_bytes']:,} | - |"
            )
            out.append(
                f"| {items}-item multi-instance, last completion (closes the body) |"
                f" {cell(tk[f'multi_{items}_last'], 2)} | - |"
                f" {mi[str(items)]['after_state_bytes']:,} | - |"
            )
        out.append("")
        out.append("Ratios: " + ", ".join(f"{k} = {v}" for k, v in tk["ratios"].items()) + "\n")
    if st := r.get("startup"):
        out.append(
            "| command | ms, median (min-max) |\n|---|---:|\n"
            f"| python -c pass | {cell(st['python_c_pass'], 1)} |\n"
            f"| sopflow --help | {cell(st['sopflow_help'], 1)} |\n"
            f"| sopflow inbox (small store) | {cell(st['sopflow_inbox'], 1)} |\n\n"
            f"--help / bare = {st['help_over_bare']}, inbox / bare = {st['inbox_over_bare']}\n"
        )
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "benchmarks/results/latest.json"
    print(tables(json.loads(path.read_text())))
