"""The tasklist in a real browser: Debian's Chromium, headless, driven by Playwright.

The story of issue 16: a Sekcam of Kecamatan Purbalingga logs in, sees step 10 of a
case, answers Tidak with a catatan; the Tim member logs in, sees the returned step 9
with the catatan and completes it; the Sekcam approves; the dashboard shows the case at
step 11 and the breach counts. Names, data and catatan carry XSS payloads that must
never run (a ``window.__xss`` marker stays unset and no dialog opens), and a request
without its CSRF token is refused. Screenshots of each page go to docs/images/.

Run by ``make test-web`` (SOPFLOW_TEST_BROWSER=1); never downloads a browser.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests._web import CAMAT, KASI, ORGANISASI, PASSWORD, PROCESS, SEKCAM, TIM, Web, make_web

from sopflow import Actor
from sopflow.authority.directory import Person

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.environ.get("SOPFLOW_TEST_BROWSER"), reason="browser tests run in make test-web"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
XSS = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Web, str]]:
    import uvicorn

    from sopflow.runtime.clock import SystemClock

    web = make_web()
    web.engine.clock = SystemClock()  # the browser's session lives in real time
    web.clock.now = SystemClock().now  # type: ignore[method-assign]
    # a hostile name in the directory: shown on every page the Tim member sees
    directory = web.store.load_directory()
    person = directory.people[TIM]
    from sopflow.authority.directory import Directory

    web.store.import_directory(
        Directory.build([], [], [Person(person.nip, person.nama + " " + XSS)], [])
    )
    port = _free_port()
    config = uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield web, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def _page(browser, width: int = 412, height: int = 915):  # type: ignore[no-untyped-def]
    """A phone-sized page that records any dialog (an alert would mean a payload ran)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def _login(page, base: str, nip: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/masuk")
    page.fill("#nip", nip)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _no_xss(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("window.__xss === undefined")
    assert page.dialogs == []


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"web-{name}.png"), full_page=True)


def test_the_decision_story_end_to_end(server, browser) -> None:  # type: ignore[no-untyped-def]
    web, base = server
    instance_id = web.engine.start(
        PROCESS, actor=Actor(CAMAT), data={"nomor": "PBG-" + XSS_SCRIPT}
    ).instance_id
    web.to_step(10, instance_id)

    sekcam = _page(browser)
    sekcam.goto(f"{base}/masuk")
    _shot(sekcam, "masuk")
    _login(sekcam, base, SEKCAM)
    card = sekcam.locator(f'li[data-instance="{instance_id}"][data-step="10"]')
    assert card.count() == 1
    _shot(sekcam, "tugas-saya")
    card.locator("a.step-link").click()
    sekcam.wait_for_url(f"{base}/tugas/{instance_id}/step_10")
    sekcam.wait_for_load_state("networkidle")
    _shot(sekcam, "langkah")
    sekcam.check("input[name=keputusan][value=tidak]")
    sekcam.fill("#catatan", "Rekap Seksi Trantib belum masuk " + XSS)
    sekcam.click("#selesai button[type=submit]")
    sekcam.wait_for_url(f"{base}/")
    _no_xss(sekcam)
    # back to the joint step 9: the Anggota's task and the Kepala Seksi's (docs/sops.md)
    assert [w.step_no for w in web.engine.work_list(instance_id=instance_id)] == [9, 9]

    tim = _page(browser)
    _login(tim, base, TIM)
    _no_xss(tim)
    tim.click(f'li[data-instance="{instance_id}"][data-step="9"] a.step-link')
    tim.wait_for_url(f"{base}/tugas/{instance_id}/step_09_1")
    note = tim.locator(".returned .catatan")
    assert "Rekap Seksi Trantib belum masuk" in note.inner_text()
    assert XSS in note.inner_text()  # shown as text, not run
    _no_xss(tim)
    _shot(tim, "langkah-dikembalikan")
    tim.click("#selesai button[type=submit]")
    tim.wait_for_url(f"{base}/")
    assert [w.task_id for w in web.engine.work_list(instance_id=instance_id)] == ["step_09_2"]
    # the Kepala Seksi does their part of the joint step (the same page, as tested above)
    web.engine.complete(instance_id, "step_09_2", actor=Actor(KASI))
    assert [w.step_no for w in web.engine.work_list(instance_id=instance_id)] == [10]

    sekcam.goto(f"{base}/tugas/{instance_id}/step_10")
    sekcam.check("input[name=keputusan][value=ya]")
    sekcam.click("#selesai button[type=submit]")
    sekcam.wait_for_url(f"{base}/")
    assert [w.step_no for w in web.engine.work_list(instance_id=instance_id)] == [11]

    camat = _page(browser, 1280, 900)
    _login(camat, base, CAMAT)
    camat.goto(f"{base}/pemantauan")
    row = camat.locator(f'tr[data-instance="{instance_id}"]')
    assert row.count() == 1 and row.get_attribute("data-step") == "11"
    counts = {
        li.get_attribute("data-status"): int(li.locator("strong").inner_text())
        for li in camat.locator(".counts li").all()
    }
    assert counts == {"breached": 0, "at_risk": 0, "on_track": 1, "no_standard": 0}
    _no_xss(camat)
    # the monthly share within the standard: drawn by the server, said in text as well
    descs = camat.eval_on_selector_all(
        "figure.chart svg[role=img] desc", "nodes => nodes.map(n => n.textContent)"
    )
    said = [d for d in descs if re.match(r"^\w{3} \d{4}: \d+% \(\d+ dari \d+ langkah\)", d)]
    assert said, descs
    month = said[0].split(":")[0]  # "Des 2026": the month the story's steps were done
    assert camat.locator("details.chart-table td", has_text=month).count() >= 1
    camat.wait_for_load_state("networkidle")
    _shot(camat, "pemantauan")
    IMAGES.mkdir(parents=True, exist_ok=True)
    chart = camat.locator("section.sop", has_text=month).locator("figure.chart").first
    chart.screenshot(path=str(IMAGES / "web-grafik-bulanan.png"))
    camat.goto(f"{base}/mulai")
    _shot(camat, "mulai")
    camat.goto(f"{base}/instansi/{instance_id}")
    _no_xss(camat)
    _shot(camat, "instansi")


def test_a_request_without_its_csrf_token_is_refused(server, browser) -> None:  # type: ignore[no-untyped-def]
    web, base = server
    instance_id = web.to_step(10)
    page = _page(browser)
    _login(page, base, SEKCAM)
    # the browser sends the session cookie, but not the token: as a forged form would
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', body: new URLSearchParams(
               {keputusan: 'ya'})})).status""",
        f"{base}/tugas/{instance_id}/step_10/selesai",
    )
    assert status == 403
    api = page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', headers: {'content-type':
               'application/json'}, body: '{"data": {"disetujui": true}}'})).status""",
        f"{base}/api/v1/instances/{instance_id}/steps/10/complete",
    )
    assert api == 403
    assert [w.step_no for w in web.engine.work_list(instance_id=instance_id)] == [10]


def test_the_core_actions_work_with_javascript_off(server, browser) -> None:  # type: ignore[no-untyped-def]
    web, base = server
    instance_id = web.to_step(10)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 412, "height": 915})
    page = context.new_page()
    _login(page, base, SEKCAM)
    page.click(f'li[data-instance="{instance_id}"] form button')  # Ambil
    page.wait_for_url(f"{base}/")
    assert web.engine.work_list(instance_id=instance_id)[0].claimed_by == SEKCAM
    page.goto(f"{base}/tugas/{instance_id}/step_10")
    page.keyboard.press("Tab")  # the skip link comes first for keyboard users
    assert page.evaluate("document.activeElement.className") == "skip"
    page.check("input[name=keputusan][value=ya]")
    page.click("#selesai button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert [w.step_no for w in web.engine.work_list(instance_id=instance_id)] == [11]


def test_the_bagian_organisasi_evaluates_an_sop_on_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    """Permenpan-RB 35/2012: the evaluator answers the seven criteria Ya/Tidak with a
    catatan, the sheet prints with the score; a catatan with markup never runs. With
    JavaScript off, as the form must work without it."""
    web, base = server
    context = browser.new_context(java_script_enabled=False, viewport={"width": 412, "height": 915})
    page = context.new_page()
    _login(page, base, ORGANISASI)
    page.goto(f"{base}/evaluasi")
    page.click(f'a[href="/evaluasi?sop={PROCESS}"]')
    page.wait_for_url(f"{base}/evaluasi?sop={PROCESS}")
    from sopflow.reports.evaluation import CRITERIA

    for key in CRITERIA:
        page.check(f"input[name=k_{key}][value={'tidak' if key == 'sinergi' else 'ya'}]")
    page.fill("#c_sinergi", "Belum selaras dengan SOP pelaporan kinerja bulanan " + XSS)
    page.fill("#c_mudah_dipahami", "Alur dan Mutu Baku jelas.")
    _shot(page, "evaluasi")
    page.click(".evaluasi-form button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/evaluasi/\d+/cetak$"))
    row = page.locator('tr[data-kriteria="sinergi"]')
    assert XSS in row.locator("td.catatan").inner_text()  # shown as text, not markup
    assert "6 dari 7" in page.locator("tfoot").inner_text()
    _shot(page, "evaluasi-cetak")
    stored = web.store.evaluations(process_id=PROCESS)
    assert stored and stored[0].nip == ORGANISASI and stored[0].ya == 6
    # the same sheet with scripts on: the payload still never runs
    live = _page(browser)
    _login(live, base, ORGANISASI)
    live.goto(f"{base}/evaluasi/{stored[0].id}/cetak")
    live.wait_for_load_state("networkidle")
    _no_xss(live)
    context.close()
