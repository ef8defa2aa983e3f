"""Conditional events that fire on a rising edge (BPMN 2.0 10.5.5, 13.5.3, 13.5.4).

A conditional event's condition (the safe expression language) is evaluated whenever
the instance data change, and the event happens when it turns from false to true, not
while it stays true. Non-interrupting boundary events and non-interrupting event
subprocesses may happen again, after their condition was false in between; the value
each condition had last is part of the instance's state. Conditional start events of a
process have no instance to notice a change, so the caller says when:
``engine.evaluate_start_conditions(data)`` (Camunda 7's ``evaluateStartConditions``).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from _events_bpmn import OFFICER, doc, flow, flows, load
from _staff import PACE, PBG, STAFF
from _stores import store_url_fixture  # noqa: F401  (fixture)
from conftest import ListCatalog
from sopflow.authority.io import parse_directory
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import DefinitionError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def _condition(text: str) -> str:
    return (
        f"<bpmn:conditionalEventDefinition><bpmn:condition>{text}</bpmn:condition>"
        "</bpmn:conditionalEventDefinition>"
    )


#: ``ubah`` is a step that changes the data as often as the test likes (it loops while
#: ``lagi`` is true); beside it runs the activity or scope under test.
_CHANGER = (
    '<bpmn:userTask id="ubah"/><bpmn:exclusiveGateway id="lagi" default="f_cukup"/>'
    '<bpmn:endEvent id="end_b"/>'
    + flows("ubah", "lagi", prefix="b")
    + flow("f_ulang", "lagi", "ubah", "lagi == true")
    + flow("f_cukup", "lagi", "end_b")
)


def _boundary(interrupting: bool) -> ProcessDefinition:
    cancel = "" if interrupting else ' cancelActivity="false"'
    return load(
        doc(
            "berkas",
            '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="bagi"/>'
            '<bpmn:userTask id="verifikasi"/><bpmn:endEvent id="end_a"/>'
            f'<bpmn:boundaryEvent id="kurang" attachedToRef="verifikasi"{cancel}>'
            + _condition("berkas_kurang == true")
            + '</bpmn:boundaryEvent><bpmn:userTask id="lengkapi"/><bpmn:endEvent id="end_c"/>'
            + _CHANGER
            + flows("start", "bagi")
            + flows("bagi", "verifikasi", "end_a", prefix="a")
            + flow("f_b", "bagi", "ubah")
            + flows("kurang", "lengkapi", "end_c", prefix="c"),
        )
    )


def _open(engine: Engine, instance_id: str) -> Counter[str]:
    return Counter(w.task_id for w in engine.work_list(instance_id=instance_id))


def _change(engine: Engine, instance_id: str, **data: object) -> Counter[str]:
    engine.complete(instance_id, "ubah", actor=OFFICER, data={"lagi": True, **data})
    return _open(engine, instance_id)


def test_non_interrupting_boundary_fires_on_each_rise_only(store: Store, clock: FakeClock) -> None:
    """13.5.3 / 10.5.5: a non-interrupting conditional boundary event sends a token when
    its condition turns true and the activity stays; while the condition stays true it
    does not fire again; after it was false, the next rise fires it again."""
    engine = Engine(ListCatalog(_boundary(False)), store, clock=clock)
    started = engine.start(
        "berkas", actor=OFFICER, data={"berkas_kurang": False, "lagi": True}
    ).instance_id
    assert _open(engine, started) == Counter(["verifikasi", "ubah"])
    assert _change(engine, started, berkas_kurang=True) == Counter(
        ["verifikasi", "ubah", "lengkapi"]
    )
    assert _change(engine, started, berkas_kurang=True, catatan="x") == Counter(
        ["verifikasi", "ubah", "lengkapi"]
    ), "staying true is not a new occurrence"
    assert _change(engine, started, berkas_kurang=False) == Counter(
        ["verifikasi", "ubah", "lengkapi"]
    )
    assert _change(engine, started, berkas_kurang=True) == Counter(
        ["verifikasi", "ubah", "lengkapi", "lengkapi"]
    ), "false, then true again: it fires again"
    engine.complete(started, "verifikasi", actor=OFFICER)
    [step] = [h for h in engine.history(started) if h.task_id == "verifikasi"]
    assert step.outcome != "cancelled", "the activity was never interrupted"


def test_non_interrupting_boundary_true_on_entry_fires_once(store: Store, clock: FakeClock) -> None:
    """10.5.5: the condition is first looked at when the activity starts; true then is a
    rise (from nothing) and fires once."""
    engine = Engine(ListCatalog(_boundary(False)), store, clock=clock)
    started = engine.start(
        "berkas", actor=OFFICER, data={"berkas_kurang": True, "lagi": True}
    ).instance_id
    assert _open(engine, started) == Counter(["verifikasi", "ubah", "lengkapi"])
    assert _change(engine, started) == Counter(["verifikasi", "ubah", "lengkapi"])


def test_interrupting_boundary_cancels_once_and_the_state_forgets_it(
    store: Store, clock: FakeClock
) -> None:
    """13.5.3: an interrupting conditional boundary event cancels its activity when the
    condition turns true; the remembered value goes with the activity's token."""
    engine = Engine(ListCatalog(_boundary(True)), store, clock=clock)
    started = engine.start(
        "berkas", actor=OFFICER, data={"berkas_kurang": False, "lagi": True}
    ).instance_id
    assert _change(engine, started, berkas_kurang=True) == Counter(["ubah", "lengkapi"])
    [step] = [h for h in engine.history(started) if h.task_id == "verifikasi"]
    assert step.outcome == "cancelled" and "kurang" in (step.reason or "")
    assert _change(engine, started, berkas_kurang=False) == Counter(["ubah", "lengkapi"])
    assert _change(engine, started, berkas_kurang=True) == Counter(["ubah", "lengkapi"])
    state = json.loads(store.load_instance(started).state)
    assert "c" not in state, "nothing waits with a condition any more"


def _event_subprocess(interrupting: bool) -> ProcessDefinition:
    flag = "" if interrupting else ' isInterrupting="false"'
    return load(
        doc(
            "aduan",
            '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="bagi"/>'
            '<bpmn:userTask id="tindak"/><bpmn:endEvent id="end_a"/>'
            + _CHANGER
            + flows("start", "bagi")
            + flows("bagi", "tindak", "end_a", prefix="a")
            + flow("f_b", "bagi", "ubah")
            + '<bpmn:subProcess id="tambahan" triggeredByEvent="true">'
            f'<bpmn:startEvent id="ada_tambahan"{flag}>'
            + _condition("tambahan == true")
            + '</bpmn:startEvent><bpmn:userTask id="periksa"/><bpmn:endEvent id="end_e"/>'
            + flows("ada_tambahan", "periksa", "end_e", prefix="e")
            + "</bpmn:subProcess>",
        )
    )


def test_non_interrupting_event_subprocess_starts_on_each_rise(
    store: Store, clock: FakeClock
) -> None:
    """13.5.4 / 10.5.5: a non-interrupting conditional start event of an event
    subprocess starts it beside the running steps on each false-to-true change."""
    engine = Engine(ListCatalog(_event_subprocess(False)), store, clock=clock)
    started = engine.start("aduan", actor=OFFICER, data={"tambahan": False}).instance_id
    assert _open(engine, started) == Counter(["tindak", "ubah"])
    assert _change(engine, started, tambahan=True) == Counter(["tindak", "ubah", "periksa"])
    assert _change(engine, started, tambahan=True) == Counter(["tindak", "ubah", "periksa"])
    assert _change(engine, started, tambahan=False) == Counter(["tindak", "ubah", "periksa"])
    assert _change(engine, started, tambahan=True) == Counter(
        ["tindak", "ubah", "periksa", "periksa"]
    )


def test_interrupting_event_subprocess_ends_the_parallel_steps(
    store: Store, clock: FakeClock
) -> None:
    """13.5.4: an interrupting conditional event subprocess terminates everything else
    in its scope (the open parallel steps are cancelled) and runs alone."""
    engine = Engine(ListCatalog(_event_subprocess(True)), store, clock=clock)
    started = engine.start("aduan", actor=OFFICER, data={"tambahan": False}).instance_id
    assert _change(engine, started, tambahan=False) == Counter(["tindak", "ubah"])
    engine.complete(started, "ubah", actor=OFFICER, data={"lagi": False, "tambahan": True})
    assert _open(engine, started) == Counter(["periksa"])
    [step] = [h for h in engine.history(started) if h.task_id == "tindak"]
    assert step.outcome == "cancelled"
    engine.complete(started, "periksa", actor=OFFICER)
    assert engine.status(started).status == "completed"


def test_interrupting_event_subprocess_cancels_a_step_the_same_action_reopened(
    store: Store, clock: FakeClock
) -> None:
    """13.5.4: the step being completed loops back to itself and, in the same action,
    the data it brought start an interrupting event subprocess: the completed step
    stays completed and the step it reopened is never left open."""
    engine = Engine(ListCatalog(_event_subprocess(True)), store, clock=clock)
    started = engine.start("aduan", actor=OFFICER, data={"tambahan": False}).instance_id
    assert _change(engine, started, tambahan=True) == Counter(["periksa"])
    ubah = [h for h in engine.history(started) if h.task_id == "ubah"]
    assert [h.outcome for h in ubah] == ["completed"]


@pytest.mark.parametrize(
    "where",
    [
        '<bpmn:boundaryEvent id="b" attachedToRef="kerja" cancelActivity="false">{c}'
        '</bpmn:boundaryEvent><bpmn:endEvent id="end"/>'
        + flows("start", "kerja", "end")
        + flows("b", "end_b"),
        '<bpmn:intermediateCatchEvent id="b">{c}</bpmn:intermediateCatchEvent>'
        + flows("start", "kerja", "b", "end_b"),
    ],
)
@pytest.mark.parametrize(
    "condition",
    ["__import__('os').system('id')", "open('/etc/passwd').read() != ''", "().__class__"],
)
def test_hostile_condition_is_refused_at_load(where: str, condition: str) -> None:
    """A conditional event's condition is in the safe expression language: anything
    else is refused when the file is loaded, naming the element, never evaluated."""
    body = (
        '<bpmn:startEvent id="start"/><bpmn:userTask id="kerja"/><bpmn:endEvent id="end_b"/>'
        + where.format(c=_condition(condition.replace("'", "&apos;")))
    )
    with pytest.raises(DefinitionError) as caught:
        load(doc("jahat", body))
    assert "safe expression language" in str(caught.value) and "b" in str(caught.value)


def _starts(pid: str, condition: str) -> bytes:
    return doc(
        pid,
        f'<bpmn:startEvent id="mulai">{_condition(condition)}</bpmn:startEvent>'
        '<bpmn:userTask id="proses"/><bpmn:endEvent id="end"/>' + flows("mulai", "proses", "end"),
    )


def _catalog() -> ListCatalog:
    return ListCatalog(
        load(_starts("izin_usaha", "jenis == 'usaha'")),
        load(_starts("izin_besar", "jenis == 'usaha' and modal > 500")),
        load(_starts("izin_rumah", "jenis == 'rumah'")),
    )


def test_start_conditions_start_every_process_whose_condition_holds(
    store: Store, clock: FakeClock
) -> None:
    """10.5.5 conditional start event: with the data given, one instance of every
    process whose start condition holds, each with that data; the others none."""
    engine = Engine(_catalog(), store, clock=clock)
    started = engine.evaluate_start_conditions({"jenis": "usaha", "modal": 900})
    assert len(started) == 2 and started.instances == ()
    views = [engine.status(i) for i in started.started]
    assert sorted(v.process_id for v in views) == ["izin_besar", "izin_usaha"]
    assert all(v.data == {"jenis": "usaha", "modal": 900} for v in views)
    assert all(
        [w.task_id for w in engine.work_list(instance_id=i)] == ["proses"] for i in started.started
    )
    assert len(engine.evaluate_start_conditions({"jenis": "kapal", "modal": 0})) == 0


def test_start_condition_that_cannot_be_evaluated_starts_nothing(
    store: Store, clock: FakeClock
) -> None:
    """A condition reading a field the data lack is a typed error naming the process
    and its start event, and no process is started (not even one whose holds)."""
    engine = Engine(_catalog(), store, clock=clock)
    with pytest.raises(TaskDataError, match=r"izin_besar.*mulai"):
        engine.evaluate_start_conditions({"jenis": "usaha"})
    assert list(engine.store.instances()) == []


_PROPS = (
    "<bpmn:extensionElements><camunda:properties>"
    '<camunda:property name="kecamatan" value="Purbalingga"/>'
    "</camunda:properties></bpmn:extensionElements>"
)


def test_start_conditions_on_both_stores_take_a_unit(store_url: str, clock: FakeClock) -> None:
    """Issue 13: an instance a conditional start event began belongs to the unit the
    call names, else the SOP's kecamatan, as for message and signal starts."""
    sql = open_store(store_url)
    try:
        sql.import_directory(parse_directory(STAFF))  # type: ignore[attr-defined]
        data = _starts("izin_usaha", "jenis == 'usaha'").replace(
            b'isExecutable="true">', b'isExecutable="true">' + _PROPS.encode(), 1
        )
        engine = Engine(ListCatalog(load(data)), sql, clock=clock)
        [default] = engine.evaluate_start_conditions({"jenis": "usaha"}).started
        [named] = engine.evaluate_start_conditions({"jenis": "usaha"}, unit=PACE).started
        assert sql.instance_unit(default) == PBG  # type: ignore[attr-defined]
        assert sql.instance_unit(named) == PACE  # type: ignore[attr-defined]
    finally:
        sql.close()


def test_the_last_value_is_stored_on_both_stores(store_url: str, clock: FakeClock) -> None:
    """The value a condition had last is part of the stored state: an engine that reads
    the instance afresh does not fire again while the condition stays true."""
    definition = _boundary(False)
    first = Engine(ListCatalog(definition), open_store(store_url), clock=clock)
    second = Engine(ListCatalog(definition), open_store(store_url), clock=clock)
    try:
        started = first.start(
            "berkas", actor=OFFICER, data={"berkas_kurang": False, "lagi": True}
        ).instance_id
        assert _change(first, started, berkas_kurang=True)["lengkapi"] == 1
        assert json.loads(second.store.load_instance(started).state)["c"]
        assert _change(second, started, berkas_kurang=True)["lengkapi"] == 1
        assert _change(second, started, berkas_kurang=False)["lengkapi"] == 1
        assert _change(first, started, berkas_kurang=True)["lengkapi"] == 2
    finally:
        first.store.close()
        second.store.close()
