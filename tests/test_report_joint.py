"""Joint steps and steps the engine closed, in the SLA reports and the monitoring form.

A joint step is one row of the SOP with a symbol in several Pelaksana columns (the
Permenpan-RB 35/2012 flowchart convention), run as a parallel split with one task per
lane (BPMN 2.0 section 13.3.1): the per-SOP report and the "Monitoring Pelaksanaan SOP
AP" form show it as ONE row, its tasks' passes counted under it and each lane named.
A step closed because a sibling branch or a terminate end event ended it (BPMN 2.0
section 13.5.6) is recorded as cancelled: not done, neither met nor breached (issue 10).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from lxml import etree
from tests.conftest import ROOT, ListCatalog

from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.reports.report import format_report
from sopflow.reports.stats import (
    BELUM_DINILAI,
    TIDAK_BERJALAN_BAIK,
    ProcessReport,
    instance_report,
    process_report,
)
from sopflow.reports.timeline import render_timeline_svg
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

PROCESS = "purbalingga_pengukuran_kinerja"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def purbalingga() -> ProcessDefinition:
    return load_definition(ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn")


def _run_to_step_10(engine: Engine, clock: FakeClock) -> str:
    """Steps 1-8 (5 and 6 by both their Pelaksana; 4 late); step 9's two tasks late
    (Kepala Seksi 65, Anggota 75 working minutes of 30, over the lunch break); step 10
    says Tidak; both tasks of 9 again in time (5 and 10 minutes); 10 open."""
    iid = engine.start(PROCESS, actor=Actor("c", "camat"), at=clock.now()).instance_id
    plan = [
        (1, "camat", 10),
        (2, "sekcam", 10),
        (3, "kasi", 10),
        (4, "camat", 45),
        (5, "sekcam", 50),
        (5, "tim", 10),
        (6, "tim", 15),
        (6, "sekcam", 5),
        (7, "tim", 60),
        (8, "tim", 60),
        (9, "kasi", 90),
        (9, "tim", 10),
    ]
    for no, role, minutes in plan:
        engine.complete(iid, no, actor=Actor(f"{role}.1", role), at=clock.advance(minutes=minutes))
    engine.complete(
        iid,
        10,
        actor=Actor("sekcam.1", "sekcam"),
        data={"disetujui": False},
        at=clock.advance(minutes=20),
    )
    engine.complete(iid, 9, actor=Actor("tim.1", "tim"), at=clock.advance(minutes=5))
    engine.complete(iid, 9, actor=Actor("kasi.1", "kasi"), at=clock.advance(minutes=5))
    return iid


def _report(store: Store, clock: FakeClock, purbalingga: ProcessDefinition) -> ProcessReport:
    engine = Engine(ListCatalog(purbalingga), store, clock=clock)
    _run_to_step_10(engine, clock)
    return process_report(store, PROCESS, definitions=engine.definition, at=clock.now())


def test_a_joint_step_is_one_row_of_the_report_with_its_lanes(
    store: Store, clock: FakeClock, purbalingga: ProcessDefinition
) -> None:
    report = _report(store, clock, purbalingga)
    assert sorted(s.step_no or 0 for s in report.steps) == list(range(1, 13))  # once each
    nine = next(s for s in report.steps if s.step_no == 9)
    assert (nine.task_id, nine.task_ids, nine.role) == (
        "step_09_1",
        ("step_09_1", "step_09_2"),
        "tim, kasi",
    )
    # both tasks' passes under the row: two passes per lane, each lane late once
    f = nine.figures
    assert (f.count, f.with_standard, f.met, f.open, f.cancelled) == (4, 4, 2, 0, 0)
    assert [(lane.role, lane.figures.count, lane.figures.met) for lane in nine.lanes] == [
        ("tim", 2, 1),
        ("kasi", 2, 1),
    ]
    five = next(s for s in report.steps if s.step_no == 5)
    assert (five.figures.count, five.figures.met) == (2, 2)
    assert [lane.role for lane in five.lanes] == ["tim", "sekcam"]
    plain = next(s for s in report.steps if s.step_no == 7)
    assert (plain.task_ids, plain.lanes) == (("step_07",), ())
    # the picture colours each task by its own lane's share
    shares = report.share_met()
    assert (shares["step_09_1"], shares["step_09_2"], shares["step_05_2"]) == (0.5, 0.5, 1.0)
    # per role: each task counts under its lane's role (kasi: step 3 and 9's second task)
    kasi = next(r for r in report.roles if r.role == "kasi")
    assert (kasi.steps, kasi.figures.count, kasi.figures.met) == (2, 3, 2)


def test_the_monitoring_form_has_one_row_per_row_of_the_sop(
    store: Store, clock: FakeClock, purbalingga: ProcessDefinition
) -> None:
    report = _report(store, clock, purbalingga)
    assert [row.no for row in report.form] == list(range(1, 13))
    nine = next(row for row in report.form if row.no == 9)
    assert nine.penilaian == TIDAK_BERJALAN_BAIK  # 2 of 4 in time
    assert "4 kali dilaksanakan oleh 2 pelaksana bersama" in nine.catatan
    assert "tepat waktu 2 dari 4 (50%)" in nine.catatan
    assert "peran tim: 2 kali, tepat waktu 1 dari 2 (50%)" in nine.catatan
    assert "peran kasi: 2 kali, tepat waktu 1 dari 2 (50%)" in nine.catatan
    text = format_report([report], "table")
    assert sum(1 for line in text.splitlines() if line.startswith("  9. ")) == 1
    rows = list(csv.DictReader(io.StringIO(format_report([report], "csv"))))
    assert [r["task_id"] for r in rows if r["step_no"] == "9"] == ["step_09_1"]
    assert next(r for r in rows if r["step_no"] == "9")["penilaian"] == TIDAK_BERJALAN_BAIK
    [doc] = json.loads(format_report([report], "json"))
    [step] = [s for s in doc["steps"] if s["step_no"] == 9]
    assert step["task_ids"] == ["step_09_1", "step_09_2"]
    assert [(lane["role"], lane["count"]) for lane in step["lanes"]] == [("tim", 2), ("kasi", 2)]


# --------------------------------------------------------------- closed by the engine

_TERMINATE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="defs" targetNamespace="https://sopflow.id/bpmn">
  <bpmn:process id="cek_cepat" name="Cek cepat" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_1" name="pelaksana">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>fork</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>periksa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>tolak</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>stop</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="periksa" name="Memeriksa berkas">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="no" value="1"/>
        <camunda:property name="waktu" value="30 menit"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="tolak" name="Menolak berkas">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="no" value="2"/>
        <camunda:property name="waktu" value="120 menit"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="stop"><bpmn:terminateEventDefinition id="td"/></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="periksa"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="tolak"/>
    <bpmn:sequenceFlow id="f4" sourceRef="periksa" targetRef="end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="tolak" targetRef="stop"/>
  </bpmn:process>
</bpmn:definitions>
"""
STAF = Actor("budi", {"pelaksana"})


def _terminated(store: Store, clock: FakeClock) -> tuple[Engine, str]:
    """``tolak`` done after 90 minutes ends the instance at its terminate end: ``periksa``
    is closed an hour past its 30-minute standard, by the engine, not by a person."""
    definition = load_definition_bytes(_TERMINATE, source="cek_cepat.bpmn")
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("cek_cepat", actor=STAF, at=clock.now()).instance_id
    engine.complete(iid, "tolak", actor=STAF, at=clock.advance(minutes=90))
    assert [(r.task, r.outcome) for r in store.steps(iid)] == [
        ("periksa", "terminated"),
        ("tolak", "completed"),
    ]
    return engine, iid


def test_a_step_the_engine_closed_counts_as_cancelled_not_as_breached(
    store: Store, clock: FakeClock
) -> None:
    engine, _ = _terminated(store, clock)
    report = process_report(
        store, "cek_cepat", definitions=engine.definition, at=clock.now() + timedelta(hours=3)
    )
    periksa = next(s for s in report.steps if s.task_id == "periksa")
    f = periksa.figures
    assert (f.count, f.cancelled, f.with_standard, f.met, f.open, f.open_breached) == (
        0,
        1,
        0,
        0,
        0,
        0,
    )
    assert f.p90_overrun_minutes is None  # an hour past its due, but no one was late
    row = next(r for r in report.form if r.task_id == "periksa")
    assert row.penilaian == BELUM_DINILAI and "1 kali dibatalkan" in row.catatan
    tolak = next(s for s in report.steps if s.task_id == "tolak").figures
    assert (tolak.count, tolak.met, tolak.cancelled) == (1, 1, 0)
    pelaksana = next(r for r in report.roles if r.role == "pelaksana").figures
    assert (pelaksana.count, pelaksana.cancelled, pelaksana.met) == (1, 1, 1)
    rows = list(csv.DictReader(io.StringIO(format_report([report], "csv"))))
    assert next(r for r in rows if r["task_id"] == "periksa")["cancelled"] == "1"


def test_the_instance_report_and_timeline_show_the_closed_step_as_cancelled(
    store: Store, clock: FakeClock
) -> None:
    engine, iid = _terminated(store, clock)
    one = instance_report(store, iid, definitions=engine.definition, at=clock.now())
    periksa = next(p for p in one.steps if p.task_id == "periksa")
    assert (periksa.status, periksa.overrun_minutes) == ("cancelled", 0.0)
    assert periksa.completed_at is not None and periksa.actual_minutes == 90
    assert "periksa" not in one.step_status()  # not done: the picture leaves it undone
    assert one.step_status()["tolak"] == "done_in_time"
    assert "dibatalkan" in format_report([one], "table")
    root = etree.fromstring(
        render_timeline_svg(one.records(), definition=one.definition, now=clock.now()).encode()
    )
    bars = {g.get("data-task"): g for g in root.iter(f"{SVG}g") if g.get("class") == "pass"}
    assert bars["periksa"].get("data-status") == "cancelled"
    assert bars["tolak"].get("data-status") == "done_in_time"
    notes = "".join(bars["periksa"].itertext())
    assert "terminated:" in notes or "cancelled:" in notes


def test_the_timeline_names_the_lane_of_each_task_of_a_joint_step(
    store: Store, clock: FakeClock, purbalingga: ProcessDefinition
) -> None:
    engine = Engine(ListCatalog(purbalingga), store, clock=clock)
    iid = _run_to_step_10(engine, clock)
    root = etree.fromstring(
        render_timeline_svg(engine.history(iid), definition=purbalingga, now=clock.now()).encode()
    )
    labels = {
        (g.get("data-task"), g.get("data-pass")): "".join(g.find(f"{SVG}text").itertext())
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "pass"
    }
    assert labels[("step_09_1", "1")].startswith("9. [Tim SAKIP (Anggota)] ")
    assert labels[("step_09_2", "1")].startswith("9. [Kepala Seksi] ")
    assert labels[("step_07", "1")].startswith("7. Anggota")  # a plain step: no lane tag
