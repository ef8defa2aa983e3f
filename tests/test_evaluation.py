"""Evaluating an SOP (Permenpan-RB 35/2012): the seven criteria, who may, and the store.

The regulation's evaluation judges each SOP Ya / Tidak against seven criteria and the
agencies score it as the share of Ya. The rule of who records it (docs/authority.md,
"Who evaluates an SOP"): a position with an evaluator role (the Bagian Organisasi's
``organisasi``) in the SOP's unit or a parent unit, never a sibling kecamatan; a
Plh. signs as Plh. Evaluations are stored on both backends (schema migration 11).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests._web import CAMAT, CIBATU_SEKCAM, ORGANISASI, PROCESS, SEKCAM

from _stores import BACKENDS, new_url, raw_execute, store_url_fixture  # noqa: F401  (fixture)
from sopflow import Actor, Catalog, Engine, open_store
from sopflow.authority.demo import import_demo_staff
from sopflow.authority.directory import Assignment
from sopflow.authority.evaluation import (
    list_evaluations,
    may_read,
    record_evaluation,
)
from sopflow.errors import (
    EvaluationError,
    EvaluationNotFoundError,
    EvaluatorError,
    UnitAccessError,
)
from sopflow.reports.evaluation import CRITERIA, MAX_CATATAN, Answer, NewEvaluation, parse_answers
from sopflow.stores import _sql
from sopflow.stores._schema import SCHEMA_VERSION
from sopflow.testing import FakeClock

#: the seven criteria as the regulation's evaluation table words them
WORDED = [
    "Mampu mendorong peningkatan kinerja",
    "Mudah dipahami",
    "Mudah dilaksanakan",
    "Semua orang dapat menjalankan perannya masing-masing",
    "Mampu mengatasi permasalahan yang berkaitan dengan proses",
    "Mampu menjawab kebutuhan peningkatan kinerja organisasi",
    "Sinergi satu dengan lainnya",
]


def engine_on(url: str = "memory://") -> Engine:
    store = open_store(url)
    import_demo_staff(store)
    return Engine(Catalog.builtin(), store, clock=FakeClock("2026-03-02T08:00:00+07:00"))


def all_ya(**overrides: object) -> dict[str, object]:
    return {**dict.fromkeys(CRITERIA, True), **overrides}


def test_the_seven_criteria_are_the_regulations_in_its_order() -> None:
    assert list(CRITERIA.values()) == WORDED


def test_the_score_is_the_share_of_ya() -> None:
    engine = engine_on()
    answers = all_ya(sinergi="Tidak", mudah_dipahami=False)
    e = record_evaluation(engine, PROCESS, actor=Actor(ORGANISASI), answers=answers)
    assert (e.ya, len(e.answers)) == (5, 7)
    assert e.score == pytest.approx(5 / 7)
    assert [a.criterion for a in e.answers] == list(CRITERIA)  # the table's order


def test_the_bagian_organisasi_of_the_kabupaten_evaluates_and_signs_with_its_position() -> None:
    engine = engine_on()
    e = record_evaluation(
        engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya(), tanggal=date(2026, 2, 27)
    )
    assert (e.unit, e.position, e.kind, e.nip) == (
        "33.03.05",
        "PBG-ORG-ANALIS",
        "definitif",
        ORGANISASI,
    )
    assert e.nama == "Ratna Kusumawati, S.AP." and e.tanggal == date(2026, 2, 27)
    assert e.version == engine.catalog.get(PROCESS).version
    assert engine.store.evaluation(e.id) == e


@pytest.mark.parametrize(
    "nip, why",
    [
        (CAMAT, "the Camat does the SOP's steps; the kabupaten judges it"),
        (SEKCAM, "a kecamatan official"),
        (CIBATU_SEKCAM, "another kabupaten's kecamatan"),
        ("199901012020011001", "nobody in the directory"),
    ],
)
def test_anyone_else_is_refused_and_nothing_is_stored(nip: str, why: str) -> None:
    engine = engine_on()
    with pytest.raises(EvaluatorError, match="no evaluator position"):
        record_evaluation(engine, PROCESS, actor=Actor(nip), answers=all_ya())
    assert engine.store.evaluations() == [], why


def test_the_evaluator_of_one_kabupaten_may_not_evaluate_another_kabupatens_sop() -> None:
    engine = engine_on()
    with pytest.raises(EvaluatorError, match=r"unit 32\.14\.14"):
        record_evaluation(engine, "cibatu_data_kinerja", actor=Actor(ORGANISASI), answers=all_ya())


def test_a_plh_of_the_evaluator_position_signs_as_plh() -> None:
    engine = engine_on()
    engine.store.assign(
        Assignment(SEKCAM, "PBG-ORG-ANALIS", date(2026, 3, 1), date(2026, 3, 6), "plh", "Sprin 1")
    )
    e = record_evaluation(engine, PROCESS, actor=Actor(SEKCAM), answers=all_ya())
    assert e.kind == "plh" and e.penilai.startswith("Plh. Analis Kelembagaan")


def test_a_configured_evaluator_role_replaces_the_default() -> None:
    engine = engine_on()
    with pytest.raises(EvaluatorError):
        record_evaluation(
            engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya(), roles={"camat"}
        )
    e = record_evaluation(engine, PROCESS, actor=Actor(CAMAT), answers=all_ya(), roles={"camat"})
    assert e.position == "PBG-CAMAT"


@pytest.mark.parametrize(
    "answers, catatan, field",
    [
        ({k: True for k in list(CRITERIA)[:-1]}, {}, "kriteria.sinergi"),
        (all_ya(mudah_dipahami=None), {}, "kriteria.mudah_dipahami"),
        (all_ya(mudah_dimengerti=True), {}, "kriteria.mudah_dimengerti"),
        (all_ya(), {"bukan_kriteria": "x"}, "kriteria.bukan_kriteria"),
        (all_ya(sinergi="mungkin"), {}, "kriteria.sinergi"),
        (all_ya(sinergi=1), {}, "kriteria.sinergi"),
        (all_ya(), {"sinergi": "x" * (MAX_CATATAN + 1)}, "catatan.sinergi"),
        (all_ya(), {"sinergi": 5}, "catatan.sinergi"),
        (all_ya(), {"sinergi": "nul \x00 byte"}, "catatan.sinergi"),
        (all_ya(), {"sinergi": "escape \x1b[2J"}, "catatan.sinergi"),
        (all_ya(), {"sinergi": "surrogate \ud800"}, "catatan.sinergi"),
    ],
)
def test_bad_answers_are_refused_naming_the_field(
    answers: dict[str, object], catatan: dict[str, object], field: str
) -> None:
    engine = engine_on()
    with pytest.raises(EvaluationError) as caught:
        record_evaluation(
            engine, PROCESS, actor=Actor(ORGANISASI), answers=answers, catatan=catatan
        )
    assert caught.value.field == field
    assert engine.store.evaluations() == []


def test_a_catatan_is_kept_as_written_escaping_is_for_whoever_shows_it() -> None:
    payload = '<script>alert("x")</script> & \u201ckutip\u201d\nbaris dua\ttab'
    answers = parse_answers(all_ya(), {"sinergi": payload, "mudah_dipahami": "x" * MAX_CATATAN})
    assert answers[-1] == Answer("sinergi", True, payload)


def test_a_version_must_be_a_stored_version_of_that_sop() -> None:
    engine = engine_on()
    other = engine.catalog.get("cibatu_data_kinerja").version
    for version in (other, "0" * 64, "x\x00", "../" * 30, ""):
        with pytest.raises(EvaluationError, match="no stored version") as caught:
            record_evaluation(
                engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya(), version=version
            )
        assert caught.value.field == "version"


def test_an_evaluation_dated_after_today_is_refused() -> None:
    """The office day (WIB for Purbalingga) of the action is "today": 2 March 2026."""
    engine = engine_on()
    with pytest.raises(EvaluationError, match="after today") as caught:
        record_evaluation(
            engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya(), tanggal=date(2026, 3, 3)
        )
    assert caught.value.field == "tanggal"
    e = record_evaluation(
        engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya(), tanggal=date(2026, 3, 2)
    )
    assert e.tanggal == date(2026, 3, 2)


def test_who_may_read_the_evaluations() -> None:
    """The evaluators, and whoever may see the SOP's instances (the unit's officials);
    not another kabupaten's kecamatan. One SOP asked for by name is refused outright."""
    engine = engine_on()
    record_evaluation(engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya())
    definition = engine.catalog.get(PROCESS)
    assert may_read(engine, Actor(CAMAT), definition)
    assert may_read(engine, Actor(ORGANISASI), definition)
    assert not may_read(engine, Actor(CIBATU_SEKCAM), definition)
    assert len(list_evaluations(engine, actor=Actor(SEKCAM))) == 1
    assert list_evaluations(engine, actor=Actor(CIBATU_SEKCAM)) == []
    with pytest.raises(UnitAccessError):
        list_evaluations(engine, actor=Actor(CIBATU_SEKCAM), process_id=PROCESS)
    assert len(list_evaluations(engine)) == 1  # the application itself


def _new(process_id: str, unit: str, tanggal: date, *ya: bool) -> NewEvaluation:
    return NewEvaluation(
        process_id=process_id,
        version="v-" + process_id,
        unit=unit,
        nip=ORGANISASI,
        position="PBG-ORG-ANALIS",
        position_name="Analis",
        kind="definitif",
        tanggal=tanggal,
        answers=tuple(Answer(k, y, f"catatan {k}") for k, y in zip(CRITERIA, ya, strict=False)),
        created_at=1,
    )


def test_the_store_keeps_evaluations_newest_first_on_every_backend(store_url: str) -> None:
    with open_store(store_url) as store:
        first = store.add_evaluation(_new("a", "33.03.05", date(2025, 8, 1), *[True] * 7))
        second = store.add_evaluation(_new("a", "33.03.05", date(2026, 2, 1), True, False))
        third = store.add_evaluation(_new("b", "32.14.14", date(2026, 1, 1), False))
        assert [e.id for e in store.evaluations()] == [second, third, first]
        assert [e.id for e in store.evaluations(process_id="a")] == [second, first]
        assert [e.id for e in store.evaluations(units=["32.14.14"])] == [third]
        assert store.evaluations(units=[]) == []
        got = store.evaluation(second)
        assert [(a.criterion, a.ya) for a in got.answers] == [
            ("mendorong_kinerja", True),
            ("mudah_dipahami", False),
        ]
        assert got.answers[1].catatan == "catatan mudah_dipahami" and got.ya == 1
        for number in (third + 100, 0, -1, 2**70):
            with pytest.raises(EvaluationNotFoundError):
                store.evaluation(number)


def test_migration_11_adds_the_evaluation_tables_to_a_version_10_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store at schema 10 with an instance opens at schema 11 with the instance kept
    and empty evaluation tables that take an evaluation."""
    url = new_url("sqlite", tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(_sql, "SCHEMA_VERSION", 10)
        patch.delitem(_sql.MIGRATIONS, 11)
        engine = engine_on(url)
        engine.start(PROCESS, actor=Actor(CAMAT))
        engine.store.close()
    assert raw_execute(url, "SELECT value FROM sopflow_meta WHERE key = 'schema_version'") == [
        ("10",)
    ]
    with open_store(url) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 11  # 11 and what came after
        assert len(store.instances()) == 1 and store.evaluations() == []
        number = store.add_evaluation(_new("a", "33.03.05", date(2026, 2, 1), True))
        assert store.evaluation(number).ya == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_11_on_every_backend(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_url(backend, tmp_path)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(_sql, "SCHEMA_VERSION", 10)
            patch.delitem(_sql.MIGRATIONS, 11)
            open_store(url).close()
        with open_store(url) as store:
            assert store.schema_version() == SCHEMA_VERSION >= 11
            assert store.add_evaluation(_new("a", "u", date(2026, 1, 2), False)) >= 1
    finally:
        if backend == "postgres":
            from _stores import drop_schema

            drop_schema(url)


def _revised(engine: Engine, kecamatan: str | None = None) -> Engine:
    """The same store under a catalog whose PROCESS is a revised BPMN (a new version):
    a comment added, and the header's kecamatan replaced when one is given."""
    from sopflow.definitions.loader import load_definitions_bytes

    current = engine.catalog.get(PROCESS)
    xml = current.xml + b"\n<!-- revisi -->\n"
    if kecamatan is not None:
        old = (current.header.kecamatan or "").encode()
        assert old and old in xml
        xml = xml.replace(old, kecamatan.encode())
    catalog = Catalog([d for d in engine.catalog if d.process_id != PROCESS])
    for d in load_definitions_bytes(xml, source="revisi.bpmn"):
        catalog.add(d)
    assert catalog.get(PROCESS).version != current.version
    return Engine(catalog, engine.store, clock=FakeClock("2026-03-09T08:00:00+07:00"))


def test_an_evaluation_of_a_version_never_run_stays_readable_after_a_revision() -> None:
    """An evaluation is kept per SOP version and "the old one still says what it judged"
    (reports/evaluation.py): an SOP evaluated before any instance ran it, then revised,
    still shows its evaluation to the unit's officials and evaluators."""
    engine = engine_on()
    e = record_evaluation(engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya())
    revised = _revised(engine)
    assert [x.id for x in list_evaluations(revised, actor=Actor(CAMAT))] == [e.id]
    assert revised.definition(e.version).process_id == PROCESS


def test_reading_one_sops_evaluations_is_decided_per_version_judged() -> None:
    """Permenpan-RB 35/2012: a unit's SOP evaluations are that unit's. When an SOP's
    revision moves it to another kecamatan, the officials of the new kecamatan do not
    read how the old one's SOP was judged, asked by name or not."""
    engine = engine_on()
    old = record_evaluation(engine, PROCESS, actor=Actor(ORGANISASI), answers=all_ya())
    revised = _revised(engine, kecamatan="Cibatu")  # from Kecamatan Purbalingga
    assert may_read(revised, Actor(CIBATU_SEKCAM), revised.catalog.get(PROCESS))
    assert list_evaluations(revised, actor=Actor(CIBATU_SEKCAM)) == []
    assert list_evaluations(revised, actor=Actor(CIBATU_SEKCAM), process_id=PROCESS) == []
    assert [x.id for x in list_evaluations(revised, actor=Actor(CAMAT))] == [old.id]


@pytest.mark.parametrize(
    "text", ["20260301", "2026-W10-1", "2026W101", "2026-061", "2026-03-01T08"]
)
def test_the_evaluation_day_is_written_yyyy_mm_dd_only(text: str) -> None:
    """The form, the API and the CLI say YYYY-MM-DD; Python's date.fromisoformat also
    reads ISO week and ordinal dates and the basic format, which no evaluator means."""
    from sopflow.reports.evaluation import parse_tanggal

    with pytest.raises(EvaluationError, match="YYYY-MM-DD") as caught:
        parse_tanggal(text)
    assert caught.value.field == "tanggal"
    assert parse_tanggal(" 2026-03-01 ") == date(2026, 3, 1)


def test_an_evaluation_dated_before_the_evaluator_held_the_position_is_refused() -> None:
    """The evaluation is signed with the evaluator's position (docs/authority.md): a
    Plh. from 1 March may not sign an evaluation dated in December, when the position
    was not theirs; dated within the Plh. it is signed as Plh."""
    engine = engine_on()
    engine.store.assign(
        Assignment(SEKCAM, "PBG-ORG-ANALIS", date(2026, 3, 1), date(2026, 3, 6), "plh", "Sprin 1")
    )
    with pytest.raises(EvaluatorError, match="2025-12-01"):
        record_evaluation(
            engine, PROCESS, actor=Actor(SEKCAM), answers=all_ya(), tanggal=date(2025, 12, 1)
        )
    assert engine.store.evaluations() == []
    e = record_evaluation(
        engine, PROCESS, actor=Actor(SEKCAM), answers=all_ya(), tanggal=date(2026, 3, 1)
    )
    assert e.kind == "plh" and e.tanggal == date(2026, 3, 1)
