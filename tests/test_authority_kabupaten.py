"""The kabupaten view: one store for many kecamatan, compared per unit and rolled up
(the Bagian Organisasi's six-monthly Monitoring Pelaksanaan SOP AP across units,
Permenpan-RB 35/2012)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests._staff import CAMAT, CAMAT_PACE, PACE, PBG, purbalingga, staffed_engine, who

from sopflow.authority.kabupaten import compare_units, format_comparison
from sopflow.cli import main
from sopflow.errors import DirectoryError
from sopflow.stores import open_store
from sopflow.testing import FakeClock

PROCESS = "purbalingga_pengukuran_kinerja"


def _office_week(url: str) -> FakeClock:
    """Purbalingga: one step 1 done in 10 min, one in 2 h (waktu 15 Menit); Pace: one case."""
    clock = FakeClock("2025-08-04T08:00:00+07:00")
    with open_store(url) as store:
        engine = staffed_engine(store, clock, purbalingga())
        quick = engine.start(PROCESS, actor=who(CAMAT)).instance_id
        slow = engine.start(PROCESS, actor=who(CAMAT)).instance_id
        engine.start(PROCESS, actor=who(CAMAT_PACE), unit=PACE)
        engine.complete(quick, 1, actor=who(CAMAT), at=clock.advance(minutes=10))
        engine.complete(slow, 1, actor=who(CAMAT), at=clock.advance(minutes=110))
        engine.cancel(slow, reason="dobel", actor=who(CAMAT), at=clock.advance(minutes=1))
    return clock


def test_each_kecamatan_is_counted_in_its_own_row_and_rolled_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kab.db'}"
    clock = _office_week(url)
    with open_store(url) as store:
        directory = store.load_directory()  # type: ignore[attr-defined]
        rows, total = compare_units(store, directory, "33.03", at=clock.now())
        assert [r.kode for r in rows] == [PBG]
        (pbg,) = rows
        assert (pbg.instances, pbg.running, pbg.cancelled) == (2, 1, 1)
        assert (pbg.steps_done, pbg.steps_on_time, pbg.share_on_time) == (2, 1, 0.5)
        # the running case's step 2 (15 menit) became ready 2 h ago: late
        assert (pbg.open_steps, pbg.breached) == (1, 1)
        assert total.instances == 2
        rows, total = compare_units(store, directory, None, at=clock.now())
        assert [r.kode for r in rows] == [PBG, PACE] and total.instances == 3
        assert total.open_steps == 2 and total.steps_done == 2
        early = clock.now() - timedelta(hours=3)
        assert compare_units(store, directory, PACE, at=early)[1].breached == 0
        with pytest.raises(DirectoryError, match="not in the directory"):
            compare_units(store, directory, "99.99", at=clock.now())
        text = format_comparison(*compare_units(store, directory, None, at=clock.now()))
        assert "Kecamatan Purbalingga" in text and "Tepat waktu" in text and "50%" in text


def test_the_cli_compares_units_and_needs_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'kab.db'}"
    _office_week(url)
    assert main(["kabupaten", "--db", url, "--at", "2025-08-04T11:00"]) == 0
    out = capsys.readouterr().out
    assert "Kecamatan Pace" in out and "Semua unit" in out
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["kabupaten", "--db", empty]) == 1
    assert "no staff directory" in capsys.readouterr().err


def test_the_sla_scan_filters_by_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'kab.db'}"
    _office_week(url)
    common = ["--db", url, "--catalog", str(Path(__file__).resolve().parent.parent / "bpmn")]
    at = ["--at", "2025-08-04T11:00+07:00"]  # the catalog spans WIB and WITA offices
    assert main(["sla", *common, *at, "--json"]) == 0
    everything = capsys.readouterr().out
    assert main(["sla", *common, "--unit", "33.03", *at, "--json"]) == 0
    kabupaten = capsys.readouterr().out
    assert main(["sla", *common, "--unit", PACE, *at, "--json"]) == 0
    pace = capsys.readouterr().out
    assert everything.count('"instance_id"') == 2
    assert kabupaten.count('"instance_id"') == 1 and pace.count('"instance_id"') == 1
    assert kabupaten != pace
    assert main(["sla", *common, "--unit", "99.99"]) == 1
    assert "not in the directory" in capsys.readouterr().err
