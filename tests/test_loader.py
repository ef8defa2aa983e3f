"""Loading a convention-following SOP file gives the definition the engine and reports read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.model import NodeKind

FIXTURES = Path(__file__).parent / "fixtures" / "bpmn"
MINIMAL = FIXTURES / "sop_minimal.bpmn"


def test_steps_keep_their_number_lane_role_and_mutu_baku() -> None:
    definition = load_definition(MINIMAL)
    assert [(s.no, s.id, s.lane, s.role) for s in definition.steps] == [
        (1, "step_01", "Kasubag Program", "kasubag"),
        (2, "step_02", "Camat", "camat"),
        (3, "step_03", "Kasubag Program", "kasubag"),
    ]
    first = definition.step("step_01")
    assert first is not None
    assert first.name == "Menyusun data kinerja & capaian"
    assert first.kelengkapan == ("Format data kinerja", "Renstra")
    assert first.waktu == "1 hari kerja"
    assert first.output == ("Draft data kinerja",)
    assert first.keterangan is None
    assert first.decision_field is None
    second = definition.step_by_no(2)
    assert second is not None
    assert second.waktu == "30 Menit"  # exactly as the SOP writes it
    assert second.keterangan == "Jika tidak disetujui, kembali ke langkah 1"
    assert second.decision_field == "disetujui"
    assert second.line is not None and second.line > 1


def test_lanes_header_and_version() -> None:
    definition = load_definition(MINIMAL)
    assert definition.process_id == "sop_minimal"
    assert definition.name == "Pengumpulan Data Kinerja"
    assert [(la.id, la.name, la.role) for la in definition.lanes] == [
        ("lane_1", "Kasubag Program", "kasubag"),
        ("lane_2", "Camat", "camat"),
    ]
    header = definition.header
    assert header.nomor == "A.2.1.07"
    assert header.kecamatan == "Cibatu"
    assert header.dasar_hukum == ("Perpres 29/2014", "Permenpan-RB 35/2012")
    assert header.peringatan == ("Data harus valid",)
    assert header.kualifikasi_pelaksana == ()
    assert header.zona_waktu == "Asia/Jakarta"
    assert header.unit is None
    data = MINIMAL.read_bytes()
    assert definition.version == hashlib.sha256(data).hexdigest()
    assert definition.xml == data
    assert definition.source == str(MINIMAL)


def test_decision_follows_merge_gateway_back_to_the_step_to_redo() -> None:
    definition = load_definition(MINIMAL)
    [decision] = definition.decisions
    assert (decision.gateway_id, decision.step_id, decision.field) == (
        "decision_02",
        "step_02",
        "disetujui",
    )
    assert decision.yes_target == "step_03"
    assert decision.no_target == "step_01"


def test_node_graph_has_flows_conditions_and_default_as_written() -> None:
    definition = load_definition(MINIMAL)
    assert definition.start_node == "start"
    nodes = definition.nodes
    assert nodes["start"].kind is NodeKind.START
    assert nodes["merge_01"].kind is NodeKind.EXCLUSIVE_GATEWAY
    assert nodes["step_02"].kind is NodeKind.USER_TASK
    assert nodes["end"].kind is NodeKind.END
    assert nodes["end"].outgoing == ()
    ya, tidak = nodes["decision_02"].outgoing
    assert (ya.id, ya.name, ya.target, ya.condition, ya.is_default) == (
        "flow_02_ya",
        "Ya",
        "step_03",
        "disetujui == true",
        False,
    )
    assert (tidak.id, tidak.name, tidak.target, tidak.condition, tidak.is_default) == (
        "flow_02_tidak",
        "Tidak",
        "merge_01",
        None,
        True,
    )
    with pytest.raises(TypeError):
        nodes["x"] = nodes["start"]  # type: ignore[index]


def test_bytes_and_path_give_the_same_definition_except_source() -> None:
    data = MINIMAL.read_bytes()
    from_bytes = load_definition_bytes(data, source="stored:sop_minimal@1")
    from_path = load_definition(MINIMAL)
    assert from_bytes.source == "stored:sop_minimal@1"
    assert from_bytes.to_dict() | {"source": None} == from_path.to_dict() | {"source": None}


def test_the_same_bytes_give_the_same_immutable_definition_without_reparsing() -> None:
    data = MINIMAL.read_bytes()
    first = load_definition_bytes(data, source="stored:cache")
    assert load_definition_bytes(data, source="stored:cache") is first
    other = load_definition_bytes(data + b"\n", source="stored:cache")
    assert other is not first and other.version != first.version
