"""The API's messages, signals, external tasks, incidents and SLA changes, as a specification.

These calls are made by the office's programs under an operator's account
(``WebSettings.operators``); everything else is the engine's: a message that nothing
waits for (BPMN 2.0 10.5.4), a lock held by another worker, an instance of another unit
(its visibility rule), an incident already resolved. Refusals are RFC 9457 problems.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from tests._jobs_bpmn import chain, load
from tests._web import CAMAT, CIBATU_SEKCAM, SEKCAM, TIM, Web, make_web
from tests.test_web_api import problem

from sopflow import Actor
from sopflow.web import WebSettings

PID = "web_events"
PURBALINGGA = "33.03.05"


def _definition() -> bytes:
    xml = chain(
        PID,
        '<bpmn:intermediateCatchEvent id="tunggu_berkas">'
        '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:intermediateCatchEvent>',
        '<bpmn:serviceTask id="arsip" camunda:type="external" camunda:topic="arsip"/>',
        '<bpmn:userTask id="periksa" name="Periksa arsip"/>',
    )
    return xml.replace(
        b"  <bpmn:process", b'  <bpmn:message id="m1" name="berkas-diterima"/>\n  <bpmn:process'
    )


@pytest.fixture
def web() -> Web:
    w = make_web(WebSettings(failure_delay=0, operators=frozenset({SEKCAM, CAMAT, CIBATU_SEKCAM})))
    w.engine.catalog.add(load(_definition()))
    return w


def _waiting(web: Web) -> str:
    """An instance of Kecamatan Purbalingga waiting at its message catch."""
    return web.engine.start(PID, actor=Actor(SEKCAM), unit=PURBALINGGA).instance_id


def _post(client, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRF-Token": client.csrf})


def test_a_message_moves_the_waiting_instance_and_the_worker_completes_its_task(web: Web) -> None:
    """BPMN 2.0 10.5.4: the message reaches the one catch that waits; then the external
    task is fetched, locked for its worker and completed with data the step then has."""
    instance = _waiting(web)
    op = web.client(SEKCAM)
    r = _post(op, "/api/v1/messages", {"message_name": "berkas-diterima", "instance_id": instance})
    assert r.status_code == 200, r.text
    assert r.json() == {"instances": [instance], "started": []}
    r = _post(
        op, "/api/v1/external-tasks/fetch-and-lock", {"topic": "arsip", "worker_id": "srikandi"}
    )
    assert r.status_code == 200, r.text
    [task] = r.json()
    assert task["instance_id"] == instance and task["task_id"] == "arsip"
    # a second worker gets nothing while the lock holds, and cannot answer for the first
    r = _post(op, "/api/v1/external-tasks/fetch-and-lock", {"topic": "arsip", "worker_id": "x"})
    assert r.json() == []
    r = _post(op, f"/api/v1/external-tasks/{task['id']}/complete", {"worker_id": "x"})
    problem(r, 409, "JobLockedError")
    r = _post(
        op,
        f"/api/v1/external-tasks/{task['id']}/complete",
        {"worker_id": "srikandi", "data": {"nomor_arsip": "A-17"}},
    )
    assert r.status_code == 204, r.text
    [item] = web.engine.work_list(instance_id=instance)
    assert item.task_id == "periksa"
    assert web.engine.status(instance, actor=Actor(SEKCAM)).data["nomor_arsip"] == "A-17"
    r = _post(op, f"/api/v1/external-tasks/{task['id']}/complete", {"worker_id": "srikandi"})
    problem(r, 404, "JobNotFoundError")


def test_only_operators_send_messages_signals_or_work_external_tasks(web: Web) -> None:
    instance = _waiting(web)
    staff = web.client(TIM)  # holds a position in Purbalingga, but is no operator
    for path, body in (
        ("/api/v1/messages", {"message_name": "berkas-diterima", "instance_id": instance}),
        ("/api/v1/signals", {"name": "banjir"}),
        ("/api/v1/external-tasks/fetch-and-lock", {"topic": "arsip", "worker_id": "w"}),
        ("/api/v1/external-tasks/1/complete", {"worker_id": "w"}),
        ("/api/v1/external-tasks/1/failure", {"worker_id": "w", "message": "m", "retries": 0}),
        ("/api/v1/external-tasks/1/bpmn-error", {"worker_id": "w", "code": "E1"}),
        ("/api/v1/incidents/1/retry", {}),
    ):
        problem(_post(staff, path, body), 403, "PermissionDeniedError")
    assert web.engine.work_list(instance_id=instance) == []  # still waiting: nothing delivered


def test_a_message_to_an_instance_of_another_unit_is_the_engines_refusal(web: Web) -> None:
    instance = _waiting(web)
    cibatu = web.client(CIBATU_SEKCAM)  # an operator, of Kecamatan Cibatu
    r = _post(
        cibatu, "/api/v1/messages", {"message_name": "berkas-diterima", "instance_id": instance}
    )
    problem(r, 403, "UnitAccessError")


def test_cookie_calls_need_the_csrf_header_and_basic_calls_do_not(web: Web) -> None:
    from tests._web import basic

    _waiting(web)
    op = web.client(SEKCAM)
    r = op.post("/api/v1/signals", json={"name": "banjir"})
    problem(r, 403, "CsrfError")
    r = web.client().post("/api/v1/signals", json={"name": "banjir"}, headers=basic(SEKCAM))
    assert r.status_code == 200 and r.json() == {"instances": [], "started": []}  # 10.5.4


def test_a_message_nobody_waits_for_is_404_and_two_matches_are_409(web: Web) -> None:
    op = web.client(SEKCAM)
    r = _post(op, "/api/v1/messages", {"message_name": "berkas-diterima"})
    problem(r, 404, "MessageNotCorrelatedError")
    first, second = _waiting(web), _waiting(web)
    r = _post(op, "/api/v1/messages", {"message_name": "berkas-diterima"})
    problem(r, 409, "MessageAmbiguousError")
    r = _post(op, "/api/v1/messages", {"message_name": "berkas-diterima", "all": True})
    assert sorted(r.json()["instances"]) == sorted([first, second])
    r = _post(op, "/api/v1/messages", {"message_name": " ", "nonsense": 1})
    problem(r, 422, "RequestValidationError")


def _incident(web: Web) -> tuple[str, int]:
    instance = _waiting(web)
    web.engine.correlate("berkas-diterima", instance_id=instance)
    op = web.client(SEKCAM)
    [task] = _post(
        op, "/api/v1/external-tasks/fetch-and-lock", {"topic": "arsip", "worker_id": "w"}
    ).json()
    r = _post(
        op,
        f"/api/v1/external-tasks/{task['id']}/failure",
        {"worker_id": "w", "message": "SRIKANDI tidak menjawab", "retries": 0},
    )
    assert r.status_code == 200, r.text
    return instance, r.json()["incident_id"]


def test_a_failure_without_retries_is_an_incident_seen_in_its_unit_only(web: Web) -> None:
    instance, incident = _incident(web)
    [row] = web.client(TIM).get("/api/v1/incidents").json()
    assert row["id"] == incident and row["instance_id"] == instance
    assert row["message"] == "SRIKANDI tidak menjawab" and row["resolved_at"] is None
    assert web.client(CIBATU_SEKCAM).get("/api/v1/incidents").json() == []
    r = web.client(CIBATU_SEKCAM).get(f"/api/v1/incidents?instance_id={instance}")
    problem(r, 403, "UnitAccessError")


def test_an_incident_is_retried_by_an_operator_who_sees_its_instance(web: Web) -> None:
    instance, incident = _incident(web)
    problem(
        _post(web.client(CIBATU_SEKCAM), f"/api/v1/incidents/{incident}/retry"),
        403,
        "UnitAccessError",
    )
    # an operator of the unit who holds no role of the process: the engine's refusal
    problem(
        _post(web.client(SEKCAM), f"/api/v1/incidents/{incident}/retry"),
        403,
        "PermissionDeniedError",
    )
    op = web.client(CAMAT)
    r = _post(op, f"/api/v1/incidents/{incident}/retry", {"retries": 2})
    assert r.status_code == 200, r.text
    assert r.json()["resolved_by"] == CAMAT and r.json()["resolved_at"]
    assert op.get("/api/v1/incidents").json() == []
    assert len(op.get("/api/v1/incidents?open_only=false").json()) == 1
    problem(_post(op, f"/api/v1/incidents/{incident}/retry"), 404, "IncidentNotFoundError")
    # the task is offered again
    [task] = _post(
        op, "/api/v1/external-tasks/fetch-and-lock", {"topic": "arsip", "worker_id": "w"}
    ).json()
    assert task["instance_id"] == instance


def test_a_bpmn_error_needs_the_lock_holder(web: Web) -> None:
    instance = _waiting(web)
    web.engine.correlate("berkas-diterima", instance_id=instance)
    op = web.client(SEKCAM)
    [task] = _post(
        op, "/api/v1/external-tasks/fetch-and-lock", {"topic": "arsip", "worker_id": "w"}
    ).json()
    path = f"/api/v1/external-tasks/{task['id']}/bpmn-error"
    problem(_post(op, path, {"worker_id": "v", "code": "E"}), 409, "JobLockedError")
    r = _post(op, path, {"worker_id": "w", "code": "E"})
    assert r.status_code == 204, r.text


# ----------------------------------------------------------------------------- SLA changes


def test_sla_changes_since_lists_new_breaches_of_my_units_page_by_page(web: Web) -> None:
    """Permenpan-RB 35/2012's Mutu Baku: a step past its waktu is breached; the change
    scan reports each step that turned so within (since, until], without escalating."""
    since = web.clock.now().isoformat()
    for _ in range(2):
        web.to_step(2)
    web.clock.advance(days=10)
    until = web.clock.now().isoformat()
    client = web.client(SEKCAM)
    q = f"/api/v1/sla/changes?since={quote(since)}&until={quote(until)}&limit=1"
    first = client.get(q).json()
    assert first["total"] >= 2 and len(first["items"]) == 1
    assert {s["status"] for s in first["items"]} <= {"breached", "at_risk"}
    second = client.get(q + "&offset=1").json()
    assert second["items"] and second["items"][0] != first["items"][0]
    assert first["until"] == second["until"]
    # nothing turned since until; another unit's officer sees none of it
    later = client.get(f"/api/v1/sla/changes?since={quote(until)}&until={quote(until)}").json()
    assert later["total"] == 0
    other = web.client(CIBATU_SEKCAM).get(q).json()
    assert other["total"] == 0
    problem(client.get("/api/v1/sla/changes?since=2026-03-02T08:00:00"), 422, "TaskDataError")
    problem(client.get("/api/v1/sla/changes"), 422, "RequestValidationError")
    r = client.get(f"/api/v1/sla/changes?since={quote(until)}&until={quote(since)}")
    problem(r, 422, "TaskDataError")
