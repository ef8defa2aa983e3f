"""Tamper evidence: each instance's audit and step rows form a hash chain, and a stored
definition must hash to its version.

Permenpan-RB 35/2012 makes each pelaksana's record (Pencatatan dan Pendataan) the
evidence that an SOP met its Mutu Baku; a record anyone can rewrite with one UPDATE is
no evidence. These tests edit the database behind sopflow's back and expect the edit to
be named, and the instance not to be shown as if nothing happened.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests._staff import CAMAT, KASI, SEKCAM, TIM, purbalingga, staffed_engine, who
from tests.conftest import ListCatalog

from _stores import raw_execute, store_url_fixture  # noqa: F401  (fixture)
from sopflow.errors import ChainBrokenError, CorruptDefinitionError, PermissionDeniedError
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

PROCESS = "purbalingga_pengukuran_kinerja"


@pytest.fixture
def db(store_url: str) -> str:
    """The store's URL: SQLite file or PostgreSQL schema (tests/_stores.py)."""
    return store_url


@pytest.fixture
def file_store(db: str) -> Iterator[Store]:
    s = open_store(db)
    yield s
    s.close()


@pytest.fixture
def worked(file_store: Store, clock: FakeClock) -> tuple[Engine, str]:
    engine = staffed_engine(file_store, clock, purbalingga())
    iid = engine.start(PROCESS, actor=who(CAMAT)).instance_id
    for no, nip in ((1, CAMAT), (2, SEKCAM), (3, KASI)):
        clock.advance(minutes=10)
        engine.complete(iid, no, actor=who(nip))
    engine.claim(iid, 4, actor=who(CAMAT))
    with pytest.raises(PermissionDeniedError):
        engine.complete(iid, 4, actor=who(TIM))  # a refusal is part of the chain too
    return engine, iid


def _sql(db: str, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return raw_execute(db, statement, params)


def test_an_untouched_instance_verifies(worked: tuple[Engine, str], file_store: Store) -> None:
    engine, iid = worked
    report = file_store.verify_chain(iid)  # type: ignore[attr-defined]
    events = [a.event for a in file_store.audit(iid)]
    assert report.ok and report.head and "permission.denied" in events
    # every audit row and every write of a step row has an entry
    assert report.entries >= len(events) + len(file_store.steps(iid))
    assert engine.status(iid).instance_id == iid


def test_an_edited_audit_row_is_named_and_status_refuses(
    worked: tuple[Engine, str], file_store: Store, db: str
) -> None:
    engine, iid = worked
    (row_id,) = _sql(
        db, "SELECT id FROM sopflow_audit WHERE event = 'task.completed' ORDER BY id LIMIT 1"
    )[0]
    _sql(
        db,
        "UPDATE sopflow_audit SET payload = replace(payload, ?, ?) WHERE id = ?",
        (CAMAT, TIM, row_id),
    )
    report = file_store.verify_chain(iid)  # type: ignore[attr-defined]
    assert not report.ok and report.first_bad == f"audit row {row_id} (task.completed)"
    with pytest.raises(ChainBrokenError, match=f"audit row {row_id}"):
        engine.status(iid)


def test_an_edited_step_row_is_named(
    worked: tuple[Engine, str], file_store: Store, db: str
) -> None:
    _, iid = worked
    (row_id,) = _sql(db, "SELECT id FROM sopflow_steps WHERE step_no = 2")[0]
    _sql(db, "UPDATE sopflow_steps SET actor = ? WHERE id = ?", (TIM, row_id))
    report = file_store.verify_chain(iid)  # type: ignore[attr-defined]
    assert not report.ok and report.first_bad == f"step row {row_id} (step 2)"
    assert report.reason == "row was changed after it was written"


def test_a_changed_signature_is_detected(
    worked: tuple[Engine, str], file_store: Store, db: str
) -> None:
    _, iid = worked
    _sql(db, "UPDATE sopflow_step_holdings SET kind = 'definitif', basis = 'SK palsu'")
    assert not file_store.verify_chain(iid).ok  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("DELETE FROM sopflow_audit WHERE event = 'permission.denied'", "row was deleted"),
        (
            "INSERT INTO sopflow_audit (instance, at, event, payload)"
            " SELECT instance, at, event, payload FROM sopflow_audit LIMIT 1",
            "row was added outside sopflow",
        ),
        (
            "UPDATE sopflow_chain SET digest = 'x'"
            " WHERE id = (SELECT MIN(id) + 2 FROM sopflow_chain)",
            "its chain entry was altered",
        ),
        ("DELETE FROM sopflow_chain", "no chain rows"),
    ],
)
def test_removed_added_and_rechained_rows_are_detected(
    worked: tuple[Engine, str], file_store: Store, db: str, statement: str, reason: str
) -> None:
    _, iid = worked
    _sql(db, statement)
    report = file_store.verify_chain(iid)  # type: ignore[attr-defined]
    assert not report.ok and report.reason is not None and reason in report.reason


def test_an_edited_stored_definition_is_refused_before_any_action(
    worked: tuple[Engine, str], db: str, clock: FakeClock
) -> None:
    """The catalog no longer has the version, so the engine must read it from the store."""
    _, iid = worked
    ((xml,),) = _sql(db, "SELECT xml FROM sopflow_definitions")
    edited = bytes(xml).replace(b'name="no" value="4"', b'name="no" value="5"')
    _sql(db, "UPDATE sopflow_definitions SET xml = ?", (edited,))
    store = open_store(db)
    try:
        engine = Engine(ListCatalog(), store, clock=clock)
        before = store.load_instance(iid)
        with pytest.raises(CorruptDefinitionError, match="do not hash to its version"):
            engine.complete(iid, 4, actor=who(CAMAT))
        with pytest.raises(CorruptDefinitionError):
            engine.status(iid)
        assert store.load_instance(iid) == before
    finally:
        store.close()


def test_an_unedited_stored_definition_is_used(worked: tuple[Engine, str], db: str) -> None:
    _, iid = worked
    store = open_store(db)
    try:
        assert Engine(ListCatalog(), store).status(iid).instance_id == iid
    finally:
        store.close()


def test_verifying_a_whole_store_names_only_the_broken_instance(
    worked: tuple[Engine, str], file_store: Store, db: str
) -> None:
    engine, iid = worked
    other = engine.start(PROCESS, actor=who(CAMAT)).instance_id
    _sql(db, "UPDATE sopflow_steps SET due_at = due_at + 86400000 WHERE step_no = 1")
    reports = {r.instance_id: r for r in file_store.verify_chains(process_id=PROCESS)}  # type: ignore[attr-defined]
    assert set(reports) == {iid, other}
    assert not reports[iid].ok and not reports[other].ok  # both have a step 1 row
    _sql(db, "UPDATE sopflow_steps SET due_at = due_at - 86400000 WHERE step_no = 1")
    assert all(r.ok for r in file_store.verify_chains())  # type: ignore[attr-defined]
    assert file_store.verify_chains(process_id="no_such_process") == []  # type: ignore[attr-defined]
