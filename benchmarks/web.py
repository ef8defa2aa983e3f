"""The web layer's cost: requests per second for "Tugas saya" and for a completion.

Run from the repository root (``pip install -e '.[dev]'``)::

    python benchmarks/web.py            # SQLite; PostgreSQL too when SOPFLOW_BENCH_POSTGRES_URL
                                        # or SOPFLOW_TEST_POSTGRES_URL names a server

For each store and for 1 and 4 server workers, ``sopflow serve`` runs in a subprocess on
127.0.0.1 and a client with 8 threads sends a fixed number of requests as the Sekcam of
Purbalingga (cookie session and CSRF token, as a browser would): GET /api/v1/work-items
with CASES steps waiting, then POST .../steps/10/complete, one per case. The same calls
are then made directly on the library (Engine.work_list(actor=...), Engine.complete) in
the same run, on a fresh database of the same shape. Bounded in count, loopback only.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sopflow import Actor, Catalog, Engine, open_store  # noqa: E402
from sopflow.authority.demo import import_demo_staff  # noqa: E402
from sopflow.web import hash_password  # noqa: E402

PROCESS = "purbalingga_pengukuran_kinerja"
CAMAT, SEKCAM, KASI, TIM = (
    "198611302010011002",
    "199002172015032003",
    "197209091997031005",
    "197812012003122004",
)
#: who does a step of each role (steps 5, 6 and 9 are joint: tim with sekcam or kasi)
DOER = {"camat": CAMAT, "sekcam": SEKCAM, "kasi": KASI, "tim": TIM}
PASSWORD = "bench-password"
CASES = int(os.environ.get("SOPFLOW_BENCH_WEB_CASES", "120"))
LIST_REQUESTS = int(os.environ.get("SOPFLOW_BENCH_WEB_LISTS", "200"))
THREADS = 8


def prepare(url: str) -> None:
    """The demo directory, a password, CASES Purbalingga cases waiting at step 10."""
    with open_store(url) as store:
        import_demo_staff(store)
        store.set_password_hash(SEKCAM, hash_password(PASSWORD), 0)
        engine = Engine(Catalog.builtin(), store)
        for _ in range(CASES):
            iid = engine.start(PROCESS, actor=Actor(CAMAT)).instance_id
            while True:  # every ready part of steps 1-9, joint steps included
                ready = [w for w in engine.work_list(instance_id=iid) if (w.step_no or 0) < 10]
                if not ready:
                    break
                for item in ready:
                    engine.complete(iid, item.task_id, actor=Actor(DOER[item.role or ""]))


def _pg_url(base: str) -> str:
    import psycopg

    schema = f"sopflow_bench_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema={schema}"


def _drop_pg(url: str) -> None:
    import psycopg

    base, _, query = url.partition("?")
    schema = dict(p.split("=", 1) for p in query.split("&"))["schema"]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _parallel(calls: list[Callable[[], Any]]) -> float:
    """Run ``calls`` on THREADS threads; calls per second. A failed call fails the run:
    a rate that counts errors as work says nothing."""
    lock = threading.Lock()
    todo = list(calls)
    failed: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                if not todo or failed:
                    return
                call = todo.pop()
            try:
                call()
            except BaseException as exc:
                with lock:
                    failed.append(exc)
                return

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise RuntimeError(f"{len(failed)} call(s) failed; the first: {failed[0]!r}")
    return len(calls) / (time.perf_counter() - began)


def over_http(url: str, workers: int) -> dict[str, float]:
    import httpx

    port = _port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sopflow",
            "serve",
            "--db",
            url,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/masuk", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        login = httpx.post(f"{base}/api/v1/session", json={"nip": SEKCAM, "password": PASSWORD})
        login.raise_for_status()
        cookies = {"sopflow_session": login.cookies["sopflow_session"]}
        headers = {"X-CSRF-Token": login.json()["csrf_token"]}
        client = httpx.Client(base_url=base, cookies=cookies, headers=headers, timeout=60)
        items = client.get("/api/v1/work-items").json()
        assert len(items) == CASES, len(items)

        def listing() -> None:
            client.get("/api/v1/work-items").raise_for_status()

        def completing(iid: str) -> Callable[[], None]:
            def call() -> None:
                r = client.post(
                    f"/api/v1/instances/{iid}/steps/10/complete", json={"data": {"disetujui": True}}
                )
                r.raise_for_status()

            return call

        lists = _parallel([listing] * LIST_REQUESTS)
        completions = _parallel([completing(w["instance_id"]) for w in items])
        client.close()
        return {"tugas_saya_per_s": round(lists, 1), "completions_per_s": round(completions, 1)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def on_library(url: str) -> dict[str, float]:
    with open_store(url) as store:
        engine = Engine(Catalog.builtin(), store)
        items = engine.work_list(actor=Actor(SEKCAM))
        assert len(items) == CASES
        lists = _parallel([lambda: engine.work_list(actor=Actor(SEKCAM))] * LIST_REQUESTS)
        completions = _parallel(
            [
                (
                    lambda iid: (
                        lambda: engine.complete(
                            iid, 10, actor=Actor(SEKCAM), data={"disetujui": True}
                        )
                    )
                )(w.instance_id)
                for w in items
            ]
        )
    return {"tugas_saya_per_s": round(lists, 1), "completions_per_s": round(completions, 1)}


def main() -> int:
    pg = os.environ.get("SOPFLOW_BENCH_POSTGRES_URL") or os.environ.get("SOPFLOW_TEST_POSTGRES_URL")
    results: dict[str, Any] = {
        "cases": CASES,
        "list_requests": LIST_REQUESTS,
        "threads": THREADS,
        "cpus": os.cpu_count(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        stores: list[tuple[str, Callable[[], str], Callable[[str], None]]] = []
        counter = iter(range(100))
        stores.append(
            ("sqlite", lambda: f"sqlite:///{tmp}/bench-{next(counter)}.db", lambda url: None)
        )
        if pg:
            stores.append(("postgresql", lambda: _pg_url(pg), _drop_pg))
        for name, new, drop in stores:
            for mode in ("library", 1, 4):
                url = new()
                try:
                    prepare(url)
                    figures = on_library(url) if mode == "library" else over_http(url, mode)
                finally:
                    drop(url)
                row = {
                    "store": name,
                    "mode": mode if mode == "library" else f"{mode} worker(s)",
                    **figures,
                }
                print(json.dumps(row))
                results["runs"].append(row)
    out = ROOT / "benchmarks" / "results" / "web-latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
