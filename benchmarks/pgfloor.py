"""The floor under a PostgreSQL completion: the same rows written the cheapest way SQL has.

Not part of ``make bench``: a diagnostic run by hand, whose output docs/performance.md
quotes::

    SOPFLOW_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/DB \\
        python benchmarks/pgfloor.py

Issue 14 asks for sopflow completions/s on PostgreSQL at 0.5 x a bare INSERT+COMMIT loop.
This asks what ANY write path could reach with sopflow's tables, before a line of the
engine runs. In one interleaved loop (median of 7 runs, min and max):

- ``sopflow``: the 12-step SOP driven through the public API (``throughput.SopflowRunner``);
- ``floor``: no engine at all. Per completion, the instance-and-open-steps read as sopflow
  sends it (one prepared statement, one round trip), then ONE prepared statement that
  writes exactly the rows a completion writes (the instance's state and revision under its
  guard, the step closed, the next step opened, two audit rows, the holding, four chain
  entries) as data-modifying CTEs; autocommit, so the statement is its own transaction:
  two round trips, one commit, nothing parsed twice. The chain entries' digests are
  random: hashing is the engine's work, not the database's;
- ``unchained``: the floor without the four chain entries, the share of the hash chain;
- ``bare``: one INSERT + COMMIT per row, the issue's yardstick;

all at ``synchronous_commit=on``. Beside them, the engine alone: CPU per completion of the
same runner on the in-memory store, which writes nothing anywhere.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from _common import PROCESS, cpu_share, cpu_ticks, drop_schema, postgres_url
from throughput import BareInsertLoop, SopflowRunner

_WRITE = """
WITH i AS (
  UPDATE sopflow_instances SET state = %(state)s, revision = revision + 1,
         last_action_at = %(at)s
   WHERE uuid = %(uuid)s AND revision = %(revision)s RETURNING id),
c AS (
  UPDATE sopflow_steps SET completed_at = %(at)s, actor = %(actor)s, data = %(data)s,
         path = %(path)s
   WHERE id = %(step)s AND instance = (SELECT id FROM i) AND completed_at IS NULL
  RETURNING id),
n AS (
  INSERT INTO sopflow_steps (instance, task, step_no, role, ready_at, due_at, risk_at,
         standard, token, pass_no, process_id, unit, instance_running)
  SELECT id, %(task)s, %(step_no)s, %(role)s, %(at)s, %(due)s, %(risk)s, %(standard)s, 1, 1,
         %(process)s, %(unit)s, 1 FROM i RETURNING id),
a AS (
  INSERT INTO sopflow_audit (instance, at, event, payload)
  SELECT i.id, %(at)s, v.event, v.payload FROM i,
         (VALUES ('task.completed', %(payload1)s), ('task.ready', %(payload2)s)) v(event, payload)
  RETURNING id),
h AS (
  INSERT INTO sopflow_step_holdings (step, nip, nama, position, position_name, unit, kind)
  SELECT id, %(nip)s, %(nama)s, 'kasi', 'Kepala Seksi', %(unit)s, 'definitive' FROM c)
"""

#: the four chain entries, left out by the ``unchained`` variant
_CHAIN_CTE = """,x AS (
  INSERT INTO sopflow_chain (instance, kind, row_id, digest, hash)
  SELECT i.id, r.kind, r.row_id, md5(random()::text), md5(random()::text) FROM i,
         (SELECT 'step' AS kind, id AS row_id FROM c UNION ALL SELECT 'step', id FROM n
          UNION ALL SELECT 'audit', id FROM a) r)"""

_GUARDS = "\nSELECT (SELECT count(*) FROM i), (SELECT count(*) FROM c)\n"


class Floor:
    """Completions of already-open steps: the store's own read, then the write above."""

    def __init__(self, runner: SopflowRunner, instances: int, chain: bool = True) -> None:
        import psycopg

        from sopflow.stores._sqlread import INSTANCE_WITH_OPEN_STEPS
        from sopflow.stores.postgres import split_url

        dsn, own = split_url(runner.store.url)
        #: the action's read exactly as the store sends it
        self.read = runner.store._sql(INSTANCE_WITH_OPEN_STEPS)
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute("SET synchronous_commit TO on")
        self.conn.execute(f'SET search_path TO "{own["schema"]}"')
        self.ids = [runner.start()[0] for _ in range(instances)]
        state = runner.store.load_instance(self.ids[0]).state
        self.fixed = {
            "state": state,
            "actor": "kasi.bench",
            "data": '{"disetujui": true}',
            "path": '["flow_1"]',
            "task": "step_2",
            "step_no": 2,
            "role": "kasi",
            "standard": "1 hari",
            "process": PROCESS,
            "unit": "33.03.01",
            "payload1": '{"task_id": "step_1", "actor": "kasi.bench", "role": "kasi",'
            ' "holding": {"nip": "197001011990031001", "kind": "definitive"},'
            ' "data": {"disetujui": true}}',
            "payload2": '{"task_id": "step_2", "role": "kasi", "due_at": 1754380800}',
            "nip": "197001011990031001",
            "nama": "Bench",
        }
        self.at = 1754272800
        #: without the chain entries: what the hash chain (issue 13) adds to the floor
        self.write = _WRITE + (_CHAIN_CTE if chain else "") + _GUARDS

    def complete(self, instance_id: str) -> None:
        rows = self.conn.execute(self.read, (instance_id,), prepare=True).fetchall()
        self.at += 30
        params = dict(
            self.fixed,
            uuid=instance_id,
            revision=rows[0][5],
            step=rows[0][13],
            at=self.at,
            due=self.at + 86400,
            risk=self.at + 43200,
        )
        guard = self.conn.execute(self.write, params, prepare=True).fetchone()
        assert guard == (1, 1), guard

    def run(self, n: int) -> float:
        t0 = time.perf_counter()
        for k in range(n):
            self.complete(self.ids[k % len(self.ids)])
        return n / (time.perf_counter() - t0)


def engine_cpu_ms(completions: int = 1200) -> float:
    """CPU per completion of the engine on the in-memory store, in ms."""
    runner = SopflowRunner("memory:")
    runner.run(5)
    done = 0
    t0 = time.process_time()
    while done < completions:
        done += runner.run(10)
    return (time.process_time() - t0) / done * 1e3


def main() -> int:
    url = postgres_url("&synchronous_commit=on")
    if url is None:
        print("set SOPFLOW_BENCH_POSTGRES_URL", file=sys.stderr)
        return 2
    runner = SopflowRunner(url)
    runner.run(20)  # definition stored, statements prepared
    floor = Floor(runner, 300)
    floor.run(600)  # every instance's first step completed twice over: warm
    unchained = Floor(runner, 300, chain=False)
    unchained.run(600)
    bare = BareInsertLoop(url, "on")
    bare.run(500)
    samples: dict[str, list[float]] = {"sopflow": [], "floor": [], "unchained": [], "bare": []}
    ticks = cpu_ticks()
    for _ in range(7):
        t0 = time.perf_counter()
        done = runner.run(25)
        samples["sopflow"].append(done / (time.perf_counter() - t0))
        samples["floor"].append(floor.run(300))
        samples["unchained"].append(unchained.run(300))
        samples["bare"].append(bare.run(300))
    print(
        f"PostgreSQL {floor.conn.info.server_version}, {os.cpu_count()} cores, durable commits;"
        f" the machine during the loop: {cpu_share(ticks, cpu_ticks())}"
    )
    for name, values in samples.items():
        print(
            f"  {name:8} {statistics.median(values):7,.0f}/s"
            f" [{min(values):,.0f}..{max(values):,.0f}]"
        )
    bare_rate = statistics.median(samples["bare"])
    for name in ("sopflow", "floor", "unchained"):
        print(f"  {name} / bare = {statistics.median(samples[name]) / bare_rate:.3f}")
    engine = engine_cpu_ms()
    print(f"  the engine alone (in-memory store): {engine:.2f} ms CPU per completion")
    for name in ("floor", "unchained"):
        # Not measured: the floor's time per completion plus the engine's CPU, the best
        # a write path of this shape could do with this engine in front of it.
        best = 1 / (1 / statistics.median(samples[name]) + engine / 1e3)
        print(
            f"  {name} + the engine (sum, not measured) = {best:,.0f}/s,"
            f" {best / bare_rate:.3f} x bare"
        )
    runner.store.close()
    bare.conn.close()
    floor.conn.close()
    unchained.conn.close()
    drop_schema(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
