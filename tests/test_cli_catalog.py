"""``sopflow validate`` and ``sopflow show``: exit codes, one line per problem, JSON shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from sopflow.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "bpmn"
MINIMAL = FIXTURES / "sop_minimal.bpmn"
HOSTILE = FIXTURES / "hostile"
REPO = Path(__file__).resolve().parent.parent
SOPFLOW = Path(sys.executable).parent / "sopflow"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() configures structlog globally (level, stream): undo it for the next tests."""
    yield
    structlog.reset_defaults()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "validate", str(MINIMAL)) == (0, "ok: 1 file\n", "")


def test_validate_directory_expands_to_its_bpmn_files_not_recursively(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "validate", str(FIXTURES))
    # hostile/ is a subdirectory: not read; warnings (foreign_bpmnio's 'amount') do not fail
    assert status == 0
    assert out.endswith("ok: 2 files\n")
    assert all(line.endswith("[warning]") for line in out.splitlines()[:-1])


def test_validate_prints_one_line_per_problem_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.bpmn"
    text = MINIMAL.read_text(encoding="utf-8")
    broken.write_text(
        text.replace('value="30 Menit"', 'value="sebentar"').replace(
            "        <bpmn:flowNodeRef>step_03</bpmn:flowNodeRef>\n", ""
        ),
        encoding="utf-8",
    )
    status, out, err = run(
        capsys, "validate", str(MINIMAL), str(broken), str(HOSTILE / "xxe_file.bpmn")
    )
    lines = out.splitlines()
    written = broken.read_text(encoding="utf-8").splitlines()
    waktu_line = next(i for i, t in enumerate(written, 1) if "sebentar" in t)
    step_03_line = next(i for i, t in enumerate(written, 1) if 'userTask id="step_03"' in t)
    assert status == 1 and err == ""
    assert len(lines) == 3
    assert lines[0].startswith(f"{broken}:{waktu_line}: step_02: waktu 'sebentar'")
    assert lines[1] == (
        f"{broken}:{step_03_line}: step_03: user task is not in any lane "
        "(no lane lists it in flowNodeRef)"
    )
    assert lines[2] == f"{HOSTILE / 'xxe_file.bpmn'}:2: DTD/entity declarations are not allowed"


def test_validate_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "validate", "--json", str(MINIMAL), str(HOSTILE / "malformed.bpmn")
    )
    assert status == 1
    assert json.loads(out) == {
        "ok": False,
        "files": [str(MINIMAL), str(HOSTILE / "malformed.bpmn")],
        "problems": [
            {
                "file": str(HOSTILE / "malformed.bpmn"),
                "line": 5,
                "element": None,
                "code": "bpmn-schema",
                "severity": "error",
                "message": "not well-formed XML: Opening and ending tag mismatch: "
                "startEvent line 4 and process",
            }
        ],
    }
    status, out, _ = run(capsys, "validate", "--json", str(MINIMAL))
    assert (status, json.loads(out)) == (0, {"ok": True, "files": [str(MINIMAL)], "problems": []})


def test_validate_missing_path_and_empty_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, _ = run(capsys, "validate", str(tmp_path / "nope.bpmn"), str(tmp_path))
    assert status == 1
    assert out.splitlines() == [
        f"{tmp_path / 'nope.bpmn'}: no such file or directory",
        f"{tmp_path}: directory holds no *.bpmn files",
    ]


def test_validate_duplicate_process_ids_name_both_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a.bpmn").write_bytes(MINIMAL.read_bytes())
    (tmp_path / "b.bpmn").write_bytes(MINIMAL.read_bytes())
    status, out, _ = run(capsys, "validate", str(tmp_path))
    assert (status, out) == (
        1,
        f"{tmp_path / 'b.bpmn'}: sop_minimal: process id 'sop_minimal' is also defined in "
        f"{tmp_path / 'a.bpmn'}\n",
    )


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["show", "x", "--width", "wide"])
    assert info.value.code == 2
    capsys.readouterr()


def test_show_json_is_the_definition_dict(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "show", str(MINIMAL), "--json")
    data = json.loads(out)
    assert status == 0
    assert (data["process_id"], data["name"]) == ("sop_minimal", "Pengumpulan Data Kinerja")
    assert data["lanes"] == [
        {"id": "lane_1", "name": "Kasubag Program", "role": "kasubag"},
        {"id": "lane_2", "name": "Camat", "role": "camat"},
    ]
    assert [s["no"] for s in data["steps"]] == [1, 2, 3]
    assert data["steps"][0]["kelengkapan"] == ["Format data kinerja", "Renstra"]
    assert data["decisions"] == [
        {
            "gateway": "decision_02",
            "step": "step_02",
            "step_no": 2,
            "field": "disetujui",
            "ya": "step_03",
            "tidak": "step_01",
        }
    ]
    assert data["header"]["dasar_hukum"] == ["Perpres 29/2014", "Permenpan-RB 35/2012"]


def test_show_table_has_header_columns_wrapped_rows_and_decisions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "show", str(MINIMAL), "--width", "90")
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == "SOP: Pengumpulan Data Kinerja  (sop_minimal)"
    assert "Nomor: A.2.1.07" in lines
    assert "Disahkan oleh: Camat Cibatu, NIP 19700101 199003 1 001" in lines
    assert lines[lines.index("Dasar hukum:") + 1] == "  - Perpres 29/2014"
    heading = next(line for line in lines if line.startswith("No |"))
    assert [c.strip() for c in heading.split("|")] == [
        "No", "Kegiatan", "Pelaksana", "Kelengkapan", "Waktu", "Output", "Keterangan",
    ]
    assert all(len(line) <= 90 for line in lines if "|" in line)
    assert any(line.startswith("2  | Memeriksa") and "Camat" in line for line in lines)
    assert lines[-2:] == [
        "Keputusan:",
        "  langkah 2 (step_02) memutuskan disetujui [decision_02]: Ya -> langkah 3 (step_03); "
        "Tidak -> langkah 1 (step_01)",
    ]


def test_show_wraps_long_cells_to_a_narrow_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "show", str(MINIMAL), "--width", "76")
    table = [line for line in out.splitlines() if "|" in line]
    assert status == 0
    assert all(len(line) <= 76 for line in table)
    assert any(line.startswith("   | ") for line in table)  # a continuation line


def test_show_by_process_id_from_the_catalog(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPFLOW_CATALOG", str(FIXTURES))
    # the default comes from the environment when the parser is built
    status, out, _ = run(capsys, "show", "Process_1q2w3e4", "--json")
    assert status == 0 and json.loads(out)["name"] == "Permohonan Dana"
    status, out, _ = run(capsys, "show", "sop_minimal", "--catalog", str(FIXTURES), "--json")
    assert status == 0 and json.loads(out)["process_id"] == "sop_minimal"


def test_show_unknown_process_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "show", "tidak_ada", "--catalog", str(FIXTURES))
    assert (status, out) == (1, "")
    assert err == (
        "sopflow show: error: no process 'tidak_ada' in the catalog "
        "(known: Process_1q2w3e4, sop_minimal)\n"
    )


@pytest.mark.parametrize(
    "name", ["billion_laughs.bpmn", "xxe_file.bpmn", "xxe_http.bpmn", "malformed.bpmn"]
)
def test_show_hostile_file_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    status, out, err = run(capsys, "show", str(HOSTILE / name))
    assert (status, out) == (1, "")
    assert err.startswith(f"sopflow show: error: {HOSTILE / name}:")
    assert err.count("\n") == 1


def test_installed_command_never_shows_a_traceback_and_never_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    injection = tmp_path / "injection.bpmn"
    injection.write_bytes(
        (HOSTILE / "injection.bpmn").read_bytes().replace(b"@MARKER@", str(marker).encode())
    )
    big = tmp_path / "big.bpmn"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    paths = [injection, big, HOSTILE / "billion_laughs.bpmn", HOSTILE / "xxe_http.bpmn"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPFLOW_")}
    result = subprocess.run(
        [str(SOPFLOW), "validate", *map(str, paths)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env, check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 4
    assert "larger than the limit of 5242880 bytes" in result.stdout
    assert not marker.exists()
