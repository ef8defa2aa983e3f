"""The example scripts run end to end, as a user would run them after `make demo`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_there_is_one_example_per_seed_sop() -> None:
    assert {p.stem for p in SCRIPTS} >= {
        "cibatu_data_kinerja",
        "pace_data_kinerja",
        "purbalingga_pengukuran_kinerja",
        "long_ikis_data_kinerja",
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_runs_to_completion(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "instance completed" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "returns"),
    [("purbalingga_pengukuran_kinerja", 2), ("long_ikis_data_kinerja", 1)],
)
def test_examples_with_decisions_go_through_returns(name: str, returns: int) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True, check=True
    )
    assert f"{returns} return(s)" in result.stdout
    assert "-> Tidak" in result.stdout and "-> Ya" in result.stdout
