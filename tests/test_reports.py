"""SLA reports: figures computed by hand from known durations, the form's rule, formats, CLI.

The simulated set runs the review loop (step 1 "30 menit", step 2 "1 hari" deciding,
step 3 "15 Menit") four times, one instance a day starting 08:00 WIB so every step stays
inside the morning's working hours and working time equals clock time:

    Mon A: s1 10, s2 60 Ya, s3 5
    Tue B: s1 20, s2 30 Ya, s3 10
    Wed C: s1 40 (missed by 10), s2 90 Tidak, s1 10, s2 15 Ya, s3 20 (missed by 5)
    Thu D: s1 25, s2 15 Ya, s3 15 (exactly at due: met)
    Fri E: started 08:00, still at step 1 at 09:00 (breached)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import structlog
from lxml import html as lxml_html
from tests.conftest import ROOT, ListCatalog

from sopflow.cli import main
from sopflow.definitions.loader import load_definition
from sopflow.definitions.model import ProcessDefinition
from sopflow.reports.report import format_report
from sopflow.reports.stats import (
    BELUM_DINILAI,
    BERJALAN_BAIK,
    TIDAK_BERJALAN_BAIK,
    Figures,
    ProcessReport,
    StepFigures,
    assess,
    format_minutes,
    instance_report,
    median,
    p90,
    process_report,
)
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

STAF = Actor("budi", {"pelaksana"})
SEKCAM = Actor("sari", {"sekcam"})
CAMAT = Actor("camat.pak", {"camat"})
ACTORS = {1: STAF, 2: SEKCAM, 3: CAMAT}
FRIDAY_0900 = datetime.fromisoformat("2025-08-08T09:00:00+07:00")

# (step no, minutes, decision) per instance, in order
PLAN = {
    "2025-08-04": [(1, 10, None), (2, 60, True), (3, 5, None)],
    "2025-08-05": [(1, 20, None), (2, 30, True), (3, 10, None)],
    "2025-08-06": [(1, 40, None), (2, 90, False), (1, 10, None), (2, 15, True), (3, 20, None)],
    "2025-08-07": [(1, 25, None), (2, 15, True), (3, 15, None)],
}


def simulate(engine: Engine, clock: FakeClock) -> dict[str, str]:
    ids = {}
    for day, steps in PLAN.items():
        clock.set(f"{day}T08:00:00+07:00")
        iid = engine.start("review_loop", actor=STAF).instance_id
        for no, minutes, decision in steps:
            clock.advance(minutes=minutes)
            data = {} if decision is None else {"disetujui": decision}
            engine.complete(iid, no, actor=ACTORS[no], data=data)
        ids[day] = iid
    clock.set("2025-08-08T08:00:00+07:00")
    ids["open"] = engine.start("review_loop", actor=STAF).instance_id
    return ids


@pytest.fixture
def simulated(engine: Engine, clock: FakeClock) -> dict[str, str]:
    return simulate(engine, clock)


@pytest.fixture
def report(engine: Engine, store: Store, simulated: dict[str, str]) -> ProcessReport:
    return process_report(store, "review_loop", definitions=engine.definition, at=FRIDAY_0900)


def test_median_and_nearest_rank_p90() -> None:
    assert median([]) is None and p90([]) is None
    assert (median([7.0]), p90([7.0])) == (7.0, 7.0)
    assert (median([5, 10, 15, 20]), p90([5, 10, 15, 20])) == (12.5, 20.0)
    values = [float(v) for v in range(1, 11)]  # ceil(0.9 * 10) = 9th value
    assert p90(values) == 9.0 and p90([*values, 11.0]) == 10.0  # ceil(9.9) = 10th


def test_per_step_figures_from_known_durations(report: ProcessReport) -> None:
    by_no = {s.step_no: s.figures for s in report.steps}
    s1, s2, s3 = by_no[1], by_no[2], by_no[3]
    # step 1 passes 10, 20, 40, 10, 25 -> sorted 10 10 20 25 40
    assert (s1.count, s1.median_minutes, s1.p90_minutes) == (5, 20.0, 40.0)
    assert (s1.met, s1.with_standard, s1.share_met, s1.p90_overrun_minutes) == (4, 5, 0.8, 10.0)
    assert (s1.returns, s1.open, s1.open_breached) == (0, 1, 1)
    # step 2 passes 60, 30, 90, 15, 15 -> sorted 15 15 30 60 90; the Wednesday Tidak
    assert (s2.count, s2.median_minutes, s2.p90_minutes) == (5, 30.0, 90.0)
    assert (s2.share_met, s2.returns, s2.p90_overrun_minutes) == (1.0, 1, 0.0)
    # step 3 passes 5, 10, 20, 15 -> sorted 5 10 15 20
    assert (s3.count, s3.median_minutes, s3.p90_minutes) == (4, 12.5, 20.0)
    assert (s3.met, s3.share_met, s3.p90_overrun_minutes) == (3, 0.75, 5.0)
    assert report.instances == {"completed": 4, "running": 1}
    assert report.share_met() == {"step_01": 0.8, "step_02": 1.0, "step_03": 0.75}


def test_bottlenecks_first_and_roles(report: ProcessReport) -> None:
    assert [s.step_no for s in report.steps] == [3, 1, 2]  # missed 25%, 20%, 0%
    roles = {r.role: r for r in report.roles}
    assert set(roles) == {"pelaksana", "sekcam", "camat"}
    assert roles["camat"].figures == next(s.figures for s in report.steps if s.step_no == 3)
    assert (roles["sekcam"].steps, roles["sekcam"].figures.returns) == (1, 1)


def test_the_monitoring_form_is_prefilled_by_the_stated_rule(report: ProcessReport) -> None:
    form = {row.no: row for row in report.form}
    assert [row.no for row in report.form] == [1, 2, 3]  # SOP order, not bottleneck order
    assert form[1].prosedur == "Menyusun draft"
    # 80% met and no return: berjalan dengan baik
    assert form[1].penilaian == BERJALAN_BAIK
    assert form[1].tindakan.startswith("Tidak ada")
    assert "5 kali dilaksanakan" in form[1].catatan and "4 dari 5 (80%)" in form[1].catatan
    assert "1 sedang melewati standar waktu" in form[1].catatan
    # always in time; it sent one file of five back: noted, not held against it
    assert form[2].penilaian == BERJALAN_BAIK
    assert "1 kali dikembalikan" in form[2].catatan
    assert "Perjelas kelengkapan" in form[2].tindakan and "(Draft)" in form[2].tindakan
    # 75% met: review the standard; the camat's only step, so the role is short too
    assert form[3].penilaian == TIDAK_BERJALAN_BAIK
    assert 'standar waktu "15 Menit"' in form[3].tindakan
    assert "peran camat" in form[3].tindakan
    assert "median 12 menit" in form[3].catatan or "median 13 menit" in form[3].catatan


def _figures(
    count: int, met: int, with_standard: int, returns: int, overrun: float = 0.0
) -> StepFigures:
    standard = 30.0 if with_standard else None
    f = Figures(count, 10.0, 20.0, with_standard, met, returns, overrun, 0, 0, standard)
    return StepFigures("t", 1, "Langkah", "tim", "30 menit" if with_standard else None, (), f)


@pytest.mark.parametrize(
    ("count", "met", "with_standard", "returns", "overrun", "expected"),
    [
        (10, 8, 10, 0, 0.0, BERJALAN_BAIK),  # (1) 80% met: the boundary, good
        (10, 7, 10, 0, 0.0, TIDAK_BERJALAN_BAIK),  # (1) 70%
        (25, 22, 25, 0, 15.0, BERJALAN_BAIK),  # (2) 88%, p90 overrun half the standard
        (25, 22, 25, 0, 57.0, TIDAK_BERJALAN_BAIK),  # (2) 88%, p90 overrun 57 of 30 min
        (3, 3, 3, 1, 0.0, BERJALAN_BAIK),  # (3) met 3 of 3, one return: a third, good
        (3, 3, 3, 2, 0.0, TIDAK_BERJALAN_BAIK),  # (3) two of three returned
        (10, 10, 10, 1, 0.0, BERJALAN_BAIK),
        (3, 0, 0, 0, 0.0, BERJALAN_BAIK),  # no standard: judged on returns only
        (3, 0, 0, 2, 0.0, TIDAK_BERJALAN_BAIK),
        (0, 0, 0, 0, 0.0, BELUM_DINILAI),
    ],
)
def test_penilaian_rule(
    count: int, met: int, with_standard: int, returns: int, overrun: float, expected: str
) -> None:
    """The rule of docs/sla.md ("The monitoring form, pre-filled") at its boundaries."""
    row = assess(1, _figures(count, met, with_standard, returns, overrun), role_share_met=1.0)
    assert row.penilaian == expected
    if with_standard == 0 and count:
        assert "tanpa standar waktu" in row.catatan


def test_staff_is_suggested_only_when_the_whole_role_is_late() -> None:
    late = _figures(10, 5, 10, 0)
    assert "Tambah pelaksana" not in assess(1, late, role_share_met=0.9).tindakan
    assert "Tambah pelaksana" in assess(1, late, role_share_met=0.5).tindakan


def test_instance_report_with_a_return(
    engine: Engine, store: Store, simulated: dict[str, str]
) -> None:
    r = instance_report(store, simulated["2025-08-06"], definitions=engine.definition,
                        at=FRIDAY_0900)
    got = [(p.step_no, p.actor, p.actual_minutes, p.status, p.overrun_minutes, p.returned)
           for p in r.steps]
    assert got == [
        (1, "budi", 40.0, "missed", 10.0, False),
        (2, "sari", 90.0, "met", 0.0, True),
        (1, "budi", 10.0, "met", 0.0, False),
        (2, "sari", 15.0, "met", 0.0, False),
        (3, "camat.pak", 20.0, "missed", 5.0, False),
    ]
    assert r.total_minutes == 175.0
    assert r.standard_total_minutes == 30 + 450 + 30 + 450 + 15
    assert r.step_status() == {
        "step_01": "done_in_time", "step_02": "done_in_time", "step_03": "done_late",
    }
    assert [d.label for d in r.records()[1].path] == ["Tidak"]


def test_instance_report_of_open_and_cancelled_instances(
    engine: Engine, store: Store, simulated: dict[str, str], clock: FakeClock
) -> None:
    r = instance_report(store, simulated["open"], definitions=engine.definition,
                        at=FRIDAY_0900)
    [p] = r.steps
    assert (p.status, p.actual_minutes, p.overrun_minutes, p.completed_at) == (
        "breached", 60.0, 30.0, None,
    )
    assert r.step_status() == {"step_01": "breached"}
    engine.cancel(simulated["open"], reason="duplikat", actor=CAMAT, at=FRIDAY_0900)
    later = FRIDAY_0900 + timedelta(hours=3)
    c = instance_report(store, simulated["open"], definitions=engine.definition, at=later)
    assert (c.status, c.steps[0].status, c.steps[0].actual_minutes) == ("cancelled",
                                                                        "cancelled", 60.0)
    assert c.step_status() == {}


def test_csv_and_json(engine: Engine, store: Store, report: ProcessReport,
                      simulated: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(format_report([report], "csv"))))
    assert [r["step_no"] for r in rows] == ["3", "1", "2"]
    assert rows[1]["median_minutes"] == "20.0" and rows[1]["share_met"] == "0.8"
    assert rows[2]["penilaian"] == BERJALAN_BAIK and rows[2]["returns"] == "1"
    data = json.loads(format_report([report], "json"))
    assert data[0]["kind"] == "process" and data[0]["steps"][0]["p90_minutes"] == 20.0
    assert data[0]["form"][0]["penilaian"] == BERJALAN_BAIK
    inst = instance_report(store, simulated["2025-08-06"], definitions=engine.definition,
                           at=FRIDAY_0900)
    rows = list(csv.DictReader(io.StringIO(format_report([inst], "csv"))))
    assert [r["status"] for r in rows] == ["missed", "met", "met", "met", "missed"]
    assert rows[1]["returned"] == "True" and rows[0]["ready_at"] == "2025-08-06T08:00:00+07:00"
    with pytest.raises(ValueError):
        format_report([report, inst], "csv")
    with pytest.raises(ValueError):
        format_report([report], "pdf")


def _assert_self_contained(text: str) -> lxml_html.HtmlElement:
    doc = lxml_html.document_fromstring(text)
    assert not doc.xpath("//script | //link | //iframe | //object | //embed | //img")
    for element in doc.iter():
        for name, value in element.attrib.items():
            if str(name).split("}")[-1] in ("src", "href") or str(name).endswith("href"):
                link = str(value).strip().lower()
                assert not link.startswith(("http", "//")), (name, value)
    css = " ".join(str(style.text) for style in doc.iter("style"))
    assert "@media print" in css and "overflow-x:auto" in css and "url(" not in css
    assert doc.xpath("//meta[@name='viewport']")
    return doc


def test_html_is_one_self_contained_page(report: ProcessReport) -> None:
    doc = _assert_self_contained(format_report([report], "html"))
    form = doc.xpath("//table[@class='form']")[0]
    headers = [th.text_content() for th in form.xpath(".//th")]
    assert headers[:3] == ["No", "Prosedur", "Penilaian terhadap Penerapan"]
    cells = [td.text_content() for td in form.xpath(".//tr[1]/td")]
    assert cells[:3] == ["1", "Menyusun draft", BERJALAN_BAIK]
    # every table can scroll sideways on a phone
    assert all(t.getparent().get("class") == "scroll" for t in doc.xpath("//table"))


def test_html_escapes_names_from_the_file(
    review_loop: ProcessDefinition, store: Store, clock: FakeClock
) -> None:
    xml = review_loop.xml.decode().replace(
        'name="Menyusun draft"', 'name="&lt;script&gt;alert(1)&lt;/script&gt;"'
    )
    from sopflow.definitions.loader import load_definition_bytes

    hostile = load_definition_bytes(xml.encode(), source="hostile.bpmn")
    engine = Engine(ListCatalog(hostile), store, clock=clock)
    engine.start("review_loop", actor=STAF)
    r = process_report(store, "review_loop", definitions=engine.definition,
                       at=FRIDAY_0900)
    text = format_report([r], "html")
    assert "<script>" not in text and "&lt;script&gt;" in text
    _assert_self_contained(text)


def test_html_embeds_the_pictures_of_a_shipped_sop(store: Store, clock: FakeClock) -> None:
    from sopflow.testing import SimulatedStaff

    cibatu = load_definition(ROOT / "bpmn" / "cibatu-data-kinerja.bpmn")
    engine = Engine(ListCatalog(cibatu), store, clock=clock)
    staff = SimulatedStaff(engine, clock, duration=lambda item: timedelta(minutes=45))
    iid = engine.start("cibatu_data_kinerja", actor=staff.actor("camat")).instance_id
    staff.work(iid, max_steps=3)
    at = clock.now()
    per_sop = process_report(store, "cibatu_data_kinerja", definitions=engine.definition, at=at)
    one = instance_report(store, iid, definitions=engine.definition, at=at)
    doc = _assert_self_contained(format_report([per_sop, one], "html"))
    svgs = doc.xpath("//figure/*[local-name()='svg']")
    assert len(svgs) == 3  # the SOP by share met; the instance by status; its timeline


def test_format_minutes() -> None:
    assert [format_minutes(v) for v in (None, 0, 44.6, 60, 125)] == [
        "-", "0 menit", "45 menit", "1 jam", "2 jam 5 menit",
    ]


# ------------------------------------------------------------------------- CLI


@pytest.fixture
def db(tmp_path: Path, review_loop: ProcessDefinition) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    clock = FakeClock()
    with open_store(url) as s:
        ids = simulate(Engine(ListCatalog(review_loop), s, clock=clock), clock)
    return url, ids


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() configures structlog for the process; give other tests the defaults back."""
    yield
    structlog.reset_defaults()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


AT = "2025-08-08T09:00+07:00"


def test_cli_sla_lists_open_steps(db: tuple[str, dict[str, str]],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    url, ids = db
    code, out, _ = _run(capsys, "sla", "--db", url, "--at", AT, "--json")
    assert code == 0
    [row] = json.loads(out)
    assert (row["instance_id"], row["status"], row["elapsed_minutes"]) == (ids["open"],
                                                                           "breached", 60.0)
    code, out, _ = _run(capsys, "sla", "--db", url, "--at", AT, "--role", "camat")
    assert (code, out.strip().splitlines()[-1]) == (0, "no open steps")


def test_cli_sla_watch_announces_once(db: tuple[str, dict[str, str]],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    url, ids = db
    code, out, _ = _run(capsys, "sla", "--db", url, "--at", AT, "--watch", "--every", "0.01",
                        "--count", "3")
    assert code == 0
    assert out.count("-- scan at") == 3
    assert [line for line in out.splitlines() if line.startswith("!")] == [
        f"! breached: instance {ids['open']} step 1 (step_01) role pelaksana, "
        "due 2025-08-08 08:30"
    ]
    code, out, _ = _run(capsys, "sla", "--db", url, "--at", AT, "--watch", "--every", "0.01",
                        "--count", "1")
    assert "!" not in out  # a later watcher does not announce it again
    code, _, err = _run(capsys, "sla", "--db", url, "--watch", "--every", "0", "--count", "1")
    assert code == 1 and "--every" in err


def test_cli_report_formats_and_errors(db: tuple[str, dict[str, str]], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    url, ids = db
    code, out, _ = _run(capsys, "report", "--db", url, "--at", AT, "--catalog", "nowhere")
    assert code == 0 and "Monitoring Pelaksanaan SOP AP" in out and "Menyusun draft" in out
    code, out, _ = _run(capsys, "report", "--db", url, "--at", AT, "--format", "json",
                        "--instance", ids["2025-08-04"])
    assert code == 0 and json.loads(out)[0]["total_minutes"] == 75.0
    target = tmp_path / "r.html"
    code, out, _ = _run(capsys, "report", "--db", url, "--at", AT, "--format", "html",
                        "-o", str(target), "--process", "review_loop")
    assert code == 0 and out.strip() == f"wrote {target}"
    _assert_self_contained(target.read_text(encoding="utf-8"))
    code, _, err = _run(capsys, "report", "--db", url, "--instance", "nope")
    assert code == 1 and "nope" in err and "Traceback" not in err
    code, _, err = _run(capsys, "report", "--db", url, "--process", "no_such_sop")
    assert code == 1 and "no_such_sop" in err
    code, _, err = _run(capsys, "report", "--db", url, "--process", "other",
                        "--instance", ids["open"])
    assert code == 1 and "review_loop" in err
    code, _, err = _run(capsys, "report", "--db", url, "-o", str(tmp_path / "no" / "x.csv"),
                        "--format", "csv")
    assert code == 1 and "cannot write" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--db", url, "--format", "pdf"])
    assert exit_info.value.code == 2
