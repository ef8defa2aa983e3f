"""The SLA monitor, specified on the three-step review loop (see tests/test_engine.py).

Step 1 (pelaksana, "30 menit"), step 2 (sekcam, "1 hari", decides), step 3 (camat,
"15 Menit"). The clock starts Monday 4 August 2025 08:00 WIB, so step 1 is due 08:30 and
at risk from 08:24 (80% of 30 working minutes).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import structlog
from tests.conftest import ListCatalog

from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor, to_ms
from sopflow.sla.monitor import MET, MISSED, Monitor, SlaEvent
from sopflow.sla.policy import SlaPolicy
from sopflow.stores import open_store
from sopflow.stores._schema import MIGRATIONS, SCHEMA_VERSION
from sopflow.stores.base import Store
from sopflow.stores.sqlite import SQLiteStore
from sopflow.testing import FakeClock, capture_events

STAF = Actor("budi", {"pelaksana"})
SEKCAM = Actor("sari", {"sekcam"})
CAMAT = Actor("camat.pak", {"camat"})


@pytest.fixture(autouse=True)
def _default_logging() -> None:
    """Another test's CLI run may have configured structlog to drop warnings."""
    structlog.reset_defaults()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def statuses(monitor: Monitor, when: str) -> list[tuple[str, int | None, str]]:
    return [(s.instance_id, s.step_no, s.status) for s in monitor.scan(at(when))]


def test_an_open_step_goes_on_track_then_at_risk_then_breached(
    engine: Engine, store: Store
) -> None:
    iid = engine.start("review_loop", actor=STAF).instance_id
    monitor = Monitor(store)
    [s] = monitor.scan(at("2025-08-04T08:10:00+07:00"))
    assert (s.instance_id, s.process_id, s.task, s.step_no, s.role) == (
        iid, "review_loop", "step_01", 1, "pelaksana",
    )
    assert s.standard == "30 menit"
    assert s.ready_at == at("2025-08-04T08:00:00+07:00")
    assert s.due_at == at("2025-08-04T08:30:00+07:00")
    assert s.risk_at == at("2025-08-04T08:24:00+07:00")
    assert (s.status, s.elapsed_minutes, s.remaining_minutes) == ("on_track", 10.0, 20.0)
    assert statuses(monitor, "2025-08-04T08:23:59+07:00") == [(iid, 1, "on_track")]
    assert statuses(monitor, "2025-08-04T08:24:00+07:00") == [(iid, 1, "at_risk")]
    assert statuses(monitor, "2025-08-04T08:29:59+07:00") == [(iid, 1, "at_risk")]
    [late] = monitor.scan(at("2025-08-04T08:30:00+07:00"))
    assert late.status == "breached" and late.remaining_minutes == 0.0
    [later] = monitor.scan(at("2025-08-04T09:15:00+07:00"))
    assert (later.status, later.elapsed_minutes, later.remaining_minutes) == (
        "breached", 75.0, -45.0,
    )


def test_elapsed_time_is_working_time_on_the_calendar(
    engine: Engine, store: Store, clock: FakeClock
) -> None:
    clock.set("2025-08-04T11:45:00+07:00")  # Monday, 15 minutes before the lunch break
    engine.start("review_loop", actor=STAF)
    [s] = Monitor(store).scan(at("2025-08-04T13:15:00+07:00"))
    # 11:45-12:00 and 13:00-13:15: the break does not count
    assert s.elapsed_minutes == 30.0
    assert s.due_at == at("2025-08-04T13:15:00+07:00") and s.status == "breached"
    # Nights and the weekend do not count either
    [s] = Monitor(store).scan(at("2025-08-09T10:00:00+07:00"))  # Saturday
    # Mon 11:45-12:00 and 13:00-16:00, Tue-Thu 7.5 hours, Fri 07:30-11:30 and 13:00-16:30
    assert s.elapsed_minutes == 15 + 180 + 3 * 450 + 240 + 210


def test_most_urgent_first_and_no_standard_last(
    review_loop: ProcessDefinition, store: Store, clock: FakeClock
) -> None:
    jadwal = _variant(review_loop, {"30 menit": "sesuai jadwal"}, "jadwal_loop")
    engine = Engine(ListCatalog(review_loop, jadwal), store, clock=clock)
    free = engine.start("jadwal_loop", actor=STAF).instance_id
    clock.advance(minutes=5)
    late = engine.start("review_loop", actor=STAF).instance_id  # due 08:35
    clock.advance(minutes=20)
    fresh = engine.start("review_loop", actor=STAF).instance_id  # due 08:55
    first = engine.start("review_loop", actor=STAF).instance_id  # due 08:55
    engine.complete(first, 1, actor=STAF, at=at("2025-08-04T08:26:00+07:00"))  # step 2: 1 hari
    got = statuses(Monitor(store), "2025-08-04T08:50:00+07:00")
    assert got == [
        (late, 1, "breached"),
        (fresh, 1, "at_risk"),  # 25 of 30 minutes used
        (first, 2, "on_track"),
        (free, 1, "no_standard"),
    ]


def test_a_step_without_standard_is_never_breached(
    review_loop: ProcessDefinition, store: Store, clock: FakeClock
) -> None:
    jadwal = _variant(review_loop, {"30 menit": "sesuai jadwal"}, "jadwal_loop")
    engine = Engine(ListCatalog(jadwal), store, clock=clock)
    engine.start("jadwal_loop", actor=STAF)
    events: list[SlaEvent] = []
    monitor = Monitor(store, on_status_change=events.append)
    for when in ("2025-08-04T08:01:00+07:00", "2025-09-04T08:00:00+07:00", "2030-01-01T00:00Z"):
        [s] = monitor.scan(at(when))
        assert (s.status, s.due_at, s.standard_minutes, s.remaining_minutes) == (
            "no_standard", None, None, None,
        )
    assert events == []


def test_the_hook_is_called_once_per_step_and_status(engine: Engine, store: Store) -> None:
    iid = engine.start("review_loop", actor=STAF).instance_id
    events: list[SlaEvent] = []
    monitor = Monitor(store, on_status_change=events.append)
    seen = []
    with capture_events() as logged:
        for minute in (10, 20, 24, 25, 26, 30, 31, 45, 59):
            monitor.scan(at(f"2025-08-04T08:{minute:02d}:00+07:00"))
            seen.append([e.status for e in events])
    assert seen[:2] == [[], []]
    assert seen[2:5] == [["at_risk"]] * 3
    assert seen[5:] == [["at_risk", "breached"]] * 4
    assert [(e.step.instance_id, e.step.task) for e in events] == [(iid, "step_01")] * 2
    assert events[1].at == at("2025-08-04T08:30:00+07:00")
    sla = [e for e in logged if e["event"].startswith("sla.")]
    assert [e["event"] for e in sla] == ["sla.at_risk", "sla.breached"]
    assert sla[1]["instance_id"] == iid and sla[1]["process_id"] == "review_loop"
    assert (sla[1]["task_id"], sla[1]["step_no"], sla[1]["role"]) == ("step_01", 1, "pelaksana")
    assert sla[1]["due_at"] == "2025-08-04T01:30:00+00:00"
    assert sla[1]["log_level"] == "warning"


def test_each_pass_of_a_step_is_escalated_on_its_own(
    engine: Engine, store: Store, clock: FakeClock
) -> None:
    iid = engine.start("review_loop", actor=STAF).instance_id
    events: list[SlaEvent] = []
    monitor = Monitor(store, on_status_change=events.append)
    monitor.scan(at("2025-08-04T08:40:00+07:00"))
    engine.complete(iid, 1, actor=STAF, at=at("2025-08-04T08:41:00+07:00"))
    engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": False},
                    at=at("2025-08-04T08:42:00+07:00"))  # returned: step 1 again
    monitor.scan(at("2025-08-04T09:30:00+07:00"))
    assert [(e.step.step_no, e.status, e.step.ready_at) for e in events] == [
        (1, "breached", at("2025-08-04T08:00:00+07:00")),
        (1, "breached", at("2025-08-04T08:42:00+07:00")),
    ]


def test_a_jump_straight_to_breached_is_announced_once_never_as_at_risk_afterwards(
    engine: Engine, store: Store
) -> None:
    engine.start("review_loop", actor=STAF)
    events: list[SlaEvent] = []
    monitor = Monitor(store, on_status_change=events.append)
    monitor.scan(at("2025-08-04T09:00:00+07:00"))
    monitor.scan(at("2025-08-04T08:25:00+07:00"))  # a back-dated scan sees it "at risk"
    assert [e.status for e in events] == ["breached"]


def test_two_monitors_on_one_database_notify_once(
    review_loop: ProcessDefinition, tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'sop.db'}"
    with open_store(url) as writer:
        engine = Engine(ListCatalog(review_loop), writer, clock=clock)
        engine.start("review_loop", actor=STAF)
        engine.start("review_loop", actor=STAF)
    a_events: list[SlaEvent] = []
    b_events: list[SlaEvent] = []
    with open_store(url) as a_store, open_store(url) as b_store:
        a = Monitor(a_store, on_status_change=a_events.append)
        b = Monitor(b_store, on_status_change=b_events.append)
        a.scan(at("2025-08-04T08:25:00+07:00"))
        b.scan(at("2025-08-04T08:25:00+07:00"))
        b.scan(at("2025-08-04T08:31:00+07:00"))
        a.scan(at("2025-08-04T08:31:00+07:00"))
        a.scan(at("2025-08-04T08:45:00+07:00"))
    assert [e.status for e in a_events] == ["at_risk", "at_risk"]
    assert [e.status for e in b_events] == ["breached", "breached"]
    with open_store(url) as again:  # and a monitor started later still remembers
        late: list[SlaEvent] = []
        Monitor(again, on_status_change=late.append).scan(at("2025-08-05T08:00:00+07:00"))
        assert late == []


def test_a_failing_hook_is_logged_and_retried_on_the_next_scan(
    engine: Engine, store: Store
) -> None:
    engine.start("review_loop", actor=STAF)
    calls: list[str] = []

    def flaky(event: SlaEvent) -> None:
        calls.append(event.status)
        if len(calls) == 1:
            raise ConnectionError("mail server down")

    monitor = Monitor(store, on_status_change=flaky)
    with capture_events() as logged:
        monitor.scan(at("2025-08-04T08:25:00+07:00"))
        monitor.scan(at("2025-08-04T08:26:00+07:00"))
        monitor.scan(at("2025-08-04T08:27:00+07:00"))
    assert calls == ["at_risk", "at_risk"]
    failed = [e for e in logged if e["event"] == "sla.hook_failed"]
    assert len(failed) == 1 and "mail server down" in failed[0]["error"]


def test_a_plain_scan_neither_records_nor_logs(engine: Engine, store: Store) -> None:
    iid = engine.start("review_loop", actor=STAF).instance_id
    with capture_events() as logged:
        Monitor(store).scan(at("2025-08-04T09:00:00+07:00"))
    assert logged == [] and store.escalations(iid) == []
    Monitor(store, escalate=True).scan(at("2025-08-04T09:00:00+07:00"))
    assert [(s, when) for _, s, when in store.escalations(iid)] == [
        ("at_risk", to_ms(at("2025-08-04T09:00:00+07:00"))),
        ("breached", to_ms(at("2025-08-04T09:00:00+07:00"))),
    ]


def test_a_scan_is_one_sql_query(tmp_path: Path, review_loop: ProcessDefinition,
                                 clock: FakeClock) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'one.db'}")
    assert isinstance(store, SQLiteStore)
    engine = Engine(ListCatalog(review_loop), store, clock=clock)
    for _ in range(30):
        engine.start("review_loop", actor=STAF)
    monitor = Monitor(store, escalate=True)
    monitor.scan(at("2025-08-04T09:00:00+07:00"))  # records the breaches
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        found = monitor.scan(at("2025-08-04T09:05:00+07:00"))
        plain = Monitor(store).scan(at("2025-08-04T09:05:00+07:00"), role="pelaksana")
    finally:
        store._conn.set_trace_callback(None)
        store.close()
    assert len(found) == len(plain) == 30
    assert len(statements) == 2, statements
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements)
    assert "sopflow_instances" in statements[0] and "state" not in statements[0].split("FROM")[0]


def test_filters_and_closed_instances(engine: Engine, store: Store) -> None:
    a = engine.start("review_loop", actor=STAF).instance_id
    b = engine.start("review_loop", actor=STAF).instance_id
    c = engine.start("review_loop", actor=STAF).instance_id
    engine.complete(b, 1, actor=STAF)
    engine.cancel(c, reason="salah input", actor=CAMAT)
    monitor = Monitor(store)
    now = "2025-08-04T08:40:00+07:00"
    assert {(i, n) for i, n, _ in statuses(monitor, now)} == {(a, 1), (b, 2)}
    assert [s.instance_id for s in monitor.scan(at(now), role="sekcam")] == [b]
    assert monitor.scan(at(now), process_id="other") == []
    assert monitor.scan(at(now), role="inspektorat") == []


def test_scan_time_must_carry_a_zone(engine: Engine, store: Store) -> None:
    from sopflow.errors import ClockError

    engine.start("review_loop", actor=STAF)
    with pytest.raises(ClockError):
        Monitor(store).scan(datetime(2025, 8, 4, 9, 0))


def test_completed_steps_met_or_missed_with_the_overrun(
    engine: Engine, store: Store, clock: FakeClock
) -> None:
    iid = engine.start("review_loop", actor=STAF).instance_id
    clock.advance(minutes=30)  # exactly at due: met
    engine.complete(iid, 1, actor=STAF)
    clock.set("2025-08-05T10:00:00+07:00")  # "1 hari" from Mon 08:30: due Tue 08:30
    engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": True})
    clock.set("2025-08-05T12:30:00+07:00")  # "15 Menit" from 10:00: due 10:15
    engine.complete(iid, 3, actor=CAMAT)
    done = Monitor(store).completed(instance_id=iid)
    got = [(d.row.step_no, d.status, d.actual_minutes, d.standard_minutes, d.overrun_minutes)
           for d in done]
    assert got == [
        (1, MET, 30.0, 30.0, 0.0),
        (2, MISSED, 540.0, 450.0, 90.0),
        (3, MISSED, 120.0, 15.0, 105.0),  # 12:00-13:00 is the break
    ]
    assert done[1].due_at == at("2025-08-05T08:30:00+07:00")


def test_a_step_done_after_hours_past_due_is_missed_by_zero_working_minutes(
    engine: Engine, store: Store, clock: FakeClock
) -> None:
    clock.set("2025-08-08T16:00:00+07:00")  # Friday; due 16:30, the end of the day
    iid = engine.start("review_loop", actor=STAF).instance_id
    engine.complete(iid, 1, actor=STAF, at=at("2025-08-09T09:00:00+07:00"))  # Saturday
    [d] = Monitor(store).completed(instance_id=iid)
    assert (d.status, d.actual_minutes, d.overrun_minutes) == (MISSED, 30.0, 0.0)


def test_the_process_calendar_is_used_for_elapsed_time(
    review_loop: ProcessDefinition, store: Store, clock: FakeClock
) -> None:
    from sopflow.sla.calendar import WorkCalendar

    policy = SlaPolicy(calendars={"review_loop": WorkCalendar.always()})
    engine = Engine(ListCatalog(review_loop), store, clock=clock, sla=policy)
    clock.set("2025-08-08T16:00:00+07:00")
    engine.start("review_loop", actor=STAF)
    [s] = Monitor(store, policy=policy).scan(at("2025-08-08T16:45:00+07:00"))
    assert (s.elapsed_minutes, s.status) == (45.0, "breached")  # 24x7: no end of day
    [s] = Monitor(store).scan(at("2025-08-08T16:45:00+07:00"))
    assert s.elapsed_minutes == 30.0  # the default calendar stops at 16:30 on Friday


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[1]:
        assert isinstance(statement, str)
        conn.execute(statement.format(pk="INTEGER PRIMARY KEY", blob="BLOB", bigint="INTEGER"))
    conn.execute("INSERT INTO sopflow_meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        assert isinstance(store, SQLiteStore) and store.schema_version() == SCHEMA_VERSION
        assert store.scan_open() == []


def test_watch_scans_count_times_and_sleeps_between(engine: Engine, store: Store) -> None:
    engine.start("review_loop", actor=STAF)
    slept: list[float] = []
    seen: list[int] = []
    monitor = Monitor(store)
    n = monitor.watch(every=2.5, count=3, at=at("2025-08-04T09:00:00+07:00"),
                      on_scan=lambda r: seen.append(len(r)), sleep=slept.append)
    assert (n, seen, slept) == (3, [1, 1, 1], [2.5, 2.5])
    with pytest.raises(ValueError):
        monitor.watch(every=0, count=1)


def _variant(
    definition: ProcessDefinition, replace: dict[str, str], process_id: str
) -> ProcessDefinition:
    xml = definition.xml.decode()
    for old, new in replace.items():
        assert old in xml
        xml = xml.replace(f'value="{old}"', f'value="{new}"')
    xml = xml.replace('id="review_loop"', f'id="{process_id}"').replace(
        'processRef="review_loop"', f'processRef="{process_id}"'
    )
    return load_definition_bytes(xml.encode(), source=f"{process_id}.bpmn")





def test_a_scan_result_is_a_sequence_most_urgent_first(store, clock) -> None:
    from tests.conftest import ROOT

    from sopflow.definitions.catalog import Catalog
    from sopflow.sla.monitor import ScanResult

    engine = Engine(Catalog.from_directory(ROOT / "bpmn"), store, clock=clock)
    camat = Actor("c", {"camat"})
    for process in ("purbalingga_pengukuran_kinerja", "cibatu_data_kinerja"):
        engine.start(process, actor=camat)  # 15 Menit / no standard
    result = Monitor(store).scan(clock.now() + timedelta(minutes=20))
    assert isinstance(result, ScanResult) and len(result) == 2
    assert result.counts() == {"breached": 1, "at_risk": 0, "on_track": 0, "no_standard": 1}
    assert [s.status for s in result] == ["breached", "no_standard"]
    assert result[-1].status == "no_standard" and result[0:1][0].status == "breached"
    with pytest.raises(IndexError):
        result[2]
