"""`sopflow report --unit`: one kecamatan's monitoring form, or a kabupaten's roll-up.

The Bagian Organisasi monitors every unit's SOPs at least every six months and a Camat
monitors their own (Permenpan-RB 35/2012, Monitoring Pelaksanaan SOP AP): from a store
serving many kecamatan, the report and its form must count only the instances of the unit
asked for and the units under it, and say which unit that is.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tests._staff import CAMAT, CAMAT_PACE, PACE, PBG, purbalingga, staffed_engine, who

from sopflow.cli import main
from sopflow.errors import DirectoryError
from sopflow.reports.report import STATUS_ID
from sopflow.reports.stats import ProcessReport, process_report
from sopflow.sla.policy import SlaPolicy
from sopflow.stores import open_store
from sopflow.testing import FakeClock

PROCESS = "purbalingga_pengukuran_kinerja"
CATALOG = str(Path(__file__).resolve().parent.parent / "bpmn")
AT = "2025-08-04T11:00+07:00"


@pytest.fixture
def url(tmp_path: Path) -> str:
    """Purbalingga: two cases (one cancelled), each with step 1 done; Pace: one fresh case."""
    url = f"sqlite:///{tmp_path / 'kab.db'}"
    clock = FakeClock("2025-08-04T08:00:00+07:00")
    with open_store(url) as store:
        engine = staffed_engine(store, clock, purbalingga())
        quick = engine.start(PROCESS, actor=who(CAMAT)).instance_id
        slow = engine.start(PROCESS, actor=who(CAMAT)).instance_id
        engine.start(PROCESS, actor=who(CAMAT_PACE), unit=PACE)
        engine.complete(quick, 1, actor=who(CAMAT), at=clock.advance(minutes=10))
        engine.complete(slow, 1, actor=who(CAMAT), at=clock.advance(minutes=110))
        engine.cancel(slow, reason="dobel", actor=who(CAMAT), at=clock.advance(minutes=1))
    return url


def _report(url: str, unit: str | None) -> ProcessReport:
    definition = purbalingga()
    with open_store(url) as store:
        return process_report(
            store,
            PROCESS,
            definitions=lambda _version: definition,
            policy=SlaPolicy(),
            at=FakeClock("2025-08-04T11:00:00+07:00").now(),
            definition=definition,
            unit=unit,
        )


def _step1_done(report: ProcessReport) -> int:
    step = next(s for s in report.steps if s.step_no == 1)
    return int(step.figures.count)


def test_a_kecamatans_report_counts_only_its_own_instances(url: str) -> None:
    pbg = _report(url, PBG)
    assert pbg.unit == (PBG, "Kecamatan Purbalingga")
    assert dict(pbg.instances) == {"running": 1, "cancelled": 1}
    assert _step1_done(pbg) == 2
    pace = _report(url, PACE)
    assert dict(pace.instances) == {"running": 1}
    assert _step1_done(pace) == 0


def test_a_kabupaten_code_rolls_up_its_kecamatan_and_no_unit_counts_all(url: str) -> None:
    kabupaten = _report(url, "33.03")
    assert kabupaten.unit == ("33.03", "Kabupaten Purbalingga")
    assert sum(kabupaten.instances.values()) == 2
    everything = _report(url, None)
    assert everything.unit is None
    assert sum(everything.instances.values()) == 3
    assert _step1_done(everything) == 2


def test_an_unknown_unit_or_a_store_without_units_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="not in the directory"):
        _report(url, "99.99")
    bare = f"sqlite:///{tmp_path / 'bare.db'}"
    with open_store(bare) as store:
        from tests.conftest import ListCatalog

        from sopflow.runtime.engine import Engine
        from sopflow.runtime.views import Actor

        Engine(ListCatalog(purbalingga()), store).start(PROCESS, actor=Actor("a", ["camat"]))
    with pytest.raises(DirectoryError, match="needs a staff directory"):
        _report(bare, PBG)


def _cli(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str]:
    code = main(["report", "--db", url, "--catalog", CATALOG, "--at", AT, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_format_says_which_unit_it_covers(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(capsys, url, "--unit", PBG, "--format", "json")
    assert code == 0, err
    (report,) = json.loads(out)
    assert report["unit"] == {"kode": PBG, "nama": "Kecamatan Purbalingga"}
    assert report["instances"] == {"cancelled": 1, "running": 1}
    code, out, _ = _cli(capsys, url, "--unit", PACE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows and {r["unit"] for r in rows} == {PACE}
    code, out, _ = _cli(capsys, url, "--format", "csv")
    assert {r["unit"] for r in csv.DictReader(io.StringIO(out))} == {""}
    code, out, _ = _cli(capsys, url, "--unit", "33.03", "--format", "html")
    assert code == 0 and "Unit: Kabupaten Purbalingga (33.03) beserta unit di bawahnya" in out
    code, out, _ = _cli(capsys, url, "--unit", PBG)
    assert code == 0 and "unit: Kecamatan Purbalingga (33.03.05)" in out
    counted = f"pelaksanaan: {STATUS_ID['cancelled']} 1, {STATUS_ID['running']} 1;"
    assert counted in out


def test_the_cli_refuses_an_instance_of_another_unit_and_a_unit_without_a_directory(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(url) as store:
        units = store.instance_units()  # type: ignore[attr-defined]
    pace_case = next(i for i, u in units.items() if u == PACE)
    code, _, err = _cli(capsys, url, "--instance", pace_case, "--unit", PBG)
    assert code == 1 and err.count("\n") == 1 and f"unit {PBG}" in err
    code, out, err = _cli(capsys, url, "--instance", pace_case, "--unit", "35.18")
    assert code == 0 and pace_case in out, err
    code, _, err = _cli(capsys, f"sqlite:///{tmp_path / 'none.db'}", "--unit", PBG)
    assert code == 1 and err.count("\n") == 1 and "staff directory" in err
