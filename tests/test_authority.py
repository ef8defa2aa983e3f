"""Who may act, decided by the staff directory at the moment of each action.

A Plh. (temporary absence) or Plt. (vacancy) holds a position's authority for the period
of the letter that appoints them (SE Kepala BKN 1/SE/I/2021; UU 30/2014 Pasal 14 on
mandates); work belongs to the position, so a transfer (mutasi) moves open work to the
new holder; the same person must not approve their own work.
"""

from __future__ import annotations

import pytest
from tests._staff import (
    CAMAT,
    CAMAT_PACE,
    KASI,
    PACE,
    PBG,
    SEKCAM,
    SEKCAM_NEW,
    SEKCAM_PACE,
    TIM,
    TIM2,
    purbalingga,
    staffed_engine,
    who,
)

from _stores import store_url_fixture  # noqa: F401  (fixture)
from sopflow.authority.base import TrustedCaller
from sopflow.authority.staff import DirectoryAuthority
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import (
    ClaimedError,
    DefinitiveOnlyError,
    PermissionDeniedError,
    SeparationOfDutiesError,
    UnitAccessError,
)
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

PROCESS = "purbalingga_pengukuran_kinerja"
#: who does each step in the happy path while the first Sekcam is in office (4-6 Aug), and
#: with which role: steps 5, 6 and 9 are joint steps (two Pelaksana marked on the row,
#: the Permenpan-RB 35/2012 flowchart convention), one task per Pelaksana, each done by
#: its own holder; both tasks of a joint step are that step (number) for every rule
DOERS = (
    (1, CAMAT, "camat"),
    (2, SEKCAM, "sekcam"),
    (3, KASI, "kasi"),
    (4, CAMAT, "camat"),
    (5, TIM, "tim"),
    (5, SEKCAM, "sekcam"),
    (6, TIM, "tim"),
    (6, SEKCAM, "sekcam"),
    (7, TIM, "tim"),
    (8, TIM, "tim"),
    (9, TIM, "tim"),
    (9, KASI, "kasi"),
)


@pytest.fixture
def definition() -> ProcessDefinition:
    return purbalingga()


@pytest.fixture
def staffed(store: Store, clock: FakeClock, definition: ProcessDefinition) -> Engine:
    return staffed_engine(store, clock, definition)


def _run(engine: Engine, clock: FakeClock, iid: str, steps: range) -> None:
    for no, person, role in DOERS:
        if no in steps:
            clock.advance(minutes=10)
            engine.complete(iid, no, actor=who(person, role))


def _refusals(store: Store, iid: str) -> list[dict[str, object]]:
    return [a.payload for a in store.audit(iid) if a.event == "permission.denied"]


def test_with_a_directory_the_engine_decides_roles_itself(staffed: Engine) -> None:
    assert isinstance(staffed.authority, DirectoryAuthority)
    assert not staffed.authority.trusted_caller


def test_without_a_directory_the_store_runs_in_trusted_caller_mode(
    store: Store, definition: ProcessDefinition
) -> None:
    from tests.conftest import ListCatalog

    engine = Engine(ListCatalog(definition), store)
    assert isinstance(engine.authority, TrustedCaller) and engine.authority.trusted_caller


def test_an_instance_belongs_to_the_sops_kecamatan_by_default(staffed: Engine) -> None:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    assert staffed.store.instance_unit(iid) == PBG  # type: ignore[attr-defined]
    assert staffed.store.audit(iid)[0].payload["unit"] == PBG


def test_a_forged_role_is_refused_and_recorded(staffed: Engine, store: Store) -> None:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    with pytest.raises(PermissionDeniedError, match="role 'camat'"):
        staffed.complete(iid, 1, actor=who(TIM, "camat"))
    refused = _refusals(store, iid)
    assert len(refused) == 1 and refused[0]["actor"] == TIM and refused[0]["rule"] == "permission"
    # --role only chooses among held positions: the Camat may not pick one they lack
    with pytest.raises(PermissionDeniedError):
        staffed.complete(iid, 1, actor=who(CAMAT, "sekcam"))
    staffed.complete(iid, 1, actor=who(CAMAT, "camat"))


def test_an_unknown_or_malformed_actor_holds_nothing(staffed: Engine) -> None:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    for actor in ("admin", "197103141998031005", "19710314 1998 03 1 004x"):
        with pytest.raises(PermissionDeniedError):
            staffed.complete(iid, 1, actor=who(actor, "camat"))


def test_a_plh_acts_inside_the_period_of_the_letter_and_not_outside(
    staffed: Engine, clock: FakeClock
) -> None:
    clock.set("2025-08-12T09:00:00+07:00")  # inside 11-15 August
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    staffed.complete(iid, 1, actor=who(KASI))
    signed = staffed.history(iid)[0].signed_as
    assert signed is not None and signed.startswith("Plh. Camat Purbalingga (Agus Prasetyo")
    assert "NIP 19800115 200501 1 003" in signed and "dasar Sprin 800/12/2025" in signed
    clock.set("2025-08-18T09:00:00+07:00")  # the definitive Camat is back
    other = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    with pytest.raises(PermissionDeniedError, match="role 'camat'"):
        staffed.complete(other, 1, actor=who(KASI))


def test_a_plh_before_the_period_starts_is_refused(staffed: Engine, clock: FakeClock) -> None:
    clock.set("2025-08-08T16:00:00+07:00")
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    with pytest.raises(PermissionDeniedError):
        staffed.complete(iid, 1, actor=who(KASI))


def test_a_plt_acts_after_the_definitive_holders_assignment_ends(
    staffed: Engine, clock: FakeClock
) -> None:
    clock.set("2025-08-08T09:00:00+07:00")
    iid = staffed.start(PROCESS, actor=who(CAMAT_PACE), unit=PACE).instance_id
    with pytest.raises(PermissionDeniedError):
        staffed.complete(iid, 1, actor=who(SEKCAM_PACE))  # not Plt. yet
    clock.set("2025-08-11T09:00:00+07:00")
    with pytest.raises(PermissionDeniedError):
        staffed.complete(iid, 1, actor=who(CAMAT_PACE))  # assignment ended on 8 August
    staffed.complete(iid, 1, actor=who(SEKCAM_PACE))
    assert (staffed.history(iid)[0].signed_as or "").startswith("Plt. Camat Pace")


def test_a_transfer_moves_open_work_to_the_new_holder_and_lapses_the_old_claim(
    staffed: Engine, clock: FakeClock, store: Store
) -> None:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    _run(staffed, clock, iid, range(1, 2))
    staffed.claim(iid, 2, actor=who(SEKCAM))
    assert [w.step_no for w in staffed.work_list(actor=who(SEKCAM))] == [2]
    assert staffed.work_list(actor=who(SEKCAM_NEW)) == []
    clock.set("2025-08-07T08:00:00+07:00")  # mutasi: a new Sekcam from 7 August
    assert staffed.work_list(actor=who(SEKCAM)) == []
    assert [w.step_no for w in staffed.work_list(actor=who(SEKCAM_NEW))] == [2]
    with pytest.raises(PermissionDeniedError):
        staffed.complete(iid, 2, actor=who(SEKCAM))
    staffed.complete(iid, 2, actor=who(SEKCAM_NEW))  # the old claim lapsed
    assert staffed.history(iid)[1].actor == SEKCAM_NEW


def test_a_claim_by_a_current_holder_still_stands(staffed: Engine, clock: FakeClock) -> None:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    _run(staffed, clock, iid, range(1, 5))
    staffed.claim(iid, 5, actor=who(TIM))
    with pytest.raises(ClaimedError):
        staffed.complete(iid, 5, actor=who(TIM2))


def _at_step_10(staffed: Engine, clock: FakeClock) -> str:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    _run(staffed, clock, iid, range(1, 10))
    return iid


def test_one_person_cannot_do_steps_9_10_and_11_of_purbalingga(
    store: Store, clock: FakeClock
) -> None:
    """Steps 10 (Sekcam) and 11 (Camat) decide on step 9's report; step 11 also on 10."""
    from datetime import date

    from sopflow.authority.directory import Assignment

    engine = staffed_engine(store, clock, purbalingga())
    # the Tim member is also Plh. Sekcam and Plh. Camat this week: every role of 9-11
    for jabatan in ("PBG-SEKCAM", "PBG-CAMAT"):
        store.assign(  # type: ignore[attr-defined]
            Assignment(TIM, jabatan, date(2025, 8, 4), date(2025, 8, 6), "plh", "Sprin 800/20/2025")
        )
    iid = _at_step_10(engine, clock)
    with pytest.raises(SeparationOfDutiesError, match="did step 9"):
        engine.complete(iid, 10, actor=who(TIM), data={"disetujui": True})
    engine.complete(iid, 10, actor=who(SEKCAM), data={"disetujui": True})
    with pytest.raises(SeparationOfDutiesError, match="did step 9"):
        engine.complete(iid, 11, actor=who(TIM), data={"disetujui": True})
    assert [r["rule"] for r in _refusals(store, iid)] == ["separation_of_duties"] * 2
    engine.complete(iid, 11, actor=who(CAMAT), data={"disetujui": True})


def test_both_authors_of_the_joint_step_9_are_kept_off_its_decision(
    store: Store, clock: FakeClock
) -> None:
    """Step 9 is done together by the Anggota and the Kepala Seksi (a parallel split,
    BPMN 2.0 section 13.3.1, one task per Pelaksana): each of its tasks is step 9, so
    neither author may decide on it at step 10, on the first pass and again after the
    "Tidak" of step 10 has returned the file to both of them."""
    from datetime import date

    from sopflow.authority.directory import Assignment

    engine = staffed_engine(store, clock, purbalingga())
    store.assign(  # type: ignore[attr-defined]
        Assignment(
            KASI, "PBG-SEKCAM", date(2025, 8, 4), date(2025, 8, 6), "plh", "Sprin 800/23/2025"
        )
    )
    iid = _at_step_10(engine, clock)
    with pytest.raises(SeparationOfDutiesError, match="did step 9"):
        engine.complete(iid, 10, actor=who(KASI, "sekcam"), data={"disetujui": True})
    clock.advance(minutes=10)
    engine.complete(iid, 10, actor=who(SEKCAM), data={"disetujui": False})
    assert sorted(s.task_id for s in engine.status(iid).open_steps) == ["step_09_1", "step_09_2"]
    # the second pass: the join waits for both corrections before step 10 opens again
    clock.advance(minutes=10)
    engine.complete(iid, 9, actor=who(TIM))
    assert [s.task_id for s in engine.status(iid).open_steps] == ["step_09_2"]
    clock.advance(minutes=10)
    engine.complete(iid, 9, actor=who(KASI, "kasi"))
    clock.advance(minutes=10)
    with pytest.raises(SeparationOfDutiesError, match="did step 9"):
        engine.complete(iid, 10, actor=who(KASI, "sekcam"), data={"disetujui": True})
    assert [r["rule"] for r in _refusals(store, iid)] == ["separation_of_duties"] * 2
    engine.complete(iid, 10, actor=who(SEKCAM), data={"disetujui": True})


def test_the_sekcam_who_approved_step_10_cannot_approve_step_11_as_plh_camat(
    store: Store, clock: FakeClock
) -> None:
    from datetime import date

    from sopflow.authority.directory import Assignment

    engine = staffed_engine(store, clock, purbalingga())
    store.assign(  # type: ignore[attr-defined]
        Assignment(
            SEKCAM, "PBG-CAMAT", date(2025, 8, 4), date(2025, 8, 6), "plh", "Sprin 800/21/2025"
        )
    )
    iid = _at_step_10(engine, clock)
    engine.complete(iid, 10, actor=who(SEKCAM), data={"disetujui": True})
    with pytest.raises(SeparationOfDutiesError, match="did step 10"):
        engine.complete(iid, 11, actor=who(SEKCAM, "camat"), data={"disetujui": True})


def test_separation_can_be_turned_off_and_named_explicitly(store: Store, clock: FakeClock) -> None:
    from datetime import date

    from sopflow.authority.directory import Assignment

    engine = staffed_engine(
        store,
        clock,
        purbalingga(
            process={"pemisahan_keputusan": "tidak"}, step_12={"bukan_pelaksana_langkah": "4"}
        ),
    )
    store.assign(  # type: ignore[attr-defined]
        Assignment(
            TIM, "PBG-SEKCAM", date(2025, 8, 4), date(2025, 8, 6), "plh", "Sprin 800/22/2025"
        )
    )
    iid = _at_step_10(engine, clock)
    engine.complete(iid, 10, actor=who(TIM, "sekcam"), data={"disetujui": True})
    engine.complete(iid, 11, actor=who(CAMAT), data={"disetujui": True})
    with pytest.raises(SeparationOfDutiesError, match="bukan_pelaksana_langkah"):
        engine.complete(iid, 12, actor=who(CAMAT))


def test_a_definitive_only_step_is_refused_to_a_plh(store: Store, clock: FakeClock) -> None:
    engine = staffed_engine(store, clock, purbalingga(step_01={"hanya_definitif": "ya"}))
    clock.set("2025-08-12T09:00:00+07:00")
    iid = engine.start(PROCESS, actor=who(CAMAT)).instance_id
    with pytest.raises(DefinitiveOnlyError, match="definitive holder"):
        engine.complete(iid, 1, actor=who(KASI))
    assert _refusals(store, iid)[-1]["rule"] == "definitive_only"
    engine.complete(iid, 1, actor=who(CAMAT))  # the definitive Camat may, even during a Plh


def test_an_actor_of_another_kecamatan_is_refused_on_the_instance_list_and_status(
    staffed: Engine, store: Store
) -> None:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    with pytest.raises(UnitAccessError, match=f"outside unit {PBG}"):
        staffed.complete(iid, 1, actor=who(CAMAT_PACE))
    with pytest.raises(UnitAccessError):
        staffed.claim(iid, 1, actor=who(CAMAT_PACE))
    assert staffed.work_list(actor=who(CAMAT_PACE)) == []
    assert [w.instance_id for w in staffed.work_list(actor=who(CAMAT))] == [iid]
    with pytest.raises(UnitAccessError):
        staffed.status(iid, actor=who(CAMAT_PACE))
    assert staffed.status(iid, actor=who(KASI)).instance_id == iid  # a section of the unit
    assert [r["rule"] for r in _refusals(store, iid)] == ["unit"] * 3
    with pytest.raises(UnitAccessError):
        staffed.start(PROCESS, actor=who(CAMAT_PACE), unit=PBG)


def test_cancel_needs_a_role_the_process_names(staffed: Engine, store: Store) -> None:
    iid = staffed.start(PROCESS, actor=who(CAMAT)).instance_id
    with pytest.raises(PermissionDeniedError, match="may not cancel"):
        staffed.cancel(iid, reason="salah input", actor=who(TIM))
    with pytest.raises(PermissionDeniedError, match="may not cancel"):
        staffed.cancel(iid, reason="salah input", actor=who(CAMAT_PACE))
    staffed.cancel(iid, reason="salah input", actor=who(CAMAT))
    assert staffed.status(iid).status == "cancelled"


def test_a_process_may_name_who_cancels(store: Store, clock: FakeClock) -> None:
    engine = staffed_engine(store, clock, purbalingga(process={"pembatal": "sekcam"}))
    iid = engine.start(PROCESS, actor=who(CAMAT)).instance_id
    with pytest.raises(PermissionDeniedError, match="sekcam"):
        engine.cancel(iid, reason="x", actor=who(CAMAT))
    engine.cancel(iid, reason="dobel", actor=who(SEKCAM))


def test_a_directory_change_by_another_process_counts_on_the_next_action(
    store_url: str, clock: FakeClock
) -> None:
    """The directory is cached per store and keyed by its stored revision, which an
    action reads with its instance (one round trip, issue 14): an assignment ended
    through another store (another process) must count on this store's next action."""
    from datetime import date

    from sopflow.stores import open_store

    here, there = open_store(store_url), open_store(store_url)
    try:
        engine = staffed_engine(here, clock, purbalingga())
        iid = engine.start(PROCESS, actor=who(CAMAT)).instance_id  # directory now cached
        there.end_assignment(CAMAT, "PBG-CAMAT", date(2025, 8, 3))  # type: ignore[attr-defined]
        clock.advance(minutes=10)
        with pytest.raises(PermissionDeniedError):
            engine.complete(iid, 1, actor=who(CAMAT))
    finally:
        here.close()
        there.close()
