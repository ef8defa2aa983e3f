"""Files with several processes: each executable process is a catalog process
(BPMN 2.0, 9 collaboration; sopflow's version rule for shared files)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from tests._bpmn import ENGINE_FIXTURES, STAF

from sopflow.definitions.catalog import Catalog, validate_paths
from sopflow.definitions.loader import load_definitions_bytes
from sopflow.errors import DefinitionError, MessageNotCorrelatedError, NotExecutableError
from sopflow.reports.document import render_html
from sopflow.reports.render import render_process_svg
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

MULTI = ENGINE_FIXTURES / "multi"
#: an SOP and a picture-only process (no lanes, a message start, a complex gateway)
PICTURE = ENGINE_FIXTURES / "picture"
#: the same, the SOP's task replaced by a call activity calling the picture-only process
PICTURE_CALL = ENGINE_FIXTURES / "picture_call"


def test_every_executable_process_of_a_file_is_a_catalog_process() -> None:
    """Both executable participants load and run; the isExecutable="false" one is kept
    beside them (BPMN 2.0, 10.2), marked not executable; each version is
    sha256(bytes + b"\\n#" + process id)."""
    catalog = Catalog.from_directory(MULTI)
    assert catalog.process_ids == ("arsip_surat", "pemohon", "surat_masuk")
    data = (MULTI / "dua_proses.bpmn").read_bytes()
    for pid in catalog.process_ids:
        expected = hashlib.sha256(data + b"\n#" + pid.encode()).hexdigest()
        assert catalog.get(pid).version == expected
    assert [d.process_id for d in catalog if not d.executable] == ["pemohon"]


def test_a_non_executable_process_is_drawn_and_documented_but_never_started(
    store: Store, clock: FakeClock
) -> None:
    """BPMN 2.0, 10.2 (isExecutable): a process not meant to run is in the catalog for
    its picture and its SOP document; starting it is a NotExecutableError naming the
    process and its file, and nothing is stored."""
    catalog = Catalog.from_directory(MULTI)
    pemohon = catalog.get("pemohon")
    assert "Tugas pemohon" in render_html(pemohon)  # the SOP document (its picture: below)
    engine = Engine(catalog, store, clock=clock)
    with pytest.raises(NotExecutableError) as refused:
        engine.start("pemohon", actor=STAF)
    assert str(refused.value).startswith(f"{MULTI / 'dua_proses.bpmn'}: pemohon: process ")
    assert 'isExecutable="false"' in str(refused.value)
    assert isinstance(refused.value, DefinitionError)
    assert store.instances() == []
    assert engine.start("surat_masuk", actor=STAF).status == "running"  # its neighbours run


def test_a_picture_only_process_is_checked_only_for_what_its_picture_needs() -> None:
    """A picture-only process may lack lanes and a none start event and hold elements
    sopflow never runs (a complex gateway): only execution needs those, so it loads; the
    same elements in the executable process of the file are refused as before."""
    catalog = Catalog.from_directory(PICTURE)
    pemohon = catalog.get("pemohon")
    assert not pemohon.executable and pemohon.lanes == ()
    assert "pilih" not in pemohon.nodes  # the complex gateway: drawn, never run
    assert "<svg" in render_process_svg(pemohon)
    assert catalog.get("layanan").executable
    data = (PICTURE / "layanan_pemohon.bpmn").read_bytes()
    refused = data.replace(
        b'<bpmn:userTask id="proses" name="Proses surat"/>',
        b'<bpmn:complexGateway id="proses"/>',
    )
    with pytest.raises(DefinitionError, match=r"proses: bpmn:complexGateway is not supported"):
        load_definitions_bytes(refused, source="layanan.bpmn")


def test_a_picture_only_process_must_still_be_readable() -> None:
    """Hostile or broken input is refused whatever the process is for: a flow to a node
    the picture-only process does not have names the flow."""
    data = (PICTURE / "layanan_pemohon.bpmn").read_bytes()
    broken = data.replace(b'targetRef="serahkan"', b'targetRef="tidak_ada"')
    with pytest.raises(DefinitionError, match=r"pemohon_f2: targetRef 'tidak_ada' is not a"):
        load_definitions_bytes(broken, source="layanan.bpmn")


def test_a_picture_only_process_catches_no_start_message(store: Store, clock: FakeClock) -> None:
    """A message start event of a process that never runs subscribes to nothing: the
    message is not correlated (nothing stored), as for a message nobody waits for."""
    engine = Engine(Catalog.from_directory(PICTURE), store, clock=clock)
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("surat_pemohon")
    assert store.instances() == []


def test_a_call_activity_calling_a_picture_only_process_is_a_catalog_error() -> None:
    """10.3.5: a call activity's calledElement must be a process that can run; one marked
    isExecutable="false" is refused when the catalog loads, naming the caller's file, the
    call activity and the file of the called process."""
    with pytest.raises(NotExecutableError) as refused:
        Catalog.from_directory(PICTURE_CALL)
    source = PICTURE_CALL / "layanan_pemohon.bpmn"
    assert str(refused.value).startswith(f"{source}: proses: calls process 'pemohon', which ")
    assert f"{source} marks isExecutable=\"false\"" in str(refused.value)
    [problem] = validate_paths([PICTURE_CALL])
    assert isinstance(problem, NotExecutableError)


def test_the_cli_refuses_starting_a_picture_only_process_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sopflow start`` of a non-executable process: one line naming file and process,
    exit 1, no instance."""
    from sopflow.cli import main

    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(MULTI))
    code = main(["start", "pemohon", "--actor", "budi", "--role", "pelaksana"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "pemohon: process 'pemohon' is marked" in err
    code = main(["show", "pemohon"])  # the catalog still shows it, saying it never runs
    out, _ = capsys.readouterr()
    assert code == 0 and 'Tidak dijalankan (isExecutable="false")' in out


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
    # both executable processes and the picture-only one: ids are unique across the catalog
    assert len(problems) == 3 and all("is also defined in" in str(p) for p in problems)



def test_the_web_lists_a_picture_only_process_as_such_and_never_offers_to_start_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BPMN 2.0 10.2: a process with isExecutable="false" is documentation only. The web's
    process list says so, and "Mulai SOP" never offers what the engine would refuse, even
    to someone who holds every role."""
    from tests._web import SEKCAM, make_web

    from sopflow.web._auth import Principal
    from sopflow.web._context import WebContext
    from sopflow.web._pages import _startable

    web = make_web(catalog=Catalog.from_directory(PICTURE))
    processes = web.client(SEKCAM).get("/api/v1/processes").json()
    assert {p["process_id"]: p["executable"] for p in processes} == {
        "layanan": True,
        "pemohon": False,
    }
    ctx: WebContext = web.app.state.sopflow
    monkeypatch.setattr(WebContext, "acting_as", lambda self, nip, role, unit: object())
    offered = {d.process_id for d in _startable(ctx, Principal(SEKCAM, None, "basic"))}
    assert offered == {"layanan"}
