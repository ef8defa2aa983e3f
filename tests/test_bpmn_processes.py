"""Files with several processes: each executable process is a catalog process
(BPMN 2.0, 9 collaboration; sopflow's version rule for shared files)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from tests._bpmn import ENGINE_FIXTURES, STAF

from sopflow.definitions.catalog import Catalog, validate_paths
from sopflow.errors import DefinitionError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

MULTI = ENGINE_FIXTURES / "multi"


def test_every_executable_process_of_a_file_is_a_catalog_process() -> None:
    """Both executable participants load; the isExecutable="false" one is never started;
    each version is sha256(bytes + b"\\n#" + process id)."""
    catalog = Catalog.from_directory(MULTI)
    assert catalog.process_ids == ("arsip_surat", "surat_masuk")
    data = (MULTI / "dua_proses.bpmn").read_bytes()
    for pid in catalog.process_ids:
        expected = hashlib.sha256(data + b"\n#" + pid.encode()).hexdigest()
        assert catalog.get(pid).version == expected
    assert "pemohon" not in catalog


def test_processes_of_one_file_run_and_reload_from_the_store(
    store: Store, clock: FakeClock
) -> None:
    catalog = Catalog.from_directory(MULTI)
    engine = Engine(catalog, store, clock=clock)
    one = engine.start("surat_masuk", actor=STAF).instance_id
    two = engine.start("arsip_surat", actor=STAF).instance_id
    # a fresh engine whose catalog no longer has the file reads both from the store
    other = Engine(Catalog(), store, clock=clock)
    assert other.complete(one, "catat_surat", actor=STAF).status == "completed"
    assert other.complete(two, "arsipkan", actor=STAF).status == "completed"


def test_a_process_id_used_in_two_files_names_both_files(tmp_path: Path) -> None:
    shutil.copy(MULTI / "dua_proses.bpmn", tmp_path / "a.bpmn")
    shutil.copy(MULTI / "dua_proses.bpmn", tmp_path / "b.bpmn")
    with pytest.raises(DefinitionError, match=r"b\.bpmn: .*is also defined in .*a\.bpmn"):
        Catalog.from_directory(tmp_path)
    problems = validate_paths([tmp_path])
    assert len(problems) == 2 and all("is also defined in" in str(p) for p in problems)
