"""The catalog: every *.bpmn in a directory by process id, and the shipped SOPs themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopflow.definitions.catalog import Catalog, validate_paths
from sopflow.errors import DefinitionError, SopCheckError, UnknownProcessError

FIXTURES = Path(__file__).parent / "fixtures" / "bpmn"
MINIMAL = FIXTURES / "sop_minimal.bpmn"
SHIPPED = Path(__file__).resolve().parent.parent / "bpmn"


def test_from_directory_loads_only_the_bpmn_files_directly_in_it() -> None:
    catalog = Catalog.from_directory(FIXTURES)  # hostile/ below it is not read
    assert catalog.process_ids == ("Process_1q2w3e4", "sop_minimal")
    assert len(catalog) == 2
    assert [d.process_id for d in catalog] == ["Process_1q2w3e4", "sop_minimal"]
    assert "sop_minimal" in catalog and "nope" not in catalog
    assert catalog.get("sop_minimal").source == str(MINIMAL)


def test_unknown_process_lists_the_known_ids() -> None:
    with pytest.raises(UnknownProcessError) as info:
        Catalog.from_directory(FIXTURES).get("sop_lain")
    assert str(info.value) == (
        "no process 'sop_lain' in the catalog (known: Process_1q2w3e4, sop_minimal)"
    )


def test_duplicate_process_id_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "a.bpmn").write_bytes(MINIMAL.read_bytes())
    (tmp_path / "b.bpmn").write_bytes(MINIMAL.read_bytes())
    with pytest.raises(DefinitionError) as info:
        Catalog.from_directory(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'b.bpmn'}: sop_minimal: process id 'sop_minimal' is also defined in "
        f"{tmp_path / 'a.bpmn'}"
    )


def test_one_unusable_file_refuses_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "a.bpmn").write_bytes(MINIMAL.read_bytes())
    (tmp_path / "b.bpmn").write_bytes(
        MINIMAL.read_bytes().replace(b'value="30 Menit"', b'value="kapan-kapan"')
    )
    with pytest.raises(SopCheckError) as info:
        Catalog.from_directory(tmp_path)
    assert info.value.file == str(tmp_path / "b.bpmn")
    assert info.value.element == "step_02"


def test_missing_directory_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="catalog directory does not exist"):
        Catalog.from_directory(tmp_path / "absent")
    assert len(Catalog.from_directory(tmp_path)) == 0


def test_validate_paths_collects_every_problem_of_every_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(
        MINIMAL.read_bytes()
        .replace(b'value="30 Menit"', b'value="kapan-kapan"')
        .replace(b"disetujui == true<", b"disetujui ==<")
    )
    found = validate_paths([MINIMAL, broken, FIXTURES / "hostile" / "xxe_file.bpmn"])
    assert [(Path(p.file or "").name, p.element) for p in found] == [
        ("broken.bpmn", "step_02"),
        ("broken.bpmn", "flow_02_ya"),
        ("xxe_file.bpmn", None),
    ]
    assert validate_paths([FIXTURES]) == []


def test_the_shipped_catalog_validates() -> None:
    files = sorted(SHIPPED.glob("*.bpmn"))
    assert len(files) >= 4  # Cibatu, Long Ikis, Pace, Purbalingga
    assert [str(p) for p in validate_paths([SHIPPED])] == []
    catalog = Catalog.from_directory(SHIPPED)
    assert len(catalog) == len(files)
    # the rows docs/sops.md made joint steps: one task per Pelaksana, sharing the number
    joint = {
        "pace_data_kinerja": {4: ("kasubag", "pelaksana")},
        "purbalingga_pengukuran_kinerja": {
            5: ("tim", "sekcam"), 6: ("tim", "sekcam"), 9: ("tim", "kasi"),
        },
    }
    for definition in catalog:
        numbers = [s.no for s in definition.steps]
        rows = sorted(set(numbers))
        assert rows == list(range(1, len(rows) + 1)), definition.process_id
        shared = {
            no: tuple(s.role for s in definition.steps if s.no == no)
            for no in rows if numbers.count(no) > 1
        }
        assert shared == joint.get(definition.process_id, {}), definition.process_id
        for no in shared:
            tasks = [s for s in definition.steps if s.no == no]
            assert [s.id for s in tasks] == [f"step_{no:02d}_{k}" for k in (1, 2)]
            assert len({s.name for s in tasks}) == 1 and len({s.lane for s in tasks}) == 2
            assert definition.step_by_no(no) is None  # the number names neither alone
        assert all(s.role for s in definition.steps), definition.process_id
        for decision in definition.decisions:
            assert definition.step(decision.step_id) is not None
            assert decision.yes_target is not None and decision.no_target is not None


def test_shipped_long_ikis_sop_reads_as_the_paper_sop() -> None:
    definition = Catalog.from_directory(SHIPPED).get("long_ikis_data_kinerja")
    assert len(definition.steps) == 14
    assert definition.header.zona_waktu == "Asia/Makassar"
    [decision] = definition.decisions
    assert (decision.step_id, decision.yes_target, decision.no_target) == (
        "step_11",
        "step_12",
        "step_05",
    )
