"""``sopflow evaluate`` / ``sopflow evaluations``: the same rule and checks as the API.

Permenpan-RB 35/2012's seven criteria, answered Ya/Tidak from a terminal by the
Bagian Organisasi; anyone else is refused in one line with a non-zero exit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._web import CAMAT, CIBATU_SEKCAM, ORGANISASI, PROCESS

from sopflow.cli import main
from sopflow.reports.evaluation import CRITERIA

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "sopflow"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'sopflow.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(DATA / "_data" / "catalog"))
    code, _, err = run(capsys, "staff", "import", str(DATA / "authority/data/demo-staf.toml"))
    assert code == 0, err
    return tmp_path


def answers(*tidak: str) -> list[str]:
    words = []
    for key in CRITERIA:
        words += ["--tidak" if key in tidak else "--ya", key]
    return words


def test_the_evaluator_records_and_the_camat_lists_it(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "evaluate",
        PROCESS,
        "--actor",
        ORGANISASI,
        *answers("sinergi"),
        "--catatan",
        "sinergi=belum selaras",
        "--tanggal",
        "2026-02-27",
    )
    assert code == 0, err
    assert "6 of 7 Ya (86%)" in out and "Analis Kelembagaan" in out
    code, out, err = run(capsys, "evaluations", "--actor", CAMAT, "--json")
    listed = json.loads(out)
    assert [(e["tanggal"], e["ya"]) for e in listed] == [("2026-02-27", 6)]
    assert listed[0]["kriteria"][-1]["catatan"] == "belum selaras"
    code, out, _ = run(capsys, "evaluations", "--actor", CIBATU_SEKCAM)
    assert (code, out.strip()) == (0, "no evaluations")


def test_anyone_else_is_refused_in_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "evaluate", PROCESS, "--actor", CAMAT, *answers())
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no evaluator position" in err


@pytest.mark.parametrize(
    "extra, field",
    [
        (["--jawab", "sinergi"], "jawab"),
        (["--ya", "tidak_ada"], "kriteria.tidak_ada"),
        (["--tanggal", "27-02-2026"], "tanggal"),
    ],
)
def test_bad_answers_are_one_line_naming_the_field(
    env: Path, capsys: pytest.CaptureFixture[str], extra: list[str], field: str
) -> None:
    code, _, err = run(capsys, "evaluate", PROCESS, "--actor", ORGANISASI, *answers(), *extra)
    assert code != 0 and len(err.strip().splitlines()) == 1 and field in err


def test_a_missing_criterion_is_refused(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "evaluate", PROCESS, "--actor", ORGANISASI, "--ya", "sinergi")
    assert code != 0 and "kriteria.mendorong_kinerja" in err
    code, out, _ = run(capsys, "evaluations", "--actor", ORGANISASI)
    assert out.strip() == "no evaluations"
