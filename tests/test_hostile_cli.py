"""Hostile and odd input at the command line (issue 15): one line, non-zero exit, nothing stored.

Each test names the probe that once ended in a traceback, took a store down or leaked a
secret. The rule (docs/errors.md): every error a user can cause is one line on stderr.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sopflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROCESS = "pace_data_kinerja"
AT = "2025-08-04T08:00+07:00"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "h.db"
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{path}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(ROOT / "bpmn"))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def start(capsys: pytest.CaptureFixture[str], at: str = AT, *extra: str) -> str:
    code, out, err = run(capsys, "start", PROCESS, "--actor", "x", "--role", "camat", "--at", at,
                         *extra)
    assert code == 0, err
    return out.strip()


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00",
        "0001-01-01T00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "3000-01-01T00:00+07:00",
        "1899-12-31T23:59+00:00",
        "2200-01-01T00:00+00:00",
    ],
)
def test_an_action_time_outside_1900_2200_is_refused_and_nothing_is_stored(
    db: Path, capsys: pytest.CaptureFixture[str], at: str
) -> None:
    code, _, err = run(capsys, "start", PROCESS, "--actor", "x", "--role", "camat", "--at", at)
    one_line_error(code, err, "--at")
    code, out, _ = run(capsys, "inbox")
    assert (code, out.strip()) == (0, "no ready steps")


def test_an_action_dated_in_the_future_is_refused_a_view_may_look_ahead(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A completion dated years ahead froze its instance: every later action was "before" it."""
    iid = start(capsys)
    code, _, err = run(capsys, "complete", iid, "1", "--actor", "x", "--role", "camat",
                       "--at", "2150-01-01T08:00+07:00")
    one_line_error(code, err, "future")
    code, out, _ = run(capsys, "inbox", "--at", "2150-01-01T08:00+07:00")
    assert code == 0 and iid in out and "as of" in out


def _damage(path: Path, instance_id: str, column: str, value: object) -> None:
    con = sqlite3.connect(path)
    con.execute(
        f"UPDATE sopflow_steps SET {column} = ? WHERE instance = "
        "(SELECT id FROM sopflow_instances WHERE uuid = ?)",
        (value, instance_id),
    )
    con.commit()
    con.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [("ready_at", -62135596800000 - 86_400_000 * 400), ("due_at", "soon"), ("data", "{nope")],
)
def test_one_damaged_row_stays_one_bad_row(
    db: Path, capsys: pytest.CaptureFixture[str], column: str, value: object
) -> None:
    """docs/stores.md: inbox, sla, report and status list the rest and name the damaged one."""
    good, bad = start(capsys), start(capsys)
    run(capsys, "complete", bad, "1", "--actor", "x", "--role", "camat",
        "--at", "2025-08-04T08:05+07:00")
    _damage(db, bad, column, value)
    listings = [["inbox"], ["report", "--process", PROCESS, "--format", "csv"]]
    if column != "data":  # the SLA scan reads times only: unreadable data does not stop it
        listings.append(["sla"])
    for argv in listings:
        code, out, err = run(capsys, *argv, "--at", "2025-08-04T09:00+07:00")
        assert code == 0, (argv, err)
        if argv[0] != "report":
            assert good in out and bad not in out, argv
        lines = err.strip().splitlines()
        assert len(lines) == 1 and bad in lines[0] and "damaged" in lines[0], (argv, err)
    code, _, err = run(capsys, "status", bad)
    one_line_error(code, err, bad)
    code, out, _ = run(capsys, "status", good)
    assert code == 0 and good in out


def test_a_password_never_appears_in_an_error(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for url in (
        "mysql://u:TopSecret123@h/db",
        "postgresql://u:TopSecret123@[::1:5432/x",
        "postgresql://u@127.0.0.1:1/x?password=TopSecret123&connect_timeout=1",
        "sqlite://relative:TopSecret123@x",
    ):
        code, _, err = run(capsys, "inbox", "--db", url)
        one_line_error(code, err)
        assert "TopSecret123" not in err, err
    assert not list(Path.cwd().glob("*TopSecret123*"))


def test_data_text_stays_text_booleans_only_for_the_decision_field(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iid = start(capsys, AT, "--data", "NeedClarification=Yes", "--data", "nomor=007",
                "--data", "x=nan", "--data", "jumlah=3", "--data-json", "tim=[\"a\", 1]")
    out = run(capsys, "status", iid, "--json")[1]
    data = json.loads(out)["data"]
    assert data == {"NeedClarification": "Yes", "nomor": "007", "x": "nan", "jumlah": 3,
                    "tim": ["a", 1]}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "[" * 5000 + "]" * 5000])
def test_data_json_refuses_non_finite_numbers_and_deep_nesting(
    db: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, _, err = run(capsys, "start", PROCESS, "--actor", "x", "--role", "camat",
                       "--at", AT, "--data-json", f"x={value}")
    one_line_error(code, err)
    assert run(capsys, "inbox")[1].strip() == "no ready steps"


@pytest.mark.parametrize("actor", ["a\nb", "\x1b[31mred", "a\udcff", ""])
def test_an_actor_id_with_a_newline_escape_or_bad_byte_is_refused(
    db: Path, capsys: pytest.CaptureFixture[str], actor: str
) -> None:
    code, _, err = run(capsys, "start", PROCESS, "--actor", actor, "--role", "camat", "--at", AT)
    one_line_error(code, err, "actor id")
    assert "\x1b" not in err


def test_status_prints_a_stored_control_character_escaped(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows written before the check (or by hand) must not forge terminal lines."""
    iid = start(capsys)
    con = sqlite3.connect(db)
    con.execute("UPDATE sopflow_instances SET started_by = ?", ("evil\n\x1b[2Jforged",))
    con.commit()
    con.close()
    code, out, _ = run(capsys, "status", iid)
    assert code == 0 and "\x1b" not in out and "evil\\x0a\\x1b[2Jforged" in out


def test_a_damaged_database_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    code, _, err = run(capsys, "inbox", "--db", f"sqlite:///{bad}")
    one_line_error(code, err)


def test_a_dropped_table_is_one_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start(capsys)
    con = sqlite3.connect(db)
    con.execute("DROP TABLE sopflow_audit")
    con.commit()
    con.close()
    code, _, err = run(capsys, "start", PROCESS, "--actor", "x", "--role", "camat", "--at", AT)
    one_line_error(code, err, "database error")


@pytest.mark.parametrize("every", ["nan", "inf", "1e308", "-1"])
def test_sla_every_must_be_a_finite_positive_number(
    db: Path, capsys: pytest.CaptureFixture[str], every: str
) -> None:
    code, _, err = run(capsys, "sla", "--watch", "--every", every, "--count", "2")
    assert code in (1, 2) and "Traceback" not in err and "--every" in err


def _outputs(tmp_path: Path, target: Path) -> list[list[str]]:
    table = ROOT / "bpmn" / "tables" / "pace-data-kinerja.toml"
    return [
        ["compile", str(table), "-o", str(target)],
        ["document", PROCESS, "-o", str(target)],
        ["render", PROCESS, "-o", str(target)],
        ["report", "--format", "csv", "-o", str(target)],
    ]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
def test_every_o_refuses_what_is_not_a_regular_file(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """One rule for every -o (compile once replaced /dev/full when run as root)."""
    import os

    start(capsys)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep", encoding="utf-8")
    target = tmp_path / "out"
    if kind == "symlink":
        target.symlink_to(precious)
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    for argv in _outputs(tmp_path, target):
        code, _, err = run(capsys, *argv)
        one_line_error(code, err, "regular file")
    assert precious.read_text(encoding="utf-8") == "keep"
    assert target.is_symlink() or target.is_fifo() or target.is_dir()


def test_every_o_says_wrote_then_unchanged(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start(capsys)
    for i, argv in enumerate(_outputs(tmp_path, tmp_path / "x")):
        target = tmp_path / f"out{i}"
        argv[-1] = str(target)
        if argv[0] == "report":
            argv += ["--at", "2025-08-05T08:00+07:00"]
        code, out, err = run(capsys, *argv)
        assert code == 0 and out.startswith(f"wrote {target}"), (argv, out, err)
        code, out, _ = run(capsys, *argv)
        assert code == 0 and out.startswith(f"{target} unchanged"), (argv, out)


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_as_text(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OWASP CSV injection: an actor =HYPERLINK(...) must not become a formula."""
    import csv
    import io

    code, out, err = run(capsys, "start", PROCESS, "--actor", "=HYPERLINK(\"http://x\")",
                         "--role", "camat", "--at", AT)
    assert code == 0, err
    iid = out.strip()
    run(capsys, "complete", iid, "1", "--actor", "@SUM(A1)", "--role", "camat",
        "--at", "2025-08-04T08:05+07:00")
    code, out, _ = run(capsys, "report", "--instance", iid, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["actor"] == "'@SUM(A1)"
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v)


LONG_IKIS = "long_ikis_data_kinerja"  # zona_waktu Asia/Makassar (WITA, UTC+8)


def test_at_without_offset_is_read_and_shown_in_the_process_zone(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "start", LONG_IKIS, "--actor", "x", "--role", "camat",
                         "--at", "2025-08-04T08:00", "--json")
    assert code == 0, err
    iid = json.loads(out)["instance_id"]
    code, out, _ = run(capsys, "status", iid, "--json")
    view = json.loads(out)
    assert view["started_at"] == "2025-08-04T08:00:00+08:00"  # WITA, not WIB
    code, out, _ = run(capsys, "status", iid)
    assert "2025-08-04 08:00 WITA" in out


def test_a_clock_error_quotes_times_in_the_process_zone(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    iid = start(capsys, "2025-08-04T09:00")
    code, _, err = run(capsys, "complete", iid, "1", "--actor", "x", "--role", "camat",
                       "--at", "2025-08-04T08:00")
    one_line_error(code, err, "2025-08-04T08:00:00+07:00", "(2025-08-04T09:00:00+07:00)")
    assert "+00:00" not in err


def test_bytes_that_are_not_utf8_in_actor_or_data_are_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "SOPFLOW_DB": f"sqlite:///{tmp_path / 'b.db'}",
           "SOPFLOW_CATALOG": str(ROOT / "bpmn")}
    for extra in ([b"--actor", b"a\xff"], [b"--actor", b"x", b"--data", b"k=\xfe\xff"]):
        done = subprocess.run(
            [sys.executable.encode(), b"-m", b"sopflow", b"start", PROCESS.encode(),
             b"--role", b"camat", b"--at", AT.encode(), *extra],
            env=env, capture_output=True, timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and b"Traceback" not in done.stderr


def test_stdout_on_a_full_device_is_one_line(db: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "sopflow", "show", PROCESS], stdout=full,
            stderr=subprocess.PIPE, text=True, timeout=120, env=dict(os.environ),
        )
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_without_catalog_or_bpmn_folder_the_builtin_sops_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sopflow.definitions.catalog import Catalog

    monkeypatch.delenv("SOPFLOW_CATALOG", raising=False)
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'b.db'}")
    monkeypatch.chdir(tmp_path)
    assert sorted(d.process_id for d in Catalog.builtin()) == [
        "cibatu_data_kinerja", "long_ikis_data_kinerja", "pace_data_kinerja",
        "purbalingga_pengukuran_kinerja",
    ]
    code, out, err = run(capsys, "show", "purbalingga_pengukuran_kinerja")
    assert "Kecamatan Purbalingga" in out or "purbalingga" in out.lower()
    assert code == 0, err
    iid = start(capsys)
    assert iid in run(capsys, "inbox")[1]


def test_the_library_never_puts_a_password_in_a_store_error() -> None:
    from sopflow.errors import StoreError
    from sopflow.stores import open_store

    for url in ("postgresql://u:TopSecret123@127.0.0.1:1/x?connect_timeout=1",
                "postgresql://u@127.0.0.1:1/x?password=TopSecret123&connect_timeout=1"):
        with pytest.raises(StoreError) as caught:
            open_store(url)
        assert "TopSecret123" not in str(caught.value)


def test_reports_show_a_wita_process_in_wita(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "start", LONG_IKIS, "--actor", "x", "--role", "camat",
                         "--at", "2025-08-04T08:00")
    iid = out.strip()
    code, out, err = run(capsys, "report", "--instance", iid, "--format", "json",
                         "--at", "2025-08-04T09:00+08:00")
    assert code == 0, err
    [report] = json.loads(out)
    assert report["at"] == "2025-08-04T09:00:00+08:00"
    assert report["steps"][0]["ready_at"] == "2025-08-04T08:00:00+08:00"
    code, out, err = run(capsys, "sla", "--json", "--at", "2025-08-04T09:00+08:00")
    assert json.loads(out)[0]["ready_at"] == "2025-08-04T08:00:00+08:00"


def test_a_read_only_database_can_be_read_and_refuses_writes_in_one_line(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A monitoring host's copy on a read-only mount: reading commands must work.

    The suite may run as root, for whom no permission bit holds, so "not writable" is
    what ``os.access`` answers here; the file itself is then opened with SQLite's
    ``mode=ro``, which SQLite enforces for everyone.
    """
    import os

    iid = start(capsys)
    real = os.access
    monkeypatch.setattr(
        "sopflow.stores.os.access",
        lambda p, mode: False if mode == os.W_OK else real(p, mode),
    )
    def stored() -> list[tuple[object, ...]]:
        con = sqlite3.connect(db)
        rows = con.execute("SELECT * FROM sopflow_audit ORDER BY id").fetchall()
        con.close()
        return rows

    before = stored()
    for argv in (["inbox"], ["sla"], ["report"], ["status", iid]):
        code, out, err = run(capsys, *argv, "--at", "2025-08-04T09:00+07:00")
        assert code == 0 and err == "", (argv, err)
        assert argv[0] == "report" or iid in out
    code, _, err = run(capsys, "complete", iid, "1", "--actor", "x", "--role", "camat",
                       "--at", "2025-08-04T08:05+07:00")
    one_line_error(code, err, "read-only")
    assert stored() == before


def test_a_stored_definition_that_no_longer_loads_fails_only_its_instances(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SLA scan and the report read definitions back from the store."""
    pace = start(capsys)
    code, out, err = run(capsys, "start", LONG_IKIS, "--actor", "x", "--role", "camat",
                         "--at", AT)
    other = out.strip()
    con = sqlite3.connect(db)
    con.execute("UPDATE sopflow_definitions SET xml = ? WHERE process_id = ?",
                (b"<not-bpmn/>", PROCESS))
    con.commit()
    con.close()
    code, out, err = run(capsys, "sla", "--at", "2025-08-04T09:00+07:00")
    assert code == 0 and other in out and pace not in out
    [line] = err.strip().splitlines()
    assert pace in line and "damaged" in line


def test_a_driver_error_over_several_lines_is_one_line(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full\nDETAIL: line two\n\nthree")

    monkeypatch.setattr("sopflow.stores._sql.SqlStore.insert_instance", broken)
    code, _, err = run(capsys, "start", PROCESS, "--actor", "x", "--role", "camat", "--at", AT)
    one_line_error(code, err, "database error", "disk is full | DETAIL: line two | three")


def test_a_full_disk_while_writing_o_is_one_line_and_leaves_no_file(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import errno
    import os

    def full(fd: int, *args: object, **kwargs: object) -> object:
        os.close(fd)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("sopflow.cli._output.os.fdopen", full)
    target = tmp_path / "sop.html"
    code, _, err = run(capsys, "document", PROCESS, "-o", str(target))
    one_line_error(code, err, "No space left")
    assert list(tmp_path.glob("*sop.html*")) == []
