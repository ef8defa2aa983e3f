"""The pages without JavaScript: plain forms that POST and redirect, escaped output.

A Sekcam of Kecamatan Purbalingga logs in, sees step 10 (Permenpan-RB 35/2012: the
Sekcam checks the recapitulation), answers Tidak with a catatan; the Tim member sees
the returned step 9 with that catatan. Hostile text in data and catatan comes back
escaped; a form without its CSRF token changes nothing.
"""

from __future__ import annotations

import re

import pytest
from tests._web import CIBATU_SEKCAM, PASSWORD, PROCESS, SEKCAM, TIM, Web, make_web

from sopflow import Actor

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def web() -> Web:
    return make_web()


def login(web: Web, nip: str):
    client = web.client()
    page = client.get("/masuk")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/masuk", data={"nip": nip, "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_a_page_without_a_session_sends_to_the_login_form(web: Web) -> None:
    r = web.client().get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/masuk")


def test_the_login_form_refuses_a_post_without_its_token(web: Web) -> None:
    client = web.client()
    client.get("/masuk")
    r = client.post(
        "/masuk", data={"nip": SEKCAM, "password": PASSWORD, "csrf": "x"}, follow_redirects=False
    )
    assert r.status_code == 403 and "sopflow_session" not in r.headers.get("set-cookie", "")


def test_a_wrong_password_shows_the_form_again_in_indonesian(web: Web) -> None:
    client = web.client()
    token = csrf_of(client.get("/masuk").text)
    r = client.post("/masuk", data={"nip": SEKCAM, "password": "salah-salah", "csrf": token})
    assert r.status_code == 401 and "NIP atau kata sandi salah" in r.text


def test_tidak_with_a_catatan_returns_the_step_that_then_shows_it(web: Web) -> None:
    instance_id = web.to_step(10)
    sekcam = login(web, SEKCAM)
    tasks = sekcam.get("/")
    assert "Langkah 10" in tasks.text and "Sekretaris Kecamatan Purbalingga" in tasks.text
    page = sekcam.get(f"/tugas/{instance_id}/step_10")
    assert "Kelengkapan" in page.text and 'type="checkbox"' in page.text and "Tidak" in page.text
    r = sekcam.post(
        f"/tugas/{instance_id}/step_10/selesai",
        data={
            "csrf": csrf_of(page.text),
            "keputusan": "tidak",
            "catatan": "Rekap Seksi Trantib belum ada",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    # back to the joint step 9: one task for the Anggota, one for the Kepala Seksi
    items = web.engine.work_list(instance_id=instance_id)
    assert [(i.step_no, i.task_id) for i in items] == [(9, "step_09_1"), (9, "step_09_2")]
    tim = login(web, TIM)
    step = tim.get(f"/tugas/{instance_id}/step_09_1")
    assert "Dikembalikan" in step.text and "Rekap Seksi Trantib belum ada" in step.text


def test_claim_and_release_are_forms(web: Web) -> None:
    instance_id = web.to_step(10)
    sekcam = login(web, SEKCAM)
    token = csrf_of(sekcam.get("/").text)
    sekcam.post(f"/tugas/{instance_id}/step_10/ambil", data={"csrf": token})
    assert web.engine.work_list(instance_id=instance_id)[0].claimed_by == SEKCAM
    assert "Lepas" in sekcam.get("/").text
    sekcam.post(f"/tugas/{instance_id}/step_10/lepas", data={"csrf": token})
    assert web.engine.work_list(instance_id=instance_id)[0].claimed_by is None


def test_a_form_without_its_csrf_token_changes_nothing(web: Web) -> None:
    instance_id = web.to_step(10)
    sekcam = login(web, SEKCAM)
    r = sekcam.post(f"/tugas/{instance_id}/step_10/selesai", data={"keputusan": "ya"})
    assert r.status_code == 403 and "CsrfError" in r.text
    assert web.engine.work_list(instance_id=instance_id)[0].step_no == 10


def test_another_units_step_page_is_refused_by_the_engine(web: Web) -> None:
    instance_id = web.to_step(10)
    other = login(web, CIBATU_SEKCAM)
    r = other.get(f"/tugas/{instance_id}/step_10")
    assert r.status_code == 403 and "UnitAccessError" in r.text


def test_hostile_text_in_data_and_catatan_is_shown_escaped(web: Web) -> None:
    instance_id = web.engine.start(
        PROCESS, actor=Actor("198611302010011002"), data={"nomor": XSS}
    ).instance_id
    instance_id = web.to_step(10, instance_id)
    web.engine.complete(
        instance_id, 10, actor=Actor(SEKCAM), data={"disetujui": False, "catatan": XSS}
    )
    tim = login(web, TIM)
    for path in ("/", f"/tugas/{instance_id}/step_09", f"/instansi/{instance_id}", "/pemantauan"):
        html = tim.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
    assert "&lt;script&gt;alert" in tim.get(f"/tugas/{instance_id}/step_09").text


def test_mulai_lists_the_sops_my_positions_start_and_starts_one(web: Web) -> None:
    camat = login(web, "198611302010011002")
    page = camat.get("/mulai")
    assert "Mekanisme Pengukuran Kinerja" in page.text
    r = camat.post(f"/mulai/{PROCESS}", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and "/instansi/" in r.headers["location"]
    assert len(web.store.instances(process_id=PROCESS)) == 1
    assert "Mekanisme Pengukuran Kinerja" not in login(web, TIM).get("/mulai").text


def test_pemantauan_puts_breaches_first(web: Web) -> None:
    late = web.to_step(10)
    web.clock.advance(days=3)
    fresh = web.to_step(2)
    camat = login(web, "198611302010011002")
    html = camat.get("/pemantauan").text
    rows = re.findall(r'<tr data-instance="([^"]+)" data-step="(\d+)">', html)
    assert rows[0] == (late, "10") and (fresh, "2") in rows
    assert re.search(r'data-status="breached">[^<]*<strong>1</strong>', html)
    assert "Monitoring Pelaksanaan SOP AP" in html


def test_logout_is_a_form(web: Web) -> None:
    sekcam = login(web, SEKCAM)
    token = csrf_of(sekcam.get("/").text)
    r = sekcam.post("/keluar", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert sekcam.get("/", follow_redirects=False).status_code == 303


def test_mounted_in_another_asgi_app_links_and_redirects_follow_the_mount(web: Web) -> None:
    from fastapi.testclient import TestClient
    from starlette.applications import Starlette
    from starlette.routing import Mount

    outer = TestClient(Starlette(routes=[Mount("/sop", app=web.app)]))
    page = outer.get("/sop/masuk")
    assert 'action="/sop/masuk"' in page.text and 'href="/sop/static/sopflow.css"' in page.text
    r = outer.post("/sop/masuk", data={"nip": SEKCAM, "password": PASSWORD,
                                       "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sop/"
    assert "Tugas saya" in outer.get("/sop/").text
    assert outer.get("/sop/static/htmx.min.js").status_code == 200
    denied = outer.get("/sop/api/v1/instances/nope")
    assert denied.status_code == 404 and denied.headers["content-type"].startswith(
        "application/problem+json"
    )
