"""Tugas saya, /api/v1/work-items and ``sopflow inbox`` list the same steps for a person.

Issue 16: "the browser, the API and the CLI can never disagree on who may do what". The
web layer lists through ``Engine.work_list(actor=...)`` and the command line through
``StoredReader.work_list(actor=...)`` (no engine import, docs/performance.md); both are
``runtime.worklist.work_list`` with ``authority.gate.filter_work``, over the same store
and the store's directory. This pins that they agree person by person: a definitive
holder, a Plh. (UU 30/2014 Pasal 14; SE BKN 1/SE/I/2021), officials of other steps, and
a kecamatan of another kabupaten, who sees nothing.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from tests._web import CAMAT, CIBATU_SEKCAM, KASI, ORGANISASI, PROCESS, SEKCAM, TIM, make_web

from sopflow import Actor
from sopflow.authority.directory import Assignment
from sopflow.runtime.worklist import StoredReader


@pytest.fixture(scope="module")
def lists() -> dict[str, tuple[set[tuple[str, int]], set[tuple[str, int]], set[tuple[str, int]]]]:
    web = make_web()
    # the Kasi stands in for the Sekcam this week: the Sekcam's steps are on both lists
    web.store.assign(
        Assignment(KASI, "PBG-SEKCAM", date(2026, 3, 1), date(2026, 3, 20), "plh", "Sprin 2")
    )
    web.to_step(10)  # the Sekcam decides step 10
    web.to_step(4)
    web.engine.start(PROCESS, actor=Actor(CAMAT))
    reader = StoredReader(web.store, clock=web.clock, sla=web.engine.sla)
    out = {}
    for nip in (CAMAT, SEKCAM, KASI, TIM, CIBATU_SEKCAM, ORGANISASI):
        client = web.client(nip)
        api = {(w["instance_id"], w["step_no"]) for w in client.get("/api/v1/work-items").json()}
        page = {
            (m[0], int(m[1]))
            for m in re.findall(r'data-instance="([^"]+)" data-step="(\d+)"', client.get("/").text)
        }
        cli = {(w.instance_id, w.step_no or 0) for w in reader.work_list(actor=Actor(nip))}
        out[nip] = (api, page, cli)
    return out


@pytest.mark.parametrize("nip", [CAMAT, SEKCAM, KASI, TIM, CIBATU_SEKCAM, ORGANISASI])
def test_the_three_lists_agree(lists, nip: str) -> None:  # type: ignore[no-untyped-def]
    api, page, cli = lists[nip]
    assert api == page == cli


def test_the_lists_are_not_trivially_equal(lists) -> None:  # type: ignore[no-untyped-def]
    assert lists[SEKCAM][0] and lists[SEKCAM][0] <= lists[KASI][0]  # the Plh. sees them too
    assert lists[CIBATU_SEKCAM][0] == set() and lists[ORGANISASI][0] == set()
    assert lists[CAMAT][0] != lists[SEKCAM][0]
