"""``sopflow staff password`` and ``sopflow serve``: one line and a non-zero exit on error."""

from __future__ import annotations

import io

import pytest
from tests._web import SEKCAM

from sopflow.cli import main
from sopflow.web import verify_password


@pytest.fixture
def db(tmp_path):
    from sopflow.authority.demo import import_demo_staff
    from sopflow.stores import open_store

    url = f"sqlite:///{tmp_path / 'kantor.db'}"
    with open_store(url) as store:
        import_demo_staff(store)
    return url


def test_staff_password_stores_an_argon2id_hash(db, monkeypatch, capsys) -> None:
    from sopflow.stores import open_store

    monkeypatch.setattr("sys.stdin", io.StringIO("rahasia-kantor\n"))
    assert main(["staff", "password", SEKCAM, "--stdin", "--db", db]) == 0
    assert "password set" in capsys.readouterr().out
    with open_store(db) as store:
        digest = store.password_hash(SEKCAM)
    assert digest.startswith("$argon2id$") and "rahasia" not in digest
    assert verify_password(digest, "rahasia-kantor") == (True, False)
    assert verify_password(digest, "rahasia-lain")[0] is False


@pytest.mark.parametrize(
    ("nip", "password", "needle"),
    [
        (SEKCAM, "pendek", "8 to 1024 characters"),
        ("199901012020011001", "cukup-panjang", "no pegawai"),
        ("123", "cukup-panjang", "NIP"),
    ],
)
def test_staff_password_refuses_in_one_line(db, monkeypatch, capsys, nip, password, needle) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main(["staff", "password", nip, "--stdin", "--db", db]) == 1
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_serve_refuses_a_store_without_a_directory(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'kosong.db'}"
    assert main(["serve", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "needs a staff directory" in err and err.count("\n") == 1


def test_serve_refuses_zero_workers(db, capsys) -> None:
    assert main(["serve", "--db", db, "--workers", "0"]) == 1
    assert "--workers" in capsys.readouterr().err
