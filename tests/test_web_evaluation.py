"""Evaluasi over the web: /api/v1 evaluation endpoints and the Evaluasi pages.

The web layer decides nothing: the library's rule (docs/authority.md, "Who evaluates an
SOP") refuses everyone but the Bagian Organisasi over the SOP's unit, and the library
checks the seven answers (Permenpan-RB 35/2012). These tests pin what the browser and
an API client see: problem details naming the typed error and the field, CSRF on every
write, and a catatan escaped wherever it is shown.
"""

from __future__ import annotations

import pytest
from tests._web import CAMAT, CIBATU_SEKCAM, ORGANISASI, PROCESS, SEKCAM, Web, basic, make_web

from _stores import store_url_fixture  # noqa: F401  (fixture)
from sopflow.reports.evaluation import CRITERIA, MAX_CATATAN

XSS = '<script>window.__xss=1</script><img src=x onerror="alert(1)">'
URL = f"/api/v1/processes/{PROCESS}/evaluations"


@pytest.fixture
def web() -> Web:
    return make_web()


def problem(r, status: int, error: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["error"] == error and body["type"] == f"urn:sopflow:error:{error}"
    return body


def body(**kriteria: object) -> dict[str, object]:
    return {"kriteria": {**dict.fromkeys(CRITERIA, True), **kriteria}}


def post(web: Web, nip: str, payload: dict[str, object]):  # type: ignore[no-untyped-def]
    client = web.client(nip)
    return client.post(URL, json=payload, headers={"X-CSRF-Token": client.csrf})


def test_the_criteria_are_published(web: Web) -> None:
    r = web.client(SEKCAM).get("/api/v1/evaluation-criteria")
    assert [c["uraian"] for c in r.json()] == list(CRITERIA.values())


def test_the_evaluator_records_and_everyone_of_the_unit_reads_it(web: Web) -> None:
    r = post(web, ORGANISASI, {**body(sinergi="Tidak"), "catatan": {"sinergi": "belum"}})
    assert r.status_code == 201, r.text
    e = r.json()
    assert (e["ya"], e["jumlah"], e["nilai"]) == (6, 7, round(6 / 7, 4))
    assert e["unit"] == "33.03.05" and e["jabatan"] == "PBG-ORG-ANALIS"
    assert e["kriteria"][-1] == {
        "kriteria": "sinergi",
        "uraian": "Sinergi satu dengan lainnya",
        "ya": False,
        "catatan": "belum",
    }
    camat = web.client(CAMAT)
    assert [x["id"] for x in camat.get("/api/v1/evaluations").json()] == [e["id"]]
    assert camat.get(f"/api/v1/evaluations/{e['id']}").json() == e
    listed = camat.get(f"/api/v1/evaluations?process_id={PROCESS}").json()
    assert [x["id"] for x in listed] == [e["id"]]


@pytest.mark.parametrize("nip", [CAMAT, SEKCAM, CIBATU_SEKCAM])
def test_anyone_but_an_evaluator_over_the_unit_is_refused(web: Web, nip: str) -> None:
    problem(post(web, nip, body()), 403, "EvaluatorError")
    assert web.store.evaluations() == []


def test_another_kabupatens_kecamatan_neither_lists_nor_reads_it(web: Web) -> None:
    number = post(web, ORGANISASI, body()).json()["id"]
    other = web.client(CIBATU_SEKCAM)
    assert other.get("/api/v1/evaluations").json() == []
    problem(other.get(f"/api/v1/evaluations/{number}"), 404, "EvaluationNotFoundError")
    problem(other.get(f"/api/v1/evaluations/{number}?format=html"), 404, "EvaluationNotFoundError")
    problem(other.get(f"/api/v1/evaluations?process_id={PROCESS}"), 403, "UnitAccessError")
    assert other.get(f"/evaluasi/{number}/cetak").status_code == 404


def test_a_write_with_the_cookie_needs_the_csrf_token(web: Web) -> None:
    client = web.client(ORGANISASI)
    problem(client.post(URL, json=body()), 403, "CsrfError")
    problem(client.post(URL, json=body(), headers={"X-CSRF-Token": "x"}), 403, "CsrfError")
    form = {f"k_{k}": "ya" for k in CRITERIA}
    assert client.post(f"/evaluasi/{PROCESS}", data=form).status_code == 403
    assert web.store.evaluations() == []
    # basic auth carries no cookie a forged form could ride on: no token needed
    r = web.client().post(URL, json=body(), headers=basic(ORGANISASI))
    assert r.status_code == 201


def test_without_a_session_it_is_401(web: Web) -> None:
    problem(web.client().post(URL, json=body()), 401, "AuthenticationError")
    problem(web.client().get("/api/v1/evaluations"), 401, "AuthenticationError")


@pytest.mark.parametrize(
    "payload, status, error, field",
    [
        ({"kriteria": {k: True for k in list(CRITERIA)[1:]}}, 422, "EvaluationError",
         "kriteria.mendorong_kinerja"),
        (body(tidak_ada=True), 422, "EvaluationError", "kriteria.tidak_ada"),
        ({**body(), "catatan": {"tidak_ada": "x"}}, 422, "EvaluationError", "kriteria.tidak_ada"),
        ({**body(), "tanggal": "2026-13-01"}, 422, "EvaluationError", "tanggal"),
        ({**body(), "version": "f" * 64}, 422, "EvaluationError", "version"),
        ({**body(), "version": "\x00"}, 422, "EvaluationError", "version"),
        ({**body(), "tanggal": "2030-01-01"}, 422, "EvaluationError", "tanggal"),
        ({**body(), "catatan": {"sinergi": "a\x00b"}}, 422, "EvaluationError", "catatan.sinergi"),
        ({**body(), "catatan": {"sinergi": "x" * (MAX_CATATAN + 1)}}, 422,
         "RequestValidationError", None),
        (body(sinergi="mungkin"), 422, "RequestValidationError", None),
        # Ya/Tidak or true/false only, never guessed (reports/evaluation.py _yes): not
        # pydantic's lax booleans, which would read these as Ya or Tidak
        (body(sinergi="no"), 422, "RequestValidationError", None),
        (body(sinergi="off"), 422, "RequestValidationError", None),
        (body(sinergi="y"), 422, "RequestValidationError", None),
        (body(sinergi=0), 422, "RequestValidationError", None),
        (body(sinergi=1), 422, "RequestValidationError", None),
        ({**body(), "lain": 1}, 422, "RequestValidationError", None),
        ({}, 422, "RequestValidationError", None),
    ],
)
def test_bad_input_is_422_naming_the_field(
    web: Web, payload: dict[str, object], status: int, error: str, field: str | None
) -> None:
    found = problem(post(web, ORGANISASI, payload), status, error)
    if field is not None:
        assert found["field"] == field
    assert web.store.evaluations() == []


def test_an_unknown_sop_and_an_unknown_number_are_404(web: Web) -> None:
    client = web.client(ORGANISASI)
    headers = {"X-CSRF-Token": client.csrf}
    r = client.post("/api/v1/processes/tidak_ada/evaluations", json=body(), headers=headers)
    problem(r, 404, "UnknownProcessError")
    for number in ("99", "9007199254740991"):
        problem(client.get(f"/api/v1/evaluations/{number}"), 404, "EvaluationNotFoundError")
    assert client.get("/api/v1/evaluations/0").status_code == 422
    assert client.get("/evaluasi/99999999999999999999999/cetak").status_code == 404


def test_a_catatan_with_markup_is_escaped_on_every_page_and_in_the_csv(web: Web) -> None:
    number = post(web, ORGANISASI, {**body(), "catatan": {"sinergi": XSS}}).json()["id"]
    client = web.client(CAMAT)
    for url in (f"/evaluasi/{number}/cetak", f"/api/v1/evaluations/{number}?format=html"):
        r = client.get(url)
        assert r.status_code == 200 and "<script>window" not in r.text
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in r.text
        assert "script-src" not in r.headers["content-security-policy"] or (
            "unsafe-inline" not in r.headers["content-security-policy"].split("script-src")[1]
        )
    csv_text = client.get("/api/v1/evaluations?format=csv").text
    assert csv_text.splitlines()[0].startswith("id,process_id,unit,tanggal")
    assert len(csv_text.strip().splitlines()) == 1 + len(CRITERIA)


def test_the_form_works_without_javascript_and_redirects_to_the_printable_sheet(
    web: Web,
) -> None:
    client = web.client(ORGANISASI)
    page = client.get(f"/evaluasi?sop={PROCESS}")
    assert page.status_code == 200 and page.text.count('type="radio"') == 2 * len(CRITERIA)
    assert 'name="csrf"' in page.text
    form = {"csrf": client.csrf, "tanggal": "2026-02-27"}
    form |= {f"k_{k}": "ya" for k in CRITERIA} | {"k_sinergi": "tidak", "c_sinergi": XSS}
    r = client.post(f"/evaluasi/{PROCESS}", data=form, follow_redirects=False)
    assert r.status_code == 303
    sheet = client.get(r.headers["location"])
    assert "6 dari 7" in sheet.text and "27-02-2026" in sheet.text
    assert "Analis Kelembagaan" in sheet.text and "&lt;script&gt;" in sheet.text
    assert "@media print" not in sheet.text  # the page links its print sheet, inline CSS is off
    assert "/static/cetak.css" in sheet.text


def test_an_unanswered_criterion_shows_the_form_again_with_what_was_given(web: Web) -> None:
    client = web.client(ORGANISASI)
    form = {"csrf": client.csrf, "c_sinergi": "<b>tebal</b>"}
    form |= {f"k_{k}": "ya" for k in list(CRITERIA)[:-1]}
    r = client.post(f"/evaluasi/{PROCESS}", data=form, follow_redirects=False)
    assert r.status_code == 422
    assert "Sinergi satu dengan lainnya" in r.text and "belum dijawab" in r.text
    assert "&lt;b&gt;tebal&lt;/b&gt;" in r.text and "<b>tebal</b>" not in r.text
    assert web.store.evaluations() == []


def test_the_monitoring_page_offers_the_evaluation_beside_the_monitoring_form(web: Web) -> None:
    camat = web.client(CAMAT)
    assert "Evaluasi terakhir" not in camat.get("/pemantauan").text
    number = post(web, ORGANISASI, body(sinergi=False)).json()["id"]
    text = camat.get("/pemantauan").text
    assert f"/evaluasi/{number}/cetak" in text and "6 dari 7 Ya" in text
    assert "Isi evaluasi" not in text  # the Camat does not evaluate
    evaluator = web.client(ORGANISASI)
    assert "Isi evaluasi" in evaluator.get("/pemantauan").text
    # the evaluator reads the figures it judges on, of its kabupaten's SOPs only
    assert evaluator.get(f"/api/v1/processes/{PROCESS}/monitoring-form").status_code == 200
    other = evaluator.get("/api/v1/processes/cibatu_data_kinerja/monitoring-form")
    problem(other, 403, "UnitAccessError")


def test_the_evaluation_routes_are_in_the_openapi_document(web: Web) -> None:
    paths = web.client().get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/v1/evaluation-criteria",
        "/api/v1/processes/{process_id}/evaluations",
        "/api/v1/evaluations",
        "/api/v1/evaluations/{number}",
    ):
        assert path in paths
    assert not [p for p in paths if p.startswith("/evaluasi")]


def test_a_deployment_names_its_own_evaluator_role() -> None:
    """WebSettings.evaluator_roles (SOPFLOW_WEB_EVALUATOR_ROLES, --evaluator-role)
    replaces the default: here the Camat evaluates and the Bagian Organisasi does not."""
    from sopflow.web import WebSettings

    web = make_web(WebSettings(failure_delay=0, evaluator_roles=frozenset({"camat"})))
    problem(post(web, ORGANISASI, body()), 403, "EvaluatorError")
    r = post(web, CAMAT, body())
    assert r.status_code == 201 and r.json()["jabatan"] == "PBG-CAMAT"


@pytest.mark.parametrize(
    "change, said",
    [
        ({"c_sinergi": "x" * (MAX_CATATAN + 1)}, "terlalu panjang"),
        ({"c_sinergi": "a\x1b[2Jb"}, "karakter kendali"),
        ({"k_sinergi": "mungkin"}, "harus dijawab Ya atau Tidak"),
        ({"tanggal": "2030-01-01"}, "tidak boleh setelah hari ini"),
        ({"tanggal": "kemarin"}, "Tanggal evaluasi tidak valid"),
        ({"k_lain": "ya"}, "tidak dikenal"),
    ],
)
def test_the_form_says_what_is_wrong_in_bahasa_indonesia(
    web: Web, change: dict[str, str], said: str
) -> None:
    client = web.client(ORGANISASI)
    form = {"csrf": client.csrf} | {f"k_{k}": "ya" for k in CRITERIA} | change
    r = client.post(f"/evaluasi/{PROCESS}", data=form, follow_redirects=False)
    assert r.status_code == 422 and said in r.text
    assert web.store.evaluations() == []


def test_a_form_posted_by_someone_who_may_not_evaluate_is_refused(web: Web) -> None:
    client = web.client(CAMAT)
    form = {"csrf": client.csrf} | {f"k_{k}": "ya" for k in CRITERIA}
    r = client.post(f"/evaluasi/{PROCESS}", data=form, follow_redirects=False)
    assert r.status_code == 403 and "EvaluatorError" in r.text
    assert web.store.evaluations() == []
    assert 'name="k_sinergi"' not in client.get(f"/evaluasi?sop={PROCESS}").text


def test_an_evaluation_through_the_api_on_every_backend(store_url: str) -> None:
    """Migration 11 on SQLite and PostgreSQL: recorded, listed, read back, printed."""
    web = make_web(url=store_url)
    payload = {**body(sinergi=False), "catatan": {"sinergi": "baris satu\nbaris " + XSS}}
    number = post(web, ORGANISASI, payload).json()["id"]
    camat = web.client(CAMAT)
    got = camat.get(f"/api/v1/evaluations/{number}").json()
    assert got["ya"] == 6 and got["kriteria"][-1]["catatan"] == "baris satu\nbaris " + XSS
    assert [e["id"] for e in camat.get("/api/v1/evaluations").json()] == [number]
    assert "&lt;script&gt;" in camat.get(f"/evaluasi/{number}/cetak").text
    web.store.close()
