"""SLA corrections of issue 15: minutes in the standard's own kind, escalations that a
killed hook cannot lose, and damaged scan rows left out one by one (docs/sla.md)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from sopflow.definitions.loader import load_definition
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.sla.monitor import Monitor
from sopflow.stores import open_store
from sopflow.testing import FakeClock

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STAF = Actor("staf", "pelaksana")


def _calendar_time_engine(tmp_path: Path, store_url: str = "memory://") -> Engine:
    text = (FIXTURES / "engine" / "review_loop.bpmn").read_text(encoding="utf-8")
    path = tmp_path / "calendar_time.bpmn"
    path.write_text(text.replace('value="30 menit"', 'value="2 x 24 jam"', 1), encoding="utf-8")
    definition = load_definition(path)
    from tests.conftest import ListCatalog

    return Engine(ListCatalog(definition), open_store(store_url),
                  clock=FakeClock("2025-08-04T08:00:00+07:00"))


def test_a_calendar_time_standard_counts_elapsed_and_remaining_day_and_night(
    tmp_path: Path,
) -> None:
    """"2 x 24 jam" twenty hours in: 1,200 minutes elapsed, 1,680 left (not 30 and 0)."""
    engine = _calendar_time_engine(tmp_path)
    engine.start("review_loop", actor=STAF)
    at = engine.clock.now() + timedelta(hours=20)
    [step] = Monitor(engine.store).scan(at)
    assert step.minutes_kind == "calendar"
    assert (step.elapsed_minutes, step.remaining_minutes) == (1200.0, 1680.0)
    assert step.to_dict()["minutes_kind"] == "calendar"
    # done two hours late, at night: missed by 120 calendar minutes, not 0 working minutes
    done = engine.clock.now() + timedelta(hours=50)
    engine.complete(engine.work_list()[0].instance_id, 1, actor=STAF, at=done)
    [passed] = Monitor(engine.store).completed()
    assert (passed.status, passed.actual_minutes, passed.overrun_minutes) == (
        "missed", 3000.0, 120.0)


def test_a_working_time_standard_still_counts_working_minutes(engine: Engine) -> None:
    engine.start("review_loop", actor=STAF)
    [step] = Monitor(engine.store).scan(engine.clock.now() + timedelta(hours=20))
    assert step.minutes_kind == "working" and step.elapsed_minutes < 20 * 60


KILLED_HOOK = """
import os, sys
from sopflow.sla.monitor import Monitor
from sopflow.stores import open_store
from datetime import datetime, timezone
def hook(event):
    if sys.argv[2] == "kill":
        os._exit(9)  # the watcher dies inside the hook, as with SIGKILL
    print("announced", event.status, event.step.instance_id)
Monitor(open_store(sys.argv[1]), on_status_change=hook).scan(
    datetime(2025, 8, 10, 8, 0, tzinfo=timezone.utc))
"""


def test_a_watcher_killed_inside_its_hook_loses_no_escalation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sla.db'}"
    engine = _calendar_time_engine(tmp_path, url)
    iid = engine.start("review_loop", actor=STAF).instance_id
    engine.store.close()  # type: ignore[attr-defined]
    killed = subprocess.run([sys.executable, "-c", KILLED_HOOK, url, "kill"],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9
    again = subprocess.run([sys.executable, "-c", KILLED_HOOK, url, "run"],
                           capture_output=True, text=True, timeout=120, check=True)
    assert f"announced at_risk {iid}" in again.stdout or f"announced breached {iid}" in (
        again.stdout)
    once = subprocess.run([sys.executable, "-c", KILLED_HOOK, url, "run"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert once.stdout == ""  # recorded after the hook returned: announced once


def test_a_scan_row_with_damaged_times_is_left_out_and_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sla.db'}"
    engine = _calendar_time_engine(tmp_path, url)
    good = engine.start("review_loop", actor=STAF).instance_id
    bad = engine.start("review_loop", actor=STAF).instance_id
    con = sqlite3.connect(tmp_path / "sla.db")
    con.execute("UPDATE sopflow_steps SET due_at = 'soon' WHERE instance = "
                "(SELECT id FROM sopflow_instances WHERE uuid = ?)", (bad,))
    con.commit()
    con.close()
    result = Monitor(engine.store).scan(engine.clock.now())
    assert [s.instance_id for s in result] == [good]
    assert [d[0] for d in result.damaged] == [bad]


@pytest.fixture
def engine(review_loop, store, clock) -> Engine:  # type: ignore[no-untyped-def]
    from tests.conftest import ListCatalog

    return Engine(ListCatalog(review_loop), store, clock=clock)
