"""Task forms (camunda:formData, flowable:formProperty) validated on complete (issue 12).

Camunda 7 gives ``camunda:formField`` a type (string, long, boolean, date, enum) and
constraints (required, minlength, maxlength, min, max, readonly); a required field is
required. The work item carries the form as a JSON schema, and a deciding step's
``disetujui`` is described the same way.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests._modelers import one_task
from tests.conftest import ListCatalog

from sopflow.definitions.loader import load_definition_bytes, problems_of
from sopflow.definitions.model import Step
from sopflow.errors import DefinitionError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.runtime.forms import check_form, form_schema
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

FORM = """
<camunda:formData>
  <camunda:formField id="nomor" label="Nomor surat" type="string">
    <camunda:validation>
      <camunda:constraint name="required" />
      <camunda:constraint name="minlength" config="3" />
      <camunda:constraint name="maxlength" config="10" />
    </camunda:validation>
  </camunda:formField>
  <camunda:formField id="jumlah" type="long" defaultValue="1">
    <camunda:validation>
      <camunda:constraint name="min" config="1" />
      <camunda:constraint name="max" config="99" />
    </camunda:validation>
  </camunda:formField>
  <camunda:formField id="lengkap" type="boolean" />
  <camunda:formField id="tanggal" type="date" />
  <camunda:formField id="jenis" type="enum">
    <camunda:value id="baru" name="Baru" />
    <camunda:value id="perpanjangan" name="Perpanjangan" />
  </camunda:formField>
  <camunda:formField id="kode" type="string" defaultValue="A1">
    <camunda:validation><camunda:constraint name="readonly" /></camunda:validation>
  </camunda:formField>
</camunda:formData>
"""
STAF = Actor("ani", {"Seksi Umum"})


@pytest.fixture
def step() -> Step:
    return load_definition_bytes(one_task(ext=FORM), source="uji.bpmn").steps[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "'nomor' \\(Nomor surat\\) is required"),
        ({"nomor": ""}, "is required"),
        ({"nomor": "ab"}, "at least 3 characters"),
        ({"nomor": "a" * 11}, "at most 10 characters"),
        ({"nomor": 123}, "must be text"),
        ({"nomor": "123", "jumlah": 0}, "'jumlah' must be at least 1"),
        ({"nomor": "123", "jumlah": 100}, "at most 99"),
        ({"nomor": "123", "jumlah": "5"}, "'jumlah' must be a whole number"),
        ({"nomor": "123", "jumlah": True}, "must be a whole number"),
        ({"nomor": "123", "jumlah": 2**70}, "out of the range of a long"),
        ({"nomor": "123", "lengkap": "Yes"}, "'lengkap' must be true or false"),
        ({"nomor": "123", "tanggal": "31/02/2024"}, "'tanggal' must be a date"),
        ({"nomor": "123", "jenis": "lama"}, "'jenis' must be one of baru, perpanjangan"),
        ({"nomor": "123", "kode": "B2"}, "'kode' is read-only"),
    ],
)
def test_a_submission_that_does_not_fit_the_form_names_the_field(
    step: Step, data: dict[str, object], message: str
) -> None:
    with pytest.raises(TaskDataError, match=message):
        check_form(step, data, instance_id="i1")


def test_defaults_fill_missing_fields_and_good_data_passes(step: Step) -> None:
    values = check_form(
        step,
        {"nomor": "470/12", "lengkap": True, "tanggal": "2024-03-08", "jenis": "baru"},
        instance_id="i1",
    )
    assert values["jumlah"] == 1 and values["kode"] == "A1"
    assert check_form(step, {"nomor": "470", "tanggal": "08/03/2024"}, instance_id="i1")


def test_the_engine_refuses_a_completion_without_a_required_field(
    store: Store, clock: FakeClock
) -> None:
    """The issue's case: 'a required field is not required'. Nothing is written on refusal."""
    definition = load_definition_bytes(one_task(ext=FORM), source="uji.bpmn")
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("proses", actor=STAF).instance_id
    before = store.load_instance(iid)
    with pytest.raises(TaskDataError, match="nomor"):
        engine.complete(iid, "task_1", actor=STAF, data={"jumlah": 3})
    assert store.load_instance(iid) == before
    [item] = engine.work_list(instance_id=iid)
    assert item.form is not None
    assert item.form["required"] == ["nomor"]
    assert item.form["properties"]["jenis"]["enum"] == ["baru", "perpanjangan"]
    assert item.to_dict()["form"] == item.form
    engine.complete(iid, "task_1", actor=STAF, data={"nomor": "470/12"})


def test_the_form_schema_of_each_type(step: Step) -> None:
    schema = form_schema(step)
    assert schema is not None
    props = schema["properties"]
    assert props["nomor"] == {
        "type": "string",
        "minLength": 3,
        "maxLength": 10,
        "title": "Nomor surat",
    }
    assert props["jumlah"] == {"type": "integer", "minimum": 1, "maximum": 99, "default": 1}
    assert props["lengkap"] == {"type": "boolean"}
    assert props["tanggal"] == {"type": "string", "format": "date"}
    assert props["kode"]["readOnly"] is True


def test_a_deciding_step_describes_disetujui_the_same_way() -> None:
    step = Step(
        id="s", no=1, name="Setujui", lane="camat", role="camat", decision_field="disetujui"
    )
    schema = form_schema(step)
    assert schema is not None
    assert schema["properties"]["disetujui"]["type"] == "boolean"
    assert schema["required"] == ["disetujui"]


def test_flowable_form_properties_are_validated_alike() -> None:
    ext = '<flowable:formProperty id="alasan" name="Alasan" type="string" required="true" />'
    step = load_definition_bytes(one_task(ext=ext), source="uji.bpmn").steps[0]
    with pytest.raises(TaskDataError, match="'alasan' \\(Alasan\\) is required"):
        check_form(step, {}, instance_id="i1")


@pytest.mark.parametrize(
    ("ext", "message"),
    [
        (
            '<camunda:formData><camunda:formField id="x" type="file" /></camunda:formData>',
            "type 'file' is not one of",
        ),
        (
            '<camunda:formData><camunda:formField id="x"><camunda:validation>'
            '<camunda:constraint name="validator" config="org.X" /></camunda:validation>'
            "</camunda:formField></camunda:formData>",
            "constraint 'validator' is not supported",
        ),
        (
            '<camunda:formData><camunda:formField id="x"><camunda:validation>'
            '<camunda:constraint name="min" config="lots" /></camunda:validation>'
            "</camunda:formField></camunda:formData>",
            "is not a whole number",
        ),
        (
            '<camunda:formData><camunda:formField id="x y" /></camunda:formData>',
            "is not a field name",
        ),
        (
            '<camunda:formData><camunda:formField id="x" type="enum" /></camunda:formData>',
            "an enum needs camunda:value",
        ),
        ('<flowable:formProperty id="x" variable="y" />', "mappings are not supported"),
    ],
)
def test_a_form_sopflow_cannot_honour_is_refused_at_load(ext: str, message: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definition_bytes(one_task(ext=ext), source="uji.bpmn")
    assert message in " | ".join(p.message for p in problems_of(info.value))


def test_form_key_and_spiffarena_schema_reach_the_work_item(store: Store, clock: FakeClock) -> None:
    ext = "<spiffworkflow:properties>"
    ext += '<spiffworkflow:property name="formJsonSchemaFilename" value="periksa-schema.json" />'
    ext += "</spiffworkflow:properties>"
    definition = load_definition_bytes(one_task(ext=ext), source="uji.bpmn")
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("proses", actor=STAF).instance_id
    [item] = engine.work_list(instance_id=iid)
    assert item.form_key == "periksa-schema.json"


def test_a_start_event_form_is_checked_when_an_instance_starts(
    store: Store, clock: FakeClock
) -> None:
    """Camunda start forms: the start data must fit them; formKey is on the definition."""
    data = one_task().replace(
        b'<bpmn:startEvent id="start">',
        b'<bpmn:startEvent id="start" camunda:formKey="embedded:app:mulai.html">'
        b"<bpmn:extensionElements>" + FORM.encode() + b"</bpmn:extensionElements>",
    )
    definition = load_definition_bytes(data, source="uji.bpmn")
    assert definition.start_form_key == "embedded:app:mulai.html"
    engine = Engine(ListCatalog(definition), store, clock=clock)
    with pytest.raises(TaskDataError, match="'nomor' \\(Nomor surat\\) is required"):
        engine.start("proses", actor=STAF)
    assert engine.work_list() == []
    engine.start("proses", actor=STAF, data={"nomor": "470/12"})


_FORM_STEP = load_definition_bytes(one_task(ext=FORM), source="uji.bpmn").steps[0]
_any_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from(["nomor", "jumlah", "lengkap", "tanggal", "jenis", "kode", "x"]), _any_value
    )
)
def test_any_submission_is_accepted_or_refused_with_a_typed_error(data: dict[str, object]) -> None:
    """Hostile values (huge numbers, nested lists, odd text) never escape as another error."""
    try:
        values = check_form(_FORM_STEP, data, instance_id="i1")
    except TaskDataError:
        return
    assert isinstance(values["nomor"], str) and 3 <= len(values["nomor"]) <= 10
