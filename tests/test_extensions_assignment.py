"""Assignment and due dates from other modelers' attributes, enforced by the engine (issue 12).

Camunda 7's user task attributes ``assignee``, ``candidateUsers`` and ``candidateGroups``
(BPMN 2.0 section 10.3.2 leaves human performers to the engine) decide who may claim and
complete; with a lane, the lane's role must hold as well. ``camunda:dueDate`` is the step's
due date when the SOP gives no waktu.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests._modelers import one_task
from tests.conftest import ListCatalog

from sopflow.definitions.loader import load_definition_bytes
from sopflow.errors import DefinitionError, PermissionDeniedError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def _engine(store: Store, clock: FakeClock, data: bytes) -> Engine:
    definition = load_definition_bytes(data, source="uji.bpmn")
    return Engine(ListCatalog(definition), store, clock=clock)


def test_candidate_groups_on_a_lane_task_need_both_the_lane_and_the_group(
    store: Store, clock: FakeClock
) -> None:
    """The issue's case: a Camat-lane task reserved for the Sekcam; a Camat may not take it."""
    engine = _engine(store, clock, one_task(lane="camat", attrs='camunda:candidateGroups="sekcam"'))
    iid = engine.start("proses", actor=Actor("a", {"camat"})).instance_id
    with pytest.raises(PermissionDeniedError, match="candidate groups sekcam"):
        engine.complete(iid, "task_1", actor=Actor("camat.1", {"camat"}))
    with pytest.raises(PermissionDeniedError, match="does not hold role 'camat'"):
        engine.complete(iid, "task_1", actor=Actor("sekcam.1", {"sekcam"}))
    assert engine.complete(iid, "task_1", actor=Actor("plh", {"camat", "sekcam"})).status == (
        "completed"
    )


def test_a_task_in_no_lane_may_be_assigned_by_candidate_groups(
    store: Store, clock: FakeClock
) -> None:
    """A task without a lane is accepted when it names who does it (Camunda files)."""
    engine = _engine(store, clock, one_task(lane=None, attrs='camunda:candidateGroups="kasi, tim"'))
    iid = engine.start("proses", actor=Actor("a", {"x"})).instance_id
    with pytest.raises(PermissionDeniedError):
        engine.claim(iid, "task_1", actor=Actor("b", {"camat"}))
    engine.claim(iid, "task_1", actor=Actor("c", {"tim"}))
    assert engine.complete(iid, "task_1", actor=Actor("c", {"tim"})).status == "completed"


def test_a_task_in_no_lane_and_with_no_assignment_is_open_in_a_foreign_file() -> None:
    """Its home engine lets any authorised user act; so does sopflow (test_open_tasks.py),
    while an SOP file must still put the step in a lane."""
    step = load_definition_bytes(one_task(lane=None), source="uji.bpmn").step("task_1")
    assert step is not None and step.is_open


@pytest.mark.parametrize(
    "attrs",
    ['camunda:assignee="ani"', 'flowable:candidateUsers="budi, ani"', 'activiti:assignee="ani"'],
)
def test_assignee_and_candidate_users_name_who_may_act(
    store: Store, clock: FakeClock, attrs: str
) -> None:
    engine = _engine(store, clock, one_task(lane=None, attrs=attrs))
    iid = engine.start("proses", actor=Actor("x", set())).instance_id
    with pytest.raises(PermissionDeniedError, match="is not assigned the task"):
        engine.complete(iid, "task_1", actor=Actor("eko", {"camat"}))
    engine.complete(iid, "task_1", actor=Actor("ani", set()))


def test_an_assignee_expression_is_read_from_the_instance_data(
    store: Store, clock: FakeClock
) -> None:
    """``${initiator}`` / ``${kasi}``: evaluated with the safe expression language."""
    engine = _engine(store, clock, one_task(lane=None, attrs='camunda:assignee="${kasi}"'))
    iid = engine.start("proses", actor=Actor("x", set()), data={"kasi": "budi"}).instance_id
    with pytest.raises(PermissionDeniedError):
        engine.complete(iid, "task_1", actor=Actor("ani", set()))
    engine.complete(iid, "task_1", actor=Actor("budi", set()))


def test_an_assignee_expression_naming_missing_data_denies_everyone(
    store: Store, clock: FakeClock
) -> None:
    engine = _engine(store, clock, one_task(lane=None, attrs='camunda:assignee="${kasi}"'))
    iid = engine.start("proses", actor=Actor("x", set())).instance_id
    with pytest.raises(PermissionDeniedError, match="name 'kasi' is not in the task data"):
        engine.complete(iid, "task_1", actor=Actor("budi", set()))


@pytest.mark.parametrize(
    "attrs",
    [
        'camunda:assignee="${__import__(1)}"',
        'camunda:candidateGroups="#{a.b}"',
        'camunda:assignee="${x"',
    ],
)
def test_an_assignment_outside_the_language_is_refused_at_load(attrs: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definition_bytes(one_task(lane=None, attrs=attrs), source="uji.bpmn")
    assert "cannot be read" in str(info.value)


def test_work_lists_filter_by_user_as_well_as_role(store: Store, clock: FakeClock) -> None:
    engine = _engine(store, clock, one_task(lane=None, attrs='camunda:candidateUsers="ani"'))
    iid = engine.start("proses", actor=Actor("x", set())).instance_id
    assert [w.instance_id for w in engine.work_list(user="ani")] == [iid]
    assert engine.work_list(user="budi") == []


def test_work_list_by_user_keeps_the_lane_rule(store: Store, clock: FakeClock) -> None:
    engine = _engine(store, clock, one_task(lane="camat"))
    engine.start("proses", actor=Actor("x", {"camat"}))
    assert len(engine.work_list(user="ani", role="camat")) == 1
    assert engine.work_list(user="ani", role="kasi") == []


def test_due_date_is_the_deadline_of_a_step_without_waktu(store: Store, clock: FakeClock) -> None:
    """``dueDate="P2D"``: two calendar days after the step became ready (Camunda's reading)."""
    engine = _engine(store, clock, one_task(attrs='camunda:dueDate="P2D"'))
    iid = engine.start("proses", actor=Actor("x", {"Seksi Umum"})).instance_id
    [item] = engine.work_list(instance_id=iid)
    assert item.due_at is not None
    assert item.due_at - item.ready_at == timedelta(days=2)


def test_waktu_wins_over_a_due_date_and_validate_reports_the_conflict() -> None:
    from lxml import etree

    from sopflow.definitions._warnings import tree_warnings

    ext = '<camunda:properties><camunda:property name="waktu" value="15 Menit" />'
    ext += "</camunda:properties>"
    data = one_task(attrs='camunda:dueDate="P2D"', ext=ext)
    [warning] = tree_warnings(etree.ElementTree(etree.fromstring(data)), source="uji.bpmn")
    assert (warning.code, warning.element) == ("due-date-conflict", "task_1")
    same = one_task(attrs='camunda:dueDate="P2D"', ext=ext.replace("15 Menit", "2 x 24 jam"))
    assert tree_warnings(etree.ElementTree(etree.fromstring(same)), source="uji.bpmn") == []


@pytest.mark.parametrize("value", ["tomorrow", "P", "2024-13"])
def test_a_due_date_that_is_not_iso_is_refused(value: str) -> None:
    with pytest.raises(DefinitionError, match="neither an ISO date"):
        load_definition_bytes(one_task(attrs=f'camunda:dueDate="{value}"'), source="uji.bpmn")
