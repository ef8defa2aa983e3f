"""Stored data at kabupaten scale: bulk loading, the SLA in SQL, and flat per-action costs.

Bulk loading goes through the store once per shape and then copies those rows with
set-based SQL: an instance started by the engine (open at step 1) and one the engine ran
to completion are the templates; each copy gets its own uuid and its times shifted by
one second per copy, everything else byte for byte as the store wrote it. The audit
trail is copied for the open instances only: 1,000,000 completed instances would add
about 28,000,000 audit rows (gigabytes), and no measured query reads another instance's
audit.

The copy is one INSERT ... SELECT per table from a series of copy numbers and a temporary
table holding the template's rows (ids computed, so nothing is sorted and the growing
tables are never read back); the secondary indexes of the step and audit tables are
dropped first and created again from their own DDL, then the tables are analyzed. The
load's session alone runs with settings for a bulk load (_PG_LOAD, _SQLITE_LOAD: no
fsync or journal for the throwaway file, more sort memory, no per-row foreign-key
check), all put back before anything is measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
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


def _columns(store: Any, table: str) -> list[str]:
    """The table's columns as the store created them (the copy names them all)."""
    if store.url.startswith("postgres"):
        rows = store._read(
            "SELECT column_name FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
    else:
        rows = store._read(f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
    return [str(r[0]) for r in rows]


def _template(store: Any, table: str, template: str, name: str) -> int:
    """The template instance's rows of ``table`` in a temporary table ``name``, in id
    order (``bench_ord`` 0..m-1); m. Made while the table's indexes still exist, so
    the copy never reads the table it fills."""
    _execute(store, f"DROP TABLE IF EXISTS {name}")
    _execute(
        store,
        f"CREATE TEMPORARY TABLE {name} AS SELECT t.*,"
        " ROW_NUMBER() OVER (ORDER BY t.id) - 1 AS bench_ord"
        f" FROM {table} t WHERE t.instance = (SELECT i.id FROM sopflow_instances i"
        " WHERE i.uuid = ?)",
        (template,),
    )
    [(m,)] = store._read(f"SELECT COUNT(*) FROM {name}")
    return int(m)


def _copy_rows(
    store: Any,
    table: str,
    name: str,
    count: int,
    first: tuple[int, int],
    shifted: dict[str, str],
) -> None:
    """``count`` copies of the template rows held in ``name``, in one statement.

    Copy k belongs to instance ``first[0] + k`` and its rows get the ids an insert in
    (instance, template id) order would give them, ``first[1] + (k - 1) * m + ord``:
    no sort, and the same rows whatever order the database produces them in.
    """
    [(m,)] = store._read(f"SELECT COUNT(*) FROM {name}")
    if m:
        columns = [c for c in _columns(store, table) if c not in ("id", "instance")]
        values = [shifted.get(c, f"t.{c}") for c in columns]
        _execute(
            store,
            f"INSERT INTO {table} (id, instance, {', '.join(columns)})"
            f" SELECT {int(first[1])} + (n.k - 1) * {int(m)} + t.bench_ord,"
            f" {int(first[0])} + n.k, {', '.join(values)}"
            f" FROM {_series(store, count)}, {name} t",
        )
    _execute(store, f"DROP TABLE {name}")


def _next_id(store: Any, table: str) -> int:
    [(top,)] = store._read(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
    return int(top) + 1


def _fix_sequences(store: Any) -> None:
    """PostgreSQL: the id sequences continue after the copies' explicit ids."""
    if store.url.startswith("postgres"):
        for table in ("sopflow_instances", "sopflow_steps", "sopflow_audit"):
            _execute(
                store,
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT MAX(id) FROM {table}))",
            )


def copy_instance(store: Any, template: str, count: int, tag: str, audit: bool) -> None:
    """``count`` copies of the template's instance, steps (and audit) rows.

    Copy k (1..count) gets the uuid made from k and the tag, and every time shifted by
    k seconds; every other column is the template's, byte for byte. One statement per
    table, with the ids given (no sort, no read of the rows already copied). The
    template's step (and audit) rows are in the temporary tables made by _template.
    """
    if count <= 0:
        return
    uuid.UUID(template)  # it is written into the statement below
    lo = _next_id(store, "sopflow_instances") - 1
    _execute(
        store,
        "INSERT INTO sopflow_instances (id, uuid, definition, status, state, revision,"
        " started_at, started_by, last_action_at, ended_at, cancel_reason)"
        f" SELECT {int(lo)} + n.k, {_uuid(store, tag)}, t.definition, t.status, t.state,"
        f" t.revision, t.started_at + n.k * {SECOND}, t.started_by,"
        f" t.last_action_at + n.k * {SECOND}, t.ended_at + n.k * {SECOND}, t.cancel_reason"
        f" FROM {_series(store, count)}, sopflow_instances t WHERE t.uuid = ?",
        (template,),
    )
    shift = f" + n.k * {SECOND}"
    moments = ("ready_at", "due_at", "risk_at", "completed_at")
    _copy_rows(
        store,
        "sopflow_steps",
        f"bench_steps_{tag}",
        count,
        (lo, _next_id(store, "sopflow_steps")),
        {c: f"t.{c}{shift}" for c in moments},
    )
    if audit:
        _copy_rows(
            store,
            "sopflow_audit",
            f"bench_audit_{tag}",
            count,
            (lo, _next_id(store, "sopflow_audit")),
            # the payload names its instance: the copy's uuid, made as the row's
            {
                "at": f"t.at{shift}",
                "payload": f"REPLACE(t.payload, '{template}', {_uuid(store, tag)})",
            },
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


#: Settings of the load's own session, for the copy and the index builds only, each
#: undone before anything is measured. They change how fast rows reach the disk and how
#: much memory a sort may use, never what is stored.
_PG_LOAD = {
    # one commit per statement: nothing to wait for until the last
    "synchronous_commit": "off",
    # sort the step table's indexes (13,000,000 rows) in memory, with helpers
    "maintenance_work_mem": "'1GB'",
    "max_parallel_maintenance_workers": "2",
    # the copy's foreign keys point at rows copied just before: no per-row check
    "session_replication_role": "replica",
}
_SQLITE_LOAD = {
    # a throwaway file being filled: no journal, no fsync (WAL again before measuring)
    "journal_mode": "OFF",
    "synchronous": "OFF",
    "cache_size": "-1000000",
    "temp_store": "MEMORY",
    "threads": "2",
    # the copy's foreign keys point at rows copied just before: no per-row check
    "foreign_keys": "OFF",
}


def _load_settings(store: Any, on: bool, saved: dict[str, Any] | None = None) -> dict[str, Any]:
    """Set the load's session settings (on; returns what the store had) or put back
    what the store had (off, ``saved``)."""
    if store.url.startswith("postgres"):
        for name, value in _PG_LOAD.items():
            try:
                _execute(store, f"SET {name} = {value}" if on else f"RESET {name}")
            except Exception as exc:  # e.g. session_replication_role needs a superuser
                print(f"load: {name} left as it is: {exc}", file=sys.stderr)
        if not on and store.synchronous_commit is not None:
            _execute(store, f"SET synchronous_commit TO {store.synchronous_commit}")
        return {}
    conn = store._conn
    if not on:
        for name, value in (saved or {}).items():
            conn.execute(f"PRAGMA {name} = {value}")
        return {}
    before = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _SQLITE_LOAD}
    conn.execute("PRAGMA journal_mode = DELETE")  # WAL cannot go to OFF directly
    for name, value in _SQLITE_LOAD.items():
        conn.execute(f"PRAGMA {name} = {value}")
    return before


def _analyze(store: Any) -> None:
    """Fresh planner statistics of this store's tables (on PostgreSQL its schema's only:
    a bare ANALYZE would also analyze every other schema of the database)."""
    if not store.url.startswith("postgres"):
        _execute(store, "ANALYZE")
        return
    tables = [
        str(r[0])
        for r in store._read("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    ]
    _execute(store, f"ANALYZE {', '.join(tables)}")


def load(url: str, open_n: int, completed_n: int) -> tuple[SopflowRunner, dict[str, Any]]:
    """A store with open_n open and completed_n completed instances, plus FEW at step 2.

    The secondary indexes of the step and audit tables are dropped for the copy and
    created again afterwards from their own stored DDL: the same indexes, built once
    instead of updated row by row. ``load_phases`` records the seconds of each phase.
    """
    runner = SopflowRunner(url)
    t0 = time.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = round(time.perf_counter() - t0 - sum(phases.values()), 1)

    done_iid, task = runner.start()
    while task is not None:
        task = runner.complete(done_iid, task)
    open_iid, _ = runner.start()
    phase("templates")
    store: Any = runner.store
    indexes = _indexes(store)
    saved = _load_settings(store, on=True)
    _template(store, "sopflow_steps", done_iid, "bench_steps_9000")
    _template(store, "sopflow_steps", open_iid, "bench_steps_8000")
    _template(store, "sopflow_audit", open_iid, "bench_audit_8000")
    for name, _ddl in indexes:
        _execute(store, f"DROP INDEX {name}")
    copy_instance(store, done_iid, completed_n - 1, "9000", audit=False)
    phase("copy_completed")
    copy_instance(store, open_iid, open_n - 1 - FEW, "8000", audit=True)
    _fix_sequences(store)
    phase("copy_open")
    for _name, ddl in indexes:
        _execute(store, ddl)
    phase("indexes")
    _load_settings(store, on=False, saved=saved)
    # The copies' clock ran one second per copy: the engine acts after the last of them.
    runner.clock.advance(seconds=max(open_n, completed_n) + 60)
    few = []
    for _ in range(FEW):
        iid, task = runner.start()
        assert task is not None
        runner.complete(iid, task)  # now waiting at step 2 (sekcam)
        few.append(iid)
    _analyze(store)
    phase("analyze")
    [(steps,)] = store._read("SELECT COUNT(*) FROM sopflow_steps WHERE completed_at IS NULL")
    return runner, {
        "open_instances": open_n,
        "completed_instances": completed_n,
        "open_steps": int(steps),
        "load_seconds": round(time.perf_counter() - t0, 1),
        "load_phases": phases,
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
def _role(runner: SopflowRunner, task: str) -> str:
    step = runner.definition.step(task)
    assert step is not None
    return step.role


def flat_costs(
    small: tuple[SopflowRunner, dict[str, Any]],
    large: tuple[SopflowRunner, dict[str, Any]],
    runs: int,
) -> dict[str, Any]:
    """A start, a work list for one role, one instance's status, a completion: small vs
    large. A start is timed too: its write seals the instance's first rows, the read that
    schema 12 keeps to one index range (tests/test_perf_seal_plan.py)."""
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
            after: list[str | None] = []
            ms = timed(lambda: after.append(runner.complete(iid, task))) * 1000
            # The instance now waits for the Sekcam: move it on, unmeasured, or every
            # sample would lengthen the work list the worklist measure reads.
            nxt = after[0]
            while nxt is not None and _role(runner, nxt) == "sekcam":
                nxt = runner.complete(iid, nxt)
            return ms

        def start(runner: SopflowRunner = runner) -> float:
            return timed(runner.start) * 1000

        measures[f"start_{label}"] = start
        measures[f"worklist_{label}"] = worklist
        measures[f"status_{label}"] = status
        measures[f"completion_{label}"] = completion

    def unchanged_lists() -> None:  # what the worklist measure reads, before and after
        for runner, _ in (small, large):
            assert len(runner.engine.work_list(role="sekcam")) == FEW

    unchanged_lists()
    # One call is a sample, and a call is a few milliseconds: five such samples let one
    # checkpoint or one burst of load on the shared machine move the median (a start at
    # 1.36 x its small figure in a run whose minima were equal): 5 x runs samples each.
    figures = interleaved(5 * runs, measures, "ms")
    unchanged_lists()
    return {
        "stored": {
            label: {
                k: info[k]
                for k in ("open_instances", "completed_instances", "load_seconds", "load_phases")
            }
            for label, (_, info) in (("small", small), ("large", large))
        },
        **figures,
        "large_over_small": {
            what: ratio(figures[f"{what}_large"], figures[f"{what}_small"])
            for what in ("start", "worklist", "status", "completion")
        },
    }


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
