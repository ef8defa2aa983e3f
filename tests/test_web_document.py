"""The SOP document through the API: HTML always, PDF when the server has headless Chromium.

Permenpan-RB 35/2012 asks for the SOP as a signed document (identity sheet and
flowchart); sopflow prints the same self-contained HTML to PDF with Debian's Chromium.
Without Chromium the PDF is a typed 503 naming what is missing, never a 500.
"""

from __future__ import annotations

import os

import pytest
from tests._web import PROCESS, SEKCAM, Web, make_web
from tests.test_web_api import problem

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def web() -> Web:
    return make_web()


def test_the_html_document_is_served_with_a_policy_that_runs_no_script(web: Web) -> None:
    r = web.client(SEKCAM).get(f"/api/v1/processes/{PROCESS}/document")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="halaman-1"' in r.text and "script-src" not in r.headers["content-security-policy"]


def test_without_chromium_the_pdf_is_a_503_problem_naming_it(
    web: Web, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("SOPFLOW_CHROMIUM", str(tmp_path / "no-such-chromium"))
    r = web.client(SEKCAM).get(f"/api/v1/processes/{PROCESS}/document.pdf")
    body = problem(r, 503, "RendererUnavailableError")
    assert "chromium" in body["detail"].lower()


def test_a_renderer_that_writes_nothing_is_a_503_too(
    web: Web, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SOPFLOW_CHROMIUM", str(fake))
    r = web.client(SEKCAM).get(f"/api/v1/processes/{PROCESS}/document.pdf")
    assert "wrote no PDF" in problem(r, 503, "RendererUnavailableError")["detail"]


def test_the_pdf_needs_a_login_and_an_unknown_sop_is_404(web: Web) -> None:
    problem(
        web.client().get(f"/api/v1/processes/{PROCESS}/document.pdf"), 401, "AuthenticationError"
    )
    r = web.client(SEKCAM).get("/api/v1/processes/tidak_ada/document.pdf")
    problem(r, 404, "UnknownProcessError")


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (apt-get install chromium)"
)
def test_with_chromium_the_pdf_is_printed(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPFLOW_CHROMIUM", CHROMIUM)
    r = web.client(SEKCAM).get(f"/api/v1/processes/{PROCESS}/document.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-") and b"%%EOF" in r.content[-1024:]
    assert f'filename="SOP-{PROCESS}.pdf"' in r.headers["content-disposition"]
