"""``--at`` of a listing is read in the zone of the offices it covers (issue 15).

Long Ikis works in WITA (UTC+8), the other shipped SOPs in WIB (UTC+7). An offset-less
time means one moment for one office and another for the next, so a listing across both
refuses it in one line, and a listing of one process reads it in that process's zone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sopflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
LONG_IKIS = "long_ikis_data_kinerja"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOPFLOW_CATALOG", str(ROOT / "bpmn"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sopflow.db"
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{path}")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_offset_less_at_across_zones_is_refused_in_one_line(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for verb in ("inbox", "sla"):
        code, out, err = run(capsys, verb, "--at", "2025-08-04T09:00")
        assert code != 0 and out == "", verb
        assert len(err.strip().splitlines()) == 1 and "no offset" in err, (verb, err)
        assert "Asia/Makassar" in err and "Asia/Jakarta" in err


def test_an_at_with_an_offset_lists_across_zones(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for verb in ("inbox", "sla"):
        code, _, err = run(capsys, verb, "--at", "2025-08-04T09:00+07:00")
        assert code == 0, (verb, err)


def test_one_process_reads_the_offset_less_at_in_its_own_zone(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "start",
        LONG_IKIS,
        "--actor",
        "x",
        "--role",
        "camat",
        "--at",
        "2025-08-04T08:00+08:00",
    )
    assert code == 0, err
    code, out, err = run(
        capsys, "inbox", "--process", LONG_IKIS, "--at", "2025-08-04T08:30", "--json"
    )
    assert code == 0, err
    [item] = json.loads(out)
    # ready at 08:00 WITA; the listing shows it in WITA, and 08:30 was read as WITA too
    assert item["ready_at"].startswith("2025-08-04T08:00:00+08:00")
    assert item["sla_status"] is not None
    code, out, err = run(capsys, "inbox", "--process", LONG_IKIS, "--at", "2025-08-04T08:30")
    assert code == 0, err
    # 08:30 WITA is 07:30 WIB: the header (in WIB) shows the moment that was meant
    assert "SLA as of 2025-08-04 07:30" in out
