"""`make demo` runs on the shipped staff directory: roles come from positions, and the
report shows a step signed by the Plh. Camat Cibatu during the Sprin's period
(SE Kepala BKN 1/SE/I/2021: documents are signed "Plh. Camat ...")."""

from __future__ import annotations

from pathlib import Path

from sopflow.authority.staff import DirectoryAuthority
from sopflow.demo import run_demo
from sopflow.stores import open_store

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_report_shows_a_plh_signed_step(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    run = run_demo(
        db=db, out=tmp_path / "report.html", catalog_dir=ROOT / "bpmn", echo=lambda _: None
    )
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Plh. Camat Cibatu (" in html and "dasar Sprin 800/12/2025" in html
    with open_store(db) as store:
        assert store.has_directory()  # type: ignore[attr-defined]
        kinds = {
            h["kind"]
            for i in run.instances
            for h in store.step_holdings(i.instance_id).values()  # type: ignore[attr-defined]
        }
        assert kinds == {"definitif", "plh"}
        assert all(store.verify_chain(i.instance_id).ok for i in run.instances)  # type: ignore[attr-defined]
    from sopflow.definitions.catalog import Catalog
    from sopflow.runtime.engine import Engine

    with open_store(db) as store:
        assert isinstance(
            Engine(Catalog.from_directory(ROOT / "bpmn"), store).authority, DirectoryAuthority
        )
