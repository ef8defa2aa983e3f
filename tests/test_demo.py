"""Specification of ``sopflow demo`` and of the ``render`` verb."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from tests.conftest import FIXTURES, ROOT

from sopflow import demo
from sopflow.cli import main
from sopflow.definitions import catalog as catalog_module
from sopflow.definitions.catalog import Catalog
from sopflow.errors import DefinitionError, StoreError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.sla.policy import SlaPolicy
from sopflow.stores import open_store

CATALOG = ROOT / "bpmn"
SVG = "{http://www.w3.org/2000/svg}"


def history_of(seed: int, weeks: int = 1) -> list[tuple[Any, ...]]:
    """Everything a run recorded, without the engine's random instance ids."""
    catalog = Catalog.from_directory(CATALOG)
    policy = SlaPolicy()
    with open_store("memory://") as store:
        engine = Engine(catalog, store, sla=policy)
        instances, _ = demo.simulate(engine, catalog, seed=seed, weeks=weeks, policy=policy)
        out: list[tuple[Any, ...]] = []
        for i in instances:
            steps = [
                (h.task_id, h.ready_at, h.completed_at, h.actor, repr(h.data), h.due_at)
                for h in engine.history(i.instance_id)
            ]
            out.append((i.number, i.started_at, i.completed, i.returns, *steps))
        return out


def test_same_seed_same_history_other_seed_other_history() -> None:
    first = history_of(7)
    assert first == history_of(7)
    assert first != history_of(8)


def test_simulation_covers_all_four_sops_with_returns_breaches_and_open_cases() -> None:
    catalog = Catalog.from_directory(CATALOG)
    policy = SlaPolicy()
    with open_store("memory://") as store:
        engine = Engine(catalog, store, sla=policy)
        instances, horizon = demo.simulate(engine, catalog, seed=2025, weeks=3, policy=policy)
        assert {i.process_id for i in instances} == {d.process_id for d in catalog}
        assert horizon.isoformat() == "2025-08-22T14:00:00+07:00"  # Friday of week 3
        assert any(not i.completed for i in instances) and any(i.completed for i in instances)
        returned = {i.process_id for i in instances if i.returns}
        assert returned <= {"purbalingga_pengukuran_kinerja", "long_ikis_data_kinerja"}
        assert returned
        late = on_time = 0
        for i in instances:
            for h in engine.history(i.instance_id):
                assert h.ready_at <= horizon
                if h.completed_at is not None:
                    assert h.completed_at <= horizon
                    version = engine.status(i.instance_id).version
                    cal = policy.calendar_for(engine.definition(version))
                    # people finish in office hours: the second before was working time
                    assert cal.is_working_time(h.completed_at - timedelta(seconds=1))
                    if h.due_at is not None:
                        late += h.completed_at > h.due_at
                        on_time += h.completed_at <= h.due_at
        assert on_time > late > 0  # mostly within the standard, some over


def test_demo_runs_small_in_a_tmp_dir_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines: list[str] = []
    began = time.perf_counter()
    run = demo.run_demo(weeks=1, catalog_dir=CATALOG, echo=lines.append)
    assert time.perf_counter() - began < 20
    assert run.db_url == f"sqlite:///{tmp_path / 'sopflow-demo.db'}"
    assert (tmp_path / "sopflow-demo.db").exists()
    assert not (tmp_path / "sopflow.db").exists()
    page = (tmp_path / "demo-report.html").read_text(encoding="utf-8")
    assert page.count("sopflow-process") >= 4 and "sopflow-timeline" in page
    assert "<script" not in page and "src=" not in page and "https://" not in page
    output = "\n".join(lines)
    assert "SLA scan at Fri 08 Aug 2025 14:00" in output
    for process_id in ("cibatu_data_kinerja", "long_ikis_data_kinerja", "pace_data_kinerja",
                       "purbalingga_pengukuran_kinerja"):
        assert f"({process_id})" in output  # the per-SOP monitoring report
    assert "Monitoring Pelaksanaan SOP AP" in output
    # a second run starts from a fresh database: same figures, not doubled
    again: list[str] = []
    demo.run_demo(weeks=1, catalog_dir=CATALOG, echo=again.append)
    assert again[1:-2] == lines[1:-2]


def test_database_guard(tmp_path: Path) -> None:
    assert demo.prepare_database(None, tmp_path) == f"sqlite:///{tmp_path / 'sopflow-demo.db'}"
    assert demo.prepare_database("memory://", tmp_path) == "memory://"
    with pytest.raises(StoreError, match=r"refusing sopflow\.db"):
        demo.prepare_database("sqlite:///sopflow.db", tmp_path)
    with pytest.raises(StoreError, match="only takes sqlite"):
        demo.prepare_database("postgresql://localhost/x", tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    with pytest.raises(StoreError, match="not a SQLite database"):
        demo.prepare_database(f"sqlite:///{notes}", tmp_path)
    assert notes.read_text() == "my notes"
    old = tmp_path / "old-demo.db"
    with open_store(f"sqlite:///{old}"):
        pass
    assert old.exists()
    assert demo.prepare_database("sqlite:///old-demo.db", tmp_path) == f"sqlite:///{old}"
    assert not old.exists()


def test_catalog_is_found_from_the_cwd_or_the_source_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # nothing in tmp: the SOPs shipped in the package (the checkout's bpmn/, by a symlink)
    assert demo.find_catalog(tmp_path).samefile(CATALOG)
    local = tmp_path / "bpmn"
    local.mkdir()
    (local / "x.bpmn").write_bytes((CATALOG / "pace-data-kinerja.bpmn").read_bytes())
    assert demo.find_catalog(tmp_path) == local
    monkeypatch.setattr(catalog_module, "builtin_directory", lambda: tmp_path / "missing")
    with pytest.raises(DefinitionError, match="no SOP catalog found"):
        demo.find_catalog(tmp_path / "elsewhere")


# ----------------------------------------------------------------------------- CLI


def test_cli_render_file_and_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pace.svg"
    assert main(["render", str(CATALOG / "pace-data-kinerja.bpmn"), "-o", str(out)]) == 0
    root = etree.fromstring(out.read_bytes())
    assert root.get("data-process-id") == "pace_data_kinerja"
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert main(["render", "pace_data_kinerja", "--catalog", str(CATALOG)]) == 0
    assert capsys.readouterr().out.startswith("<svg")


def test_cli_render_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(FIXTURES / "engine" / "review_loop.bpmn")]) == 1
    assert "has no diagram to draw" in capsys.readouterr().err
    assert main(["render", "no_such_process", "--catalog", str(CATALOG)]) == 1
    assert main(["render", "pace_data_kinerja", "--catalog", str(CATALOG), "--timeline"]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["render", "pace_data_kinerja", "--instance", "x", "--share-met"])
    assert usage.value.code == 2


def test_cli_render_an_instance_and_its_timeline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'office.db'}"
    catalog = Catalog.from_directory(CATALOG)
    with open_store(url) as store:
        engine = Engine(catalog, store)
        iid = engine.start(
            "pace_data_kinerja", actor=Actor("c", "camat"), at=_at("2025-08-04T08:00")
        ).instance_id
        engine.complete(iid, 1, actor=Actor("c", "camat"), at=_at("2025-08-04T08:40"))
    common = ["--db", url, "--catalog", str(CATALOG), "--at", "2025-08-04T09:00"]
    out = tmp_path / "case.svg"
    assert main(["render", "pace_data_kinerja", "--instance", iid, "-o", str(out), *common]) == 0
    root = etree.fromstring(out.read_bytes())
    status = {
        g.get("data-id"): g.find(f"{SVG}rect").get("fill")  # type: ignore[union-attr]
        for g in root.iter(f"{SVG}g") if g.get("class") == "task"
    }
    from sopflow.reports.render import STATUS_STYLES

    assert status["step_01"] == STATUS_STYLES["done_late"][0]  # 40 of 15 minutes
    assert status["step_02"] == STATUS_STYLES["on_track"][0]
    assert status["step_03"] == STATUS_STYLES["not_reached"][0]
    line = tmp_path / "line.svg"
    assert main(
        ["render", "pace_data_kinerja", "--instance", iid, "--timeline", "-o", str(line), *common]
    ) == 0
    assert b"sopflow-timeline" in line.read_bytes()
    assert main(["render", "cibatu_data_kinerja", "--instance", iid, *common]) == 1
    assert main(["render", "pace_data_kinerja", "--instance", "nope", *common]) == 1
    share = tmp_path / "share.svg"
    assert main(["render", "pace_data_kinerja", "--share-met", "-o", str(share), *common]) == 0
    assert b"0% met" in share.read_bytes()


def _at(text: str) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Jakarta"))


def test_cli_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--weeks", "1", "--out", "r.html"]) == 0
    assert (tmp_path / "r.html").exists() and (tmp_path / "sopflow-demo.db").exists()
    assert "SLA scan" in capsys.readouterr().out
    assert main(["demo", "--db", "sqlite:///sopflow.db"]) == 1
    assert "refusing sopflow.db" in capsys.readouterr().err
    assert main(["demo", "--weeks", "0"]) == 2
