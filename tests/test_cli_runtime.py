"""The instance verbs of the CLI, run as a user runs them: one line per error, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sopflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROCESS = "purbalingga_pengukuran_kinerja"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(ROOT / "bpmn"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def start(capsys: pytest.CaptureFixture[str], at: str = "2025-08-15T10:00:00+07:00") -> str:
    code, out, err = run(
        capsys, "start", PROCESS, "--actor", "pak.camat", "--role", "camat", "--at", at
    )
    assert code == 0, err
    return out.strip()


def test_start_prints_the_instance_id_and_inbox_lists_the_first_step(env: Path, capsys) -> None:
    iid = start(capsys)
    code, out, _ = run(
        capsys, "inbox", "--role", "camat", "--json", "--at", "2025-08-15T10:05+07:00"
    )
    assert code == 0
    [item] = json.loads(out)
    assert item["instance_id"] == iid and item["step_no"] == 1 and item["role"] == "camat"
    assert item["ready_at"] == "2025-08-15T10:00:00+07:00"
    assert item["due_at"] == "2025-08-15T10:15:00+07:00"  # "15 Menit"
    assert item["sla_status"] == "on_track"


def test_a_decision_with_tidak_returns_and_status_shows_the_path(env: Path, capsys) -> None:
    """Steps 5, 6 and 9 of Purbalingga are joint steps (two Pelaksana marked on one row,
    the Permenpan-RB 35/2012 flowchart convention; compiled to a parallel split, BPMN 2.0
    section 13.3.1): each Pelaksana completes the step by its number and ``--role``
    picks their own task. The "Tidak" of step 10 returns to the joint step 9 through its
    split, so both of its tasks are open again."""
    iid = start(capsys, "2025-08-04T08:00:00+07:00")
    steps = [
        (1, "camat"),
        (2, "sekcam"),
        (3, "kasi"),
        (4, "camat"),
        (5, "tim"),
        (5, "sekcam"),
        (6, "sekcam"),
        (6, "tim"),
        (7, "tim"),
        (8, "tim"),
        (9, "tim"),
        (9, "kasi"),
    ]
    for k, (no, role) in enumerate(steps):
        code, out, err = run(
            capsys,
            "complete",
            iid,
            str(no),
            "--actor",
            f"{role}.1",
            "--role",
            role,
            "--at",
            f"2025-08-04T{9 + k // 2:02d}:{30 * (k % 2):02d}:00+07:00",
            "--json",
        )
        assert code == 0, err
    code, out, err = run(
        capsys,
        "complete",
        iid,
        "step_10",
        "--actor",
        "sek",
        "--role",
        "sekcam",
        "--data",
        "disetujui=tidak",
        "--at",
        "2025-08-07T09:00+07:00",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["ready"] == ["step_09_1", "step_09_2"]
    assert result["path"][0]["label"] == "Tidak"
    code, out, _ = run(capsys, "status", iid, "--json")
    view = json.loads(out)
    assert view["status"] == "running" and view["version"]
    assert sorted(s["task_id"] for s in view["open_steps"]) == ["step_09_1", "step_09_2"]
    assert {s["step_no"] for s in view["open_steps"]} == {9}
    assert next(h["path"] for h in view["history"] if h["path"])[0]["gateway"] == "decision_10"
    code, out, _ = run(capsys, "status", iid)
    assert "version" in out and "history:" in out


def test_a_joint_step_by_number_picks_the_task_of_the_actors_role(env: Path, capsys) -> None:
    """A joint step's tasks share the row's number (one row, a symbol in each Pelaksana
    column: the Permenpan-RB 35/2012 flowchart convention; a parallel split, BPMN 2.0
    section 13.3.1). ``complete ID 5 --role sekcam`` completes the Sekcam's task only;
    a number that still names several open tasks (an actor without either role) is
    refused with the task ids, and the done task cannot be done again."""
    iid = start(capsys, "2025-08-04T08:00:00+07:00")
    for k, (no, role) in enumerate([(1, "camat"), (2, "sekcam"), (3, "kasi"), (4, "camat")]):
        code, _, err = run(
            capsys,
            "complete",
            iid,
            str(no),
            "--actor",
            f"{role}.1",
            "--role",
            role,
            "--at",
            f"2025-08-04T{9 + k:02d}:00:00+07:00",
        )
        assert code == 0, err
    code, out, err = run(
        capsys,
        "complete",
        iid,
        "5",
        "--actor",
        "sek",
        "--role",
        "sekcam",
        "--at",
        "2025-08-04T14:00:00+07:00",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["ready"] == ["step_05_1"]  # the Anggota's task still waits
    code, out, err = run(
        capsys,
        "complete",
        iid,
        "5",
        "--actor",
        "kasi.1",
        "--role",
        "kasi",
        "--at",
        "2025-08-04T14:10:00+07:00",
    )
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "step 5" in err and "joint step of 2 tasks" in err
    assert "step_05_1 (tim, open)" in err and "step_05_2 (sekcam, not open)" in err
    code, _, err = run(
        capsys,
        "complete",
        iid,
        "5",
        "--actor",
        "sek",
        "--role",
        "sekcam",
        "--at",
        "2025-08-04T14:20:00+07:00",
    )
    assert code == 1 and "already completed by sek" in err and "Traceback" not in err
    code, out, err = run(
        capsys,
        "complete",
        iid,
        "5",
        "--actor",
        "tim.1",
        "--role",
        "tim",
        "--at",
        "2025-08-04T14:30:00+07:00",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["ready"] == ["step_06_1", "step_06_2"]  # the join fired


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["complete", "IID", "1", "--actor", "x", "--role", "sekcam"],
            "does not hold role 'camat'",
        ),
        (["complete", "IID", "99", "--actor", "x", "--role", "camat"], "no step '99'"),
        (["complete", "IID", "2", "--actor", "x", "--role", "sekcam"], "not ready"),
        (
            ["complete", "IID", "1", "--actor", "x", "--role", "camat", "--at", "yesterday"],
            "not an ISO",
        ),
        (
            ["complete", "IID", "1", "--actor", "x", "--role", "camat", "--data", "novalue"],
            "KEY=VALUE",
        ),
        (
            [
                "complete",
                "IID",
                "1",
                "--actor",
                "x",
                "--role",
                "camat",
                "--at",
                "2025-08-15T09:00+07:00",
            ],
            "before the step became ready",
        ),
        (["status", "no-such-instance"], "no such instance"),
        (["start", "no_such_sop", "--actor", "x", "--role", "camat"], "no_such_sop"),
    ],
)
def test_user_errors_are_one_line_and_exit_1(
    env: Path, capsys, argv: list[str], message: str
) -> None:
    iid = start(capsys)
    code, _out, err = run(capsys, *[iid if a == "IID" else a for a in argv])
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_claim_release_and_cancel(env: Path, capsys) -> None:
    iid = start(capsys)
    assert run(capsys, "claim", iid, "1", "--actor", "a", "--role", "camat")[0] == 0
    code, _, err = run(capsys, "complete", iid, "1", "--actor", "b", "--role", "camat")
    assert code == 1 and "claimed by 'a'" in err
    assert run(capsys, "release", iid, "1", "--actor", "a", "--role", "camat")[0] == 0
    assert run(capsys, "cancel", iid, "--reason", "salah input")[0] == 0
    code, out, _ = run(capsys, "status", iid, "--json")
    assert json.loads(out)["status"] == "cancelled"
    code, _, err = run(capsys, "complete", iid, "1", "--actor", "b", "--role", "camat")
    assert code == 1 and "cancelled" in err


def test_usage_errors_exit_2(env: Path, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["complete", "only-one-arg"])
    assert caught.value.code == 2


@pytest.mark.parametrize(
    "verb", ["start", "inbox", "claim", "release", "complete", "status", "cancel"]
)
def test_every_verb_has_help(verb: str, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main([verb, "--help"])
    assert caught.value.code == 0
    assert "--db" in capsys.readouterr().out


def test_the_installed_command_never_prints_a_traceback(env: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sopflow",
            "complete",
            "nope",
            "1",
            "--actor",
            "x",
            "--role",
            "camat",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "no such instance" in result.stderr
