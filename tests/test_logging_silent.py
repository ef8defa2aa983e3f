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


#: the CLI's deferred configuration (``sopflow serve`` too), then the first events of
#: many threads at once, as a server's thread pool sends them
THREADS = """
import io, sys, threading
from sopflow.logging import configure_logging, get_logger

out = io.StringIO()
configure_logging(level="info", stream=out, on_first_event=True)
assert "structlog" not in sys.modules  # deferred: nothing imported yet
barrier = threading.Barrier(16)
failures = []

def first_event(n):
    barrier.wait()
    try:
        get_logger("sopflow.test").info("task.completed", n=n)
    except Exception as exc:
        failures.append(repr(exc))

threads = [threading.Thread(target=first_event, args=(n,)) for n in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(failures), out.getvalue().count("task.completed"), failures[:1])
"""


def test_the_first_events_of_many_threads_are_all_logged_none_fails() -> None:
    """A server's first requests log from several threads while structlog is still being
    imported and configured: each event waits for the one configuration, none is dropped
    and none meets a half-imported structlog (seen as a 500 from `sopflow serve`)."""
    for _ in range(3):  # the race needs the threads inside the import's window
        done = subprocess.run(
            [sys.executable, "-c", THREADS], capture_output=True, text=True, timeout=120,
            check=True,
        )
        assert done.stdout.split(" ", 2)[:2] == ["0", "16"], done.stdout
