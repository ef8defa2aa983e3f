"""Service tasks, external tasks, retries and incidents (BPMN 2.0 10.3.3 service task).

A service task's work is a job written with the state that reached it: whatever the
work does, the state before it is kept. A failing handler is retried with back-off
(Camunda's ``failedJobRetryTimeCycle`` when given) and then becomes an incident that a
person resumes with ``retry``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from _jobs_bpmn import chain, load
from _stores import store_url_fixture  # noqa: F401  (fixture)
from conftest import ListCatalog
from sopflow.errors import BpmnError, JobLockedError, JobNotFoundError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

OFFICER = Actor("ani", "pelaksana")
KIRIM = '<bpmn:serviceTask id="kirim" name="Kirim ke e-kinerja"{attrs}>{ext}</bpmn:serviceTask>'


def service(attrs: str = "", retry: str | None = None) -> str:
    ext = ""
    if retry is not None:
        ext = (
            "<bpmn:extensionElements><camunda:failedJobRetryTimeCycle>"
            f"{retry}</camunda:failedJobRetryTimeCycle></bpmn:extensionElements>"
        )
    return KIRIM.format(attrs=attrs, ext=ext)


def engine_with(store: Store, clock: FakeClock, task: str, **options: Any) -> Engine:
    definition = load(chain("p", '<bpmn:userTask id="isi"/>', task, '<bpmn:userTask id="tinjau"/>'))
    return Engine(ListCatalog(definition), store, clock=clock, **options)


class Flaky:
    """A handler that fails ``failures`` times, then answers with a receipt number."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[dict[str, Any]] = []

    def __call__(self, data: dict[str, Any]) -> Mapping[str, Any]:
        self.calls.append(data)
        if len(self.calls) <= self.failures:
            raise ConnectionError("e-kinerja tidak menjawab")
        return {"nomor_tanda_terima": f"TT-{len(self.calls)}"}


def reach_service(engine: Engine) -> str:
    started = engine.start("p", actor=OFFICER, data={"nilai": 90}).instance_id
    engine.complete(started, "isi", actor=OFFICER)
    return started


def ready(engine: Engine, instance_id: str) -> list[str]:
    return [w.task_id for w in engine.work_list(instance_id=instance_id)]


def test_handler_runs_as_a_job_and_its_data_joins_the_instance(
    store: Store, clock: FakeClock
) -> None:
    handler = Flaky(0)
    engine = engine_with(store, clock, service(), service_handlers={"kirim": handler})
    started = reach_service(engine)
    assert ready(engine, started) == []  # committed with the job, before the work
    assert [j.kind for j in engine.jobs(instance_id=started)] == ["service"]
    assert engine.run_due() == 1
    assert handler.calls == [{"nilai": 90}]
    assert engine.status(started).data == {"nilai": 90, "nomor_tanda_terima": "TT-1"}
    assert ready(engine, started) == ["tinjau"]


def test_failing_handler_is_retried_with_back_off_then_becomes_an_incident(
    store: Store, clock: FakeClock
) -> None:
    handler = Flaky(10)
    engine = engine_with(store, clock, service(), service_handlers={"kirim": handler})
    started = reach_service(engine)
    assert engine.run_due() == 1  # attempt 1 fails: again after 10 s
    [job] = engine.jobs(instance_id=started)
    assert (job.retries, job.error) == (2, "ConnectionError: e-kinerja tidak menjawab")
    assert engine.run_due(clock.now() + timedelta(seconds=9)) == 0
    assert engine.run_due(clock.advance(seconds=10)) == 1  # attempt 2: again after 40 s
    assert engine.run_due(clock.advance(seconds=39)) == 0
    assert engine.run_due(clock.advance(seconds=1)) == 1  # attempt 3: retries spent
    [incident] = engine.incidents(instance_id=started)
    assert (incident.node, incident.kind) == ("kirim", "service")
    assert incident.message == "ConnectionError: e-kinerja tidak menjawab"
    assert engine.run_due(clock.advance(days=30)) == 0  # an incident waits for a person
    # the state before the failing work is intact: isi done, the token at kirim
    assert engine.status(started).status == "running"
    assert [h.task_id for h in engine.history(started)] == ["isi"]
    handler.failures = 0
    engine.retry(incident.id, actor="admin")
    assert engine.incidents(instance_id=started) == []
    assert engine.run_due() == 1
    assert ready(engine, started) == ["tinjau"]
    [resolved] = engine.incidents(instance_id=started, open_only=False)
    assert resolved.resolved_by == "admin"


def test_failed_job_retry_time_cycle_is_honoured(store: Store, clock: FakeClock) -> None:
    handler = Flaky(10)
    engine = engine_with(
        store, clock, service(retry="R2/PT5M"), service_handlers={"kirim": handler}
    )
    started = reach_service(engine)
    assert engine.run_due() == 1
    assert engine.run_due(clock.advance(minutes=4, seconds=59)) == 0
    assert engine.run_due(clock.advance(seconds=1)) == 1
    assert len(handler.calls) == 2
    assert len(engine.incidents(instance_id=started)) == 1


def test_bpmn_error_nothing_catches_is_an_incident_at_once(store: Store, clock: FakeClock) -> None:
    def refuse(data: dict[str, Any]) -> None:
        raise BpmnError("NIP_TIDAK_DIKENAL", "NIP pegawai tidak terdaftar")

    engine = engine_with(store, clock, service(), service_handlers={"kirim": refuse})
    started = reach_service(engine)
    assert engine.run_due() == 1
    [incident] = engine.incidents(instance_id=started)
    assert "uncaught BPMN error 'NIP_TIDAK_DIKENAL'" in incident.message


def test_cancelling_resolves_the_incident_and_drops_the_job(store: Store, clock: FakeClock) -> None:
    engine = engine_with(
        store, clock, service(retry="R1/PT1M"), service_handlers={"kirim": Flaky(5)}
    )
    started = reach_service(engine)
    engine.run_due()
    assert len(engine.incidents(instance_id=started)) == 1
    engine.cancel(started, reason="salah input", actor=OFFICER)
    assert engine.incidents() == []
    assert engine.jobs() == []


# ------------------------------------------------------------------ external tasks
EXTERNAL = service(' camunda:type="external" camunda:topic="ekinerja"')


def test_external_task_is_fetched_locked_and_completed(store: Store, clock: FakeClock) -> None:
    engine = engine_with(store, clock, EXTERNAL)
    started = reach_service(engine)
    assert engine.run_due() == 0  # not a worker's job: an external worker fetches it
    [task] = engine.fetch_and_lock("ekinerja", "w1", max_tasks=5, lock_for=60)
    assert (task.instance_id, task.task_id, task.data) == (started, "kirim", {"nilai": 90})
    assert engine.fetch_and_lock("ekinerja", "w2", max_tasks=5, lock_for=60) == []
    with pytest.raises(JobLockedError):
        engine.complete_external(task.id, "w2", {"x": 1})
    engine.complete_external(task.id, "w1", {"nomor_tanda_terima": "TT-9"})
    assert engine.status(started).data["nomor_tanda_terima"] == "TT-9"
    assert ready(engine, started) == ["tinjau"]
    with pytest.raises(JobNotFoundError):
        engine.complete_external(task.id, "w1", {})


def test_expired_lock_makes_the_task_available_again(store: Store, clock: FakeClock) -> None:
    engine = engine_with(store, clock, EXTERNAL)
    started = reach_service(engine)
    [task] = engine.fetch_and_lock("ekinerja", "w1", lock_for=timedelta(minutes=5))
    clock.advance(minutes=4)
    engine.extend_lock(task.id, "w1", timedelta(minutes=2))  # still at it: until +6 min
    clock.advance(minutes=1, seconds=59)
    assert engine.fetch_and_lock("ekinerja", "w2") == []
    clock.advance(seconds=1)
    [again] = engine.fetch_and_lock("ekinerja", "w2")
    assert again.id == task.id
    with pytest.raises(JobLockedError, match="not by 'w1'"):
        engine.complete_external(task.id, "w1", {"oleh": "w1"})
    engine.complete_external(again.id, "w2", {"oleh": "w2"})
    assert engine.status(started).data["oleh"] == "w2"


def test_external_failure_retries_then_incident(store: Store, clock: FakeClock) -> None:
    engine = engine_with(store, clock, EXTERNAL)
    started = reach_service(engine)
    [task] = engine.fetch_and_lock("ekinerja", "w1")
    assert engine.fail_external(task.id, "w1", "server 503", retries=1, retry_in=30) is None
    assert engine.fetch_and_lock("ekinerja", "w1") == []
    clock.advance(seconds=30)
    [task] = engine.fetch_and_lock("ekinerja", "w1")
    assert (task.retries, task.error) == (1, "server 503")
    incident = engine.fail_external(task.id, "w1", "server 503 lagi", retries=0)
    assert incident is not None
    assert [i.message for i in engine.incidents(instance_id=started)] == ["server 503 lagi"]
    engine.retry(incident, retries=1)
    [task] = engine.fetch_and_lock("ekinerja", "w1")
    engine.complete_external(task.id, "w1")
    assert ready(engine, started) == ["tinjau"]


def test_external_bpmn_error_is_an_incident_until_caught(store: Store, clock: FakeClock) -> None:
    engine = engine_with(store, clock, EXTERNAL)
    started = reach_service(engine)
    [task] = engine.fetch_and_lock("ekinerja", "w1")
    engine.bpmn_error_external(task.id, "w1", "DITOLAK")
    [incident] = engine.incidents(instance_id=started)
    assert "DITOLAK" in incident.message


def test_engine_told_so_makes_handlerless_service_tasks_external(
    store: Store, clock: FakeClock
) -> None:
    engine = engine_with(store, clock, service(), external_tasks=True)
    started = reach_service(engine)
    [task] = engine.fetch_and_lock("kirim", "w1")
    engine.complete_external(task.id, "w1", {"ok": True})
    assert ready(engine, started) == ["tinjau"]


def test_worker_without_the_handler_leaves_service_jobs_alone(
    store: Store, clock: FakeClock
) -> None:
    """A service job waits for a worker that has its handler (sopflow worker has none)."""
    engine = engine_with(store, clock, service())
    started = reach_service(engine)
    assert engine.run_due(clock.advance(hours=1)) == 0
    other = engine_with(store, clock, service(), service_handlers={"kirim": Flaky(0)})
    assert other.run_due() == 1
    assert ready(other, started) == ["tinjau"]


def test_retries_incident_and_external_locks_on_every_backend(store_url: str) -> None:
    """The same rules on SQLite and PostgreSQL (the job SQL differs: SKIP LOCKED)."""
    from sopflow.stores import open_store

    clock = FakeClock()
    store = open_store(store_url)
    try:
        handler = Flaky(10)
        engine = engine_with(
            store, clock, service(retry="R2/PT1M"), service_handlers={"kirim": handler}
        )
        started = reach_service(engine)
        assert engine.run_due() == 1
        assert engine.run_due(clock.advance(minutes=1)) == 1
        [incident] = engine.incidents(instance_id=started)
        handler.failures = 0
        engine.retry(incident.id)
        assert engine.run_due() == 1
        assert ready(engine, started) == ["tinjau"]

        external = engine_with(store, clock, EXTERNAL)
        other = reach_service(external)
        [task] = external.fetch_and_lock("ekinerja", "w1", lock_for=10)
        assert external.fetch_and_lock("ekinerja", "w2") == []
        clock.advance(seconds=10)
        [again] = external.fetch_and_lock("ekinerja", "w2")
        with pytest.raises(JobLockedError):
            external.complete_external(task.id, "w1")
        external.complete_external(again.id, "w2", {"oleh": "w2"})
        assert ready(external, other) == ["tinjau"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda e, t: e.fetch_and_lock("ekinerja", "", 1, 60), "TaskDataError", "needs an id"),
        (lambda e, t: e.fetch_and_lock("ekinerja", "w", 1, 0), "TaskDataError", "positive"),
        (lambda e, t: e.fetch_and_lock("ekinerja", "w", 1, -5), "TaskDataError", "positive"),
        (lambda e, t: e.complete_external("x; DROP TABLE", "w1"), "JobNotFoundError", "number"),
        (lambda e, t: e.complete_external(10_000, "w1"), "JobNotFoundError", "no job 10000"),
        (lambda e, t: e.fail_external(t, "w1", "m", -1), "TaskDataError", "whole number"),
        (lambda e, t: e.fail_external(t, "w1", "m", True), "TaskDataError", "whole number"),
        (lambda e, t: e.complete_external(t, "w1", {"x": object()}), "TaskDataError", "JSON"),
        (lambda e, t: e.retry(t + 1000), "IncidentNotFoundError", "no open incident"),
    ],
)
def test_hostile_external_calls_are_refused_and_change_nothing(
    store: Store, clock: FakeClock, call: Any, error: str, text: str
) -> None:
    import sopflow.errors

    engine = engine_with(store, clock, EXTERNAL)
    started = reach_service(engine)
    [task] = engine.fetch_and_lock("ekinerja", "w1")
    before = (engine.jobs(), store.load_instance(started).revision)
    with pytest.raises(getattr(sopflow.errors, error), match=text):
        call(engine, task.id)
    assert (engine.jobs(), store.load_instance(started).revision) == before


def test_a_living_workers_lease_is_extended_so_no_one_takes_its_long_job(
    store: Store, clock: FakeClock
) -> None:
    """The worker's heartbeat pushes its leases on; a dead worker's are not pushed."""
    engine = engine_with(store, clock, EXTERNAL)
    reach_service(engine)
    now = round(clock.now().timestamp() * 1000)
    jobs_store: Any = store
    [job] = jobs_store.claim_jobs(
        "slow", now=now, lease_ms=1000, limit=1, kinds=["external"], topic="ekinerja"
    )
    assert jobs_store.extend_leases("slow", until=now + 5000) == 1
    assert jobs_store.extend_leases("someone-else", until=now + 9000) == 0
    taken = jobs_store.claim_jobs(
        "other", now=now + 4999, lease_ms=1000, limit=1, kinds=["external"], topic="ekinerja"
    )
    assert taken == []
    [again] = jobs_store.claim_jobs(
        "other", now=now + 5000, lease_ms=1000, limit=1, kinds=["external"], topic="ekinerja"
    )
    assert again.id == job.id
