"""Shared by the example scripts: run one seed SOP end to end and print its trail.

Everything here is the public API: a Catalog of the shipped BPMN files, an Engine over an
in-memory store, simulated staff on a fake clock. An application would use a real store
(``open_store("sqlite:///sopflow.db")``) and real people completing steps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sopflow import Catalog, Engine, SlaPolicy, WorkItem, configure_logging, open_store
from sopflow.testing import FakeClock, SimulatedStaff, StepLog

CATALOG = Path(__file__).resolve().parent.parent / "bpmn"


def run(
    process_id: str,
    *,
    decide: Callable[[WorkItem], bool] = lambda item: True,
    start: datetime = datetime(2025, 8, 11, 8, 0),
) -> str:
    """Start one instance of ``process_id`` and let simulated staff finish it."""
    # The audit trail goes to structlog; warnings only here, the example prints its own trail.
    configure_logging(level="warning")
    catalog = Catalog.from_directory(CATALOG)
    definition = catalog.get(process_id)
    sla = SlaPolicy()
    calendar = sla.calendar_for(definition)  # WIB, or WITA for Long Ikis (its zona_waktu)
    tz = calendar.time_zone
    clock = FakeClock(start.replace(tzinfo=tz))
    engine = Engine(catalog, open_store("memory://"), clock=clock, sla=sla)

    def duration(item: WorkItem) -> timedelta:
        # People work office hours: a step takes 60% of its standard in working time
        # (or 20 working minutes when the SOP gives no standard).
        now = clock.now()
        due = item.due_at
        minutes = 20.0 if due is None else calendar.working_minutes_between(now, due) * 0.6
        return calendar.add_working_minutes(now, minutes) - now

    staff = SimulatedStaff(engine, clock, duration=duration, decide=decide)
    first = sorted(catalog.get(process_id).steps, key=lambda s: s.no)[0]
    print(f"== {definition.name} ({process_id})")
    progress = engine.start(process_id, actor=staff.actor(first.role))
    print(f"started instance {progress.instance_id} at {clock.now():%a %d %b %Y %H:%M} ({tz})")

    def show(entry: StepLog) -> None:
        item = entry.item
        decision = ""
        if entry.data:
            decision = "  -> " + ("Ya" if next(iter(entry.data.values())) else "Tidak")
        due = f"due {item.due_at.astimezone(tz):%a %d %H:%M}" if item.due_at else "no standard"
        print(
            f"  {item.step_no:>2}. [{item.role:<9}] {entry.actor:<14} "
            f"done {entry.completed_at.astimezone(tz):%a %d %b %H:%M} ({due}){decision}"
            f"  {item.name[:60]}"
        )

    staff.work(progress.instance_id, on_step=show)
    view = engine.status(progress.instance_id)
    returns = sum(1 for h in view.history for d in h.path if d.label == "Tidak")
    print(f"instance {view.status}: {len(view.history)} steps done, {returns} return(s)")
    return view.status


def reject_first(step_nos: set[int]) -> Callable[[WorkItem], bool]:
    """A decision maker who sends each listed step back once, then approves."""
    seen: set[int] = set()

    def decide(item: WorkItem) -> bool:
        if item.step_no in step_nos and item.step_no not in seen:
            seen.add(item.step_no)
            return False
        return True

    return decide
