"""Subscriptions in the store (schema 7), on SQLite and PostgreSQL.

A waiting message catch is a job row that is never due, found through an index on its
``subscription``; delivering consumes that row in the transaction that moves the token,
so two deliveries racing for one catch move the instance once (BPMN 10.5.4: a message
has one receiver).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from _events_bpmn import OFFICER, doc, flows, load, message
from _stores import store_url_fixture  # noqa: F401  (fixture)
from conftest import ListCatalog
from sopflow.errors import ConflictError, MessageNotCorrelatedError
from sopflow.jobs.dispatch import instance_job_change, with_payload
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.stores._jobs import _JOB_SELECT

WAIT = load(
    doc(
        "surat",
        '<bpmn:startEvent id="start"/><bpmn:intermediateCatchEvent id="tunggu">'
        '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:intermediateCatchEvent>'
        '<bpmn:userTask id="lanjut"/><bpmn:endEvent id="end"/>'
        + flows("start", "tunggu", "lanjut", "end"),
        message("m1", "disposisi"),
    )
)


def test_two_deliveries_racing_for_one_catch_move_it_once(store_url: str) -> None:
    first = Engine(ListCatalog(WAIT), open_store(store_url))
    second = Engine(ListCatalog(WAIT), open_store(store_url))
    try:
        started = first.start("surat", actor=OFFICER).instance_id
        [job] = second.store.subscribers("message:disposisi")  # type: ignore[attr-defined]
        late = instance_job_change(
            second, with_payload(job, data={"dari": "b"}), None, second.clock.now()
        )
        assert late is not None
        first.correlate("disposisi", data={"dari": "a"})
        with pytest.raises(ConflictError):
            second.store.apply(late)
        with pytest.raises(MessageNotCorrelatedError):
            second.correlate("disposisi")
        view = first.status(started)
        assert view.data == {"dari": "a"}
        assert [w.task_id for w in first.work_list(instance_id=started)] == ["lanjut"]
        assert first.jobs(instance_id=started) == []
    finally:
        first.store.close()
        second.store.close()


def test_subscribers_are_read_through_the_subscription_index(tmp_path: Path) -> None:
    path = tmp_path / "plan.db"
    open_store(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN " + _JOB_SELECT + " WHERE j.subscription = ? ORDER BY j.id",
        ("message:x",),
    ).fetchall()
    conn.close()
    assert any("sopflow_jobs_subscription" in str(row[-1]) for row in plan), plan
