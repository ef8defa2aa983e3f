"""Instances a start event begins belong to a unit (issue 13: every instance belongs to a
unit; BPMN 2.0 13.5.1 / 10.5.2 message, signal and timer start events).

No person starts them, so no holding is checked; the unit is the one the delivering call
names (``unit=``), else the process's default, the rule ``start`` follows (the SOP's
kecamatan). With a directory and no unit to decide, the call is refused with a typed
error and nothing is stored. Without a directory (trusted-caller mode) nothing changes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from _events_bpmn import doc, flows, message, signal, timer
from _staff import PACE, PBG, STAFF
from _stores import store_url_fixture  # noqa: F401  (fixture)
from conftest import ListCatalog
from sopflow.authority.io import parse_directory
from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import DirectoryError
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

_PROPS = (
    "<bpmn:extensionElements><camunda:properties>"
    '<camunda:property name="kecamatan" value="{kecamatan}"/>'
    "</camunda:properties></bpmn:extensionElements>"
)


def _started_by(definition: str, kecamatan: str | None) -> bytes:
    body = (
        f'<bpmn:startEvent id="mulai">{definition}</bpmn:startEvent>'
        '<bpmn:userTask id="susun" name="Rekap laporan"/>'
        '<bpmn:endEvent id="end"/>' + flows("mulai", "susun", "end")
    )
    roots = message("m1", "disposisi") + signal("s1", "rapat")
    data = doc("rekap", body, roots)
    if kecamatan is not None:
        props = _PROPS.format(kecamatan=kecamatan).encode()
        data = data.replace(b'isExecutable="true">', b'isExecutable="true">' + props, 1)
    return data


def _engine(
    store: Store, clock: FakeClock, definition: str, kecamatan: str | None, staffed: bool = True
) -> Engine:
    if staffed:
        store.import_directory(parse_directory(STAFF))  # type: ignore[attr-defined]
    return Engine(ListCatalog(_load(_started_by(definition, kecamatan))), store, clock=clock)


MESSAGE = '<bpmn:messageEventDefinition messageRef="m1"/>'
SIGNAL = '<bpmn:signalEventDefinition signalRef="s1"/>'


@pytest.fixture
def sql_store(store_url: str) -> Store:
    return open_store(store_url)


def test_message_start_takes_the_sops_kecamatan(sql_store: Store, clock: FakeClock) -> None:
    """Without unit=, a message start event's instance gets the SOP's kecamatan, as
    ``start`` would give it (issue 13; BPMN 2.0 10.5.4 message start)."""
    engine = _engine(sql_store, clock, MESSAGE, "Purbalingga")
    [started] = engine.correlate("disposisi").started
    assert sql_store.instance_unit(started) == PBG  # type: ignore[attr-defined]


def test_message_and_signal_start_take_the_unit_named(sql_store: Store, clock: FakeClock) -> None:
    """``unit=`` names the unit of the instance a start event begins, over the default."""
    engine = _engine(sql_store, clock, MESSAGE, "Purbalingga")
    [started] = engine.correlate("disposisi", unit=PACE).started
    assert sql_store.instance_unit(started) == PACE  # type: ignore[attr-defined]
    signalled = Engine(
        ListCatalog(_load(_started_by(SIGNAL, "Purbalingga"))), sql_store, clock=clock
    )
    [begun] = signalled.signal("rapat", unit=PACE).started
    assert sql_store.instance_unit(begun) == PACE  # type: ignore[attr-defined]


def _load(data: bytes) -> ProcessDefinition:
    return load_definition_bytes(data, source="rekap.bpmn")


def test_no_unit_to_decide_is_refused_and_nothing_stored(
    sql_store: Store, clock: FakeClock
) -> None:
    """An SOP whose kecamatan is not in the directory, and no unit= : DirectoryError, no
    instance (issue 13: with a directory every instance belongs to a unit)."""
    engine = _engine(sql_store, clock, MESSAGE, "Cibatu")
    with pytest.raises(DirectoryError, match="unit"):
        engine.correlate("disposisi")
    with pytest.raises(DirectoryError, match="not in the directory"):
        engine.correlate("disposisi", unit="99.99.99")
    assert sql_store.instances(process_id="rekap") == []


def test_timer_start_takes_the_sops_kecamatan(sql_store: Store, clock: FakeClock) -> None:
    """A timer start event (BPMN 2.0 10.5.2) starts its instance in the default unit."""
    engine = _engine(sql_store, clock, timer("timeCycle", "R1/PT1H"), "Purbalingga")
    engine.run_due()
    assert engine.run_due(clock.now() + timedelta(hours=1)) == 1
    [instance] = sql_store.instances(process_id="rekap")
    assert sql_store.instance_unit(instance.instance_id) == PBG  # type: ignore[attr-defined]


def test_trusted_caller_mode_keeps_starting_without_a_unit(store: Store, clock: FakeClock) -> None:
    """Without a directory an instance needs no unit: a message start works as before,
    and a unit= given is kept as given."""
    engine = _engine(store, clock, MESSAGE, None, staffed=False)
    assert len(engine.correlate("disposisi").started) == 1
    assert len(engine.correlate("disposisi", unit="33.03.05").started) == 1
