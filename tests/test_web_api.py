"""The REST API (/api/v1) as a specification: every endpoint, and who is refused what.

The web layer decides nothing: each refusal below is the engine's (unit, position,
separation of duties, Permenpan-RB 35/2012 pelaksana of the step) or the session's
(login, CSRF, expiry), returned as RFC 9457 problem details naming the typed error.
"""

from __future__ import annotations

from datetime import date

import pytest
from tests._web import (
    CAMAT,
    CIBATU_SEKCAM,
    KASI,
    PASSWORD,
    PROCESS,
    SEKCAM,
    TIM,
    Web,
    basic,
    make_web,
)

from _stores import store_url_fixture  # noqa: F401  (fixture)


@pytest.fixture
def web() -> Web:
    return make_web()


def problem(r, status: int, error: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["error"] == error
    assert body["type"] == f"urn:sopflow:error:{error}" and body["detail"]
    return body


# ----------------------------------------------------------------------------- session


def test_login_sets_an_httponly_lax_cookie_and_returns_the_csrf_token(web: Web) -> None:
    client = web.client()
    r = client.post("/api/v1/session", json={"nip": SEKCAM, "password": PASSWORD})
    assert r.status_code == 201
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    body = r.json()
    assert body["nip"] == SEKCAM and body["csrf_token"]
    assert [p["position"] for p in body["positions"]] == ["PBG-SEKCAM"]
    me = client.get("/api/v1/session").json()
    assert me["nama"] == "Nur Aini, A.Md." and me["admin"] is False


def test_the_cookie_is_secure_over_tls(web: Web) -> None:
    client = web.client(base_url="https://sop.example")
    r = client.post("/api/v1/session", json={"nip": SEKCAM, "password": PASSWORD})
    assert "Secure" in r.headers["set-cookie"]


def test_a_wrong_password_is_401_and_the_account_is_limited_after_five(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        r = client.post("/api/v1/session", json={"nip": SEKCAM, "password": "salah-salah"})
        problem(r, 401, "AuthenticationError")
    # the right password no longer helps until the window passes
    r = client.post("/api/v1/session", json={"nip": SEKCAM, "password": PASSWORD})
    problem(r, 429, "LoginThrottledError")
    assert int(r.headers["retry-after"]) > 0
    # other accounts from the same address are not locked by this one
    assert (
        client.post("/api/v1/session", json={"nip": TIM, "password": PASSWORD}).status_code == 201
    )
    web.clock.advance(minutes=16)
    assert (
        client.post("/api/v1/session", json={"nip": SEKCAM, "password": PASSWORD}).status_code
        == 201
    )


def test_failures_are_limited_per_address_across_accounts() -> None:
    from sopflow.web import WebSettings

    web = make_web(WebSettings(failure_delay=0, max_failures_address=3))
    client = web.client()
    for nip in (CAMAT, KASI, TIM):
        problem(
            client.post("/api/v1/session", json={"nip": nip, "password": "salah-salah"}),
            401,
            "AuthenticationError",
        )
    problem(
        client.post("/api/v1/session", json={"nip": SEKCAM, "password": PASSWORD}),
        429,
        "LoginThrottledError",
    )


def test_an_unknown_nip_and_a_nip_without_password_are_refused_alike(web: Web) -> None:
    client = web.client()
    for nip in ("199901012020011001", "198001152005011003", "not an nip"):
        problem(
            client.post("/api/v1/session", json={"nip": nip, "password": PASSWORD}),
            401,
            "AuthenticationError",
        )


def test_without_a_session_every_read_is_401(web: Web) -> None:
    client = web.client()
    for path in (
        "/api/v1/processes",
        "/api/v1/work-items",
        "/api/v1/instances",
        "/api/v1/sla/summary",
        "/api/v1/directory",
        "/api/v1/session",
    ):
        problem(client.get(path), 401, "AuthenticationError")


def test_a_cookie_call_that_changes_anything_needs_the_csrf_header(web: Web) -> None:
    client = web.client(SEKCAM)
    url = f"/api/v1/processes/{PROCESS}/instances"
    problem(client.post(url, json={}), 403, "CsrfError")
    problem(client.post(url, json={}, headers={"X-CSRF-Token": "forged"}), 403, "CsrfError")
    assert not web.store.instances()  # refused before the engine was asked
    r = client.post(url, json={}, headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == 201


def test_basic_auth_needs_no_csrf_token_and_keeps_no_session(web: Web) -> None:
    client = web.client()
    r = client.post(f"/api/v1/processes/{PROCESS}/instances", json={}, headers=basic(CAMAT))
    assert r.status_code == 201 and "set-cookie" not in r.headers
    problem(
        client.get("/api/v1/processes", headers=basic(CAMAT, "salah-salah")),
        401,
        "AuthenticationError",
    )


def test_a_session_expires(web: Web) -> None:
    client = web.client(SEKCAM)
    assert client.get("/api/v1/work-items").status_code == 200
    web.clock.advance(minutes=8 * 60 + 1)
    problem(client.get("/api/v1/work-items"), 401, "AuthenticationError")


def test_a_session_ends_when_its_person_holds_no_position_any_more(web: Web) -> None:
    client = web.client(SEKCAM)
    assert client.get("/api/v1/work-items").status_code == 200
    web.store.end_assignment(SEKCAM, "PBG-SEKCAM", date(2026, 3, 1))
    problem(client.get("/api/v1/work-items"), 401, "AuthenticationError")
    problem(
        client.post("/api/v1/session", json={"nip": SEKCAM, "password": PASSWORD}),
        401,
        "AuthenticationError",
    )


def test_logout_ends_the_session(web: Web) -> None:
    client = web.client(SEKCAM)
    problem(client.delete("/api/v1/session"), 403, "CsrfError")
    assert (
        client.delete("/api/v1/session", headers={"X-CSRF-Token": client.csrf}).status_code == 204
    )
    problem(client.get("/api/v1/session"), 401, "AuthenticationError")


def test_a_password_change_ends_the_sessions_of_that_person(web: Web) -> None:
    from sopflow.web import set_password

    client = web.client(SEKCAM)
    set_password(web.store, SEKCAM, "kata-sandi-baru", at=1)
    problem(client.get("/api/v1/session"), 401, "AuthenticationError")


def test_the_trusted_header_is_off_by_default_and_only_honoured_from_a_proxy() -> None:
    from sopflow.web import WebSettings

    web = make_web()
    problem(
        web.client().get("/api/v1/session", headers={"X-Remote-User": SEKCAM}),
        401,
        "AuthenticationError",
    )
    sso = make_web(
        WebSettings(
            failure_delay=0,
            trusted_header="X-Remote-User",
            trusted_proxies=frozenset({"testclient"}),
        )
    )
    client = sso.client()
    r = client.get("/api/v1/session", headers={"X-Remote-User": SEKCAM})
    assert r.status_code == 200 and r.json()["nip"] == SEKCAM
    assert "sopflow_session" in r.headers["set-cookie"]
    elsewhere = make_web(
        WebSettings(
            failure_delay=0, trusted_header="X-Remote-User", trusted_proxies=frozenset({"10.0.0.1"})
        )
    )
    problem(
        elsewhere.client().get("/api/v1/session", headers={"X-Remote-User": SEKCAM}),
        401,
        "AuthenticationError",
    )


# ----------------------------------------------------------------------------- processes


def test_processes_list_table_bpmn_picture_and_document(web: Web) -> None:
    client = web.client(SEKCAM)
    listed = client.get("/api/v1/processes").json()
    assert PROCESS in [p["process_id"] for p in listed]
    table = client.get(f"/api/v1/processes/{PROCESS}").json()
    numbers = [s["no"] for s in table["steps"]]
    assert sorted(set(numbers)) == list(range(1, 13))
    # steps 5, 6 and 9 are joint steps: one task per Pelaksana, one number (docs/sops.md)
    assert sorted(n for n in set(numbers) if numbers.count(n) == 2) == [5, 6, 9]
    assert table["header"]["kecamatan"] == "Purbalingga"
    bpmn = client.get(f"/api/v1/processes/{PROCESS}/bpmn")
    assert (
        bpmn.headers["content-type"].startswith("application/xml")
        and b"definitions" in bpmn.content
    )
    svg = client.get(f"/api/v1/processes/{PROCESS}/picture.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.lstrip().startswith(
        ("<svg", "<?xml")
    )
    assert "script-src" not in svg.headers["content-security-policy"]
    heat = client.get(f"/api/v1/processes/{PROCESS}/picture.svg?heat=true")
    assert heat.status_code == 200
    doc = client.get(f"/api/v1/processes/{PROCESS}/document")
    assert (
        doc.headers["content-type"].startswith("text/html")
        and "Mekanisme Pengukuran Kinerja" in doc.text
    )
    problem(client.get("/api/v1/processes/no_such_sop"), 404, "UnknownProcessError")


# ----------------------------------------------------------------------------- instances


def test_start_list_with_filters_and_paging_status_and_history(web: Web) -> None:
    client = web.client(CAMAT)
    ids = []
    for _ in range(3):
        r = client.post(
            f"/api/v1/processes/{PROCESS}/instances",
            json={"data": {"nomor": "A"}},
            headers={"X-CSRF-Token": client.csrf},
        )
        assert r.status_code == 201 and r.json()["ready"] == ["step_01"]
        ids.append(r.json()["instance_id"])
        web.clock.advance(minutes=1)
    page = client.get("/api/v1/instances", params={"limit": 2}).json()
    assert page["total"] == 3 and [i["instance_id"] for i in page["items"]] == ids[::-1][:2]
    rest = client.get("/api/v1/instances", params={"limit": 2, "offset": 2}).json()
    assert [i["instance_id"] for i in rest["items"]] == ids[:1]
    assert client.get("/api/v1/instances", params={"status": "completed"}).json()["total"] == 0
    assert client.get("/api/v1/instances", params={"unit": "33.03"}).json()["total"] == 3
    assert client.get("/api/v1/instances", params={"unit": "32.14"}).json()["total"] == 0
    problem(client.get("/api/v1/instances", params={"limit": 0}), 422, "RequestValidationError")
    r = client.get(f"/api/v1/instances/{ids[0]}")
    view = r.json()
    assert view["status"] == "running" and view["unit"] == "33.03.05"
    assert r.headers["etag"] == f'"{view["revision"]}"'
    assert view["started_at"].endswith("+07:00")  # WIB, the office's zone
    history = client.get(f"/api/v1/instances/{ids[0]}/history").json()
    assert [h["step_no"] for h in history] == [1]
    problem(client.get("/api/v1/instances/no-such-instance"), 404, "InstanceNotFoundError")


def test_an_instance_of_another_unit_is_neither_listed_nor_shown(web: Web) -> None:
    instance_id = web.to_step(2)
    other = web.client(CIBATU_SEKCAM)
    assert other.get("/api/v1/instances").json()["total"] == 0
    problem(other.get(f"/api/v1/instances/{instance_id}"), 403, "UnitAccessError")
    problem(other.get(f"/api/v1/instances/{instance_id}/picture.svg"), 403, "UnitAccessError")
    problem(other.get(f"/api/v1/instances/{instance_id}/report"), 403, "UnitAccessError")


def test_cancel_needs_a_reason_and_the_if_match_revision_when_given(web: Web) -> None:
    instance_id = web.to_step(3)
    client = web.client(CAMAT)
    h = {"X-CSRF-Token": client.csrf}
    problem(
        client.post(f"/api/v1/instances/{instance_id}/cancel", json={"reason": ""}, headers=h),
        422,
        "RequestValidationError",
    )
    rev = client.get(f"/api/v1/instances/{instance_id}").json()["revision"]
    problem(
        client.post(
            f"/api/v1/instances/{instance_id}/cancel",
            json={"reason": "salah"},
            headers={**h, "If-Match": f'"{rev - 1}"'},
        ),
        412,
        "RevisionMismatchError",
    )
    r = client.post(
        f"/api/v1/instances/{instance_id}/cancel",
        json={"reason": "dobel"},
        headers={**h, "If-Match": f'"{rev}"'},
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    problem(
        client.post(f"/api/v1/instances/{instance_id}/cancel", json={"reason": "lagi"}, headers=h),
        409,
        "InstanceClosedError",
    )


# ----------------------------------------------------------------------------- work items


def test_my_work_is_the_steps_of_my_positions_oldest_due_first(web: Web) -> None:
    first = web.to_step(10)
    web.clock.advance(minutes=5)
    second = web.to_step(10)
    sekcam = web.client(SEKCAM)
    mine = sekcam.get("/api/v1/work-items").json()
    assert [(w["instance_id"], w["step_no"]) for w in mine] == [(first, 10), (second, 10)]
    assert mine[0]["acting_as"] == "Sekretaris Kecamatan Purbalingga"
    assert mine[0]["form"]["required"] == ["disetujui"]
    assert web.client(CAMAT).get("/api/v1/work-items").json() == []
    assert web.client(CIBATU_SEKCAM).get("/api/v1/work-items").json() == []
    unit = web.client(CAMAT).get("/api/v1/work-items", params={"unit": "33.03.05"}).json()
    assert [w["step_no"] for w in unit] == [10, 10]
    assert (
        web.client(CIBATU_SEKCAM).get("/api/v1/work-items", params={"unit": "33.03.05"}).json()
        == []
    )
    problem(sekcam.get("/api/v1/work-items", params={"unit": "99.99"}), 422, "DirectoryError")


def test_a_plh_sees_the_steps_as_plh(web: Web) -> None:
    from sopflow.authority.directory import Assignment

    web.store.assign(
        Assignment(
            SEKCAM, "PBG-CAMAT", date(2026, 3, 1), date(2026, 3, 6), "plh", "Sprin 800/1/2026"
        )
    )
    web.engine.start(PROCESS, actor=__import__("sopflow").Actor(CAMAT))
    items = web.client(SEKCAM).get("/api/v1/work-items").json()
    assert [(w["step_no"], w["acting_as"]) for w in items] == [(1, "Plh. Camat Purbalingga")]


def test_claim_release_and_complete_as_the_engine_allows(web: Web) -> None:
    instance_id = web.to_step(10)
    base = f"/api/v1/instances/{instance_id}/steps"
    tim, sekcam, other = web.client(TIM), web.client(SEKCAM), web.client(CIBATU_SEKCAM)

    def post(client, path, body=None, **headers):
        return client.post(
            f"{base}/{path}", json=body, headers={"X-CSRF-Token": client.csrf, **headers}
        )

    problem(post(tim, "10/claim"), 403, "PermissionDeniedError")
    problem(post(other, "10/claim"), 403, "UnitAccessError")
    assert post(sekcam, "10/claim").status_code == 200
    assert web.engine.work_list(instance_id=instance_id)[0].claimed_by == SEKCAM
    assert post(sekcam, "step_10/release").status_code == 200
    problem(post(sekcam, "10/complete", {"data": {}}), 422, "TaskDataError")
    problem(post(sekcam, "10/complete", {"data": {"disetujui": "mungkin"}}), 422, "TaskDataError")
    problem(post(tim, "10/complete", {"data": {"disetujui": True}}), 403, "PermissionDeniedError")
    r = post(
        sekcam, "10/complete", {"data": {"disetujui": False, "catatan": "Lengkapi data seksi"}}
    )
    # back to the joint step 9: the Anggota's and the Kepala Seksi's task (docs/sops.md)
    assert r.status_code == 200 and r.json()["ready"] == ["step_09_1", "step_09_2"]
    # completing it again: the step is done (a lost race, also a TaskNotFoundError)
    problem(
        post(sekcam, "10/complete", {"data": {"disetujui": True}}), 409, "TaskAlreadyCompletedError"
    )
    problem(post(sekcam, "no_such_task/complete", {"data": {}}), 404, "TaskNotFoundError")


def test_a_lost_race_is_409_and_a_stale_if_match_is_412(web: Web) -> None:
    instance_id = web.to_step(10)
    sekcam = web.client(SEKCAM)
    h = {"X-CSRF-Token": sekcam.csrf}
    rev = sekcam.get(f"/api/v1/instances/{instance_id}").json()["revision"]
    url = f"/api/v1/instances/{instance_id}/steps/10/complete"
    r = sekcam.post(url, json={"data": {"disetujui": True}}, headers={**h, "If-Match": f'"{rev}"'})
    assert r.status_code == 200
    # a second tab acting on the view it loaded before
    problem(
        sekcam.post(url, json={"data": {"disetujui": True}}, headers={**h, "If-Match": f'"{rev}"'}),
        412,
        "RevisionMismatchError",
    )
    # a colleague claimed step 11 first: taking it is a lost race
    camat = web.client(CAMAT)
    step11 = f"/api/v1/instances/{instance_id}/steps/11"
    assert camat.post(f"{step11}/claim", headers={"X-CSRF-Token": camat.csrf}).status_code == 200
    problem(
        camat.post(f"{step11}/release", headers={"X-CSRF-Token": camat.csrf, "If-Match": 'W/"0"'}),
        412,
        "RevisionMismatchError",
    )


def test_a_concurrent_completion_inside_the_engine_is_409(web: Web, monkeypatch) -> None:
    """The engine's revision guard: someone wrote between its read and its write."""
    from sopflow.errors import ConflictError

    instance_id = web.to_step(10)
    sekcam = web.client(SEKCAM)

    def lose(*args, **kwargs):
        raise ConflictError("instance changed by another writer", instance_id=instance_id)

    monkeypatch.setattr(web.engine, "complete", lose)
    problem(
        sekcam.post(
            f"/api/v1/instances/{instance_id}/steps/10/complete",
            json={"data": {"disetujui": True}},
            headers={"X-CSRF-Token": sekcam.csrf},
        ),
        409,
        "ConflictError",
    )


# ----------------------------------------------------------------------------- SLA, reports


def test_sla_summary_counts_breaches_of_my_units(web: Web) -> None:
    instance_id = web.to_step(10)
    client = web.client(SEKCAM)
    before = client.get("/api/v1/sla/summary").json()
    assert before["counts"] == {"on_track": 1}
    web.clock.advance(days=3)
    after = web.client(SEKCAM).get("/api/v1/sla/summary").json()
    assert after["counts"] == {"breached": 1}
    assert after["open_steps"][0]["instance_id"] == instance_id
    assert web.client(CIBATU_SEKCAM).get("/api/v1/sla/summary").json()["counts"] == {}


def test_reports_per_sop_per_instance_and_the_monitoring_form(web: Web) -> None:
    instance_id = web.to_step(10)
    client = web.client(CAMAT)
    j = client.get(f"/api/v1/processes/{PROCESS}/report").json()
    assert j and j[0]["process_id"] == PROCESS
    csv_text = client.get(f"/api/v1/processes/{PROCESS}/report?format=csv")
    assert csv_text.headers["content-type"].startswith("text/csv")
    html = client.get(f"/api/v1/processes/{PROCESS}/report?format=html")
    assert "Monitoring Pelaksanaan SOP AP" in html.text
    form = client.get(f"/api/v1/processes/{PROCESS}/monitoring-form").json()
    assert [r["no"] for r in form] == list(range(1, 13))
    assert client.get(f"/api/v1/processes/{PROCESS}/monitoring-form?format=csv").text.startswith(
        "no,"
    )
    inst = client.get(f"/api/v1/instances/{instance_id}/report").json()
    assert inst[0]["instance_id"] == instance_id
    problem(
        client.get(f"/api/v1/processes/{PROCESS}/report?format=pdf"), 422, "RequestValidationError"
    )
    problem(
        web.client(CIBATU_SEKCAM).get(f"/api/v1/processes/{PROCESS}/report"), 403, "UnitAccessError"
    )


# ----------------------------------------------------------------------------- directory


def test_the_directory_is_read_by_all_and_written_by_administrators(web: Web) -> None:
    from sopflow.web import WebSettings

    client = web.client(TIM)
    d = client.get("/api/v1/directory").json()
    assert "33.03.05" in [u["kode"] for u in d["units"]]
    body = {
        "nip": TIM,
        "jabatan": "PBG-KASI",
        "mulai": "2026-03-02",
        "jenis": "plh",
        "dasar": "Sprin 800/2/2026",
    }
    problem(
        client.post(
            "/api/v1/directory/assignments", json=body, headers={"X-CSRF-Token": client.csrf}
        ),
        403,
        "PermissionDeniedError",
    )
    admin_web = make_web(WebSettings(failure_delay=0, admins=frozenset({CAMAT})))
    admin = admin_web.client(CAMAT)
    h = {"X-CSRF-Token": admin.csrf}
    r = admin.post("/api/v1/directory/assignments", json=body, headers=h)
    assert r.status_code == 201
    assert any(a["jabatan"] == "PBG-KASI" and a["nip"] == TIM for a in r.json()["assignments"])
    problem(
        admin.post("/api/v1/directory/assignments", json={**body, "jabatan": "NOPE"}, headers=h),
        422,
        "DirectoryError",
    )
    end = {"nip": TIM, "jabatan": "PBG-KASI", "selesai": "2026-03-03"}
    assert admin.post("/api/v1/directory/assignments/end", json=end, headers=h).status_code == 200


# ----------------------------------------------------------------------------- the document


def test_the_openapi_document_is_3_1_and_names_every_route(web: Web) -> None:
    spec = web.client().get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    paths = set(spec["paths"])
    for path in (
        "/api/v1/session",
        "/api/v1/processes",
        "/api/v1/processes/{process_id}/instances",
        "/api/v1/instances",
        "/api/v1/instances/{instance_id}/steps/{task}/complete",
        "/api/v1/work-items",
        "/api/v1/sla/summary",
        "/api/v1/directory",
    ):
        assert path in paths
    assert not [p for p in paths if not p.startswith("/api/")]  # pages are not API


def test_no_page_runs_inline_script_and_the_csp_says_so(web: Web) -> None:
    client = web.client(SEKCAM)
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    import re

    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", r.text))
    assert r.headers["x-content-type-options"] == "nosniff"


def test_sessions_and_login_limits_live_in_the_store_on_every_backend(store_url: str) -> None:
    """Migration 7 on SQLite and PostgreSQL: what every worker process shares."""
    from sopflow.stores import open_store
    from sopflow.stores._accounts import WebSession

    with open_store(store_url) as store:
        store.set_password_hash(SEKCAM, "h1", 1)
        store.set_password_hash(SEKCAM, "h2", 2)  # replaced, not added
        assert store.password_hash(SEKCAM) == "h2" and store.password_nips() == {SEKCAM}
        store.create_session("d1", WebSession(SEKCAM, "c", 10, 20))
        assert store.web_session("d1") == WebSession(SEKCAM, "c", 10, 20)
        store.set_password_hash(SEKCAM, "h3", 3)  # a new password ends the sessions
        assert store.web_session("d1") is None
        store.record_login_failure(["nip:x", "addr:y"], 100)
        store.record_login_failure(["nip:x"], 200)
        assert store.login_failures("nip:x", 0) == 2 and store.login_failures("nip:x", 150) == 1
        store.clear_login_failures("nip:x", before=150)
        assert store.login_failures("nip:x", 0) == 0 and store.login_failures("addr:y", 0) == 0


def test_a_body_over_the_limit_is_refused_before_anyone_reads_it(web: Web) -> None:
    from sopflow.web._app import MAX_BODY

    client = web.client(CAMAT)
    big = {"data": {"x": "a" * MAX_BODY}}
    r = client.post(
        f"/api/v1/processes/{PROCESS}/instances", json=big, headers={"X-CSRF-Token": client.csrf}
    )
    problem(r, 413, "PayloadTooLarge")
    assert not web.store.instances()
