"""The demo: a few simulated weeks of four kecamatan offices working their SOPs.

``sopflow demo`` shows in under a minute what sopflow is for: simulated officers work
the four shipped SOPs on the real Indonesian work calendar (office hours, weekends,
17 August and its cuti bersama; WITA for Long Ikis), mostly within the Mutu Baku
standards, sometimes over them, sometimes sending a report back ("Tidak"). Then the
SLA monitor scans the open steps, the per-SOP monitoring figures go to the terminal and
an HTML report with the pictures is written.

Everything random comes from one seeded ``random.Random``, and simulated time from
per-instance :class:`~sopflow.testing.FakeClock` s, so the same seed gives the same
history, figures and pictures (only the engine's random instance ids differ; the demo
names instances by a number it stores in the instance data instead).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sopflow.authority.demo import acting_case, import_demo_staff, staff_names
from sopflow.definitions.catalog import Catalog, bpmn_files
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import DefinitionError, StoreError
from sopflow.logging import get_logger
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor, WorkItem
from sopflow.sla.monitor import Monitor
from sopflow.sla.policy import SlaPolicy
from sopflow.testing import FakeClock, SimulatedStaff

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_OUT",
    "DemoInstance",
    "DemoRun",
    "find_catalog",
    "prepare_database",
    "run_demo",
    "simulate",
]

log = get_logger(__name__)

#: The demo's own database file: never the user's ``sopflow.db``.
DEFAULT_DB = "sopflow-demo.db"
DEFAULT_OUT = "demo-report.html"
#: Monday 4 August 2025, 07:30 WIB: three weeks from here cross 17 August (a Sunday)
#: and the cuti bersama on Monday 18 August, so the calendar visibly matters.
DEMO_START = datetime(2025, 8, 4, 7, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
#: The key of the demo's own instance number in the instance data.
DEMO_NO = "nomor_demo"

_SQLITE_MAGIC = b"SQLite format 3\x00"


# ----------------------------------------------------------------------------- setup


def find_catalog(cwd: Path | None = None) -> Path:
    """``bpmn/`` under the working directory, else the SOPs shipped in the package."""
    from sopflow.definitions import catalog

    here = (cwd or Path.cwd()) / "bpmn"
    shipped = catalog.builtin_directory()
    for candidate in (here, shipped):
        if candidate.is_dir() and bpmn_files(candidate):
            return candidate
    raise DefinitionError(
        f"no SOP catalog found (looked for *.bpmn in {here} and {shipped}); "
        "reinstall sopflow (the package ships its SOPs)"
    )


def prepare_database(db: str | None, cwd: Path | None = None) -> str:
    """A fresh SQLite database for the demo; returns its store URL.

    The file is deleted and recreated, so the demo refuses anything that could be real
    data: a file named ``sopflow.db`` (the default database of the other verbs), a
    non-SQLite URL, or an existing file that is not a SQLite database at all.
    """
    base = cwd or Path.cwd()
    if db is None:
        path = base / DEFAULT_DB
    elif db == "memory://":
        return db
    elif db.startswith("sqlite:///"):
        raw = db[len("sqlite:///"):].split("?", 1)[0]
        if not raw:
            raise StoreError(f"{db}: no database path (write sqlite:///demo.db)")
        path = Path(raw) if Path(raw).is_absolute() else base / raw
    else:
        raise StoreError(
            f"{db}: the demo recreates its database, so it only takes sqlite:///FILE or "
            "memory:// (not a shared server database)"
        )
    if path.name == "sopflow.db":
        raise StoreError(
            f"{path}: the demo deletes and recreates its database; refusing sopflow.db "
            f"(use the default {DEFAULT_DB})"
        )
    if path.exists():
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            raise StoreError(f"{path}: exists and is not a SQLite database; refusing to delete it")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


# ----------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class DemoInstance:
    """One simulated case: which SOP, its demo number, and how far it got."""

    number: str
    process_id: str
    instance_id: str
    started_at: datetime
    steps_done: int
    returns: int
    completed: bool


@dataclass
class _Next:
    """What the staff will do on the step they take next (decided before they do it)."""

    duration: timedelta = timedelta(0)
    approve: bool = True


@dataclass
class _Planner:
    """Seeded choices: how long each step takes, whether a decision says Tidak.

    Each (process, step) gets its own typical pace, so a few steps stand out as
    bottlenecks the way real ones do, instead of every step missing equally often.
    """

    rng: random.Random
    policy: SlaPolicy
    pace: dict[tuple[str, str], float] = field(default_factory=dict)

    def typical(self, process_id: str, task: str) -> float:
        key = (process_id, task)
        if key not in self.pace:
            slow = self.rng.random() < 0.25
            self.pace[key] = self.rng.uniform(0.85, 1.5) if slow else self.rng.uniform(0.3, 0.7)
        return self.pace[key]

    def working_minutes(self, definition: ProcessDefinition, item: WorkItem) -> float:
        """A lognormal spread around the step's pace, as a share of its standard."""
        step = definition.step(item.task_id)
        factor = self.typical(definition.process_id, item.task_id) * math.exp(
            self.rng.gauss(0.0, 0.35)
        )
        if self.rng.random() < 0.05:  # the officer is away (dinas luar, leave): far over
            factor = self.rng.uniform(2.0, 5.0)
        due, _ = self.policy.deadlines(definition, step, item.ready_at) if step else (None, None)
        if due is None:  # no standard: an hour or a few
            return self.rng.uniform(30.0, 300.0)
        cal = self.policy.calendar_for(definition)
        standard = cal.working_minutes_between(item.ready_at, due)
        return max(2.0, min(factor, 6.0) * standard)

    def approve(self, passes: int) -> bool:
        """First submissions are sent back more often than corrected ones."""
        return self.rng.random() >= (0.3 if passes <= 1 else 0.1)


def _start_times(
    rng: random.Random, definition: ProcessDefinition, policy: SlaPolicy, weeks: int,
    horizon: datetime,
) -> list[datetime]:
    """Two or three cases a week per SOP, on working days, during office hours."""
    cal = policy.calendar_for(definition)
    tz = cal.time_zone
    first = DEMO_START.astimezone(tz).date()
    starts: list[datetime] = []
    for week in range(weeks):
        days = [
            d for d in (first + timedelta(days=7 * week + i) for i in range(5))
            if cal.is_working_day(d)
        ]
        for day in sorted(rng.sample(days, min(len(days), rng.randint(2, 3)))):
            minute = rng.randint(8 * 60, 13 * 60 + 30)
            local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
            moment = cal.next_working_moment(local)
            if moment < horizon - timedelta(hours=1):
                starts.append(moment)
    return starts


def _horizon(weeks: int) -> datetime:
    """Friday 14:00 WIB of the last simulated week: when the monitor looks."""
    friday: date = (DEMO_START + timedelta(days=7 * (weeks - 1) + 4)).date()
    return datetime(friday.year, friday.month, friday.day, 14, 0, tzinfo=DEMO_START.tzinfo)


def simulate(
    engine: Engine,
    catalog: Catalog,
    *,
    seed: int,
    weeks: int,
    policy: SlaPolicy,
) -> tuple[list[DemoInstance], datetime]:
    """Start and work cases of every SOP until the horizon; returns them and the horizon."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    rng = random.Random(seed)
    planner = _Planner(rng, policy)
    horizon = _horizon(weeks)
    out: list[DemoInstance] = []
    for definition in sorted(catalog, key=lambda d: d.process_id):
        code = (definition.header.kecamatan or definition.process_id).upper().replace(" ", "")
        names: Mapping[str, str] = {
            lane.role: f"{lane.role}.{code.lower()}" for lane in definition.lanes
        }
        for n, start in enumerate(_start_times(rng, definition, policy, weeks, horizon), 1):
            number = f"{code}-{n:03d}"
            names = staff_names(engine, definition, names, start)
            first = definition.step_by_no(1) or definition.steps[0]
            progress = engine.start(
                definition.process_id,
                actor=Actor(names.get(first.role, first.role), first.role),
                data={DEMO_NO: number},
                at=start,
            )
            out.append(
                _work(engine, definition, progress.instance_id, number, start, names, planner,
                      horizon)
            )
    return out, horizon


def _work(
    engine: Engine,
    definition: ProcessDefinition,
    instance_id: str,
    number: str,
    start: datetime,
    names: Mapping[str, str],
    planner: _Planner,
    horizon: datetime,
) -> DemoInstance:
    clock = FakeClock(start)
    names = staff_names(engine, definition, names, clock.now)
    plan = _Next()
    staff = SimulatedStaff(
        engine, clock, duration=lambda item: plan.duration, decide=lambda item: plan.approve,
        names=names,
    )
    cal = planner.policy.calendar_for(definition)
    passes: dict[str, int] = {}
    done = returns = 0
    while True:
        items = engine.work_list(instance_id=instance_id, at=clock.now())
        if not items:
            break
        item = items[0]
        passes[item.task_id] = passes.get(item.task_id, 0) + 1
        finish = cal.add_working_minutes(clock.now(), planner.working_minutes(definition, item))
        if finish > horizon:
            break  # still being worked on when the monitor looks
        plan.duration = finish - clock.now()
        step = definition.step(item.task_id)
        plan.approve = True
        if step is not None and step.decision_field is not None:
            plan.approve = planner.approve(passes[item.task_id])
            returns += not plan.approve
        staff.work(instance_id, max_steps=1)
        done += 1
    completed = not engine.work_list(instance_id=instance_id, at=clock.now())
    return DemoInstance(number, definition.process_id, instance_id, start, done, returns,
                        completed)


# ----------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class DemoRun:
    """What ``run_demo`` did, for the CLI's closing lines and for tests."""

    db_url: str
    out: Path
    catalog: Path
    instances: tuple[DemoInstance, ...]
    at: datetime
    seconds: float


def run_demo(
    *,
    db: str | None = None,
    out: str | Path = DEFAULT_OUT,
    seed: int = 2025,
    weeks: int = 3,
    catalog_dir: str | Path | None = None,
    cwd: Path | None = None,
    echo: Callable[[str], None] = print,
) -> DemoRun:
    """Simulate, scan, report: the whole demo. ``echo`` receives the terminal text."""
    from sopflow.stores import open_store

    began = time.perf_counter()
    base = cwd or Path.cwd()
    catalog_path = Path(catalog_dir) if catalog_dir is not None else find_catalog(base)
    catalog = Catalog.from_directory(catalog_path)
    url = prepare_database(db, base)
    policy = SlaPolicy()
    target = Path(out) if Path(out).is_absolute() else base / out
    with open_store(url) as store:
        import_demo_staff(store)  # the four kecamatan's officials (docs/authority.md)
        engine = Engine(catalog, store, sla=policy)
        echo(
            f"sopflow demo: {len(list(catalog))} SOPs from {catalog_path}, {weeks} simulated "
            f"week(s) from {DEMO_START:%a %d %b %Y}, seed {seed}, database {url}"
        )
        instances, horizon = simulate(engine, catalog, seed=seed, weeks=weeks, policy=policy)
        _write_outputs(engine, policy, instances, horizon, target, echo)
    seconds = time.perf_counter() - began
    echo(f"done in {seconds:.1f} s")
    return DemoRun(url, target, catalog_path, tuple(instances), horizon, seconds)


# ----------------------------------------------------------------------------- outputs


def _write_outputs(
    engine: Engine,
    policy: SlaPolicy,
    instances: list[DemoInstance],
    at: datetime,
    target: Path,
    echo: Callable[[str], None],
) -> None:
    """The SLA scan and per-SOP reports on the terminal; the HTML report with pictures."""
    from sopflow.reports.report import format_report
    from sopflow.reports.stats import instance_report, process_report

    store = engine.store
    monitor = Monitor(store, policy=policy, definitions=engine.definition)
    open_steps = monitor.scan(at=at)
    numbers = {i.instance_id: i.number for i in instances}
    done = sum(i.completed for i in instances)
    echo(
        f"simulated {len(instances)} cases: {done} completed, {len(instances) - done} open, "
        f"{sum(i.steps_done for i in instances)} steps done, "
        f"{sum(i.returns for i in instances)} sent back (Tidak)"
    )
    echo("")
    echo(f"SLA scan at {at:%a %d %b %Y %H:%M} WIB: {len(open_steps)} open steps, most urgent first")
    rows = [
        [
            s.status,
            numbers.get(s.instance_id, s.instance_id[:8]),
            f"{s.step_no}",
            s.role or "",
            s.standard or "-",
            f"{s.elapsed_minutes:.0f}",
            "-" if s.due_at is None else _local(s.due_at, s.calendar.time_zone),
        ]
        for s in open_steps
    ]
    echo(_table(rows, ["status", "case", "step", "role", "standard", "worked min", "due"]))
    reports: list[Any] = []
    for definition in sorted(engine.catalog, key=lambda d: d.process_id):
        report = process_report(
            store, definition.process_id, definitions=engine.definition, policy=policy, at=at,
            definition=definition,
        )
        echo("")
        echo(format_report([report], "table").rstrip())
        reports.append(report)
        cases = [i for i in instances if i.process_id == definition.process_id]
        # a case with a step signed by a Plh./Plt., if any: the report shows how it reads
        case = acting_case(store, cases) or _showcase(cases)
        if case is not None:
            reports.append(
                instance_report(
                    store, case.instance_id, definitions=engine.definition, policy=policy, at=at
                )
            )
    target.write_text(format_report(reports, "html"), encoding="utf-8")
    echo("")
    echo(f"report: {target}")
    echo(
        "in a browser: sopflow serve --demo (needs sopflow[web]); log in as the Sekcam of "
        "Purbalingga, NIP 199002172015032003, password sopflow-demo"
    )


def _showcase(cases: list[DemoInstance]) -> DemoInstance | None:
    """The case worth a picture: an open one if any, else the one with most returns."""
    if not cases:
        return None
    open_cases = [c for c in cases if not c.completed and c.steps_done]
    return max(open_cases or cases, key=lambda c: (c.returns, c.steps_done, c.number))


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%a %d %b %H:%M}"


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)
