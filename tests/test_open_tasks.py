"""A task that names no one is open to anyone, as in its home engine (issue 12, the lead's call).

BPMN 2.0 leaves human performers to the engine (section 10.3.2, "Human Interactions": a
User Task's ``resources`` / ``potentialOwner``; a lane, section 10.8, is a partition that
"organizes and categorizes activities" and assigns no one). Camunda 7, Flowable and
SpiffWorkflow let any authorised user claim and complete a user task with no assignee and
no candidates. sopflow reads a file that is not an SOP the same way: a user or manual task
in no lane and with no assignment is open (trusted-caller mode: any caller; with a staff
directory: anyone holding a position in the instance's unit), and ``validate`` lists it as
a warning (``open-task``). An SOP file (docs/bpmn-conventions.md: every step in a lane,
the Pelaksana column) stays strict: there it is an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests._modelers import one_task, open_tasks
from tests._staff import CAMAT, KASI, PBG, SEKCAM, SEKCAM_PACE, TIM, staffed_engine, who
from tests.conftest import ListCatalog

from sopflow.authority.base import TrustedCaller
from sopflow.cli import main
from sopflow.definitions._warnings import tree_warnings
from sopflow.definitions.compiler import compile_table
from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.table import parse_table
from sopflow.definitions.xmlsafe import parse_xml
from sopflow.errors import ClaimedError, PermissionDeniedError, SopCheckError, UnitAccessError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock, SimulatedStaff

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "bpmn").glob("*.bpmn"))
TABLES = sorted((ROOT / "tests" / "fixtures" / "tables").glob("*.toml"))
NOT_IN_LANE = "user task is not in any lane"


def _engine(store: Store, clock: FakeClock, data: bytes | None = None) -> Engine:
    definition = load_definition_bytes(data or open_tasks(), source="berkas.bpmn")
    return Engine(ListCatalog(definition), store, clock=clock)


def _warnings(data: bytes) -> list[tuple[str | None, str]]:
    tree = parse_xml(data, source="berkas.bpmn")
    return [(f.element, f.code) for f in tree_warnings(tree, source="berkas.bpmn")]


# --- loading and validate ----------------------------------------------------------------


def test_lane_less_tasks_of_a_foreign_file_load_as_open_steps() -> None:
    definition = load_definition_bytes(open_tasks(), source="berkas.bpmn")
    steps = {s.id: s for s in definition.steps}
    assert steps["terima"].is_open and steps["arsip"].is_open  # a manual task too
    assert not steps["kembali"].is_open  # candidateGroups names who
    assert definition.to_dict()["steps"][0]["open"] is True


def test_validate_lists_each_open_task_as_a_warning() -> None:
    assert _warnings(open_tasks()) == [("terima", "open-task"), ("arsip", "open-task")]


def test_a_task_in_no_lane_of_a_file_with_lanes_is_open_too() -> None:
    """Lanes assign no one in BPMN (10.8); a task left out of them names no one."""
    definition = load_definition_bytes(open_tasks(lanes=True), source="berkas.bpmn")
    assert definition.step("terima").is_open  # type: ignore[union-attr]
    assert definition.step("kembali").lane == "Loket"  # type: ignore[union-attr]
    assert ("terima", "open-task") in _warnings(open_tasks(lanes=True))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_shipped_sops_stay_strict(path: Path) -> None:
    """The SOP convention: a step outside every lane has no Pelaksana; refused, as before."""
    data = path.read_bytes()
    ref = re.search(rb"\s*<bpmn:flowNodeRef>step_01</bpmn:flowNodeRef>", data)
    assert ref is not None
    with pytest.raises(SopCheckError, match=NOT_IN_LANE):
        load_definition_bytes(data.replace(ref.group(0), b"", 1), source=path.name)


@pytest.mark.parametrize("path", TABLES, ids=lambda p: p.stem)
def test_compiled_tables_stay_strict(path: Path) -> None:
    data = compile_table(parse_table(path))
    ref = re.search(rb"\s*<bpmn:flowNodeRef>step_01</bpmn:flowNodeRef>", data)
    assert ref is not None
    with pytest.raises(SopCheckError, match=NOT_IN_LANE) as info:
        load_definition_bytes(data.replace(ref.group(0), b"", 1), source=path.name)
    assert [p.element for p in info.value.problems if NOT_IN_LANE in p.message] == ["step_01"]


ROLE = '<camunda:properties><camunda:property name="role" value="loket" /></camunda:properties>'


@pytest.mark.parametrize(
    "marker",
    [
        {"process_ext": ROLE.replace("role", "nomor").replace("loket", "A.1")},
        {"process_ext": ROLE.replace("role", "kecamatan").replace("loket", "Cibatu")},
        {"task_ext": ROLE.replace("role", "waktu").replace("loket", "15 Menit")},
        {"task_ext": ROLE.replace("role", "keputusan").replace("loket", "disetujui")},
    ],
    ids=["nomor", "kecamatan", "waktu", "keputusan"],
)
def test_any_sop_property_makes_the_file_an_sop(marker: dict[str, str]) -> None:
    """An identity-sheet or Mutu Baku property says "this is an SOP": its steps need lanes."""
    with pytest.raises(SopCheckError, match=NOT_IN_LANE):
        load_definition_bytes(open_tasks(**marker), source="berkas.bpmn")


def test_a_lane_role_makes_the_file_an_sop() -> None:
    data = open_tasks(lanes=True).replace(
        b'name="Loket">',
        b'name="Loket"><bpmn:extensionElements>' + ROLE.encode() + b"</bpmn:extensionElements>",
    )
    with pytest.raises(SopCheckError, match=NOT_IN_LANE):
        load_definition_bytes(data, source="berkas.bpmn")


def test_an_empty_sop_property_marks_nothing() -> None:
    """``value=""`` is not a property sopflow reads (RawNode.prop skips it)."""
    empty = ROLE.replace("role", "waktu").replace("loket", "")
    assert load_definition_bytes(open_tasks(task_ext=empty), source="b.bpmn").step("terima")


def test_an_assignment_that_names_no_one_is_no_assignment() -> None:
    """Hostile: ``candidateGroups=" , "`` must not pass the SOP lane check and then let
    anyone act; in an SOP it is refused, in a foreign file the task is open and reported."""
    sop = one_task(
        lane=None,
        attrs='camunda:candidateGroups=" , "',
        ext=ROLE.replace("role", "waktu").replace("loket", "15 Menit"),
    )
    with pytest.raises(SopCheckError, match=NOT_IN_LANE):
        load_definition_bytes(sop, source="uji.bpmn")
    foreign = one_task(lane=None, attrs='camunda:candidateGroups=" , "')
    assert load_definition_bytes(foreign, source="uji.bpmn").step("task_1").is_open  # type: ignore[union-attr]
    assert _warnings(foreign) == [("task_1", "open-task")]


# --- trusted-caller mode: any caller -----------------------------------------------------


def test_end_to_end_any_caller_takes_an_open_step(store: Store, clock: FakeClock) -> None:
    engine = _engine(store, clock)
    assert isinstance(engine.authority, TrustedCaller)
    iid = engine.start("berkas", actor=Actor("loket.1")).instance_id
    engine.claim(iid, "terima", actor=Actor("ani"))  # no role at all
    with pytest.raises(ClaimedError):
        engine.complete(iid, "terima", actor=Actor("budi", {"camat"}), data={"lengkap": True})
    clock.advance(minutes=5)
    engine.complete(iid, "terima", actor=Actor("ani"), data={"lengkap": True})
    clock.advance(minutes=5)
    done = engine.complete(iid, "arsip", actor=Actor("budi", {"tim"}))
    assert done.status == "completed"
    assert [(r.task_id, r.actor) for r in engine.history(iid)] == [
        ("terima", "ani"),
        ("arsip", "budi"),
    ]


def test_an_assigned_step_after_an_open_one_keeps_its_rule(store: Store, clock: FakeClock) -> None:
    engine = _engine(store, clock)
    iid = engine.start("berkas", actor=Actor("loket.1")).instance_id
    engine.complete(iid, "terima", actor=Actor("ani"), data={"lengkap": False})
    with pytest.raises(PermissionDeniedError, match="candidate groups kasi"):
        engine.complete(iid, "kembali", actor=Actor("ani"))
    assert engine.complete(iid, "kembali", actor=Actor("kasi.1", {"kasi"})).status == "completed"


def test_work_lists_show_open_steps_for_any_role_and_user(store: Store, clock: FakeClock) -> None:
    engine = _engine(store, clock)
    iid = engine.start("berkas", actor=Actor("loket.1")).instance_id
    for query in ({"role": "camat"}, {"role": ["kasi", "tim"]}, {"user": "ani"}, {}):
        assert [w.task_id for w in engine.work_list(**query)] == ["terima"], query  # type: ignore[arg-type]
    assert engine.work_list(role=[]) == []  # no role asked for: nothing, as before
    assert [w.task_id for w in engine.work_list(actor=Actor("ani"))] == ["terima"]
    engine.complete(iid, "terima", actor=Actor("ani"), data={"lengkap": False})
    # the assigned step is not open: a role list without the user does not show it
    assert engine.work_list(role="camat") == []
    assert [w.task_id for w in engine.work_list(user="k", role="kasi")] == ["kembali"]


def test_simulated_staff_work_an_open_step(store: Store, clock: FakeClock) -> None:
    """sopflow.testing's officers take an open step as anyone (no role asserted)."""
    engine = _engine(store, clock)
    iid = engine.start("berkas", actor=Actor("loket.1"), data={"lengkap": True}).instance_id
    log = SimulatedStaff(engine, clock, names={"": "petugas"}).work(iid)
    assert [(e.item.task_id, e.actor) for e in log] == [("terima", "petugas"), ("arsip", "petugas")]
    assert engine.status(iid).status == "completed"


# --- with a staff directory: a position in the instance's unit ---------------------------


def test_with_a_directory_anyone_of_the_unit_may_act_and_no_one_else(
    store: Store, clock: FakeClock
) -> None:
    definition = load_definition_bytes(open_tasks(), source="berkas.bpmn")
    engine = staffed_engine(store, clock, definition)
    iid = engine.start("berkas", actor=who(CAMAT), unit=PBG).instance_id
    # the Sekcam of Pace holds positions, none in Kecamatan Purbalingga
    with pytest.raises(UnitAccessError, match=r"holds no position in unit 33\.03\.05"):
        engine.claim(iid, "terima", actor=who(SEKCAM_PACE))
    with pytest.raises(PermissionDeniedError, match="holds no position"):
        engine.complete(iid, "terima", actor=Actor("bukan.pegawai"), data={"lengkap": True})
    refused = [a.payload for a in store.audit(iid) if a.event == "permission.denied"]
    assert [(r["task_id"], r["rule"]) for r in refused] == [
        ("terima", "unit"),
        ("terima", "permission"),
    ]
    assert engine.work_list(actor=who(SEKCAM_PACE)) == []
    assert [w.task_id for w in engine.work_list(actor=who(TIM))] == ["terima"]
    clock.advance(minutes=5)
    engine.complete(iid, "terima", actor=who(TIM), data={"lengkap": True})
    clock.advance(minutes=5)
    # the Kasi sits in a section of the kecamatan: within the unit
    assert engine.complete(iid, "arsip", actor=who(KASI)).status == "completed"
    signed = [r.signed_as for r in engine.history(iid)]
    assert signed[0] is not None and signed[0].startswith("Anggota Tim SAKIP")


def test_with_a_directory_a_claim_lapses_when_its_holder_leaves_the_unit(
    store: Store, clock: FakeClock
) -> None:
    """The first Sekcam's SK ends on 6 August: her claim on an open step lapses with it."""
    definition = load_definition_bytes(open_tasks(), source="berkas.bpmn")
    engine = staffed_engine(store, clock, definition)
    iid = engine.start("berkas", actor=who(CAMAT), unit=PBG).instance_id
    engine.claim(iid, "terima", actor=who(SEKCAM))
    with pytest.raises(ClaimedError):
        engine.claim(iid, "terima", actor=who(CAMAT))
    clock.advance(days=3)  # 7 August
    engine.claim(iid, "terima", actor=who(CAMAT))
    assert engine.work_list(actor=who(CAMAT))[0].claimed_by == CAMAT


# --- the CLI, as a user runs it ----------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_validate_start_inbox_claim_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "berkas.bpmn").write_bytes(open_tasks())
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(catalog))
    code, out, err = _cli(capsys, "validate", str(catalog))
    assert code == 0 and err == ""
    assert out.count("[warning]") == 2 and out.rstrip().endswith("ok: 1 file")
    code, out, _ = _cli(capsys, "validate", "--json", str(catalog))
    found = json.loads(out)
    assert found["ok"] is True
    assert [(p["element"], p["code"], p["severity"]) for p in found["problems"]] == [
        ("terima", "open-task", "warning"),
        ("arsip", "open-task", "warning"),
    ]
    at = "2025-08-04T08:00:00+07:00"
    code, out, err = _cli(capsys, "start", "berkas", "--actor", "loket.1", "--at", at)
    assert code == 0, err
    iid = out.strip()
    code, out, _ = _cli(capsys, "inbox", "--role", "camat", "--json", "--at", at)
    assert [i["task_id"] for i in json.loads(out)] == ["terima"]
    assert _cli(capsys, "claim", iid, "terima", "--actor", "ani", "--at", at)[0] == 0
    code, _, err = _cli(capsys, "complete", iid, "terima", "--actor", "budi", "--at", at)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "claimed" in err
    for task, extra in (("terima", ["--data-json", "lengkap=true"]), ("arsip", [])):
        code, _, err = _cli(capsys, "complete", iid, task, "--actor", "ani", *extra, "--at", at)
        assert code == 0, err
    code, out, _ = _cli(capsys, "status", iid, "--json", "--at", at)
    assert json.loads(out)["status"] == "completed"


def test_a_lane_with_no_name_and_no_role_of_a_foreign_file_names_no_one() -> None:
    """BPMN 2.0 10.8: a lane organises and assigns no one. bpmn-js draws a participant's
    first lane without a name; in a file that is not an SOP its tasks are open (or
    assigned by their own attributes), not refused. (An SOP refuses such a lane:
    test_checks.test_lane_without_name_or_role.)"""
    data = one_task(lane=None).replace(
        b'isExecutable="true" >',
        b'isExecutable="true" ><bpmn:laneSet id="ls"><bpmn:lane id="tanpa_nama">'
        b"<bpmn:flowNodeRef>task_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>",
    )
    assert b"tanpa_nama" in data
    definition = load_definition_bytes(data, source="berkas.bpmn")
    assert definition.step("task_1").is_open  # type: ignore[union-attr]
    assert definition.lanes == ()
    assert _warnings(data) == [("task_1", "open-task")]
