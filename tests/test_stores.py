"""What the SQL stores guarantee, on SQLite files and on PostgreSQL schemas alike.

- one action = one transaction: a failure anywhere inside it leaves no trace of it;
- the definition is stored once per version and instances refer to it;
- the step-timing table is indexed for the open-steps queries;
- a database from a newer sopflow is refused; one unreadable instance spoils only itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _stores import drop_schema, new_url, raw_execute, store_url_fixture  # noqa: F401  (fixture)
from conftest import ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import (
    ConflictError,
    CorruptInstanceError,
    SchemaVersionError,
    StoreError,
    TaskAlreadyCompletedError,
)
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import _sql, open_store
from sopflow.stores._schema import SCHEMA_VERSION
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

STAF = Actor("budi", {"pelaksana"})
SEKCAM = Actor("sari", {"sekcam"})
CAMAT = Actor("camat.pak", {"camat"})
TABLES = ("sopflow_definitions", "sopflow_instances", "sopflow_steps", "sopflow_audit")


@pytest.fixture
def sql_store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def sql_engine(review_loop: ProcessDefinition, sql_store: Store, clock: FakeClock) -> Engine:
    return Engine(ListCatalog(review_loop), sql_store, clock=clock)


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {t: raw_execute(url, f"SELECT * FROM {t} ORDER BY id") for t in TABLES}


class InjectedFault(RuntimeError):
    """Stands for a disk full or a lost connection in the middle of a transaction."""


class _FailingCursor:
    """A DB cursor that raises when a statement containing ``needle`` is sent."""

    def __init__(self, cursor: Any, needle: str) -> None:
        self._cursor = cursor
        self._needle = needle

    def _check(self, statement: str) -> None:
        if self._needle in statement:
            raise InjectedFault(f"injected failure on: {statement[:40]}")

    def execute(self, statement: str, *args: Any) -> Any:
        self._check(statement)
        return self._cursor.execute(statement, *args)

    def executemany(self, statement: str, *args: Any) -> Any:
        self._check(statement)
        return self._cursor.executemany(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def fail_on(monkeypatch: pytest.MonkeyPatch, store: Store, needle: str) -> None:
    original = store._cursor  # type: ignore[attr-defined]
    monkeypatch.setattr(store, "_cursor", lambda: _FailingCursor(original(), needle))


# -- one action, one transaction ------------------------------------------------------

AUDIT_INSERT = "INSERT INTO sopflow_audit"
STEP_INSERT = "INSERT INTO sopflow_steps"
STEP_UPDATE = "UPDATE sopflow_steps"


def _started(engine: Engine) -> str:
    return engine.start("review_loop", actor=STAF, data={"perihal": "LKjIP"}).instance_id


def _claimed(engine: Engine) -> str:
    iid = _started(engine)
    engine.claim(iid, 1, actor=STAF)
    return iid


ACTIONS: dict[str, tuple[Callable[[Engine], str | None], Callable[[Engine, str | None], Any]]] = {
    "start": (lambda e: None, lambda e, iid: _started(e)),
    "claim": (_started, lambda e, iid: e.claim(iid, 1, actor=STAF)),
    "release": (_claimed, lambda e, iid: e.release(iid, 1, actor=STAF)),
    "complete": (_started, lambda e, iid: e.complete(iid, 1, actor=STAF, data={"x": 1})),
    "cancel": (_started, lambda e, iid: e.cancel(iid, reason="salah input", actor=STAF)),
}
FAILURES = [
    ("start", AUDIT_INSERT),
    ("start", STEP_INSERT),
    ("claim", AUDIT_INSERT),
    ("release", AUDIT_INSERT),
    ("complete", AUDIT_INSERT),
    ("complete", STEP_INSERT),
    ("complete", STEP_UPDATE),
    ("cancel", AUDIT_INSERT),
]


@pytest.mark.parametrize(("action", "needle"), FAILURES)
def test_a_failure_inside_an_action_leaves_nothing_of_it(
    action: str,
    needle: str,
    sql_engine: Engine,
    store_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare, act = ACTIONS[action]
    iid = prepare(sql_engine)
    clock.advance(minutes=5)
    before = snapshot(store_url)

    with monkeypatch.context() as patch:
        fail_on(patch, sql_engine.store, needle)
        with pytest.raises(InjectedFault):
            act(sql_engine, iid)

    after_failure = snapshot(store_url)
    # The definition row is shared and content-addressed, stored ahead of the first
    # instance in its own transaction: not part of the action.
    assert len(after_failure.pop("sopflow_definitions")) == 1
    before.pop("sopflow_definitions")
    assert after_failure == before
    # The same store (connection, lock) carries on, and the action now succeeds whole.
    act(sql_engine, iid)
    after = snapshot(store_url)
    assert len(after["sopflow_audit"]) > len(before["sopflow_audit"])
    assert after["sopflow_instances"] != before["sopflow_instances"]


def test_a_failed_completion_can_be_retried_and_counts_once(
    sql_engine: Engine, store_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    iid = _started(sql_engine)
    clock.advance(minutes=10)
    with monkeypatch.context() as patch:
        fail_on(patch, sql_engine.store, AUDIT_INSERT)
        with pytest.raises(InjectedFault):
            sql_engine.complete(iid, 1, actor=STAF)
    sql_engine.complete(iid, 1, actor=STAF)
    with pytest.raises(TaskAlreadyCompletedError):
        sql_engine.complete(iid, 1, actor=STAF)
    steps = sql_engine.store.steps(iid)
    assert [(s.task, s.completed_at is not None) for s in steps] == [
        ("step_01", True),
        ("step_02", False),
    ]
    events = [a.event for a in sql_engine.store.audit(iid)]
    assert events == ["instance.started", "task.ready", "task.completed", "task.ready"]


def test_a_stale_revision_writes_nothing(
    sql_engine: Engine, sql_store: Store, store_url: str
) -> None:
    """The store itself refuses a Change computed from an instance that moved on."""
    from sopflow.stores.base import AuditRow, Change

    iid = _started(sql_engine)
    row = sql_store.load_instance(iid)
    sql_engine.complete(iid, 1, actor=STAF)
    before = snapshot(store_url)
    stale = Change(
        instance_id=iid,
        expected_revision=row.revision,
        status="running",
        state=row.state,
        last_action_at=row.last_action_at,
        audit=[AuditRow(at=row.last_action_at, event="task.claimed", payload={})],
    )
    with pytest.raises(ConflictError, match=iid):
        sql_store.apply(stale)
    assert snapshot(store_url) == before


# -- definitions: once per version ----------------------------------------------------


def test_a_definition_is_stored_once_per_version_and_never_in_instances(
    sql_engine: Engine, review_loop: ProcessDefinition, store_url: str
) -> None:
    ids = [_started(sql_engine) for _ in range(5)]
    rows = raw_execute(store_url, "SELECT version, process_id, xml FROM sopflow_definitions")
    assert len(rows) == 1
    version, process_id, xml = rows[0]
    assert (version, process_id) == (review_loop.version, "review_loop")
    assert bytes(xml) == review_loop.xml

    # A second store on the same database (another process) does not add a copy.
    other = Engine(ListCatalog(review_loop), open_store(store_url))
    other.start("review_loop", actor=STAF)
    other.store.close()
    assert raw_execute(store_url, "SELECT COUNT(*) FROM sopflow_definitions") == [(1,)]

    columns = {c.lower() for c in _columns(store_url, "sopflow_instances")}
    assert not columns & {"xml", "spec", "definition_xml", "bpmn"}
    for iid in ids:
        [(state,)] = raw_execute(
            store_url, "SELECT state FROM sopflow_instances WHERE uuid = ?", [iid]
        )
        assert "<" not in state and "bpmn" not in state.lower()
        assert len(state) < 200
        assert set(json.loads(state)) == {"v", "k", "d"}


def _columns(url: str, table: str) -> list[str]:
    if url.startswith("sqlite"):
        return [r[1] for r in raw_execute(url, f"PRAGMA table_info({table})")]
    return [
        r[0]
        for r in raw_execute(
            url,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = ? AND table_schema = current_schema()",
            [table],
        )
    ]


# -- the step-timing table ------------------------------------------------------------


def test_the_step_table_has_an_open_steps_partial_index(sql_store: Store, store_url: str) -> None:
    if store_url.startswith("sqlite"):
        rows = raw_execute(
            store_url,
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
            ["sopflow_steps"],
        )
    else:
        rows = raw_execute(
            store_url,
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = ? AND schemaname = current_schema()",
            ["sopflow_steps"],
        )
    indexes = {str(name): str(sql) for name, sql in rows}
    assert "sopflow_steps_instance" in indexes
    partial = indexes["sopflow_steps_open"]
    assert "completed_at IS NULL" in partial.replace("(", "").replace(")", "")
    assert "due_at" in partial


class _Recorder:
    """Records the statements a store sends, to ask the planner about the real queries."""

    def __init__(self, cursor: Any, seen: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._cursor, self._seen = cursor, seen

    def execute(self, statement: str, params: Any = ()) -> Any:
        self._seen.append((statement, tuple(params)))
        return self._cursor.execute(statement, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda s: s.scan_open(), id="scan_open"),
        pytest.param(lambda s: s.open_steps(), id="open_steps"),
        pytest.param(lambda s: s.open_steps(roles=["pelaksana"]), id="open_steps_by_role"),
    ],
)
def test_sqlite_open_step_queries_use_the_partial_index(
    tmp_path: Path,
    review_loop: ProcessDefinition,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    query: Callable[[Any], Any],
) -> None:
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    store = open_store(url)
    engine = Engine(ListCatalog(review_loop), store, clock=clock)
    for n in range(40):  # mostly completed history, a few open steps: the realistic shape
        iid = _started(engine)
        if n % 4:
            engine.complete(iid, 1, actor=STAF)
            engine.complete(iid, 2, actor=SEKCAM, data={"disetujui": True})
            engine.complete(iid, 3, actor=CAMAT)
    seen: list[tuple[str, tuple[Any, ...]]] = []
    original = store._cursor  # type: ignore[attr-defined]
    monkeypatch.setattr(store, "_cursor", lambda: _Recorder(original(), seen))
    assert query(store)
    [(statement, params)] = seen
    conn = store._conn  # type: ignore[attr-defined]
    plan = conn.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
    details = " | ".join(str(r[-1]) for r in plan)
    # The steps are read through a partial index of open steps, never table-wide or
    # through every running instance's full history.
    open_indexes = {
        name
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
            ("sopflow_steps",),
        )
        if sql and "WHERE completed_at IS NULL" in " ".join(sql.split())
    }
    assert "sopflow_steps_open" in open_indexes
    [step_access] = [d for d in details.split(" | ") if d.split()[1:2] == ["s"]]
    assert any(f"USING INDEX {name}" in step_access for name in open_indexes), details
    store.close()


# -- schema versions and migrations ---------------------------------------------------


def test_a_new_database_is_at_the_current_schema_version(sql_store: Store, store_url: str) -> None:
    assert raw_execute(
        store_url, "SELECT value FROM sopflow_meta WHERE key = ?", ["schema_version"]
    ) == [(str(SCHEMA_VERSION),)]


def test_reopening_keeps_everything(
    sql_engine: Engine, review_loop: ProcessDefinition, store_url: str
) -> None:
    iid = _started(sql_engine)
    before = snapshot(store_url)
    for _ in range(2):
        open_store(store_url).close()
    assert snapshot(store_url) == before
    again = Engine(ListCatalog(review_loop), open_store(store_url))
    assert again.status(iid).open_steps[0].task_id == "step_01"
    again.store.close()


def test_a_newer_schema_is_refused_naming_the_url(sql_store: Store, store_url: str) -> None:
    sql_store.close()
    raw_execute(
        store_url,
        "UPDATE sopflow_meta SET value = ? WHERE key = ?",
        [str(SCHEMA_VERSION + 1), "schema_version"],
    )
    with pytest.raises(SchemaVersionError) as caught:
        open_store(store_url)
    message = str(caught.value)
    assert store_url in message
    assert f"version {SCHEMA_VERSION + 1}" in message and "newer" in message
    # Refusing did not "repair" anything.
    assert raw_execute(
        store_url, "SELECT value FROM sopflow_meta WHERE key = ?", ["schema_version"]
    ) == [(str(SCHEMA_VERSION + 1),)]


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    url = new_url("postgres", tmp_path)
    yield url
    drop_schema(url)


@pytest.mark.postgres
def test_postgres_errors_never_show_the_password(postgres_url: str) -> None:
    store_url = postgres_url
    open_store(store_url).close()
    raw_execute(
        store_url,
        "UPDATE sopflow_meta SET value = ? WHERE key = ?",
        [str(SCHEMA_VERSION + 1), "schema_version"],
    )
    # The test server trusts local connections, so the password is ignored there.
    with_password = store_url.replace("postgres@", "postgres:s3cret-pw@", 1)
    assert "s3cret-pw" in with_password
    with pytest.raises(SchemaVersionError) as caught:
        open_store(with_password)
    assert "s3cret-pw" not in str(caught.value) and ":***@" in str(caught.value)
    bad_schema = with_password.replace("schema=sopflow_test_", "schema=x;DROP%20TABLE%20y;")
    with pytest.raises(StoreError, match="plain identifier") as refused:
        open_store(bad_schema)
    assert "s3cret-pw" not in str(refused.value)


@pytest.mark.parametrize("garbage", ["", "two", "1.5", "-1"])
def test_an_unreadable_schema_version_is_refused_naming_the_url(
    garbage: str, sql_store: Store, store_url: str
) -> None:
    sql_store.close()
    raw_execute(
        store_url, "UPDATE sopflow_meta SET value = ? WHERE key = ?", [garbage, "schema_version"]
    )
    with pytest.raises(SchemaVersionError, match="schema version") as caught:
        open_store(store_url)
    assert store_url in str(caught.value)


def test_a_migration_upgrades_in_place_keeping_instances(
    sql_engine: Engine,
    review_loop: ProcessDefinition,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    iid = _started(sql_engine)
    sql_engine.store.close()
    monkeypatch.setattr(_sql, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(
        _sql.MIGRATIONS, SCHEMA_VERSION + 1, ["ALTER TABLE sopflow_instances ADD COLUMN note TEXT"]
    )
    upgraded = Engine(ListCatalog(review_loop), open_store(store_url))
    assert "note" in _columns(store_url, "sopflow_instances")
    assert raw_execute(store_url, "SELECT value FROM sopflow_meta") == [(str(SCHEMA_VERSION + 1),)]
    upgraded.complete(iid, 1, actor=STAF)
    assert upgraded.status(iid).open_steps[0].task_id == "step_02"
    upgraded.store.close()


def test_a_failing_migration_changes_nothing(
    sql_store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql_store.close()
    monkeypatch.setattr(_sql, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(
        _sql.MIGRATIONS,
        SCHEMA_VERSION + 1,
        [
            "ALTER TABLE sopflow_instances ADD COLUMN note TEXT",
            "ALTER TABLE no_such_table ADD COLUMN oops TEXT",
        ],
    )
    with pytest.raises(StoreError) as caught:
        open_store(store_url)
    assert store_url.split("?")[0] in str(caught.value)
    assert "note" not in _columns(store_url, "sopflow_instances")
    assert raw_execute(store_url, "SELECT value FROM sopflow_meta") == [(str(SCHEMA_VERSION),)]


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"Laporan kinerja triwulan I\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.db"):
        open_store(f"sqlite:///{path}")
    assert path.read_bytes().startswith(b"Laporan")


# -- one corrupt instance -------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_state",
    ['{"t": "step_01", "d": {', "", "null", "[]", '{"t": 5, "d": {}}', '{"t": "step_01"}'],
    ids=["truncated", "empty", "null", "list", "token-not-text", "no-data"],
)
def test_a_corrupt_instance_is_named_and_spoils_only_itself(
    bad_state: str,
    sql_engine: Engine,
    store_url: str,
    clock: FakeClock,
) -> None:
    bad, good, other = (_started(sql_engine) for _ in range(3))
    raw_execute(
        store_url, "UPDATE sopflow_instances SET state = ? WHERE uuid = ?", [bad_state, bad]
    )
    clock.advance(minutes=10)

    with pytest.raises(CorruptInstanceError) as caught:
        sql_engine.status(bad)
    assert caught.value.instance_id == bad and bad in str(caught.value)
    with pytest.raises(CorruptInstanceError, match=bad):
        sql_engine.complete(bad, 1, actor=STAF)
    with pytest.raises(CorruptInstanceError, match=bad):
        sql_engine.claim(bad, 1, actor=STAF)

    # Everyone else carries on: the work list, other instances' status and actions.
    listed = {w.instance_id for w in sql_engine.work_list(role="pelaksana")}
    assert {good, other} <= listed
    sql_engine.complete(good, 1, actor=STAF)
    assert sql_engine.status(good).open_steps[0].task_id == "step_02"
    assert sql_engine.status(other).status == "running"
    sql_engine.cancel(other, reason="dobel", actor=STAF)
    assert sql_engine.status(other).status == "cancelled"
    assert [h.task_id for h in sql_engine.history(bad)] == ["step_01"]
