"""An embedded library stays silent until the application configures logging (issue 15).

structlog's default prints every event to stdout; sopflow's events must not, so an
application that never configured structlog sees nothing, and one that did sees them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
from sopflow.definitions.catalog import Catalog
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.sla.monitor import Monitor
from sopflow.stores import open_store
from sopflow.testing import FakeClock

if sys.argv[1] == "configured":
    import structlog
    structlog.configure()  # the application's own choice: structlog's defaults
engine = Engine(Catalog.from_directory(sys.argv[2]), open_store("memory://"),
                clock=FakeClock("2025-08-04T08:00:00+07:00"))
p = engine.start("pace_data_kinerja", actor=Actor("x", "camat"))
engine.claim(p.instance_id, 1, actor=Actor("x", "camat"))
engine.complete(p.instance_id, 1, actor=Actor("x", "camat"))
Monitor(engine.store, escalate=True).scan(engine.clock.now().replace(year=2026))
"""


def _run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(ROOT / "bpmn")],
        capture_output=True, text=True, timeout=120, check=True,
    )


def test_a_script_that_starts_and_completes_steps_prints_nothing() -> None:
    done = _run("plain")
    assert (done.stdout, done.stderr) == ("", "")


def test_once_the_application_configures_structlog_the_events_flow() -> None:
    done = _run("configured")
    assert "instance.started" in done.stdout and "sla.breached" in done.stdout
