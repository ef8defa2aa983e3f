"""The command line with a staff directory: `sopflow staff`, `audit verify`, and the
runtime verbs deciding roles from the directory (SE Kepala BKN 1/SE/I/2021 for Plh/Plt)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests._staff import CAMAT, CAMAT_PACE, KASI, STAFF, TIM

from sopflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROCESS = "purbalingga_pengukuran_kinerja"
AT = "2025-08-12T09:00:00+07:00"  # inside the Kasi's Plh. Camat period


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'sopflow.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(ROOT / "bpmn"))
    (tmp_path / "staf.toml").write_text(STAFF)
    return tmp_path


@pytest.fixture
def staffed(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, err = run(capsys, "staff", "import", str(env / "staf.toml"))
    assert code == 0, err
    assert "imported 5 unit, 7 jabatan, 8 pegawai, 10 penugasan" in out
    return env


def _start(capsys: pytest.CaptureFixture[str], actor: str = CAMAT) -> str:
    code, out, err = run(capsys, "start", PROCESS, "--actor", actor, "--at", AT)
    assert code == 0, err
    return out.strip()


def test_an_import_with_a_bad_row_is_one_line_naming_it_and_imports_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "bad.toml"
    bad.write_text(STAFF.replace('jenis = "plt"', 'jenis = "pj"'))
    line = STAFF.splitlines().index('jenis = "plt"') - 4  # its [[penugasan]] header
    code, _, err = run(capsys, "staff", "import", str(bad))
    assert code == 1 and err.count("\n") == 1
    assert f"{bad}:{line + 1} (jenis)" in err and "Traceback" not in err
    code, _, err = run(capsys, "staff", "show", CAMAT)
    assert code == 1 and "no pegawai" in err


def test_staff_show_lists_assignments_and_marks_what_holds_today(
    staffed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "staff", "show", "19800115 200501 1 003", "--at", AT)
    assert code == 0 and "Agus Prasetyo" in out and "NIP 19800115 200501 1 003" in out
    current = [line for line in out.splitlines() if line.startswith("* PBG")]
    assert len(current) == 2 and any(
        "plh" in line and "Sprin 800/12/2025" in line for line in current
    )


def test_assign_and_end_through_the_cli(staffed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "staff", "assign", TIM, "PBG-SEKCAM", "--mulai", "2025-09-01",
        "--selesai", "2025-09-05", "--jenis", "plh", "--dasar", "Sprin 800/30/2025",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run(
        capsys, "staff", "assign", TIM, "PBG-CAMAT", "--mulai", "2025-09-01",
        "--jenis", "definitif", "--dasar", "SK 1",
    )  # fmt: skip
    assert code == 1 and "two definitive holders" in err
    code, _, err = run(capsys, "staff", "end", CAMAT, "PBG-CAMAT", "--selesai", "2025-08-31")
    assert code == 0, err
    code, out, _ = run(capsys, "staff", "show", CAMAT, "--json")
    assert '"selesai": "2025-08-31"' in out


def test_roles_come_from_the_directory_not_the_command_line(
    staffed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iid = _start(capsys)
    code, _, err = run(capsys, "complete", iid, "1", "--actor", TIM, "--role", "camat", "--at", AT)
    assert code == 1 and "does not hold role 'camat'" in err
    code, out, err = run(capsys, "complete", iid, "1", "--actor", KASI, "--at", AT)
    assert code == 0, err
    code, out, _ = run(capsys, "status", iid, "--actor", CAMAT, "--at", AT)
    assert code == 0 and "Plh. Camat Purbalingga (Agus Prasetyo" in out
    assert "trusted caller" not in out


def test_another_kecamatans_actor_sees_nothing_and_is_refused(
    staffed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iid = _start(capsys)
    code, out, _ = run(capsys, "inbox", "--actor", CAMAT_PACE, "--at", AT)
    assert code == 0 and out.strip().splitlines()[-1] == "no ready steps"
    code, out, _ = run(capsys, "inbox", "--actor", CAMAT, "--at", AT)
    assert code == 0 and iid in out
    code, _, err = run(capsys, "status", iid, "--actor", CAMAT_PACE, "--at", AT)
    assert code == 1 and "holds no position in unit" in err
    code, _, err = run(capsys, "inbox", "--at", AT)
    assert code == 1 and "pass --actor NIP" in err
    code, _, err = run(capsys, "cancel", iid, "--reason", "x", "--actor", TIM, "--at", AT)
    assert code == 1 and "may not cancel" in err


def test_audit_verify_names_the_edited_row_and_reports_leave_it_out(
    staffed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iid = _start(capsys)
    assert run(capsys, "complete", iid, "1", "--actor", KASI, "--at", AT)[0] == 0
    code, out, _ = run(capsys, "audit", "verify", iid)
    assert code == 0 and f"{iid}: ok" in out
    conn = sqlite3.connect(staffed / "sopflow.db")
    conn.execute("UPDATE sopflow_steps SET completed_at = completed_at - 3600000 WHERE step_no = 1")
    conn.commit()
    (row,) = conn.execute("SELECT id FROM sopflow_steps WHERE step_no = 1").fetchone()
    conn.close()
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 1 and f"{iid}: BROKEN at step row {row} (step 1)" in out
    code, _, err = run(capsys, "status", iid, "--actor", CAMAT, "--at", AT)
    assert code == 1 and "audit chain broken" in err
    # A report covering many instances presents the others and says which it left out.
    code, _, err = run(capsys, "report", "--process", PROCESS, "--at", AT)
    assert code == 0 and iid in err and "audit chain broken" in err
    assert "sopflow audit verify" in err
    code, _, err = run(capsys, "report", "--instance", iid, "--at", AT)
    assert code == 1 and "audit chain broken" in err


def test_without_a_directory_status_says_trusted_caller_mode(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "start", PROCESS, "--actor", "pak.camat", "--role", "camat", "--at", AT
    )
    assert code == 0, err
    code, out, _ = run(capsys, "status", out.strip())
    assert code == 0 and "trusted caller" in out
