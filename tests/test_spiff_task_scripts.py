"""SpiffArena's ``spiffworkflow:preScript`` / ``postScript`` run by application handlers.

In SpiffArena a task's preScript runs as the task becomes ready (before a person sees it)
and its postScript as the task completes, after the submitted data, before the token goes
on (SpiffWorkflow's ``SpiffBpmnTask``: the update hook, then the completion hook). BPMN 2.0
13.3.2 has a task's token leave only once the task is complete, so the outgoing conditions
(13.4.2, an exclusive gateway) see what the postScript set. sopflow keeps that meaning but
never executes the file's Python: the application registers ``"<task id>:preScript"`` /
``"<task id>:postScript"`` in ``Engine(script_handlers=...)``, as for a script task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests._stores import store_url_fixture  # noqa: F401  (the fixture)
from tests.conftest import ListCatalog

from sopflow.definitions.loader import load_definition_bytes, load_definitions_bytes
from sopflow.errors import DefinitionError, ScriptHandlerError
from sopflow.runtime.engine import Engine, ScriptHandler
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

KASUBAG = Actor("k", {"kasubag"})
KEYS = ("isi:preScript", "isi:postScript", "tinjau:preScript")


def _file(
    pre: str = "batas = 5", post: str = "besar = jumlah > 1000", tag: str = "userTask"
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="https://sopflow.id/bpmn">
  <bpmn:process id="pengajuan" name="Pengajuan" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_1" name="kasubag">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>isi</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>cek</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>tinjau</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:{tag} id="isi" name="Isi pengajuan">
      <bpmn:extensionElements>
        <spiffworkflow:preScript>{pre}</spiffworkflow:preScript>
        <spiffworkflow:postScript>{post}</spiffworkflow:postScript>
      </bpmn:extensionElements>
    </bpmn:{tag}>
    <bpmn:exclusiveGateway id="cek" default="f_kecil"/>
    <bpmn:userTask id="tinjau" name="Tinjau pengajuan besar">
      <bpmn:extensionElements>
        <spiffworkflow:preScript>tenggat = 3</spiffworkflow:preScript>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="isi"/>
    <bpmn:sequenceFlow id="f2" sourceRef="isi" targetRef="cek"/>
    <bpmn:sequenceFlow id="f_besar" sourceRef="cek" targetRef="tinjau">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">besar</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_kecil" sourceRef="cek" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="tinjau" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _engine(
    store: Store, clock: FakeClock, handlers: dict[str, ScriptHandler], **kw: str
) -> Engine:
    definition = load_definition_bytes(_file(**kw), source="spiff.bpmn", script_handlers=KEYS)
    return Engine(ListCatalog(definition), store, clock=clock, script_handlers=handlers)


def _handlers(calls: list[tuple[str, dict[str, Any]]]) -> dict[str, ScriptHandler]:
    def pre(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(("isi:preScript", dict(data)))
        return {"batas": 5}

    def post(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(("isi:postScript", dict(data)))
        return {"besar": data["jumlah"] > 1000}

    def tinjau_pre(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(("tinjau:preScript", dict(data)))
        return {"tenggat": 3}

    return {"isi:preScript": pre, "isi:postScript": post, "tinjau:preScript": tinjau_pre}


@pytest.mark.parametrize(("jumlah", "ready"), [(5000, ("tinjau",)), (10, ())])
def test_pre_and_post_scripts_run_as_handlers_and_the_gateway_sees_their_data(
    store: Store, clock: FakeClock, jumlah: int, ready: tuple[str, ...]
) -> None:
    """preScript as the task becomes ready, with its data; postScript after the submitted
    data and before the token leaves, so the gateway's condition ``besar`` reads it."""
    calls: list[tuple[str, dict[str, Any]]] = []
    engine = _engine(store, clock, _handlers(calls))
    iid = engine.start("pengajuan", actor=KASUBAG, data={"pemohon": "ani"}).instance_id
    assert calls == [("isi:preScript", {"pemohon": "ani"})]
    assert engine.status(iid).data["batas"] == 5  # merged before the task is offered
    progress = engine.complete(iid, "isi", actor=KASUBAG, data={"jumlah": jumlah})
    assert calls[1] == ("isi:postScript", {"pemohon": "ani", "batas": 5, "jumlah": jumlah})
    assert engine.status(iid).data["besar"] is (jumlah > 1000)
    assert progress.ready == ready
    if ready:
        assert calls[2][0] == "tinjau:preScript"
        assert engine.status(iid).data["tenggat"] == 3
    else:
        assert progress.status == "completed"


@pytest.mark.parametrize("failing", ["isi:postScript", "tinjau:preScript"])
def test_a_handler_that_raises_refuses_the_completion_and_writes_nothing(
    store_url: str, clock: FakeClock, failing: str
) -> None:
    """On SQLite and PostgreSQL: the completion and every hook it runs are one transaction;
    a raising postScript (or the next task's preScript) leaves the instance as it was."""
    calls: list[tuple[str, dict[str, Any]]] = []
    handlers = _handlers(calls)

    def broken(data: dict[str, Any]) -> None:
        raise ValueError("layanan mati")

    handlers[failing] = broken
    store = open_store(store_url)
    try:
        engine = _engine(store, clock, handlers)
        iid = engine.start("pengajuan", actor=KASUBAG).instance_id
        before = store.load_instance(iid)
        with pytest.raises(ScriptHandlerError) as info:
            engine.complete(iid, "isi", actor=KASUBAG, data={"jumlah": 5000})
        task = failing.split(":")[0]
        assert (info.value.instance_id, info.value.task_id) == (iid, task)
        assert f"instance {iid}" in str(info.value) and "layanan mati" in str(info.value)
        assert isinstance(info.value.__cause__, ValueError)
        assert store.load_instance(iid) == before
        [item] = engine.work_list(instance_id=iid)
        assert item.task_id == "isi"  # still waiting: the completion never happened
    finally:
        store.close()


def test_a_raising_pre_script_refuses_the_start(store: Store, clock: FakeClock) -> None:
    def broken(data: dict[str, Any]) -> None:
        raise RuntimeError("no")

    handlers = {**_handlers([]), "isi:preScript": broken}
    engine = _engine(store, clock, handlers)
    with pytest.raises(ScriptHandlerError, match="isi:preScript"):
        engine.start("pengajuan", actor=KASUBAG)
    assert engine.work_list() == []


def test_without_handlers_the_file_is_refused_naming_each_handler_and_its_script() -> None:
    """Like a script task without a handler (code ``needs-handler``): the file's text is
    shown so the developer can write the handler, and nothing runs."""
    with pytest.raises(DefinitionError) as info:
        load_definition_bytes(_file(), source="spiff.bpmn")
    problems = getattr(info.value, "problems", None) or [info.value]
    found = {(p.element, p.code, p.handler) for p in problems}
    assert found == {
        ("isi", "needs-handler", "isi:preScript"),
        ("isi", "needs-handler", "isi:postScript"),
        ("tinjau", "needs-handler", "tinjau:preScript"),
    }
    assert any("'besar = jumlah > 1000'" in p.message for p in problems)
    # a task's own id is not the key: a pre/post script handler is named for its script
    with pytest.raises(DefinitionError, match="isi:postScript"):
        load_definition_bytes(
            _file(), source="spiff.bpmn", script_handlers={"isi", "tinjau", "isi:preScript"}
        )


def test_scripts_on_a_task_that_never_runs_them_are_refused() -> None:
    """A service task's work is the application's job worker: no hook runs there."""
    with pytest.raises(DefinitionError, match="on a bpmn:serviceTask is not supported"):
        load_definition_bytes(_file(tag="serviceTask"), source="spiff.bpmn", script_handlers=KEYS)


def test_the_script_text_is_never_executed(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Hostile pre/post scripts: the handlers run, the file's Python never does."""
    marker = tmp_path / "pwned"
    hostile = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    engine = _engine(store, clock, _handlers([]), pre=hostile, post=hostile)
    iid = engine.start("pengajuan", actor=KASUBAG).instance_id
    engine.complete(iid, "isi", actor=KASUBAG, data={"jumlah": 1})
    assert engine.status(iid).status == "completed"
    assert not marker.exists()


def _calling_file() -> bytes:
    """``induk`` calls ``anak`` (camunda:in/out variables="all", SpiffArena's default of
    passing everything); the call activity has a preScript and a postScript."""
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="https://sopflow.id/bpmn">
  <bpmn:process id="induk" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="panggil" calledElement="anak">
      <bpmn:extensionElements>
        <camunda:in variables="all"/>
        <camunda:out variables="all"/>
        <spiffworkflow:preScript>in_data = old</spiffworkflow:preScript>
        <spiffworkflow:postScript>out_data = hasil * 2</spiffworkflow:postScript>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="panggil"/>
    <bpmn:sequenceFlow id="f2" sourceRef="panggil" targetRef="e"/>
  </bpmn:process>
  <bpmn:process id="anak" isExecutable="true">
    <bpmn:startEvent id="as"/>
    <bpmn:userTask id="kerjakan" camunda:candidateGroups="kasubag"/>
    <bpmn:endEvent id="ae"/>
    <bpmn:sequenceFlow id="a1" sourceRef="as" targetRef="kerjakan"/>
    <bpmn:sequenceFlow id="a2" sourceRef="kerjakan" targetRef="ae"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_scripts_on_a_call_activity_run_around_the_called_instance(
    store: Store, clock: FakeClock
) -> None:
    """SpiffWorkflow's CallActivity is a SpiffBpmnTask like any other: its preScript runs
    as it becomes ready, before the called process starts (13.3.5: the child is started
    with the caller's data), and its postScript as it completes, after the child's data
    came back and before the token leaves the call activity."""

    calls: list[tuple[str, dict[str, Any]]] = []

    def pre(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(("pre", dict(data)))
        return {"in_data": data["old"]}

    def post(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(("post", dict(data)))
        return {"out_data": data["hasil"] * 2}

    keys = {"panggil:preScript", "panggil:postScript"}
    definitions = load_definitions_bytes(_calling_file(), source="call.bpmn", script_handlers=keys)
    engine = Engine(
        ListCatalog(*definitions),
        store,
        clock=clock,
        script_handlers={"panggil:preScript": pre, "panggil:postScript": post},
    )
    iid = engine.start("induk", actor=KASUBAG, data={"old": "lama"}).instance_id
    assert calls == [("pre", {"old": "lama"})]
    [child] = engine.status(iid).children
    assert engine.status(child).data == {"old": "lama", "in_data": "lama"}  # set before it
    engine.complete(child, "kerjakan", actor=KASUBAG, data={"hasil": 21})
    assert calls[1] == ("post", {"old": "lama", "in_data": "lama", "hasil": 21})
    status = engine.status(iid)
    assert status.status == "completed"
    assert status.data["out_data"] == 42


def test_scripts_on_a_call_activity_without_handlers_are_refused_by_key() -> None:

    with pytest.raises(DefinitionError) as info:
        load_definitions_bytes(_calling_file(), source="call.bpmn")
    problems = getattr(info.value, "problems", None) or [info.value]
    assert {(p.element, p.code, p.handler) for p in problems} == {
        ("panggil", "needs-handler", "panggil:preScript"),
        ("panggil", "needs-handler", "panggil:postScript"),
    }


def _repeated_file(on_instances: str | None, loop: str = "multi") -> bytes:
    """``isi`` repeated over ``berkas`` (or three times by a standard loop), with a
    preScript and a postScript; ``scriptsOnInstances`` as given (None: not written)."""
    attr = "" if on_instances is None else f' spiffworkflow:scriptsOnInstances="{on_instances}"'
    if loop == "multi":
        characteristics = (
            f'<bpmn:multiInstanceLoopCharacteristics isSequential="true"{attr} '
            'camunda:collection="berkas" camunda:elementVariable="item"/>'
        )
    else:
        characteristics = f'<bpmn:standardLoopCharacteristics loopMaximum="3"{attr}/>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="https://sopflow.id/bpmn">
  <bpmn:process id="ulang" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="isi" camunda:candidateGroups="kasubag">
      <bpmn:extensionElements>
        <spiffworkflow:preScript>input_item += 1</spiffworkflow:preScript>
        <spiffworkflow:postScript>output_item -= 1</spiffworkflow:postScript>
      </bpmn:extensionElements>
      {characteristics}
    </bpmn:userTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="isi"/>
    <bpmn:sequenceFlow id="f2" sourceRef="isi" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


@pytest.mark.parametrize(
    ("on_instances", "loop", "expected"),
    [
        # SpiffWorkflow moves a repeated task's scripts to the loop body: once around it
        (None, "multi", ["pre", "post"]),
        ("false", "multi", ["pre", "post"]),
        (None, "standard", ["pre", "post"]),
        # scriptsOnInstances="true": on each instance, which sees its own loop variables
        ("true", "multi", ["pre 0", "post 0", "pre 1", "post 1", "pre 2", "post 2"]),
        ("true", "standard", ["pre 0", "post 0", "pre 1", "post 1", "pre 2", "post 2"]),
    ],
)
def test_a_repeated_tasks_scripts_run_around_the_body_or_on_each_instance(
    store: Store, clock: FakeClock, on_instances: str | None, loop: str, expected: list[str]
) -> None:
    """BPMN 2.0 13.3.6 / 13.3.7: the loop or multi-instance body is an activity of its
    own around the instances; SpiffWorkflow runs the pre/post scripts on that body unless
    the loop characteristics say ``spiffworkflow:scriptsOnInstances="true"``."""
    calls: list[str] = []

    def hook(name: str) -> ScriptHandler:
        def run(data: dict[str, Any]) -> None:
            counter = data.get("loopCounter")
            calls.append(name if counter is None else f"{name} {counter}")

        return run

    keys = {"isi:preScript", "isi:postScript"}
    definition = load_definition_bytes(
        _repeated_file(on_instances, loop), source="ulang.bpmn", script_handlers=keys
    )
    engine = Engine(
        ListCatalog(definition),
        store,
        clock=clock,
        script_handlers={"isi:preScript": hook("pre"), "isi:postScript": hook("post")},
    )
    iid = engine.start("ulang", actor=KASUBAG, data={"berkas": ["a", "b", "c"]}).instance_id
    for _ in range(3):
        engine.complete(iid, "isi", actor=KASUBAG)
    assert engine.status(iid).status == "completed"
    assert calls == expected
