"""An assignment's dates are read on the calendar of the office that holds the position.

Indonesia keeps three time zones (Keppres 41/1987): a Surat Perintah dated for Long Ikis
(Kabupaten Paser, Kalimantan Timur) runs from 00:00 WITA, which is 23:00 WIB of the day
before; in Jayapura from 00:00 WIT. Reading it in WIB would hand the first hour of a Plh.'s
period to nobody and the first hour after it to the Plh.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from sopflow.authority.directory import Directory
from sopflow.authority.io import parse_directory
from sopflow.cli import main

CAMAT = "197103141998031004"
PLH = "198001152005011003"

STAFF = f"""
[[unit]]
kode = "64.01"
nama = "Kabupaten Paser"

[[unit]]
kode = "64.01.06"
nama = "Kecamatan Long Ikis"
induk = "64.01"

[[unit]]
kode = "LI-PEM"
nama = "Seksi Pemerintahan"
induk = "64.01.06"

[[unit]]
kode = "32.14"
nama = "Kabupaten Purwakarta"

[[unit]]
kode = "91.03"
nama = "Kabupaten Jayapura"

[[unit]]
kode = "PUSAT"
nama = "Kantor tanpa kode wilayah"

[[jabatan]]
kode = "LI-CAMAT"
nama = "Camat Long Ikis"
unit = "64.01.06"
peran = "camat"

[[jabatan]]
kode = "LI-KASI"
nama = "Kepala Seksi Pemerintahan"
unit = "LI-PEM"
peran = "kasi"

[[pegawai]]
nip = "{CAMAT}"
nama = "Camat"

[[pegawai]]
nip = "{PLH}"
nama = "Kasi"

[[penugasan]]
nip = "{CAMAT}"
jabatan = "LI-CAMAT"
mulai = 2023-01-02
jenis = "definitif"
dasar = "SK Bupati 1/2023"

[[penugasan]]
nip = "{PLH}"
jabatan = "LI-KASI"
mulai = 2021-01-04
jenis = "definitif"
dasar = "SK Bupati 7/2021"

[[penugasan]]
nip = "{PLH}"
jabatan = "LI-CAMAT"
mulai = 2025-08-11
selesai = 2025-08-15
jenis = "plh"
dasar = "Sprin 800/12/2025"
"""


@pytest.fixture
def directory() -> Directory:
    return parse_directory(STAFF)


def _holds_camat(directory: Directory, at: str) -> bool:
    return any(p.kode == "LI-CAMAT" for _, p in directory.held(PLH, datetime.fromisoformat(at)))


def test_each_unit_keeps_its_provinces_zone(directory: Directory) -> None:
    assert directory.zone_of("64.01.06") == "Asia/Makassar"
    assert directory.zone_of("LI-PEM") == "Asia/Makassar"  # a section: its kecamatan's zone
    assert directory.zone_of("32.14") == "Asia/Jakarta"
    assert directory.zone_of("91.03") == "Asia/Jayapura"
    assert directory.zone_of("PUSAT") == "Asia/Jakarta"  # no area code: the default


@pytest.mark.parametrize(
    ("at", "holds"),
    [
        ("2025-08-10T23:59:00+08:00", False),  # still 10 August in Long Ikis
        ("2025-08-11T00:00:00+08:00", True),  # 00:00 WITA = 23:00 WIB on 10 August
        ("2025-08-10T23:30:00+07:00", True),  # the same moment written in WIB
        ("2025-08-15T23:59:00+08:00", True),
        ("2025-08-16T00:00:00+08:00", False),  # 15 August 23:00 WIB: over in Long Ikis
    ],
)
def test_a_plh_period_in_long_ikis_runs_from_midnight_wita(
    directory: Directory, at: str, holds: bool
) -> None:
    assert _holds_camat(directory, at) is holds


def test_holders_of_a_position_read_the_same_calendar(directory: Directory) -> None:
    at = datetime.fromisoformat("2025-08-10T23:30:00+07:00")
    assert [a.jenis for a in directory.holders("LI-CAMAT", at)] == ["definitif", "plh"]


def test_staff_show_marks_the_plh_in_force_at_midnight_wita(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'sopflow.db'}")
    (tmp_path / "staf.toml").write_text(STAFF)
    assert main(["staff", "import", str(tmp_path / "staf.toml")]) == 0
    capsys.readouterr()
    assert main(["staff", "show", PLH, "--at", "2025-08-10T23:30:00+07:00", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    in_force = {row["jabatan"]: row["berlaku"] for row in shown["penugasan"]}
    assert in_force == {"LI-KASI": True, "LI-CAMAT": True}
    assert shown["per"] == "2025-08-11"
    assert main(["staff", "show", PLH, "--at", "2025-08-15T23:30:00+07:00", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {r["jabatan"]: r["berlaku"] for r in shown["penugasan"]}["LI-CAMAT"] is False


def test_the_demo_directory_keeps_each_kecamatan_on_its_sops_clock() -> None:
    """The province part of each demo code must agree with the zone the shipped SOP of that
    kecamatan keeps (Long Ikis: WITA): the one part of the codes sopflow reads."""
    from importlib.resources import files

    from sopflow.definitions.loader import load_definition

    demo = parse_directory(
        files("sopflow.authority").joinpath("data/demo-staf.toml").read_text(encoding="utf-8")
    )
    bpmn = Path(__file__).resolve().parent.parent / "bpmn"
    checked = set()
    for path in sorted(bpmn.glob("*.bpmn")):
        header = load_definition(path).header
        unit = demo.find_unit(header.kecamatan or "")
        assert unit is not None, path
        assert demo.zone_of(unit.kode) == (header.zona_waktu or "Asia/Jakarta"), path
        checked.add(unit.nama)
    assert len(checked) == 4


def test_the_engine_lets_the_plh_act_from_midnight_wita(tmp_path: Path) -> None:
    """Through the engine: the Long Ikis SOP's step 1 (Camat) at 00:30 WITA on the first
    day of the Sprin is the Plh.'s, though it is still 10 August in Jakarta."""
    from tests.conftest import ListCatalog

    from sopflow.definitions.loader import load_definition
    from sopflow.errors import PermissionDeniedError
    from sopflow.runtime.engine import Engine
    from sopflow.runtime.views import Actor
    from sopflow.stores import open_store
    from sopflow.testing import FakeClock

    sop = load_definition(
        Path(__file__).resolve().parent.parent / "bpmn" / "long-ikis-data-kinerja.bpmn"
    )
    clock = FakeClock("2025-08-10T23:00:00+08:00")
    with open_store(f"sqlite:///{tmp_path / 'li.db'}") as store:
        store.import_directory(parse_directory(STAFF))  # type: ignore[attr-defined]
        engine = Engine(ListCatalog(sop), store, clock=clock)
        iid = engine.start(sop.process_id, actor=Actor(CAMAT)).instance_id
        with pytest.raises(PermissionDeniedError):
            engine.complete(iid, 1, actor=Actor(PLH))  # 23:00 WITA, 10 August
        clock.set("2025-08-11T00:30:00+08:00")
        engine.complete(iid, 1, actor=Actor(PLH))
        assert (engine.history(iid)[0].signed_as or "").startswith("Plh. Camat Long Ikis")
