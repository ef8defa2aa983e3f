"""Event subprocesses and the event-based gateway (BPMN 2.0 10.3.4, 13.5.4, 13.4.5).

An event subprocess waits for its start event while its scope runs; an interrupting
one ends everything else in the scope first (its open steps closed as cancelled), a
non-interrupting one runs beside it. An event-based gateway waits for the first of
its events; the others are withdrawn in the same transaction.
"""

from __future__ import annotations

import pytest

from _events_bpmn import OFFICER, doc, error, escalation, flows, load, message, signal, timer
from conftest import ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import MessageNotCorrelatedError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock


def open_tasks(engine: Engine, instance_id: str) -> list[str]:
    return sorted(w.task_id for w in engine.work_list(instance_id=instance_id))


def parallel_with(esp: str, roots: str) -> ProcessDefinition:
    """Two parallel steps (telaah_hukum, telaah_teknis) and an event subprocess."""
    return load(
        doc(
            "izin",
            '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="bagi"/>'
            '<bpmn:userTask id="telaah_hukum"/><bpmn:userTask id="telaah_teknis"/>'
            '<bpmn:parallelGateway id="gabung"/><bpmn:endEvent id="end"/>'
            + flows("start", "bagi")
            + flows("bagi", "telaah_hukum", "gabung", prefix="a")
            + flows("bagi", "telaah_teknis", "gabung", prefix="b")
            + flows("gabung", "end")
            + esp,
            roots,
        )
    )


def esp(trigger: str, interrupting: bool = True) -> str:
    flag = "true" if interrupting else "false"
    return (
        '<bpmn:subProcess id="tangani" triggeredByEvent="true">'
        f'<bpmn:startEvent id="picu" isInterrupting="{flag}">{trigger}</bpmn:startEvent>'
        '<bpmn:userTask id="tindak"/><bpmn:endEvent id="e_picu"/>'
        + flows("picu", "tindak", "e_picu")
        + "</bpmn:subProcess>"
    )


WITHDRAWN = '<bpmn:messageEventDefinition messageRef="m1"/>'


def test_interrupting_event_subprocess_ends_the_open_parallel_steps(
    store: Store, clock: FakeClock
) -> None:
    """13.5.4: the message starts the interrupting event subprocess; both open parallel
    steps are closed as cancelled; the instance ends when the event subprocess does."""
    engine = Engine(
        ListCatalog(parallel_with(esp(WITHDRAWN), message("m1", "permohonan_dicabut"))),
        store,
        clock=clock,
    )
    started = engine.start("izin", actor=OFFICER).instance_id
    assert open_tasks(engine, started) == ["telaah_hukum", "telaah_teknis"]
    engine.correlate("permohonan_dicabut", instance_id=started)
    assert open_tasks(engine, started) == ["tindak"]
    outcomes = {h.task_id: h.outcome for h in engine.history(started) if h.task_id != "tindak"}
    assert outcomes == {"telaah_hukum": "cancelled", "telaah_teknis": "cancelled"}
    engine.complete(started, "tindak", actor=OFFICER)
    assert engine.status(started).status == "completed"
    assert engine.jobs(instance_id=started) == []


def test_non_interrupting_timer_event_subprocess_runs_beside(
    store: Store, clock: FakeClock
) -> None:
    definition = parallel_with(esp(timer("timeDuration", "PT1H"), interrupting=False), "")
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("izin", actor=OFFICER).instance_id
    clock.advance(hours=1)
    assert engine.run_due() == 1
    assert open_tasks(engine, started) == ["telaah_hukum", "telaah_teknis", "tindak"]
    for task in ("telaah_hukum", "telaah_teknis"):
        engine.complete(started, task, actor=OFFICER)
    assert engine.status(started).status == "running"  # the event subprocess still runs
    engine.complete(started, "tindak", actor=OFFICER)
    assert engine.status(started).status == "completed"


@pytest.mark.parametrize("kind", ["signal", "error"])
def test_signal_and_error_event_subprocesses(store: Store, clock: FakeClock, kind: str) -> None:
    """13.5.4: a signal starts it from outside; an error thrown in its scope starts it
    from inside (an error start event always interrupts)."""
    if kind == "signal":
        trigger, roots = '<bpmn:signalEventDefinition signalRef="s1"/>', signal("s1", "darurat")
        definition = parallel_with(esp(trigger), roots)
    else:
        trigger, roots = '<bpmn:errorEventDefinition errorRef="e1"/>', error("e1", "SALAH")
        definition = load(
            doc(
                "izin",
                '<bpmn:startEvent id="start"/><bpmn:userTask id="telaah_hukum"/>'
                '<bpmn:endEvent id="end"><bpmn:errorEventDefinition errorRef="e1"/>'
                "</bpmn:endEvent>" + flows("start", "telaah_hukum", "end") + esp(trigger),
                roots,
            )
        )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("izin", actor=OFFICER).instance_id
    if kind == "signal":
        engine.signal("darurat")
    else:
        engine.complete(started, "telaah_hukum", actor=OFFICER)
    assert open_tasks(engine, started) == ["tindak"]


def racing() -> ProcessDefinition:
    return load(
        doc(
            "balas",
            '<bpmn:startEvent id="start"/><bpmn:eventBasedGateway id="mana_dulu"/>'
            '<bpmn:intermediateCatchEvent id="balasan">'
            '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:intermediateCatchEvent>'
            '<bpmn:intermediateCatchEvent id="tenggat">'
            + timer("timeDuration", "P3D")
            + "</bpmn:intermediateCatchEvent>"
            '<bpmn:userTask id="proses_balasan"/><bpmn:userTask id="surati_ulang"/>'
            '<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>'
            + flows("start", "mana_dulu")
            + flows("mana_dulu", "balasan", "proses_balasan", "end_a", prefix="a")
            + flows("mana_dulu", "tenggat", "surati_ulang", "end_b", prefix="b"),
            message("m1", "balasan_dinas"),
        )
    )


def test_event_gateway_message_wins_and_the_timer_is_withdrawn(
    store: Store, clock: FakeClock
) -> None:
    """13.4.5: the message comes first: its path is taken, the timer's job is gone in
    the same transaction and never fires."""
    engine = Engine(ListCatalog(racing()), store, clock=clock)
    started = engine.start("balas", actor=OFFICER).instance_id
    assert sorted(j.node for j in engine.jobs(instance_id=started)) == ["balasan", "tenggat"]
    clock.advance(days=2)
    engine.correlate("balasan_dinas", instance_id=started)
    assert engine.jobs(instance_id=started) == []
    clock.advance(days=5)
    assert engine.run_due() == 0
    assert open_tasks(engine, started) == ["proses_balasan"]


def test_event_gateway_timer_wins_and_a_late_message_is_refused(
    store: Store, clock: FakeClock
) -> None:
    engine = Engine(ListCatalog(racing()), store, clock=clock)
    started = engine.start("balas", actor=OFFICER).instance_id
    clock.advance(days=3)
    assert engine.run_due() == 1
    assert open_tasks(engine, started) == ["surati_ulang"]
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("balasan_dinas", instance_id=started)
    waits = [(w.node, w.outcome) for w in engine.status(started).waits if w.node == "mana_dulu"]
    assert waits == [("mana_dulu", "fired tenggat")]


def test_event_subprocess_of_a_subprocess_waits_only_while_it_runs(
    store: Store, clock: FakeClock
) -> None:
    """13.5.4: an event subprocess belongs to its scope: a non-interrupting message
    event subprocess of an embedded subprocess fires while it runs (the subprocess then
    ends when both are done), and its subscription is gone once the subprocess is."""
    definition = load(
        doc(
            "dalam",
            '<bpmn:startEvent id="start"/><bpmn:subProcess id="olah">'
            '<bpmn:startEvent id="s1"/><bpmn:userTask id="kerja"/><bpmn:endEvent id="e1"/>'
            + flows("s1", "kerja", "e1")
            + esp('<bpmn:messageEventDefinition messageRef="m1"/>', interrupting=False)
            + '</bpmn:subProcess><bpmn:userTask id="sesudah"/><bpmn:endEvent id="end"/>'
            + flows("start", "olah", "sesudah", "end"),
            message("m1", "catatan_tambahan"),
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("dalam", actor=OFFICER).instance_id
    engine.correlate("catatan_tambahan", instance_id=started)
    assert open_tasks(engine, started) == ["kerja", "tindak"]
    engine.complete(started, "kerja", actor=OFFICER)
    assert open_tasks(engine, started) == ["tindak"]
    engine.complete(started, "tindak", actor=OFFICER)
    assert open_tasks(engine, started) == ["sesudah"]
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("catatan_tambahan", instance_id=started)
    assert engine.jobs(instance_id=started) == []


def test_a_second_event_subprocess_does_not_start_after_an_interrupting_one(
    store: Store, clock: FakeClock
) -> None:
    """13.5.4: once an interrupting event subprocess runs, its scope is ending."""
    second = (
        '<bpmn:subProcess id="kedua" triggeredByEvent="true">'
        '<bpmn:startEvent id="picu2"><bpmn:signalEventDefinition signalRef="s1"/>'
        '</bpmn:startEvent><bpmn:userTask id="tindak2"/><bpmn:endEvent id="e2"/>'
        + flows("picu2", "tindak2", "e2")
        + "</bpmn:subProcess>"
    )
    definition = parallel_with(
        esp(WITHDRAWN) + second, message("m1", "permohonan_dicabut") + signal("s1", "darurat")
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("izin", actor=OFFICER).instance_id
    engine.correlate("permohonan_dicabut", instance_id=started)
    engine.signal("darurat")
    assert open_tasks(engine, started) == ["tindak"]


def test_escalation_event_subprocess_runs_beside_the_thrower(
    store: Store, clock: FakeClock
) -> None:
    """13.5.4: an escalation thrown in the process starts its non-interrupting
    escalation event subprocess; the thrower goes on."""
    definition = load(
        doc(
            "naik",
            '<bpmn:startEvent id="start"/><bpmn:intermediateThrowEvent id="lapor">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:intermediateThrowEvent>'
            '<bpmn:userTask id="lanjut"/><bpmn:endEvent id="end"/>'
            + flows("start", "lapor", "lanjut", "end")
            + esp('<bpmn:escalationEventDefinition escalationRef="x1"/>', interrupting=False),
            escalation("x1", "PERHATIAN_CAMAT"),
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    started = engine.start("naik", actor=OFFICER).instance_id
    assert open_tasks(engine, started) == ["lanjut", "tindak"]
