"""A work list read without the engine: the same steps, the same authority, fewer checks.

issue 14: ``sopflow inbox`` spent most of its start importing the engine (token machine,
jobs, events) and re-running the BPMN 2.0 XSD and SpiffWorkflow's parser on definitions
read back from the store. It now lists through :class:`StoredReader`, which loads a
stored definition by :func:`load_stored_for_reading`: the sha256 version is checked
(issue 13: bytes edited in the database are refused), the SOP checks run, the XSD and
SpiffWorkflow's parser (passed when the store kept the bytes) do not. These tests pin
that what is listed, and to whom, is exactly what the engine lists.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
from tests._staff import CAMAT, CAMAT_PACE, KASI, SEKCAM, STAFF, TIM

from sopflow.cli import main
from sopflow.definitions import loader
from sopflow.definitions.catalog import Catalog
from sopflow.errors import DefinitionError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.runtime.worklist import StoredReader
from sopflow.stores import open_store

ROOT = Path(__file__).resolve().parent.parent
PROCESS = "purbalingga_pengukuran_kinerja"
AT = "2025-08-12T09:00:00+07:00"  # inside the Kasi's Plh. Camat period


def _files() -> list[Path]:
    found = sorted((ROOT / "bpmn").glob("*.bpmn"))
    found += sorted((ROOT / "tests" / "fixtures" / "engine").rglob("*.bpmn"))
    return found


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_a_stored_definition_read_for_a_listing_is_the_checked_one(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Skipping the XSD and SpiffWorkflow's parser changes nothing in the definition:
    each process of the file (one version each when it holds several, BPMN 2.0 §8.2)
    comes out equal to what the full pipeline builds, and the loader's cache (what the
    engine runs on) is not filled by the lighter path."""
    data = path.read_bytes()
    source = f"stored {path.name}"
    try:
        checked = loader.load_definitions_bytes(data, source=source)
    except DefinitionError:
        pytest.skip("needs script handlers or a catalog to load")
    monkeypatch.setattr(loader, "_CACHE", OrderedDict())
    for definition in checked:
        read = loader.load_stored_for_reading(data, definition.version, source=source)
        assert read == definition, definition.process_id
    assert not loader._CACHE


def test_stored_bytes_that_do_not_hash_to_their_version_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """issue 13: a definition edited in the database is refused, on the read path too."""
    monkeypatch.setattr(loader, "_CACHE", OrderedDict())
    data = (ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn").read_bytes()
    version = loader.definition_version(data)
    edited = data.replace(b"Camat memerintahkan", b"Camat  memerintahkan", 1)
    assert edited != data
    with pytest.raises(DefinitionError, match="does not match its XML"):
        loader.load_stored_for_reading(edited, version, source="stored")
    multi = ROOT / "tests" / "fixtures" / "engine" / "multi" / "dua_proses.bpmn"
    with pytest.raises(DefinitionError, match="does not match its XML"):
        loader.load_stored_for_reading(multi.read_bytes(), version, source="stored")


def test_only_the_listing_skips_spiffworkflow_an_action_still_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What runs an instance loads its stored definition with every check."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = Engine(Catalog.from_directory(ROOT / "bpmn"), open_store(url))
    engine.start(PROCESS, actor=Actor("a", ["camat"]))
    version = engine.catalog.get(PROCESS).version
    monkeypatch.setattr(loader, "_CACHE", OrderedDict())
    parsed: list[str] = []
    real = loader._spiff_parse
    monkeypatch.setattr(
        loader, "_spiff_parse", lambda t, r: parsed.append(r.process_id) or real(t, r)
    )
    reader = StoredReader(open_store(url))
    assert [i.task_id for i in reader.work_list()] == ["step_01"]
    assert parsed == []
    Engine(_Empty(), open_store(url)).definition(version)
    assert parsed == [PROCESS]


class _Empty:
    def get(self, process_id: str) -> object:
        raise DefinitionError(process_id)

    def __iter__(self) -> object:
        return iter(())


@pytest.fixture
def staffed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'sopflow.db'}"
    monkeypatch.setenv("SOPFLOW_DB", url)
    monkeypatch.setenv("SOPFLOW_CATALOG", str(ROOT / "bpmn"))
    (tmp_path / "staf.toml").write_text(STAFF)
    assert main(["staff", "import", str(tmp_path / "staf.toml")]) == 0
    for _ in range(3):
        assert main(["start", PROCESS, "--actor", CAMAT, "--at", AT]) == 0
    capsys.readouterr()
    return url


@pytest.mark.parametrize("who", [CAMAT, CAMAT_PACE, KASI, SEKCAM, TIM, "199999999999999999"])
def test_in_directory_mode_an_actor_sees_exactly_what_the_engine_shows(
    staffed: str, who: str
) -> None:
    """Authority is not loosened by the lighter path: the same directory decides, through
    the same filter (their positions' roles, in their units), for every actor."""
    engine = Engine(Catalog.from_directory(ROOT / "bpmn"), open_store(staffed))
    reader = StoredReader(open_store(staffed))
    assert not reader.authority.trusted_caller
    for role in (None, ["camat"], ["sekcam"]):
        for process in (None, PROCESS):
            kwargs = {"role": role, "process_id": process, "at": _at()}
            assert reader.work_list(actor=Actor(who, []), **kwargs) == engine.work_list(
                actor=Actor(who, []), **kwargs
            )
    assert reader.work_list(at=_at()) == engine.work_list(at=_at())
    seen = {i.instance_id for i in reader.work_list(actor=Actor(who, []), at=_at())}
    # not vacuous: the Camat and the Kasi (Plh. Camat then) see all three; the Camat of
    # Pace, the Sekcam, a staff member and an unknown NIP see none of step 1
    assert len(seen) == {CAMAT: 3, KASI: 3}.get(who, 0)


def _at():  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(AT)


@pytest.mark.parametrize("extra", [[], ["--json"], ["--role", "camat"]])
def test_the_inbox_prints_what_the_engine_path_printed(
    staffed: str, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    """An ``--at`` without an offset still goes through the engine (the catalog decides
    its zone); with the offset spelled out the same listing is read from the store. Both
    print the same bytes, text and --json, directory mode."""
    assert main(["inbox", "--actor", CAMAT, "--process", PROCESS, "--at", AT[:-6], *extra]) == 0
    through_engine = capsys.readouterr()
    assert main(["inbox", "--actor", CAMAT, "--process", PROCESS, "--at", AT, *extra]) == 0
    read = capsys.readouterr()
    assert read.out == through_engine.out and read.err == through_engine.err == ""
    assert "step_01" in read.out
