"""Stored data at kabupaten scale: bulk loading, the SLA in SQL, and flat per-action costs.

Bulk loading goes through the store once per shape and then copies those rows with
set-based SQL: an instance started by the engine (open at step 1) and one the engine ran
to completion are the templates; each copy gets its own uuid and its times shifted by
one second per copy, everything else byte for byte as the store wrote it. The audit
trail is copied for the open instances only: 1,000,000 completed instances would add
about 28,000,000 audit rows (gigabytes), and no measured query reads another instance's
audit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from _common import ROOT, interleaved, ratio, timed
from throughput import SopflowRunner

SECOND = 1000
#: steps made ready by the engine for the scale figures (step 2, role sekcam)
FEW = 20


def _series(store: Any, count: int) -> str:
    if store.url.startswith("postgres"):
        return f"(SELECT generate_series(1, {int(count)}) AS k) n"
    return (
        f"(WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < {int(count)})"
        " SELECT k FROM c) n"
    )


def _uuid(store: Any, tag: str) -> str:
    """A uuid-shaped text from the copy number (tag: 4 hex digits telling sets apart)."""
    if store.url.startswith("postgres"):
        return (
            "lpad(to_hex(n.k), 8, '0') || '-0000-4000-" + tag + "-' || lpad(to_hex(n.k), 12, '0')"
        )
    return f"printf('%08x-0000-4000-{tag}-%012x', n.k, n.k)"


def _execute(store: Any, sql: str, params: tuple[Any, ...] = ()) -> None:
    with store._write() as cur:
        cur.execute(store._sql(sql), params)


def copy_instance(store: Any, template: str, count: int, tag: str, audit: bool) -> None:
    """``count`` copies of the template's instance, steps (and audit) rows."""
    if count <= 0:
        return
    [(lo,)] = store._read("SELECT COALESCE(MAX(id), 0) FROM sopflow_instances")
    _execute(
        store,
        "INSERT INTO sopflow_instances (uuid, definition, status, state, revision, started_at,"
        " started_by, last_action_at, ended_at, cancel_reason)"
        f" SELECT {_uuid(store, tag)}, t.definition, t.status, t.state, t.revision,"
        f" t.started_at + n.k * {SECOND}, t.started_by, t.last_action_at + n.k * {SECOND},"
        f" t.ended_at + n.k * {SECOND}, t.cancel_reason"
        f" FROM {_series(store, count)}, sopflow_instances t WHERE t.uuid = ? ORDER BY n.k",
        (template,),
    )
    shift = "(i.started_at - t.started_at)"
    _execute(
        store,
        "INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at, due_at, risk_at,"
        " standard, completed_at, actor, claimed_by, data, path, process_id, unit,"
        " instance_running)"
        f" SELECT i.id, s.task, s.step_no, s.role, s.ready_at + {shift}, s.due_at + {shift},"
        f" s.risk_at + {shift}, s.standard, s.completed_at + {shift}, s.actor, s.claimed_by,"
        " s.data, s.path, s.process_id, s.unit, s.instance_running"
        " FROM sopflow_instances t JOIN sopflow_steps s ON s.instance = t.id,"
        " sopflow_instances i WHERE t.uuid = ? AND i.id > ? ORDER BY i.id, s.id",
        (template, lo),
    )
    if audit:
        _execute(
            store,
            "INSERT INTO sopflow_audit (instance, at, event, payload)"
            f" SELECT i.id, a.at + {shift}, a.event, REPLACE(a.payload, t.uuid, i.uuid)"
            " FROM sopflow_instances t JOIN sopflow_audit a ON a.instance = t.id,"
            " sopflow_instances i WHERE t.uuid = ? AND i.id > ? ORDER BY i.id, a.id",
            (template, lo),
        )


def _indexes(store: Any) -> list[tuple[str, str]]:
    """(name, DDL) of the secondary indexes of the step and audit tables, as created."""
    if store.url.startswith("postgres"):
        rows = store._read(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename IN ('sopflow_steps', 'sopflow_audit')"
            " AND RIGHT(indexname, 5) <> '_pkey'"
        )
    else:
        rows = store._read(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('sopflow_steps', 'sopflow_audit')"
        )
    return [(str(r[0]), str(r[1])) for r in rows]


def load(url: str, open_n: int, completed_n: int) -> tuple[SopflowRunner, dict[str, Any]]:
    """A store with open_n open and completed_n completed instances, plus FEW at step 2.

    The secondary indexes of the step and audit tables are dropped for the copy and
    created again afterwards from their own stored DDL: the same indexes, built once
    instead of updated row by row.
    """
    runner = SopflowRunner(url)
    t0 = time.perf_counter()
    done_iid, task = runner.start()
    while task is not None:
        task = runner.complete(done_iid, task)
    open_iid, _ = runner.start()
    indexes = _indexes(runner.store)
    if url.startswith("postgres"):
        # Building the step table's indexes over 13,000,000 rows in the default 64 MB
        # sorts on disk; this session only (index builds, no measured query uses it).
        _execute(runner.store, "SET maintenance_work_mem = '512MB'")
    for name, _ddl in indexes:
        _execute(runner.store, f"DROP INDEX {name}")
    copy_instance(runner.store, done_iid, completed_n - 1, "9000", audit=False)
    copy_instance(runner.store, open_iid, open_n - 1 - FEW, "8000", audit=True)
    for _name, ddl in indexes:
        _execute(runner.store, ddl)
    # The copies' clock ran one second per copy: the engine acts after the last of them.
    runner.clock.advance(seconds=max(open_n, completed_n) + 60)
    few = []
    for _ in range(FEW):
        iid, task = runner.start()
        assert task is not None
        runner.complete(iid, task)  # now waiting at step 2 (sekcam)
        few.append(iid)
    store: Any = runner.store
    _execute(store, "ANALYZE")
    [(steps,)] = store._read("SELECT COUNT(*) FROM sopflow_steps WHERE completed_at IS NULL")
    return runner, {
        "open_instances": open_n,
        "completed_instances": completed_n,
        "open_steps": int(steps),
        "load_seconds": round(time.perf_counter() - t0, 1),
        "few": few,
        "open_template": open_iid,
    }


# --------------------------------------------------------------------------- SLA in SQL
def sla_at_scale(runner: SopflowRunner, info: dict[str, Any], runs: int) -> dict[str, Any]:
    """Full scan (the monitor's Python scan) against the summary and the change scan."""
    from sopflow.sla.monitor import Monitor
    from sopflow.sla.summary import summarize

    store: Any = runner.store
    [(ready, due, risk)] = store._read(
        "SELECT s.ready_at, s.due_at, s.risk_at FROM sopflow_steps s"
        " JOIN sopflow_instances i ON i.id = s.instance"
        " WHERE i.uuid = ? AND s.completed_at IS NULL",
        (info["open_template"],),
    )
    # Copies are one second apart: a 500 s window holds about 500 due and 500 risk moments.
    middle = ready + (due - ready) + (info["open_instances"] // 2) * SECOND
    from sopflow.runtime.views import from_ms

    at = from_ms(middle)
    window = 500.0
    for _ in range(3):  # about 1,000 changes: the figure
        found = sum(map(len, store.sla_changes(middle - round(window * 1000), middle)))
        window = window * 1000 / max(found, 1)
    since = at - timedelta(seconds=window)
    monitor = Monitor(store, policy=runner.engine.sla)
    changes = monitor.changes(at, since=since)
    figures = interleaved(
        runs,
        {
            "full_scan": lambda: timed(lambda: monitor.scan(at=at)),
            "summary": lambda: timed(lambda: summarize(store, at)),
            "changes": lambda: timed(lambda: monitor.changes(at, since=since)),
        },
        "s",
    )
    totals = summarize(store, at).totals()
    assert totals == monitor.scan(at=at).counts()
    return {
        "open_steps": info["open_steps"],
        "statuses": totals,
        "changes_found": len(changes),
        "risk_offset_s": None if risk is None else (risk - ready) / 1000,
        **figures,
        "summary_over_full_scan": ratio(figures["summary"], figures["full_scan"]),
        "changes_over_full_scan": ratio(figures["changes"], figures["full_scan"]),
        "window_s": round(window, 1),
        "peak_rss_mb": {
            "sql_scan_process": peak_rss(store.url, middle, round(window), "sql"),
            "full_scan_process": peak_rss(store.url, middle, round(window), "full"),
        },
    }


_RSS_PROBE = """
import sys
from datetime import timedelta
from sopflow.runtime.views import from_ms
from sopflow.sla.monitor import Monitor
from sopflow.sla.summary import pages
from sopflow.stores import open_store

url, at_ms, window, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
store = open_store(url)
monitor = Monitor(store)
at = from_ms(at_ms)
if mode == "sql":
    monitor.summary(at)
    monitor.changes(at, since=at - timedelta(seconds=window))
    for i, page in enumerate(pages(monitor, at, size=100)):
        if i == 10:
            break
else:
    result = monitor.scan(at=at)
    print(len(result), result.counts(), file=sys.stderr)
store.close()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) / 1024)
"""


def peak_rss(url: str, at_ms: int, window: int, mode: str) -> float:
    """Peak resident memory (MB) of a fresh process doing one scan of that kind."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, url, str(at_ms), str(window), mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return round(float(out.stdout.strip().splitlines()[-1]), 1)


# --------------------------------------------------------------------------- flat costs
def flat_costs(
    small: tuple[SopflowRunner, dict[str, Any]],
    large: tuple[SopflowRunner, dict[str, Any]],
    runs: int,
) -> dict[str, Any]:
    """A work list for one role, one instance's status, a completion: small vs large."""
    measures = {}
    for label, (runner, info) in (("small", small), ("large", large)):
        engine = runner.engine

        def worklist(engine: Any = engine) -> float:
            return timed(lambda: engine.work_list(role="sekcam")) * 1000

        def status(engine: Any = engine, iid: str = info["few"][0]) -> float:
            return timed(lambda: engine.status(iid)) * 1000

        def completion(runner: SopflowRunner = runner) -> float:
            iid, task = runner.start()
            assert task is not None
            return timed(lambda: runner.complete(iid, task)) * 1000

        measures[f"worklist_{label}"] = worklist
        measures[f"status_{label}"] = status
        measures[f"completion_{label}"] = completion
    for runner, _ in (small, large):
        assert len(runner.engine.work_list(role="sekcam")) == FEW
    figures = interleaved(runs, measures, "ms")
    return {
        "stored": {
            label: {k: info[k] for k in ("open_instances", "completed_instances", "load_seconds")}
            for label, (_, info) in (("small", small), ("large", large))
        },
        **figures,
        "large_over_small": {
            what: ratio(figures[f"{what}_large"], figures[f"{what}_small"])
            for what in ("worklist", "status", "completion")
        },
    }


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
