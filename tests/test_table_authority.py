"""Authority rules written in the SOP table reach the runtime: table -> BPMN -> rules -> refusal.

A kecamatan writes who may act into the same table it transcribes the SOP from
(docs/table-format.md): separation of duties (``bukan_pelaksana_langkah``), steps the
definitive official must take (``hanya_definitif``; SE Kepala BKN 1/SE/I/2021 leaves the
limits of a Plh.'s authority to the office) and who may cancel. The compiler writes them as
``camunda:property`` entries the loader keeps with the definition's version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from tests._staff import CAMAT, KASI, PBG, TIM, TIM2, staffed_engine, who
from tests._tables import sop_tables

from sopflow.authority.policy import rules_of
from sopflow.cli import main
from sopflow.definitions.compiler import compile_table
from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.definitions.table import Kewenangan, SopTable, parse_table, write_table
from sopflow.errors import (
    DefinitiveOnlyError,
    PermissionDeniedError,
    SeparationOfDutiesError,
    TableError,
)
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

TABLE = """\
format = 1
process_id = "uji_kewenangan"

[identitas]
nama = "Uji Kewenangan"
kecamatan = "Purbalingga"

[kewenangan]
pembatal = ["tim"]
pemisahan_keputusan = false

[[pelaksana]]
nama = "Tim SAKIP"
peran = "tim"

[[pelaksana]]
nama = "Camat"
peran = "camat"

[[langkah]]
no = 1
kegiatan = "Menyusun laporan"
pelaksana = "Tim SAKIP"
waktu = "1 hari"

[[langkah]]
no = 2
kegiatan = "Memeriksa laporan"
pelaksana = "Tim SAKIP"
waktu = "1 hari"
bukan_pelaksana_langkah = [1]

[[langkah]]
no = 3
kegiatan = "Menandatangani laporan"
pelaksana = "Camat"
waktu = "30 menit"
hanya_definitif = true
unit_induk = false
"""


def _compiled(text: str = TABLE) -> ProcessDefinition:
    return load_definition_bytes(compile_table(parse_table(text)), source="uji.bpmn")


def test_the_rules_survive_the_table_the_bpmn_and_the_loader() -> None:
    table = parse_table(TABLE)
    assert table.langkah[1].bukan_pelaksana_langkah == (1,)
    assert table.langkah[2].hanya_definitif is True and table.langkah[2].unit_induk is False
    assert table.kewenangan == Kewenangan(pembatal=("tim",), pemisahan_keputusan=False)
    assert parse_table(write_table(table)) == table
    rules = rules_of(_compiled())
    assert rules.cancel_roles == ("tim",)
    assert rules.step("step_02").separate_from == (1,)
    assert rules.step("step_02").separation_source == "bukan_pelaksana_langkah"
    assert rules.step("step_03").definitive_only is True
    assert rules.step("step_01").definitive_only is None


def test_a_table_without_rules_compiles_to_the_same_bytes_as_before() -> None:
    """The keys are optional: a shipped table that has none gives no new property."""
    plain = TABLE.replace("bukan_pelaksana_langkah = [1]\n", "").replace(
        "hanya_definitif = true\nunit_induk = false\n", ""
    )
    plain = plain.replace('[kewenangan]\npembatal = ["tim"]\npemisahan_keputusan = false\n', "")
    body = compile_table(parse_table(plain))
    for name in (b"bukan_pelaksana_langkah", b"hanya_definitif", b"pembatal", b"unit_induk"):
        assert name not in body


def test_unit_induk_and_the_process_wide_rules_are_written_as_properties() -> None:
    text = TABLE.replace("unit_induk = false", "unit_induk = true").replace(
        "pemisahan_keputusan = false", "pemisahan_keputusan = false\nhanya_definitif = true"
    )
    body = compile_table(parse_table(text))
    assert b'name="unit_induk" value="ya"' in body
    assert b'name="pemisahan_keputusan" value="tidak"' in body
    rules = rules_of(load_definition_bytes(body, source="uji.bpmn"))
    assert rules.step("step_03").parent_unit and rules.definitive_only is True


def test_separation_written_in_the_table_refuses_the_same_person_at_runtime(
    store: Store, clock: FakeClock
) -> None:
    engine = staffed_engine(store, clock, _compiled())
    iid = engine.start("uji_kewenangan", actor=who(TIM)).instance_id
    assert store.instance_unit(iid) == PBG  # type: ignore[attr-defined]
    engine.complete(iid, 1, actor=who(TIM))
    with pytest.raises(SeparationOfDutiesError, match="bukan_pelaksana_langkah"):
        engine.complete(iid, 2, actor=who(TIM))
    refused = [a.payload for a in store.audit(iid) if a.event == "permission.denied"]
    assert refused and refused[-1]["rule"] == "separation_of_duties"
    engine.complete(iid, 2, actor=who(TIM2))


def test_a_definitive_only_step_of_the_table_is_refused_to_the_plh(
    store: Store, clock: FakeClock
) -> None:
    clock.set("2025-08-12T09:00:00+07:00")  # the Kasi is Plh. Camat 11-15 August
    engine = staffed_engine(store, clock, _compiled())
    iid = engine.start("uji_kewenangan", actor=who(TIM)).instance_id
    engine.complete(iid, 1, actor=who(TIM))
    engine.complete(iid, 2, actor=who(TIM2))
    with pytest.raises(DefinitiveOnlyError, match="hanya_definitif"):
        engine.complete(iid, 3, actor=who(KASI))
    engine.complete(iid, 3, actor=who(CAMAT))


def test_the_cancel_roles_of_the_table_replace_the_default(store: Store, clock: FakeClock) -> None:
    engine = staffed_engine(store, clock, _compiled())
    iid = engine.start("uji_kewenangan", actor=who(TIM)).instance_id
    with pytest.raises(PermissionDeniedError, match="pembatal"):
        engine.cancel(iid, actor=who(CAMAT), reason="salah input")
    engine.cancel(iid, actor=who(TIM2), reason="salah input")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        ("bukan_pelaksana_langkah = [7]", "there is no step 7 \\(steps are 1..3\\)"),
        ("bukan_pelaksana_langkah = [0]", "there is no step 0"),
        ("bukan_pelaksana_langkah = [2]", "names step 2 itself"),
        ("bukan_pelaksana_langkah = []", "non-empty list of step numbers"),
        ('bukan_pelaksana_langkah = "1"', "non-empty list of step numbers"),
        ("bukan_pelaksana_langkah = [1, 1]", "names step 1 twice"),
        ('bukan_pelaksana_langkah = ["satu"]', "must be a step number"),
        ("bukan_pelaksana_langkah = [true]", "must be a step number"),
    ],
)
def test_a_bad_separation_names_the_file_line_and_field(wrong: str, message: str) -> None:
    text = TABLE.replace("bukan_pelaksana_langkah = [1]", wrong)
    line = text.splitlines().index(wrong) + 1
    with pytest.raises(TableError, match=message) as caught:
        parse_table(text, source="uji.toml")
    assert str(caught.value).startswith(f"uji.toml:{line}:")
    assert "bukan_pelaksana_langkah" in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("hanya_definitif = true", 'hanya_definitif = "ya"', "step 3: hanya_definitif must be"),
        ("unit_induk = false", "unit_induk = 1", "step 3: unit_induk must be true or false"),
        ('pembatal = ["tim"]', 'pembatal = ["bupati"]', "unknown role code 'bupati'"),
        ('pembatal = ["tim"]', 'pembatal = "tim"', "kewenangan.pembatal must be"),
        ("pemisahan_keputusan = false", 'pemisahan_keputusan = "tidak"', "true or false"),
        ("pemisahan_keputusan = false", "pemisahan = false", "did you mean"),
    ],
)
def test_a_bad_rule_value_is_a_table_error_at_its_line(old: str, new: str, message: str) -> None:
    text = TABLE.replace(old, new)
    line = text.splitlines().index(new) + 1
    with pytest.raises(TableError, match=message) as caught:
        parse_table(text, source="uji.toml")
    assert str(caught.value).startswith(f"uji.toml:{line}:")


def test_a_call_row_takes_no_rules_and_cannot_be_separated_from() -> None:
    called = TABLE.replace(
        'kegiatan = "Menyusun laporan"\npelaksana = "Tim SAKIP"\nwaktu = "1 hari"',
        'kegiatan = "Menyusun laporan"\npelaksana = "Tim SAKIP"\npanggil = "sop_lain"',
    )
    line = called.splitlines().index("bukan_pelaksana_langkah = [1]") + 1
    with pytest.raises(TableError, match="step 1 is a panggil row") as caught:
        parse_table(called, source="uji.toml")
    assert str(caught.value).startswith(f"uji.toml:{line}:")
    ruled = called.replace("bukan_pelaksana_langkah = [1]\n", "").replace(
        'panggil = "sop_lain"', 'panggil = "sop_lain"\nhanya_definitif = true'
    )
    with pytest.raises(TableError, match="hanya_definitif cannot be set on a panggil row"):
        parse_table(ruled, source="uji.toml")


def test_compile_through_the_cli_writes_the_rules_and_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "uji.toml"
    table.write_text(TABLE)
    out = tmp_path / "uji.bpmn"
    assert main(["compile", str(table), "-o", str(out)]) == 0
    assert b'name="bukan_pelaksana_langkah" value="1"' in out.read_bytes()
    assert b'name="pembatal" value="tim"' in out.read_bytes()
    capsys.readouterr()
    bad = TABLE.replace("bukan_pelaksana_langkah = [1]", "bukan_pelaksana_langkah = [9]")
    table.write_text(bad)
    line = bad.splitlines().index("bukan_pelaksana_langkah = [9]") + 1
    assert main(["compile", str(table), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{table}:{line}:" in err and "there is no step 9" in err


@settings(max_examples=30, deadline=None)
@given(sop_tables(max_steps=6, extended=True))
def test_any_tables_rules_are_the_rules_the_engine_reads(table: SopTable) -> None:
    """Whatever rules a valid table writes, the loaded definition carries exactly those."""
    definition = load_definition_bytes(compile_table(table), source="generated.bpmn")
    rules = rules_of(definition)
    if table.kewenangan.pembatal:
        assert rules.cancel_roles == table.kewenangan.pembatal
    assert rules.definitive_only == table.kewenangan.hanya_definitif
    for step in definition.steps:
        row = table.langkah[step.no - 1]
        found = rules.step(step.id)
        assert found.definitive_only == row.hanya_definitif
        assert found.parent_unit == row.unit_induk
        if row.bukan_pelaksana_langkah:
            assert found.separate_from == row.bukan_pelaksana_langkah
            assert found.separation_source == "bukan_pelaksana_langkah"


def test_a_compiled_file_gives_back_its_rules_as_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sopflow document --format table`` writes the rules back: nothing is lost on the
    way BPMN -> table, so a table regenerated from the file compiles to the same bytes."""
    from sopflow.reports._sheet import definition_to_table, render_table

    table = parse_table(TABLE)
    definition = _compiled()
    assert definition_to_table(definition) == table
    assert render_table(definition) == write_table(table)
    bpmn = tmp_path / "uji.bpmn"
    bpmn.write_bytes(compile_table(table))
    assert main(["document", str(bpmn), "--format", "table"]) == 0
    assert parse_table(capsys.readouterr().out) == table


@settings(max_examples=30, deadline=None)
@given(sop_tables(max_steps=6, extended=True))
def test_any_tables_rules_come_back_from_its_bpmn(table: SopTable) -> None:
    from sopflow.reports._sheet import definition_to_table

    definition = load_definition_bytes(compile_table(table), source="generated.bpmn")
    back = definition_to_table(definition)
    assert back.kewenangan == table.kewenangan
    assert [(s.bukan_pelaksana_langkah, s.hanya_definitif, s.unit_induk) for s in back.langkah] == [
        (s.bukan_pelaksana_langkah, s.hanya_definitif, s.unit_induk) for s in table.langkah
    ]


def test_compile_refuses_a_separation_from_no_step_in_a_table_built_in_code() -> None:
    from dataclasses import replace

    table = parse_table(TABLE, source="uji.toml")
    for bad in ((4,), (2,)):  # no step 4; step 2 itself
        steps = list(table.langkah)
        steps[1] = replace(steps[1], bukan_pelaksana_langkah=bad)
        with pytest.raises(TableError, match="step 2: bukan_pelaksana_langkah") as caught:
            compile_table(replace(table, langkah=tuple(steps)))
        assert caught.value.file == "uji.toml"
