"""A changed BPMN file is a new version; running instances stay on the one they started on.

The store keeps every version's XML once, by content hash, so an instance started last
month still runs its old flow after the office edits the SOP file, while new instances
take the new one. ``sopflow status`` shows which version an instance runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from _stores import raw_execute, store_url_fixture  # noqa: F401  (fixture)
from conftest import FIXTURES
from sopflow.cli import main
from sopflow.definitions.catalog import Catalog
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store

STAF = Actor("budi", {"pelaksana"})
SEKCAM = Actor("sari", {"sekcam"})
CAMAT = Actor("camat.pak", {"camat"})
OLD_NAME, NEW_NAME = "Memeriksa draft", "Memeriksa dan memaraf draft"


def engine_over(catalog: Path, url: str) -> Engine:
    return Engine(Catalog.from_directory(catalog), open_store(url))


def test_instances_keep_their_version_after_the_file_changes(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "bpmn"
    catalog.mkdir()
    bpmn = catalog / "review_loop.bpmn"
    shutil.copy(FIXTURES / "engine" / "review_loop.bpmn", bpmn)

    before = engine_over(catalog, store_url)
    old_version = before.catalog.get("review_loop").version
    old = before.start("review_loop", actor=STAF).instance_id
    before.complete(old, 1, actor=STAF)
    before.store.close()

    text = bpmn.read_text(encoding="utf-8")
    assert text.count(f'name="{OLD_NAME}"') == 1
    bpmn.write_text(text.replace(f'name="{OLD_NAME}"', f'name="{NEW_NAME}"'), encoding="utf-8")

    after = engine_over(catalog, store_url)
    new_version = after.catalog.get("review_loop").version
    assert new_version != old_version
    new = after.start("review_loop", actor=STAF).instance_id
    after.complete(new, 1, actor=STAF)

    assert after.status(old).version == old_version
    assert after.status(new).version == new_version
    # Each instance sees its own version's step, read from the store for the old one.
    [old_item] = after.work_list(instance_id=old)
    [new_item] = after.work_list(instance_id=new)
    assert (old_item.name, old_item.version) == (OLD_NAME, old_version)
    assert (new_item.name, new_item.version) == (NEW_NAME, new_version)

    # The old instance finishes on the old flow.
    after.complete(old, 2, actor=SEKCAM, data={"disetujui": True})
    after.complete(old, 3, actor=CAMAT)
    assert after.status(old).status == "completed"
    assert [h.name for h in after.history(old)][:2] == ["Menyusun draft", OLD_NAME]

    rows = raw_execute(
        store_url,
        "SELECT version FROM sopflow_definitions WHERE process_id = ? ORDER BY id",
        ["review_loop"],
    )
    assert rows == [(old_version,), (new_version,)]
    after.store.close()

    # The command line shows the version too, short in the text, whole in JSON.
    capsys.readouterr()
    args = ["--db", store_url, "--catalog", str(catalog)]
    assert main(["status", old, *args]) == 0
    out = capsys.readouterr().out
    assert f"version {old_version[:12]}" in out and new_version[:12] not in out
    assert main(["status", new, *args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == new_version
