"""SpiffArena's ``spiffworkflow:variableName`` on a user task: the form kept whole.

SpiffWorkflow's UserTask (``add_data_from_form``) stores the submitted form under the
task's variableName instead of merging it into the task data, so two tasks with the same
form fields do not overwrite each other's answers. BPMN 2.0 13.3.2 leaves a task's data
to the engine; sopflow keeps SpiffArena's meaning: on completion, the submitted fields
(checked against the task's form as always) become one dict under that field.
"""

from __future__ import annotations

import pytest
from tests.conftest import ListCatalog

from sopflow.definitions.loader import load_definition_bytes
from sopflow.errors import DefinitionError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

STAF = Actor("ani", {"staf"})


def _file(variable: str = "pesanan", extra: str = "", tag: str = "userTask") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="https://sopflow.id/bpmn">
  <bpmn:process id="pesan" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:{tag} id="isi" camunda:candidateGroups="staf">
      <bpmn:extensionElements>
        <spiffworkflow:variableName>{variable}</spiffworkflow:variableName>{extra}
      </bpmn:extensionElements>
    </bpmn:{tag}>
    <bpmn:userTask id="ulang" camunda:candidateGroups="staf"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="isi"/>
    <bpmn:sequenceFlow id="f2" sourceRef="isi" targetRef="ulang"/>
    <bpmn:sequenceFlow id="f3" sourceRef="ulang" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_the_submitted_form_is_kept_whole_under_the_variable(
    store: Store, clock: FakeClock
) -> None:
    definition = load_definition_bytes(_file(), source="v.bpmn")
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("pesan", actor=STAF, data={"ukuran": "kecil"}).instance_id
    engine.complete(iid, "isi", actor=STAF, data={"ukuran": "besar", "jumlah": 2})
    data = engine.status(iid).data
    assert data["pesanan"] == {"ukuran": "besar", "jumlah": 2}
    assert data["ukuran"] == "kecil"  # not overwritten: nothing was merged
    # a task without the variable merges, as before
    engine.complete(iid, "ulang", actor=STAF, data={"jumlah": 3})
    assert engine.status(iid).data["jumlah"] == 3


def test_an_empty_variable_name_merges_as_in_spiffarena() -> None:
    definition = load_definition_bytes(_file(variable=""), source="v.bpmn")
    assert definition.step("isi") is not None
    assert definition.step("isi").form_variable is None  # type: ignore[union-attr]


@pytest.mark.parametrize("variable", ["a b", "__class__", "x['y']", "1abc"])
def test_a_variable_that_is_not_a_field_name_is_refused(variable: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definition_bytes(_file(variable=variable), source="v.bpmn")
    problems = getattr(info.value, "problems", None) or [info.value]
    assert any("variableName" in p.message and p.element == "isi" for p in problems)


def test_a_variable_on_a_deciding_step_is_refused() -> None:
    """A sopflow deciding step's gateway reads its field at the top of the data."""
    keputusan = (
        '<camunda:properties><camunda:property name="keputusan" value="disetujui"/>'
        "</camunda:properties>"
    )
    with pytest.raises(DefinitionError) as info:
        load_definition_bytes(_file(extra=keputusan), source="v.bpmn")
    problems = getattr(info.value, "problems", None) or [info.value]
    assert any("on a deciding step" in p.message and p.element == "isi" for p in problems)


def test_a_variable_on_a_manual_task_is_refused_naming_where_it_is_honoured() -> None:
    """SpiffWorkflow reads variableName on user tasks only."""
    with pytest.raises(DefinitionError, match="variableName on a bpmn:manualTask"):
        load_definition_bytes(_file(tag="manualTask"), source="v.bpmn")
