"""``sopflow worker``, ``sopflow incidents``, ``sopflow retry`` and the waits of ``status``.

The worker runs timers (BPMN 2.0 10.5.5) as a user runs it; errors are one line.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _jobs_bpmn import catch, chain
from sopflow.cli import main
from sopflow.definitions.catalog import Catalog
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.testing import FakeClock

OFFICER = Actor("ani", "pelaksana")
EXTERNAL = '<bpmn:serviceTask id="kirim" camunda:type="external" camunda:topic="ekinerja"/>'


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "tunggu.bpmn").write_bytes(chain("tunggu", catch("t", "timeDuration", "PT1M")))
    (catalog / "kirim.bpmn").write_bytes(chain("pengiriman", EXTERNAL))
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(catalog))
    return tmp_path


def engine(env: Path, clock: FakeClock | None = None) -> Engine:
    return Engine(
        Catalog.from_directory(env / "catalog"),
        open_store(f"sqlite:///{env / 'cli.db'}"),
        clock=clock,
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what the engine logged before the command is not its output
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_worker_until_idle_runs_what_is_due_and_stops(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    an_hour_ago = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    e = engine(env, an_hour_ago)
    ids = [e.start("tunggu", actor=OFFICER).instance_id for _ in range(3)]
    code, out, err = run(capsys, "worker", "--until-idle", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["ran"], summary["done"]) == (3, 3)
    assert {e.status(i).status for i in ids} == {"completed"}
    code, out, _ = run(capsys, "status", ids[0])
    assert "waits:" in out and "timer" in out and "fired" in out
    code, out, _ = run(capsys, "status", ids[0], "--json")
    waits = json.loads(out)["waits"]
    assert [(w["node"], w["kind"], w["outcome"]) for w in waits] == [("t", "timer", "fired")]


def test_worker_max_jobs_stops_after_that_many(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    e = engine(env, FakeClock(datetime.now(UTC) - timedelta(hours=1)))
    for _ in range(3):
        e.start("tunggu", actor=OFFICER)
    code, out, _ = run(capsys, "worker", "--max-jobs", "2", "--json")
    assert code == 0
    assert json.loads(out)["ran"] == 2
    assert len(e.jobs()) == 1


def test_incidents_lists_and_retry_resumes(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    e = engine(env)
    started = e.start("pengiriman", actor=OFFICER).instance_id
    [task] = e.fetch_and_lock("ekinerja", "w1")
    incident = e.fail_external(task.id, "w1", "SRIKANDI menolak token", retries=0)
    code, out, _ = run(capsys, "incidents")
    assert code == 0
    [line] = [row for row in out.splitlines() if started in row]
    assert line.split()[:4] == [str(incident), started, "kirim", "external"]
    assert line.endswith("SRIKANDI menolak token")
    code, out, _ = run(capsys, "status", started)
    assert f"incident {incident} at kirim: SRIKANDI menolak token" in out
    code, out, err = run(capsys, "retry", str(incident), "--actor", "admin")
    assert code == 0, err
    assert f"incident {incident} resolved" in out
    code, out, _ = run(capsys, "incidents", "--json")
    assert json.loads(out) == []
    [again] = e.fetch_and_lock("ekinerja", "w1")
    assert again.id == task.id


def test_retry_of_an_unknown_incident_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "retry", "99")
    assert code == 1
    assert err.strip() == "sopflow retry: error: no open incident 99"


def test_report_shows_open_incidents(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    e = engine(env)
    started = e.start("pengiriman", actor=OFFICER).instance_id
    [task] = e.fetch_and_lock("ekinerja", "w1")
    incident = e.fail_external(task.id, "w1", "SRIKANDI menolak token", retries=0)
    code, out, err = run(capsys, "report", "--process", "pengiriman")
    assert code == 0, err
    assert "Insiden terbuka: 1" in out
    assert f"{incident}." in out and started in out and "kirim: SRIKANDI menolak token" in out
