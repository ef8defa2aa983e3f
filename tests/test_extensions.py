"""Other engines' extensions are honoured with their meaning or refused by name (issue 12).

BPMN 2.0 section 8.2.3 (Extensibility) lets a file carry attributes and
``extensionElements`` of other namespaces; Camunda 7, Flowable, SpiffArena and Zeebe give
theirs behaviour. The rule tested here: every extension sopflow knows is either honoured
(and then has a visible effect on the definition), refused at load naming the element, or
needs an application handler; unknown namespaces are a warning. Each entry of
``extensions.RULES`` is checked, so a rule added without its behaviour fails a test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests._modelers import one_task
from tests.conftest import ListCatalog

from sopflow.cli import main
from sopflow.definitions.extensions import RULES, Action, Rule, docs_table
from sopflow.definitions.loader import load_definition_bytes, problems_of
from sopflow.definitions.model import ProcessDefinition, Step
from sopflow.errors import BpmnSchemaError, DefinitionError, PermissionDeniedError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

DOCS = Path(__file__).resolve().parents[1] / "docs" / "other-modelers.md"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: values that make each honoured attribute meaningful (others get "x")
_VALUES = {
    "assignee": "ani",
    "candidateUsers": "ani, budi",
    "candidateGroups": "sekcam",
    "dueDate": "P2D",
    "followUpDate": "P1D",
    "formKey": "embedded:app:forms/periksa.html",
    "formRef": "periksa",
}

#: element snippets for honoured elements (others are written empty)
_ELEMENTS = {
    "camunda:formData": '<camunda:formData><camunda:formField id="nomor" type="string" />'
    "</camunda:formData>",
    "flowable:formProperty": '<flowable:formProperty id="nomor" type="string" />',
    "activiti:formProperty": '<activiti:formProperty id="nomor" type="string" />',
    "camunda:properties": '<camunda:properties><camunda:property name="waktu" value="15 Menit" />'
    "</camunda:properties>",
    "spiffworkflow:properties": "<spiffworkflow:properties>"
    '<spiffworkflow:property name="waktu" value="15 Menit" /></spiffworkflow:properties>',
    "zeebe:properties": '<zeebe:properties><zeebe:property name="waktu" value="15 Menit" />'
    "</zeebe:properties>",
    "zeebe:assignmentDefinition": '<zeebe:assignmentDefinition assignee="ani" />',
    "zeebe:taskSchedule": '<zeebe:taskSchedule dueDate="P2D" />',
    "zeebe:formDefinition": '<zeebe:formDefinition formId="periksa" />',
    "spiffworkflow:serviceTaskOperator": '<spiffworkflow:serviceTaskOperator id="kirim">'
    "<spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator>",
    "spiffworkflow:preScript": "<spiffworkflow:preScript>x = 1</spiffworkflow:preScript>",
    "spiffworkflow:postScript": "<spiffworkflow:postScript>x = 1</spiffworkflow:postScript>",
}

#: what each honoured extension visibly does to the step it is on
_EFFECTS: dict[str, Callable[[Step], object]] = {
    "assignee": lambda s: s.assignee == "ani",
    "candidateUsers": lambda s: s.candidate_users == ("ani", "budi"),
    "candidateGroups": lambda s: s.candidate_groups == ("sekcam",),
    "dueDate": lambda s: s.due_date == "P2D",
    "followUpDate": lambda s: s.follow_up_date == "P1D",
    "formKey": lambda s: s.form_key == "embedded:app:forms/periksa.html",
    "formRef": lambda s: s.form_key == "camunda-forms:periksa@latest",
    "formRefBinding": lambda s: s.form_key == "camunda-forms:periksa@version:3",
    "formRefVersion": lambda s: s.form_key == "camunda-forms:periksa@version:3",
    "formData": lambda s: [f.id for f in s.form] == ["nomor"],
    "formProperty": lambda s: [f.id for f in s.form] == ["nomor"],
    "properties": lambda s: s.waktu == "15 Menit",
    "assignmentDefinition": lambda s: s.assignee == "ani",
    "taskSchedule": lambda s: s.due_date == "P2D",
    "formDefinition": lambda s: s.form_key == "periksa",
}
#: honoured extensions whose effect is not on the step (tested on their own)
_ELSEWHERE = {
    "initiator": "test_camunda_initiator_names_the_starting_actor",
    "in": "test_camunda_in_and_out_map_a_call_activity_s_variables",
    "out": "test_camunda_in_and_out_map_a_call_activity_s_variables",
    "collection": "test_camunda_collection_and_element_variable_drive_a_multi_instance",
    "elementVariable": "test_camunda_collection_and_element_variable_drive_a_multi_instance",
    "asyncBefore": "test_camunda_async_before_and_after_make_the_step_a_job",
    "asyncAfter": "test_camunda_async_before_and_after_make_the_step_a_job",
    "failedJobRetryTimeCycle": "test_camunda_failed_job_retry_time_cycle_sets_the_retries",
    "type": "test_camunda_external_type_and_topic_make_an_external_task",
    "topic": "test_camunda_external_type_and_topic_make_an_external_task",
    "messagePayload": "test_spiffarena_message_payload_and_variable_are_honoured",
    "messageVariable": "test_spiffarena_message_payload_and_variable_are_honoured",
    "payloadExpression": "test_spiffarena_item_payload_and_variable_are_honoured",
    "variableName": "test_spiffarena_item_payload_and_variable_are_honoured",
    "scriptsOnInstances": "test_spiffarena_scripts_on_instances_is_read_onto_the_task",
}


def test_spiffarena_scripts_on_instances_is_read_onto_the_task() -> None:
    """Where a repeated task's pre/post scripts run (the runtime effect:
    tests/test_spiff_task_scripts.py)."""
    from tests.test_spiff_task_scripts import _repeated_file

    keys = {"isi:preScript", "isi:postScript"}
    for value, expected in (("true", True), ("false", False), (None, False)):
        definition = _load(_repeated_file(value), script_handlers=keys)
        assert definition.nodes["isi"].scripts_on_instances is expected


def test_spiffarena_item_payload_and_variable_are_honoured() -> None:
    """BPMN 2.0 10.5.1: a signal's, error's or escalation's payloadExpression and
    variableName are read onto every event that refers to it (their runtime effect:
    tests/test_events_item_payloads.py)."""
    from tests.test_events_item_payloads import _signal_file

    from sopflow.definitions.loader import load_definitions_bytes

    [definition] = load_definitions_bytes(_signal_file(), source="uji.bpmn")
    for node in ("lempar", "tangkap"):
        event = definition.nodes[node].event
        assert event is not None
        assert (event.payload, event.variable) == ("{'r1': v1, 'r2': v2}", "hasil")


def test_spiffarena_message_payload_and_variable_are_honoured() -> None:
    """BPMN 2.0 8.4.3/13.5: the throw's payload and the catch's variable are read onto
    the events (their runtime effect: tests/test_events_payloads.py)."""
    from sopflow.definitions.loader import load_definition

    folder = Path(__file__).parent / "fixtures" / "bpmn" / "messages"
    sender = load_definition(folder / "surat_pengirim.bpmn")
    receiver = load_definition(folder / "surat_penerima.bpmn")
    kirim, terima = sender.nodes["kirim"].event, receiver.nodes["terima"].event
    assert kirim is not None and kirim.payload is not None
    assert terima is not None and terima.variable == "surat"


def _file_for(rule: Rule) -> bytes:
    if rule.kind == "element":
        snippet = _ELEMENTS.get(rule.qualified, f"<{rule.qualified} />")
        return one_task(ext=snippet)
    if rule.name in ("formRefBinding", "formRefVersion"):
        attrs = 'camunda:formRef="periksa" camunda:formRefBinding="version" '
        attrs += 'camunda:formRefVersion="3"'
        return one_task(attrs=attrs)
    if rule.prefix == "modeler":
        return one_task(definitions_attrs=f'{rule.qualified}="Camunda Platform"')
    return one_task(attrs=f'{rule.qualified}="{_VALUES.get(rule.name, "x")}"')


def _load(data: bytes, **kwargs: object) -> ProcessDefinition:
    return load_definition_bytes(data, source="uji.bpmn", **kwargs)  # type: ignore[arg-type]


def _problems(data: bytes) -> list[DefinitionError]:
    with pytest.raises(DefinitionError) as info:
        _load(data)
    return list(problems_of(info.value))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.qualified}-{r.kind}")
def test_every_known_extension_is_honoured_or_reported(rule: Rule) -> None:
    """No entry of the table is silently ignored: each is an effect, a refusal or a handler."""
    data = _file_for(rule)
    if rule.action is Action.HONOURED and rule.name in _ELSEWHERE:
        assert _ELSEWHERE[rule.name] in globals()
    elif rule.action is Action.HONOURED:
        definition = _load(data)
        assert rule.name in _EFFECTS, f"{rule.qualified} is honoured but has no tested effect"
        assert _EFFECTS[rule.name](definition.steps[0]), rule.qualified
    elif rule.action is Action.NO_EFFECT:
        _load(data)
    else:
        problems = _problems(data)
        code = "needs-handler" if rule.action is Action.NEEDS_HANDLER else "unsupported-extension"
        [problem] = [p for p in problems if rule.qualified in p.message]
        assert (problem.code, problem.element) == (code, "task_1")
        if rule.action is Action.NEEDS_HANDLER:
            # a task's own handler, or a pre/post script's "task_1:preScript"
            _load(data, script_handlers={problem.handler or "task_1"})


@pytest.mark.parametrize(
    ("attrs", "ext"),
    [
        ('camunda:somethingNew="1"', ""),
        ("", "<camunda:somethingNew />"),
        ('flowable:newThing="x"', ""),
        ("", "<spiffworkflow:newThing />"),
        ("", "<zeebe:newThing />"),
    ],
)
def test_an_unlisted_extension_of_a_known_engine_is_refused(attrs: str, ext: str) -> None:
    """A new attribute of a known engine may change behaviour: refused until it is listed."""
    [problem] = _problems(one_task(attrs=attrs, ext=ext))
    assert problem.code == "unsupported-extension"
    assert "not known to sopflow" in problem.message


def test_an_unknown_namespace_is_a_warning_listed_by_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Extensions of an engine sopflow does not know load, and ``validate`` lists them."""
    data = one_task(attrs='acme:colour="red"', ext="<acme:note>hi</acme:note>")
    _load(data)
    path = tmp_path / "acme.bpmn"
    path.write_bytes(data)
    assert main(["validate", "--json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert {(p["code"], p["severity"], p["element"]) for p in report["problems"]} == {
        ("unknown-extension", "warning", "task_1")
    }


def test_blank_attributes_and_empty_scripts_have_nothing_to_refuse() -> None:
    """bpmn.io writes empty attributes; an empty preScript does nothing in SpiffArena either."""
    _load(one_task(attrs='camunda:priority=""', ext="<spiffworkflow:preScript />"))


def test_a_sequence_flow_without_an_id_gets_a_stable_one() -> None:
    """Flowable files may omit a sequence flow's id (tBaseElement's id is optional)."""
    data = one_task().replace(b'<bpmn:sequenceFlow id="f2" ', b"<bpmn:sequenceFlow ")
    first, second = _load(data), _load(data + b"\n")
    [flow] = first.nodes["task_1"].outgoing
    assert flow.id == "flow_task_1_to_end"
    assert [f.id for f in second.nodes["task_1"].outgoing] == [flow.id]


def test_every_problem_of_a_file_is_reported_schema_first() -> None:
    """A schema error no longer hides the SOP findings (issue 12: 'validate hides the rest')."""
    sop_step = (  # a Mutu Baku property: an SOP file, whose steps must be in a lane
        '<camunda:properties><camunda:property name="waktu" value="15 Menit" />'
        "</camunda:properties>"
    )
    data = one_task(lane=None, ext="<camunda:taskListener />" + sop_step).replace(
        b'name="Periksa berkas"', b'name="Periksa berkas" bogus="1"'
    )
    with pytest.raises(BpmnSchemaError) as info:
        _load(data)
    problems = list(problems_of(info.value))
    assert isinstance(problems[0], BpmnSchemaError)
    messages = " | ".join(p.message for p in problems)
    assert "not in any lane" in messages
    assert "camunda:taskListener" in messages


def test_validate_json_lists_code_and_severity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c7.bpmn"
    path.write_bytes(one_task(attrs='camunda:class="org.example.X"', task="serviceTask"))
    assert main(["validate", "--json", str(path)]) == 1
    [problem] = json.loads(capsys.readouterr().out)["problems"]
    assert set(problem) == {"file", "line", "element", "code", "severity", "message"}
    assert (problem["code"], problem["severity"], problem["element"]) == (
        "needs-handler",
        "error",
        "task_1",
    )


def test_the_docs_table_is_the_rule_table() -> None:
    """docs/other-modelers.md shows exactly the table in code (regenerate it when it changes)."""
    assert docs_table() in DOCS.read_text(encoding="utf-8")


def test_camunda_initiator_names_the_starting_actor(store: Store, clock: FakeClock) -> None:
    """``camunda:initiator`` on the start event + ``assignee="${initiator}"``: the starter acts."""
    data = one_task(lane=None, attrs='camunda:assignee="${initiator}"').replace(
        b'<bpmn:startEvent id="start"', b'<bpmn:startEvent id="start" camunda:initiator="initiator"'
    )
    engine = Engine(ListCatalog(_load(data)), store, clock=clock)
    iid = engine.start("proses", actor=Actor("ani", set())).instance_id
    with pytest.raises(PermissionDeniedError):
        engine.complete(iid, "task_1", actor=Actor("budi", set()))
    engine.complete(iid, "task_1", actor=Actor("ani", set()))


@pytest.mark.parametrize(
    ("attrs", "task"),
    [
        ('camunda:assignee="ani"', "task"),
        ('camunda:candidateGroups="kasi"', "scriptTask"),
        ('camunda:formKey="x"', "task"),
        ('camunda:initiator="x"', "userTask"),
    ],
)
def test_task_attributes_elsewhere_are_refused_not_ignored(attrs: str, task: str) -> None:
    """An assignee on a plain bpmn:task has nobody to assign: refused rather than dropped."""
    problems = _problems(one_task(attrs=attrs, task=task))
    assert any(
        p.code == "unsupported-extension" and "honoured on" in p.message and p.element == "task_1"
        for p in problems
    )


def test_the_table_names_each_extension_once() -> None:
    """Two rows for one extension would let the second silently override the first."""
    keys = [(r.prefix, r.kind, r.name) for r in RULES]
    assert len(keys) == len(set(keys))


def test_camunda_in_and_out_map_a_call_activity_s_variables() -> None:
    """camunda:in / camunda:out on a callActivity (Camunda 7) are the call's data mapping."""
    from sopflow.definitions.loader import load_definition

    parent = load_definition(FIXTURES / "engine" / "calls" / "induk.bpmn")
    calls = [n.call for n in parent.nodes.values() if n.call is not None]
    assert calls and any(c.inputs or c.all_in for c in calls)
    assert any(c.outputs or c.all_out for c in calls)


def test_camunda_collection_and_element_variable_drive_a_multi_instance() -> None:
    """camunda:collection / camunda:elementVariable name the items and the item variable."""
    from sopflow.definitions.loader import load_definition

    definition = load_definition(FIXTURES / "engine" / "mi_collection.bpmn")
    multi = [n.multi for n in definition.nodes.values() if n.multi is not None]
    assert multi and multi[0].collection and multi[0].element


@pytest.mark.parametrize("prefix", ["flowable"])
def test_other_engines_spellings_of_honoured_mappings_are_refused(prefix: str) -> None:
    """flowable:in is Flowable's call mapping; sopflow reads only Camunda's, so it is refused."""
    problems = _problems(one_task(ext=f'<{prefix}:in source="a" target="b" />'))
    assert any(f"{prefix}:in" in p.message for p in problems)


# --- job settings: honoured since the jobs work (docs/workers.md) -------------------------


def test_camunda_async_before_and_after_make_the_step_a_job(store: Store, clock: FakeClock) -> None:
    """``camunda:asyncBefore``: the start commits before the step opens; a job opens it.
    ``camunda:asyncAfter``: completing commits, and a job leaves the step."""
    data = one_task(lane=None, attrs='camunda:asyncBefore="true" camunda:asyncAfter="true"')
    engine = Engine(ListCatalog(_load(data)), store, clock=clock)
    iid = engine.start("proses", actor=Actor("ani", set())).instance_id
    assert engine.work_list(instance_id=iid) == []
    assert engine.run_due() == 1
    assert [w.task_id for w in engine.work_list(instance_id=iid)] == ["task_1"]
    engine.complete(iid, "task_1", actor=Actor("ani", set()))
    assert engine.status(iid).status == "running"
    assert engine.run_due() == 1
    assert engine.status(iid).status == "completed"


def test_camunda_failed_job_retry_time_cycle_sets_the_retries(
    store: Store, clock: FakeClock
) -> None:
    """``camunda:failedJobRetryTimeCycle`` R2/PT5M: two attempts five minutes apart (as
    Camunda counts them), then an incident (a handler that always fails)."""
    ext = "<camunda:failedJobRetryTimeCycle>R2/PT5M</camunda:failedJobRetryTimeCycle>"
    data = one_task(lane=None, task="serviceTask", ext=ext)
    calls: list[object] = []

    def fails(values: object) -> None:
        calls.append(values)
        raise RuntimeError("e-kinerja tidak menjawab")

    definition = _load(data, script_handlers={"task_1"})
    engine = Engine(ListCatalog(definition), store, clock=clock, service_handlers={"task_1": fails})
    iid = engine.start("proses", actor=Actor("ani", set())).instance_id
    assert engine.run_due() == 1
    assert engine.run_due(clock.advance(minutes=4)) == 0
    assert engine.run_due(clock.advance(minutes=1)) == 1
    assert len(calls) == 2
    assert len(engine.incidents(instance_id=iid)) == 1


def test_camunda_external_type_and_topic_make_an_external_task(
    store: Store, clock: FakeClock
) -> None:
    """``camunda:type="external"`` + ``camunda:topic``: the office's worker fetches it."""
    attrs = 'camunda:type="external" camunda:topic="ekinerja"'
    data = one_task(lane=None, task="serviceTask", attrs=attrs)
    engine = Engine(ListCatalog(_load(data)), store, clock=clock)
    iid = engine.start("proses", actor=Actor("ani", set())).instance_id
    [task] = engine.fetch_and_lock("ekinerja", "w1", max_tasks=1, lock_for=60)
    assert (task.instance_id, task.task_id) == (iid, "task_1")
    engine.complete_external(task.id, "w1", {"nomor": "TT-1"})
    assert engine.status(iid).status == "completed"
    with pytest.raises(DefinitionError, match="camunda:type='connector' is not run"):
        _load(one_task(lane=None, task="serviceTask", attrs='camunda:type="connector"'))
