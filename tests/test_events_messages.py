"""Messages and signals (BPMN 2.0 10.5.4, 13.5.1 and 13.5.2).

A message has one receiver: ``engine.correlate`` delivers it to the one waiting catch
(intermediate catch, receive task, boundary, event-based gateway, event-subprocess
start) or starts an instance at a message start event; no receiver or several are a
typed error with nothing changed. A signal is broadcast to every waiting catch.
"""

from __future__ import annotations

import pytest

from _events_bpmn import OFFICER, doc, flows, load, message, signal
from conftest import ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import MessageAmbiguousError, MessageNotCorrelatedError, TaskDataError
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

DISPOSISI = message("m_disposisi", "disposisi_bupati")


def awaiting(pid: str = "surat", tag: str = "intermediateCatchEvent") -> ProcessDefinition:
    """catat (register the letter) -> wait for the Bupati's disposition -> tindak_lanjut."""
    if tag == "receiveTask":
        wait = '<bpmn:receiveTask id="tunggu" messageRef="m_disposisi"/>'
    else:
        wait = (
            '<bpmn:intermediateCatchEvent id="tunggu">'
            '<bpmn:messageEventDefinition messageRef="m_disposisi"/>'
            "</bpmn:intermediateCatchEvent>"
        )
    return load(
        doc(
            pid,
            '<bpmn:startEvent id="start"/><bpmn:userTask id="catat"/>'
            + wait
            + '<bpmn:userTask id="tindak_lanjut"/><bpmn:endEvent id="end"/>'
            + flows("start", "catat", "tunggu", "tindak_lanjut", "end"),
            DISPOSISI,
        )
    )


def engine_for(store: Store, clock: FakeClock, *definitions: ProcessDefinition) -> Engine:
    return Engine(ListCatalog(*definitions), store, clock=clock)


def open_tasks(engine: Engine, instance_id: str) -> list[str]:
    return sorted(w.task_id for w in engine.work_list(instance_id=instance_id))


@pytest.mark.parametrize("tag", ["intermediateCatchEvent", "receiveTask"])
def test_correlation_key_picks_the_waiting_instance(
    store: Store, clock: FakeClock, tag: str
) -> None:
    """13.5.2 / 10.3.3: the message reaches the instance whose data match the
    correlation; its data are merged; the other waiting instance is untouched."""
    engine = engine_for(store, clock, awaiting(tag=tag))
    ids = {}
    for nomor in ("001", "002"):
        ids[nomor] = engine.start("surat", actor=OFFICER, data={"nomor": nomor}).instance_id
        engine.complete(ids[nomor], "catat", actor=OFFICER)
    before = store.load_instance(ids["001"]).revision
    reached = engine.correlate(
        "disposisi_bupati", correlation={"nomor": "002"}, data={"disposisi": "segera"}
    )
    assert reached.instances == (ids["002"],)
    assert open_tasks(engine, ids["002"]) == ["tindak_lanjut"]
    assert engine.status(ids["002"]).data["disposisi"] == "segera"
    assert store.load_instance(ids["001"]).revision == before
    kinds = {w.kind for w in engine.status(ids["002"]).waits if w.node == "tunggu"}
    assert kinds == {"message" if tag == "intermediateCatchEvent" else "receive_task"}


def test_message_before_the_instance_waits_is_refused_and_nothing_is_stored(
    store: Store, clock: FakeClock
) -> None:
    """A message no one waits for is refused (Camunda's MismatchingMessageCorrelation):
    the instance, still at its first step, is exactly as it was."""
    engine = engine_for(store, clock, awaiting())
    started = engine.start("surat", actor=OFFICER, data={"nomor": "001"}).instance_id
    before = store.load_instance(started)
    audit = len(store.audit(started))
    with pytest.raises(MessageNotCorrelatedError, match="disposisi_bupati"):
        engine.correlate("disposisi_bupati", instance_id=started, data={"disposisi": "x"})
    assert store.load_instance(started) == before
    assert len(store.audit(started)) == audit
    engine.complete(started, "catat", actor=OFFICER)
    engine.correlate("disposisi_bupati", instance_id=started)
    assert open_tasks(engine, started) == ["tindak_lanjut"]


def test_several_matches_are_refused_unless_all(store: Store, clock: FakeClock) -> None:
    engine = engine_for(store, clock, awaiting())
    ids = []
    for _ in range(2):
        ids.append(engine.start("surat", actor=OFFICER).instance_id)
        engine.complete(ids[-1], "catat", actor=OFFICER)
    with pytest.raises(MessageAmbiguousError, match="2 catches"):
        engine.correlate("disposisi_bupati")
    assert all(open_tasks(engine, i) == [] for i in ids)
    assert sorted(engine.correlate("disposisi_bupati", all=True).instances) == sorted(ids)
    assert all(open_tasks(engine, i) == ["tindak_lanjut"] for i in ids)


def test_hostile_correlation_input_is_refused(store: Store, clock: FakeClock) -> None:
    engine = engine_for(store, clock, awaiting())
    with pytest.raises(TaskDataError):
        engine.correlate("  ")
    with pytest.raises(TaskDataError):
        engine.correlate("disposisi_bupati", data={"x": object()})  # type: ignore[dict-item]
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("tidak_ada")


def started_by_message() -> ProcessDefinition:
    return load(
        doc(
            "pengaduan",
            '<bpmn:startEvent id="masuk"><bpmn:messageEventDefinition messageRef="m_aduan"/>'
            '</bpmn:startEvent><bpmn:userTask id="telaah"/><bpmn:endEvent id="end"/>'
            + flows("masuk", "telaah", "end"),
            message("m_aduan", "aduan_masuk"),
        )
    )


def test_message_start_event_starts_an_instance_with_the_data(
    store: Store, clock: FakeClock
) -> None:
    """13.5.1: a message start event instantiates the process when its message comes."""
    engine = engine_for(store, clock, started_by_message())
    reached = engine.correlate("aduan_masuk", data={"pelapor": "budi"})
    [started] = reached.started
    assert reached.instances == ()
    assert engine.status(started).data == {"pelapor": "budi"}
    assert open_tasks(engine, started) == ["telaah"]


def test_a_message_thrown_in_the_catalog_reaches_its_catch(store: Store, clock: FakeClock) -> None:
    """10.5.4: a message end event of one process is delivered, in the same
    transaction, like ``correlate``: here it starts the complaint process."""
    sender = load(
        doc(
            "loket",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="terima"/>'
            '<bpmn:endEvent id="kirim"><bpmn:messageEventDefinition messageRef="m_aduan"/>'
            "</bpmn:endEvent>" + flows("start", "terima", "kirim"),
            message("m_aduan", "aduan_masuk"),
        ),
        name="loket.bpmn",
    )
    engine = engine_for(store, clock, sender, started_by_message())
    started = engine.start("loket", actor=OFFICER).instance_id
    engine.complete(started, "terima", actor=OFFICER, data={"pelapor": "sari"})
    [other] = [i for i in store.instances() if i.instance_id != started]
    assert engine.status(other.instance_id).data["pelapor"] == "sari"
    assert open_tasks(engine, other.instance_id) == ["telaah"]


def test_a_thrown_message_nobody_waits_for_fails_the_action(store: Store, clock: FakeClock) -> None:
    sender = load(
        doc(
            "loket",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="terima"/>'
            '<bpmn:endEvent id="kirim"><bpmn:messageEventDefinition messageRef="m_x"/>'
            "</bpmn:endEvent>" + flows("start", "terima", "kirim"),
            message("m_x", "tidak_ditunggu"),
        )
    )
    engine = engine_for(store, clock, sender)
    started = engine.start("loket", actor=OFFICER).instance_id
    with pytest.raises(MessageNotCorrelatedError):
        engine.complete(started, "terima", actor=OFFICER)
    assert open_tasks(engine, started) == ["terima"]


def signalled(pid: str) -> ProcessDefinition:
    return load(
        doc(
            pid,
            '<bpmn:startEvent id="start"/>'
            '<bpmn:intermediateCatchEvent id="tunggu">'
            '<bpmn:signalEventDefinition signalRef="s1"/></bpmn:intermediateCatchEvent>'
            '<bpmn:userTask id="lanjut"/><bpmn:endEvent id="end"/>'
            + flows("start", "tunggu", "lanjut", "end"),
            signal("s1", "anggaran_disahkan"),
        ),
        name=f"{pid}.bpmn",
    )


def test_signal_reaches_every_waiting_instance_and_signal_start_events(
    store: Store, clock: FakeClock
) -> None:
    """10.5.4: a signal is broadcast: every waiting catch fires, every signal start
    event starts an instance; a signal nobody waits for reaches nothing."""
    starter = load(
        doc(
            "rekap",
            '<bpmn:startEvent id="mulai"><bpmn:signalEventDefinition signalRef="s1"/>'
            '</bpmn:startEvent><bpmn:userTask id="susun"/><bpmn:endEvent id="end"/>'
            + flows("mulai", "susun", "end"),
            signal("s1", "anggaran_disahkan"),
        ),
        name="rekap.bpmn",
    )
    engine = engine_for(store, clock, signalled("a"), signalled("b"), starter)
    waiting = [engine.start(p, actor=OFFICER).instance_id for p in ("a", "b")]
    reached = engine.signal("anggaran_disahkan", {"tahun": 2026})
    assert sorted(reached.instances) == sorted(waiting)
    assert len(reached.started) == 1
    assert all(open_tasks(engine, i) == ["lanjut"] for i in waiting)
    assert engine.status(waiting[0]).data["tahun"] == 2026
    assert len(engine.signal("anggaran_disahkan")) == 1  # only the start event now
    assert len(engine.signal("tidak_ada")) == 0


def test_signal_throw_event_broadcasts_to_other_instances(store: Store, clock: FakeClock) -> None:
    thrower = load(
        doc(
            "umumkan",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="sahkan"/>'
            '<bpmn:intermediateThrowEvent id="siarkan">'
            '<bpmn:signalEventDefinition signalRef="s1"/></bpmn:intermediateThrowEvent>'
            '<bpmn:endEvent id="end"/>' + flows("start", "sahkan", "siarkan", "end"),
            signal("s1", "anggaran_disahkan"),
        ),
        name="umumkan.bpmn",
    )
    engine = engine_for(store, clock, signalled("a"), thrower)
    waiting = engine.start("a", actor=OFFICER).instance_id
    sender = engine.start("umumkan", actor=OFFICER).instance_id
    engine.complete(sender, "sahkan", actor=OFFICER)
    assert engine.status(sender).status == "completed"
    assert open_tasks(engine, waiting) == ["lanjut"]


def test_a_signal_thrown_reaches_the_throwing_instances_own_catches(
    store: Store, clock: FakeClock
) -> None:
    """10.5.4: a signal is for every catch, the thrower's own included: a parallel
    branch waiting for it goes on in the same action."""
    definition = load(
        doc(
            "sendiri",
            '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="bagi"/>'
            '<bpmn:userTask id="sahkan"/><bpmn:intermediateThrowEvent id="siarkan">'
            '<bpmn:signalEventDefinition signalRef="s1"/></bpmn:intermediateThrowEvent>'
            '<bpmn:intermediateCatchEvent id="tunggu">'
            '<bpmn:signalEventDefinition signalRef="s1"/></bpmn:intermediateCatchEvent>'
            '<bpmn:userTask id="umumkan"/><bpmn:parallelGateway id="gabung"/>'
            '<bpmn:endEvent id="end"/>'
            + flows("start", "bagi")
            + flows("bagi", "sahkan", "siarkan", "gabung", prefix="a")
            + flows("bagi", "tunggu", "umumkan", "gabung", prefix="b")
            + flows("gabung", "end"),
            signal("s1", "disahkan"),
        )
    )
    engine = engine_for(store, clock, definition)
    started = engine.start("sendiri", actor=OFFICER).instance_id
    assert open_tasks(engine, started) == ["sahkan"]
    engine.complete(started, "sahkan", actor=OFFICER)
    assert open_tasks(engine, started) == ["umumkan"]
    assert engine.jobs(instance_id=started) == []


def test_signal_boundary_events_interrupt_every_waiting_instance(
    store: Store, clock: FakeClock
) -> None:
    """13.5.3: a signal boundary event on a user task; one broadcast ends the step of
    every instance waiting there."""
    definition = load(
        doc(
            "layanan",
            '<bpmn:startEvent id="start"/><bpmn:userTask id="layani"/>'
            '<bpmn:boundaryEvent id="tutup" attachedToRef="layani">'
            '<bpmn:signalEventDefinition signalRef="s1"/></bpmn:boundaryEvent>'
            '<bpmn:endEvent id="end"/><bpmn:endEvent id="end_tutup"/>'
            + flows("start", "layani", "end")
            + flows("tutup", "end_tutup"),
            signal("s1", "kantor_tutup"),
        )
    )
    engine = engine_for(store, clock, definition)
    ids = [engine.start("layanan", actor=OFFICER).instance_id for _ in range(3)]
    assert len(engine.signal("kantor_tutup")) == 3
    assert {engine.status(i).status for i in ids} == {"completed"}
    assert {h.outcome for i in ids for h in engine.history(i)} == {"cancelled"}
