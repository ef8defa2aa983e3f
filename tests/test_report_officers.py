"""Reports for officers speak Bahasa Indonesia and fit a terminal; pictures say why a step
has no share (issue 15, corrections from a newcomer's run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from sopflow.cli import main
from sopflow.definitions.loader import load_definition
from sopflow.reports.render import render_process_svg

ROOT = Path(__file__).resolve().parent.parent


def test_the_terminal_report_is_indonesian_and_wraps_the_step_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'r.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(ROOT / "bpmn"))
    process = "purbalingga_pengukuran_kinerja"  # step 4's name runs to 230 characters
    assert main(["start", process, "--actor", "x", "--role", "camat",
                 "--at", "2025-08-04T08:00+07:00"]) == 0
    capsys.readouterr()
    assert main(["report", "--process", process, "--at", "2025-08-05T08:00+07:00"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 170
    for english in ("passes", "p90 overrun", "bottlenecks", "Roles:", "instances:", "as of",
                    "pre-filled", "breached)"):
        assert english not in out, english
    for indonesian in ("dilaksanakan", "tepat waktu", "p90 kelebihan", "dikembalikan",
                       "Pelaksana:", "Monitoring Pelaksanaan SOP AP"):
        assert indonesian in out, indonesian


def test_a_step_without_standard_says_tanpa_standar_not_no_data() -> None:
    """Cibatu steps 1-2 have no waktu: their share is absent for that reason, not for lack
    of passes; steps never worked keep "no data"."""
    definition = load_definition(ROOT / "bpmn" / "cibatu-data-kinerja.bpmn")
    svg = etree.fromstring(render_process_svg(definition, share_met={}).encode())
    badges = [
        "".join(t.itertext()) for t in svg.iter("{*}text") if t.get("class") == "badge-text"
    ]
    assert badges.count("tanpa standar") == 2  # steps 1 and 2
    assert badges.count("no data") == len(definition.steps) - 2
