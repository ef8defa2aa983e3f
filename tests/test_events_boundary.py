"""Boundary events (BPMN 2.0 10.5.4 and 13.5.3).

13.5.3: the event occurrence is consumed; with cancelActivity the activity it is
attached to is cancelled ("in case of a multi-instance, all its instances are
cancelled"), without it the activity goes on; then the token follows the boundary
event's flow. Timers are the jobs branch's timer jobs, measured on the work calendar
for waktu; they wait with the activity and go when it ends.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from _events_bpmn import OFFICER, doc, escalation, flows, load, message, timer
from conftest import ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import MessageNotCorrelatedError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

WIB = ZoneInfo("Asia/Jakarta")
SCRIPT = "<bpmn:script>dijalankan oleh handler</bpmn:script>"


def engine_for(store: Store, clock: FakeClock, *definitions: ProcessDefinition) -> Engine:
    def remind(data: dict[str, object]) -> dict[str, object]:
        count = data.get("pengingat", 0)
        assert isinstance(count, int)
        return {"pengingat": count + 1}

    return Engine(
        ListCatalog(*definitions), store, clock=clock, script_handlers={"ingatkan": remind}
    )


def open_tasks(engine: Engine, instance_id: str) -> list[str]:
    return sorted(w.task_id for w in engine.work_list(instance_id=instance_id))


def reminders(cycle: str = "R3/PT1H") -> ProcessDefinition:
    """periksa (Sekcam checks the draft) with a non-interrupting reminder cycle."""
    return load(
        doc(
            "p",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="periksa"/>'
            '<bpmn:boundaryEvent id="pengingat" attachedToRef="periksa" cancelActivity="false">'
            + timer("timeCycle", cycle)
            + "</bpmn:boundaryEvent>"
            f'<bpmn:scriptTask id="ingatkan">{SCRIPT}</bpmn:scriptTask>'
            '<bpmn:endEvent id="diingatkan"/><bpmn:endEvent id="end"/>'
            + flows("start", "periksa", "end")
            + flows("pengingat", "ingatkan", "diingatkan"),
        )
    )


def test_non_interrupting_timer_cycle_fires_three_reminders(store: Store, clock: FakeClock) -> None:
    """13.5.3: a non-interrupting timer leaves a token each time it fires and the user
    task stays open; R3/PT1H fires exactly three times, then never again."""
    engine = engine_for(store, clock, reminders())
    started = engine.start("p", actor=OFFICER).instance_id
    fired = []
    for _ in range(5):
        clock.advance(hours=1)
        fired.append(engine.run_due())
    assert fired == [1, 1, 1, 0, 0]
    assert engine.status(started).data["pengingat"] == 3
    assert open_tasks(engine, started) == ["periksa"]
    assert engine.jobs(instance_id=started) == []


def test_reminder_jobs_go_when_the_task_is_done(store: Store, clock: FakeClock) -> None:
    """The boundary timer waits with its activity: completing the task withdraws it in
    the same transaction, and the instance completes without a reminder."""
    engine = engine_for(store, clock, reminders())
    started = engine.start("p", actor=OFFICER).instance_id
    [job] = engine.jobs(instance_id=started)
    assert (job.kind, job.node) == ("timer", "pengingat")
    engine.complete(started, "periksa", actor=OFFICER)
    assert engine.jobs(instance_id=started) == []
    clock.advance(hours=5)
    assert engine.run_due() == 0
    assert engine.status(started).status == "completed"
    assert "pengingat" not in engine.status(started).data


def escalating() -> ProcessDefinition:
    """The SOP escalation: the Sekcam checks within 2 hari kerja, else the Camat does."""
    return load(
        doc(
            "eskalasi",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="periksa_sekcam"/>'
            '<bpmn:boundaryEvent id="lewat_waktu" attachedToRef="periksa_sekcam">'
            + timer("timeDuration", "2 hari kerja")
            + "</bpmn:boundaryEvent>"
            '<bpmn:userTask id="periksa_camat"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_camat"/>'
            + flows("start", "periksa_sekcam", "end")
            + flows("lewat_waktu", "periksa_camat", "end_camat"),
        )
    )


def test_interrupting_waktu_timer_cancels_the_step_and_escalates(
    store: Store, clock: FakeClock
) -> None:
    """13.5.3 interrupting: the Sekcam's step is closed as cancelled, with the boundary
    event as its reason, and the Camat's step opens; "2 hari kerja" from Friday 15
    August 2025 10:00 is Wednesday 20 August 10:00 (weekend, 17 Agustus and the cuti
    bersama of the 18th are not working days)."""
    clock.set(datetime(2025, 8, 15, 10, 0, tzinfo=WIB))
    engine = engine_for(store, clock, escalating())
    started = engine.start("eskalasi", actor=OFFICER).instance_id
    clock.set(datetime(2025, 8, 20, 9, 59, tzinfo=WIB))
    assert engine.run_due() == 0
    clock.set(datetime(2025, 8, 20, 10, 0, tzinfo=WIB))
    assert engine.run_due() == 1
    assert open_tasks(engine, started) == ["periksa_camat"]
    [sekcam] = [h for h in engine.history(started) if h.task_id == "periksa_sekcam"]
    assert sekcam.outcome == "cancelled"
    assert sekcam.reason is not None and "lewat_waktu" in sekcam.reason
    assert engine.jobs(instance_id=started) == []


def test_interrupting_timer_on_a_multi_instance_subprocess_ends_every_instance(
    store: Store, clock: FakeClock
) -> None:
    """13.5.3 with 13.3.7: a boundary event on a multi-instance activity belongs to the
    whole activity: its firing cancels the open step of every instance at once."""
    definition = load(
        doc(
            "mi",
            '<bpmn:startEvent id="start"/>'
            '<bpmn:subProcess id="per_desa">'
            '<bpmn:multiInstanceLoopCharacteristics camunda:collection="desa" '
            'camunda:elementVariable="nama_desa"/>'
            '<bpmn:startEvent id="s_in"/><bpmn:userTask id="verifikasi"/>'
            '<bpmn:endEvent id="e_in"/>'
            + flows("s_in", "verifikasi", "e_in")
            + "</bpmn:subProcess>"
            '<bpmn:boundaryEvent id="batas" attachedToRef="per_desa">'
            + timer("timeDuration", "PT4H")
            + "</bpmn:boundaryEvent>"
            '<bpmn:userTask id="tindak_lanjut"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_batas"/>'
            + flows("start", "per_desa", "end")
            + flows("batas", "tindak_lanjut", "end_batas"),
        )
    )
    engine = engine_for(store, clock, definition)
    started = engine.start("mi", actor=OFFICER, data={"desa": ["a", "b", "c"]}).instance_id
    engine.complete(started, "verifikasi", actor=OFFICER, item="a")
    assert open_tasks(engine, started) == ["verifikasi", "verifikasi"]
    [job] = engine.jobs(instance_id=started)  # one timer for the whole activity
    assert job.node == "batas"
    clock.advance(hours=4)
    assert engine.run_due() == 1
    assert open_tasks(engine, started) == ["tindak_lanjut"]
    closed = sorted(
        (h.item, h.outcome) for h in engine.history(started) if h.task_id == "verifikasi"
    )
    assert closed == [("a", "completed"), ("b", "cancelled"), ("c", "cancelled")]
    engine.complete(started, "tindak_lanjut", actor=OFFICER)
    assert engine.status(started).status == "completed"


def test_message_boundary_interrupts_and_signal_like_delivery_moves_on(
    store: Store, clock: FakeClock
) -> None:
    """10.5.4: a message boundary event on a user task; the correlation cancels the
    step and the token leaves by the boundary's flow."""
    definition = load(
        doc(
            "tarik",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="proses"/>'
            '<bpmn:boundaryEvent id="ditarik" attachedToRef="proses">'
            '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:boundaryEvent>'
            '<bpmn:endEvent id="end"/><bpmn:endEvent id="batal"/>'
            + flows("start", "proses", "end")
            + flows("ditarik", "batal"),
            message("m1", "permohonan_ditarik"),
        )
    )
    engine = engine_for(store, clock, definition)
    started = engine.start("tarik", actor=OFFICER).instance_id
    engine.correlate("permohonan_ditarik", instance_id=started, data={"alasan": "salah isi"})
    view = engine.status(started)
    assert view.status == "completed" and view.data["alasan"] == "salah isi"
    [step] = engine.history(started)
    assert step.outcome == "cancelled"


def test_escalation_caught_non_interrupting_on_the_subprocess(
    store: Store, clock: FakeClock
) -> None:
    """10.5.6 / 13.5.3: an escalation thrown inside a subprocess reaches a
    non-interrupting boundary event on it; the subprocess goes on with its own flow."""
    definition = load(
        doc(
            "esk",
            '<bpmn:startEvent id="start"/>'
            '<bpmn:subProcess id="olah"><bpmn:startEvent id="s_in"/>'
            '<bpmn:intermediateThrowEvent id="lapor">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:intermediateThrowEvent>'
            '<bpmn:userTask id="lanjut"/><bpmn:endEvent id="e_in"/>'
            + flows("s_in", "lapor", "lanjut", "e_in")
            + "</bpmn:subProcess>"
            '<bpmn:boundaryEvent id="atasan" attachedToRef="olah" cancelActivity="false">'
            '<bpmn:escalationEventDefinition escalationRef="x1"/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="beri_tahu_camat"/><bpmn:endEvent id="end"/>'
            '<bpmn:endEvent id="end_x"/>'
            + flows("start", "olah", "end")
            + flows("atasan", "beri_tahu_camat", "end_x"),
            escalation("x1", "PERLU_CAMAT"),
        )
    )
    engine = engine_for(store, clock, definition)
    started = engine.start("esk", actor=OFFICER).instance_id
    assert open_tasks(engine, started) == ["beri_tahu_camat", "lanjut"]
    engine.complete(started, "lanjut", actor=OFFICER)
    engine.complete(started, "beri_tahu_camat", actor=OFFICER)
    assert engine.status(started).status == "completed"


def test_state_stays_flat_over_passes_with_a_boundary_timer(store: Store, clock: FakeClock) -> None:
    """Flat cost: a returned step with a boundary timer, forty passes: the stored state
    does not grow and exactly one timer job waits at any time."""
    definition = load(
        doc(
            "ulang",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="periksa"/>'
            '<bpmn:boundaryEvent id="batas" attachedToRef="periksa">'
            + timer("timeDuration", "P1D")
            + "</bpmn:boundaryEvent>"
            '<bpmn:exclusiveGateway id="ok" default="f_ya"/>'
            '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_batas"/>'
            + flows("start", "periksa", "ok")
            + '<bpmn:sequenceFlow id="f_ya" sourceRef="ok" targetRef="end"/>'
            '<bpmn:sequenceFlow id="f_ulang" sourceRef="ok" targetRef="periksa">'
            "<bpmn:conditionExpression>ulang</bpmn:conditionExpression></bpmn:sequenceFlow>"
            + flows("batas", "end_batas"),
        )
    )
    engine = engine_for(store, clock, definition)
    started = engine.start("ulang", actor=OFFICER).instance_id
    sizes = set()
    for _ in range(40):
        engine.complete(started, "periksa", actor=OFFICER, data={"ulang": True})
        sizes.add(len(store.load_instance(started).state))
        assert len(engine.jobs(instance_id=started)) == 1
    assert len(sizes) == 1


def test_non_interrupting_message_boundary_keeps_waiting(store: Store, clock: FakeClock) -> None:
    """13.5.3: each message to a non-interrupting boundary sends a token; the activity
    and the boundary's subscription stay until the activity ends."""
    definition = load(
        doc(
            "tanya",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="proses"/>'
            '<bpmn:boundaryEvent id="ditanya" attachedToRef="proses" cancelActivity="false">'
            '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:boundaryEvent>'
            '<bpmn:userTask id="jawab"/><bpmn:endEvent id="end"/><bpmn:endEvent id="end_j"/>'
            + flows("start", "proses", "end")
            + flows("ditanya", "jawab", "end_j"),
            message("m1", "pertanyaan_pemohon"),
        )
    )
    engine = engine_for(store, clock, definition)
    started = engine.start("tanya", actor=OFFICER).instance_id
    for _ in range(2):
        engine.correlate("pertanyaan_pemohon", instance_id=started)
    assert open_tasks(engine, started) == ["jawab", "jawab", "proses"]
    engine.complete(started, "proses", actor=OFFICER)
    assert engine.jobs(instance_id=started) == []
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("pertanyaan_pemohon", instance_id=started)
