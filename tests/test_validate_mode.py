"""``sopflow validate --db``: whether the deployment believes the caller's roles.

A store without a staff directory takes ``--role camat`` from anyone (trusted-caller mode,
docs/authority.md); an office validating its files learns it on the same screen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._staff import STAFF

from sopflow.authority.cli import store_mode
from sopflow.cli import main
from sopflow.stores import open_store

ROOT = Path(__file__).resolve().parent.parent
SOP = str(ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.fixture
def db(tmp_path: Path) -> str:
    """An existing store without a directory (validate never creates one)."""
    url = f"sqlite:///{tmp_path / 'sopflow.db'}"
    open_store(url).close()
    return url


def test_without_db_validate_says_nothing_about_the_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _run(capsys, "validate", SOP)
    assert code == 0 and "trusted" not in out and "store" not in out


def test_a_store_without_a_directory_is_named_trusted_caller_in_one_line(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, "validate", SOP, "--db", db)
    lines = [line for line in out.splitlines() if "trusted-caller mode" in line]
    assert code == 0 and len(lines) == 1 and "no staff directory" in lines[0]
    assert out.splitlines()[-1] == "ok: 1 file"
    code, out = _run(capsys, "validate", SOP, "--db", db, "--json")
    assert json.loads(out)["authority"]["mode"] == "trusted caller"


def test_a_store_with_a_directory_says_roles_come_from_it(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "staf.toml").write_text(STAFF)
    assert main(["staff", "import", str(tmp_path / "staf.toml"), "--db", db]) == 0
    code, out = _run(capsys, "validate", SOP, "--db", db)
    assert code == 0 and "trusted" not in out
    assert "staff directory (5 unit, 7 jabatan, 8 pegawai): roles come from the directory" in out
    mode = store_mode(db)
    assert (mode["mode"], mode["pegawai"], mode["jabatan"]) == ("directory", 8, 7)


def test_a_bad_store_url_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["validate", SOP, "--db", "sqlite://user:secret@host/x.db"])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "secret" not in err and "Traceback" not in err



def test_a_store_that_does_not_exist_is_an_error_not_an_empty_new_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "salah-ketik.db"
    code = main(["validate", SOP, "--db", f"sqlite:///{missing}"])
    err = capsys.readouterr().err
    assert code == 1 and "no database there" in err and err.count("\n") == 1
    assert not missing.exists()
