"""Due dates written as expressions (``camunda:dueDate="${tenggat}"``, issue 12).

Camunda 7 evaluates a user task's ``dueDate`` / ``followUpDate`` expression when the task
is created, and takes a ``Date`` or an ISO 8601 text. sopflow evaluates the expression in
its safe language (docs/expressions.md) on the data the step sees at the moment it opens,
and takes an ISO duration, date or date-time text, or a date value. A value that is no date
refuses the action with a TaskDataError naming the instance and the task, and nothing is
written; an expression outside the language is refused at load, naming the element.
The waktu (Permenpan-RB 35/2012, Mutu Baku) still wins over any due date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from tests._modelers import one_task
from tests.conftest import ListCatalog

from sopflow.definitions._warnings import tree_warnings
from sopflow.definitions.loader import load_definition_bytes
from sopflow.errors import DefinitionError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

WIB = ZoneInfo("Asia/Jakarta")
STAF = Actor("x", {"Seksi Umum"})


def _engine(store: Store, clock: FakeClock, attrs: str) -> Engine:
    definition = load_definition_bytes(one_task(attrs=attrs), source="uji.bpmn")
    return Engine(ListCatalog(definition), store, clock=clock)


@pytest.mark.parametrize(
    ("attrs", "data", "after"),
    [
        ('camunda:dueDate="${tenggat}"', {"tenggat": "P3D"}, timedelta(days=3)),
        ('camunda:dueDate="#{tenggat}"', {"tenggat": "PT4H"}, timedelta(hours=4)),
        ('camunda:dueDate="=tenggat"', {"tenggat": "P1W"}, timedelta(weeks=1)),
        (
            'camunda:dueDate="${&quot;P&quot; + hari + &quot;D&quot;}"',
            {"hari": "2"},
            timedelta(days=2),
        ),
    ],
)
def test_an_expression_giving_an_iso_duration_counts_from_when_the_step_opens(
    store: Store, clock: FakeClock, attrs: str, data: dict[str, str], after: timedelta
) -> None:
    engine = _engine(store, clock, attrs)
    iid = engine.start("proses", actor=STAF, data=data).instance_id
    [item] = engine.work_list(instance_id=iid)
    assert item.due_at is not None
    assert item.due_at - item.ready_at == after


def test_an_expression_giving_an_iso_date_time_or_date_is_that_moment(
    store: Store, clock: FakeClock
) -> None:
    """A date-time with its offset is that instant; a bare date is its midnight in the zone
    of the moment the step opened (the office's clock)."""
    engine = _engine(store, clock, 'camunda:dueDate="${tenggat}"')
    iid = engine.start(
        "proses", actor=STAF, data={"tenggat": "2025-08-06T16:00:00+07:00"}
    ).instance_id
    [item] = engine.work_list(instance_id=iid)
    assert item.due_at == datetime(2025, 8, 6, 16, 0, tzinfo=WIB)
    iid = engine.start("proses", actor=STAF, data={"tenggat": "2025-08-08"}).instance_id
    [item] = engine.work_list(instance_id=iid)
    assert item.due_at == datetime(2025, 8, 8, 0, 0, tzinfo=WIB)


def test_a_date_value_is_taken_as_is() -> None:
    """An application may put a date or datetime in the data it hands the engine."""
    from sopflow.runtime.due_dates import attribute_deadlines

    definition = load_definition_bytes(
        one_task(attrs='camunda:dueDate="${tenggat}" camunda:followUpDate="${ingat}"'),
        source="uji.bpmn",
    )
    step = definition.step("task_1")
    assert step is not None
    ready = datetime(2025, 8, 4, 8, 0, tzinfo=WIB)
    due, risk = attribute_deadlines(
        step, ready, {"tenggat": date(2025, 8, 9), "ingat": datetime(2025, 8, 7, 12, 0)}
    )
    assert due == datetime(2025, 8, 9, 0, 0, tzinfo=WIB)
    assert risk == datetime(2025, 8, 7, 12, 0, tzinfo=WIB)  # naive: the office's zone
    assert attribute_deadlines(step, ready) == (None, None)  # no data, no date to give


def test_follow_up_expression_marks_the_step_at_risk(store: Store, clock: FakeClock) -> None:
    engine = _engine(store, clock, 'camunda:dueDate="${tenggat}" camunda:followUpDate="${ingat}"')
    iid = engine.start("proses", actor=STAF, data={"tenggat": "P2D", "ingat": "P1D"}).instance_id
    [row] = store.open_steps(instance_id=iid)
    assert row.risk_at is not None and row.due_at is not None
    assert row.due_at - row.risk_at == 24 * 3600 * 1000


def test_a_month_duration_lands_on_the_same_day_of_a_later_month(
    store: Store, clock: FakeClock
) -> None:
    engine = _engine(store, clock, 'camunda:dueDate="${tenggat}"')
    iid = engine.start("proses", actor=STAF, data={"tenggat": "P1M"}).instance_id
    [item] = engine.work_list(instance_id=iid)
    assert item.due_at == item.ready_at.replace(month=9)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "name 'tenggat' is not in the task data"),
        ({"tenggat": "besok"}, "gave 'besok', which is neither an ISO 8601 duration"),
        ({"tenggat": 3}, "gave int, which is neither"),
        ({"tenggat": "2 hari kerja"}, "which is neither"),  # a waktu belongs in waktu
        ({"tenggat": "P"}, "which is neither"),
        ({"tenggat": "P0D"}, "which is neither"),
    ],
)
def test_a_value_that_is_no_date_refuses_the_action_naming_task_and_instance(
    store: Store, clock: FakeClock, data: dict[str, object], reason: str
) -> None:
    engine = _engine(store, clock, 'camunda:dueDate="${tenggat}"')
    with pytest.raises(TaskDataError, match=reason) as info:
        engine.start("proses", actor=STAF, data=data)
    assert info.value.task_id == "task_1"
    assert info.value.instance_id
    assert f"instance {info.value.instance_id}, task task_1: dueDate" in str(info.value)
    assert engine.work_list() == []  # nothing was written


def test_a_value_that_is_no_date_when_a_later_step_opens_leaves_the_earlier_step_open(
    store: Store, clock: FakeClock
) -> None:
    """The action that would open the step is refused; the step being completed stays."""
    definition = load_definition_bytes(_two_steps(), source="dua.bpmn")
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("dua", actor=STAF).instance_id
    with pytest.raises(TaskDataError, match="task kedua: dueDate"):
        engine.complete(iid, "pertama", actor=STAF, data={"tenggat": "lusa"})
    assert [i.task_id for i in engine.work_list(instance_id=iid)] == ["pertama"]
    engine.complete(iid, "pertama", actor=STAF, data={"tenggat": "P2D"})
    [item] = engine.work_list(instance_id=iid)
    assert item.task_id == "kedua" and item.due_at is not None


@pytest.mark.parametrize(
    "expression",
    [
        "${dateTime().plusDays(2).toDate()}",  # Camunda's Joda idiom: a method call
        "${now() + duration('P2D')}",  # functions are not in the language
        "${__import__('os').system('id')}",
        "${tenggat.isoformat()}",
        "${tenggat[0]}",
    ],
)
def test_an_expression_outside_the_language_is_refused_at_load_naming_the_element(
    expression: str,
) -> None:
    attrs = f'camunda:dueDate="{expression}"'.replace("'", "&apos;")
    with pytest.raises(DefinitionError) as info:
        load_definition_bytes(one_task(attrs=attrs), source="uji.bpmn")
    problems = getattr(info.value, "problems", None) or [info.value]
    [problem] = [p for p in problems if "dueDate" in p.message]
    assert problem.element == "task_1"
    assert "cannot be evaluated safely" in problem.message
    assert problem.code == "unsupported-extension"


def test_validate_reports_an_expression_due_date_beside_a_waktu_as_a_conflict() -> None:
    ext = (
        '<camunda:properties><camunda:property name="waktu" value="15 Menit" />'
        "</camunda:properties>"
    )
    data = one_task(attrs='camunda:dueDate="${tenggat}"', ext=ext)
    [warning] = tree_warnings(etree.ElementTree(etree.fromstring(data)), source="uji.bpmn")
    assert (warning.code, warning.element) == ("due-date-conflict", "task_1")
    assert "${tenggat}" in warning.message


def test_the_waktu_wins_so_the_expression_is_not_evaluated(store: Store, clock: FakeClock) -> None:
    ext = (
        '<camunda:properties><camunda:property name="waktu" value="2 x 24 jam" />'
        "</camunda:properties>"
    )
    definition = load_definition_bytes(
        one_task(attrs='camunda:dueDate="${tenggat}"', ext=ext), source="uji.bpmn"
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("proses", actor=STAF, data={"tenggat": "bukan tanggal"}).instance_id
    [item] = engine.work_list(instance_id=iid)
    assert item.due_at is not None and item.due_at - item.ready_at == timedelta(days=2)


def _two_steps() -> bytes:
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://x">
  <bpmn:process id="dua" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="pertama" camunda:candidateGroups="Seksi Umum"/>
    <bpmn:userTask id="kedua" camunda:candidateGroups="Seksi Umum"
      camunda:dueDate="${tenggat}"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pertama"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pertama" targetRef="kedua"/>
    <bpmn:sequenceFlow id="f3" sourceRef="kedua" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
