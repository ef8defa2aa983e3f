"""Message payloads and correlation properties (BPMN 2.0 8.4.3, 8.4.7, 13.5.1, 13.5.2).

A throw event's payload is evaluated on the thrower's data when it throws; the catch
receives exactly that payload, into its ``messageVariable`` when it names one, else
merged into its data. Correlation properties (8.4.7) decide which waiting instance a
message belongs to: the one whose conversation values equal the message's. Payloads
are written in SpiffArena's ``spiffworkflow:messagePayload`` or SpiffWorkflow's camunda
dialect (``camunda:expression``); either way they are the safe expression language,
checked at load, never evaluated as code.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from _events_bpmn import BPMN, OFFICER, load
from conftest import ListCatalog
from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import (
    DefinitionError,
    ExpressionError,
    MessageAmbiguousError,
    MessageNotCorrelatedError,
    TaskDataError,
)
from sopflow.events.payloads import compile_path, compile_payload
from sopflow.runtime.engine import Engine
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

FIXTURES = Path(__file__).parent / "fixtures" / "bpmn" / "messages"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


def pair(store: Store, clock: FakeClock) -> Engine:
    """The letter and its reply: pengirim throws surat_masuk and waits for
    balasan_surat; penerima starts on surat_masuk and replies."""
    sender = load_definition(FIXTURES / "surat_pengirim.bpmn")
    receiver = load_definition(FIXTURES / "surat_penerima.bpmn")
    return Engine(ListCatalog(sender, receiver), store, clock=clock)


def send(engine: Engine, nomor: str) -> str:
    data = {"nomor_surat": nomor, "perihal": f"izin {nomor}", "rahasia": "jangan dikirim"}
    instance = engine.start("pengirim", actor=OFFICER, data=data).instance_id
    engine.complete(instance, "isi", actor=OFFICER)
    return instance


def receivers(engine: Engine) -> dict[str, str]:
    """nomor surat -> the penerima instance that holds it."""
    found = {}
    for item in engine.work_list():
        if item.task_id == "proses":
            found[engine.status(item.instance_id).data["surat"]["nomor"]] = item.instance_id
    return found


def test_the_catch_receives_exactly_the_payload_in_its_variable(
    store: Store, clock: FakeClock
) -> None:
    """13.5.1: the payload is evaluated on the thrower's data when it throws; 13.5.2:
    the message start event keeps it in its messageVariable, and nothing else of the
    thrower's data (``rahasia``) reaches the receiver."""
    engine = pair(store, clock)
    send(engine, "001")
    (receiver,) = receivers(engine).values()
    assert engine.status(receiver).data == {"surat": {"nomor": "001", "perihal": "izin 001"}}


def test_the_reply_goes_to_the_instance_of_its_conversation(store: Store, clock: FakeClock) -> None:
    """8.4.7: two senders wait for balasan_surat; the reply for letter 002 carries
    surat['nomor'] == '002' and reaches only the sender that sent 002 (without the
    correlation property both would match and the throw would be ambiguous)."""
    engine = pair(store, clock)
    senders = {nomor: send(engine, nomor) for nomor in ("001", "002")}
    held = receivers(engine)
    engine.complete(held["002"], "proses", actor=OFFICER, data={"keputusan": "setuju"})
    reply = engine.status(senders["002"]).data["balasan"]
    assert reply == {"surat": {"nomor": "002"}, "keputusan": "setuju"}
    assert [w.task_id for w in engine.work_list(instance_id=senders["002"])] == ["baca"]
    assert "balasan" not in engine.status(senders["001"]).data
    engine.complete(held["001"], "proses", actor=OFFICER, data={"keputusan": "tolak"})
    assert engine.status(senders["001"]).data["balasan"]["keputusan"] == "tolak"


def test_correlate_from_outside_uses_the_correlation_properties(
    store: Store, clock: FakeClock
) -> None:
    """8.4.7 for a message from outside: its data are the payload, its correlation
    values are read from them; a reply for a letter nobody sent reaches no one."""
    engine = pair(store, clock)
    senders = {nomor: send(engine, nomor) for nomor in ("001", "002")}
    reached = engine.correlate(
        "balasan_surat", data={"surat": {"nomor": "001"}, "keputusan": "setuju"}
    )
    assert reached.instances == (senders["001"],)
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("balasan_surat", data={"surat": {"nomor": "999"}})
    assert "balasan" not in engine.status(senders["002"]).data


def test_a_message_without_the_correlation_value_belongs_to_no_conversation(
    store: Store, clock: FakeClock
) -> None:
    """8.4.7: the senders remember nomor_surat; a reply that carries no value for it
    cannot be matched to either conversation and is refused, nothing changed."""
    engine = pair(store, clock)
    first = send(engine, "001")
    send(engine, "002")
    before = store.load_instance(first).revision
    with pytest.raises(MessageNotCorrelatedError):
        engine.correlate("balasan_surat", data={"keputusan": "setuju"})
    assert store.load_instance(first).revision == before


def test_catches_without_correlation_properties_stay_ambiguous(
    store: Store, clock: FakeClock
) -> None:
    """Without correlation properties two waiting catches of one message are two
    receivers for a message that has one (13.5.2): MessageAmbiguousError."""
    engine = Engine(ListCatalog(load(catcher(), "staf.bpmn")), store, clock=clock)
    for _ in range(2):
        engine.start("staf", actor=OFFICER)
    with pytest.raises(MessageAmbiguousError):
        engine.correlate("keputusan", data={"a": 1})


# ------------------------------------------------------------------ camunda dialect

_HEAD = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="{BPMN}" '
    f'xmlns:camunda="{CAMUNDA}" xmlns:spiffworkflow="{SPIFF}" id="d" '
    'targetNamespace="https://sopflow.id/bpmn"><bpmn:message id="m" name="keputusan"/>'
)


def _process(pid: str, nodes: str, chain: list[str]) -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in chain)
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(chain))
    )
    return (
        f'<bpmn:process id="{pid}" isExecutable="true"><bpmn:laneSet id="ls">'
        f'<bpmn:lane id="l" name="pelaksana">{refs}</bpmn:lane></bpmn:laneSet>'
        f"{nodes}{flows}</bpmn:process>"
    )


def thrower(definition: str) -> bytes:
    nodes = (
        '<bpmn:startEvent id="s"/><bpmn:userTask id="putus"/>'
        f'<bpmn:intermediateThrowEvent id="kirim">{definition}</bpmn:intermediateThrowEvent>'
        '<bpmn:endEvent id="e"/>'
    )
    return (_HEAD + _process("atasan", nodes, ["s", "putus", "kirim", "e"])).encode() + (
        b"</bpmn:definitions>"
    )


def catcher(definition: str = '<bpmn:messageEventDefinition messageRef="m"/>') -> bytes:
    nodes = (
        '<bpmn:startEvent id="s"/>'
        f'<bpmn:intermediateCatchEvent id="tunggu">{definition}</bpmn:intermediateCatchEvent>'
        '<bpmn:userTask id="lanjut"/><bpmn:endEvent id="e"/>'
    )
    return (_HEAD + _process("staf", nodes, ["s", "tunggu", "lanjut", "e"])).encode() + (
        b"</bpmn:definitions>"
    )


def run_pair(store: Store, clock: FakeClock, throw: bytes, catch: bytes) -> tuple[Engine, str, str]:
    engine = Engine(
        ListCatalog(load(throw, "atasan.bpmn"), load(catch, "staf.bpmn")), store, clock=clock
    )
    waiting = engine.start("staf", actor=OFFICER, data={"lama": 1}).instance_id
    boss = engine.start("atasan", actor=OFFICER, data={"disetujui": True}).instance_id
    return engine, waiting, boss


def test_camunda_dialect_payload_and_result_variable(store: Store, clock: FakeClock) -> None:
    """SpiffWorkflow's camunda dialect: camunda:expression on the throw's
    messageEventDefinition is the payload, camunda:resultVariable the field the catcher
    keeps it in (13.5.1/13.5.2)."""
    engine, waiting, boss = run_pair(
        store,
        clock,
        thrower(
            '<bpmn:messageEventDefinition messageRef="m" camunda:expression="disetujui" '
            'camunda:resultVariable="hasil"/>'
        ),
        catcher(),
    )
    engine.complete(boss, "putus", actor=OFFICER)
    assert engine.status(waiting).data == {"lama": 1, "hasil": True}


def test_a_dict_payload_without_variable_is_merged(store: Store, clock: FakeClock) -> None:
    """13.5.2: a catch that names no variable merges a dict payload into its data."""
    engine, waiting, boss = run_pair(
        store,
        clock,
        thrower(
            '<bpmn:messageEventDefinition messageRef="m"><bpmn:extensionElements>'
            "<spiffworkflow:messagePayload>{'ok': disetujui, 'catatan': 'lanjut' + '!'}"
            "</spiffworkflow:messagePayload></bpmn:extensionElements>"
            "</bpmn:messageEventDefinition>"
        ),
        catcher(),
    )
    engine.complete(boss, "putus", actor=OFFICER)
    assert engine.status(waiting).data == {"lama": 1, "ok": True, "catatan": "lanjut!"}


def test_a_value_payload_needs_a_variable_at_the_catch(store: Store, clock: FakeClock) -> None:
    """A payload that is not a dict has nowhere to go without a messageVariable: the
    throwing step is refused with a typed error and nothing is changed."""
    engine, waiting, boss = run_pair(
        store,
        clock,
        thrower('<bpmn:messageEventDefinition messageRef="m" camunda:expression="disetujui"/>'),
        catcher(),
    )
    before = store.load_instance(boss).revision
    with pytest.raises(TaskDataError, match="messageVariable"):
        engine.complete(boss, "putus", actor=OFFICER)
    assert store.load_instance(boss).revision == before
    assert engine.status(waiting).data == {"lama": 1}


def test_a_payload_reading_a_missing_field_refuses_the_throw(
    store: Store, clock: FakeClock
) -> None:
    """The payload is evaluated when the message is thrown: a name not in the data is a
    TaskDataError naming the message and the throw event, not a message with a hole."""
    engine, _waiting, boss = run_pair(
        store,
        clock,
        thrower(
            '<bpmn:messageEventDefinition messageRef="m"><bpmn:extensionElements>'
            "<spiffworkflow:messagePayload>{'x': tidak_ada}</spiffworkflow:messagePayload>"
            "</bpmn:extensionElements></bpmn:messageEventDefinition>"
        ),
        catcher(),
    )
    with pytest.raises(TaskDataError, match="tidak_ada") as caught:
        engine.complete(boss, "putus", actor=OFFICER)
    assert caught.value.task_id == "kirim"


# ------------------------------------------------------------------ refused at load

_SPIFF_THROW = (
    '<bpmn:messageEventDefinition messageRef="m"><bpmn:extensionElements>'
    "<spiffworkflow:messagePayload>{}</spiffworkflow:messagePayload>"
    "</bpmn:extensionElements></bpmn:messageEventDefinition>"
)

HOSTILE_PAYLOADS = [
    "__import__('os').system('id')",
    "{'a': open('/etc/passwd')}",
    "{'a': x.__class__}",
    "{'a': x.upper()}",
    "{**x}",
    "{1: x}",
    "{'a': x, 'a': y}",
    "{'a': [i for i in x]}",
    "{'a': lambda: 1}",
    "{'a': x[y]}",
    "{'a': f(x)['k']}",
    "{'a': x['k'].y}",
    "{'a': x[True]}",
    "{x, y}",
    "{'a': " * 40 + "1" + "}" * 40,
    "{" + ", ".join(f"'k{i}': {i}" for i in range(80)) + "}",
    "{'a': '" + "x" * 2000 + "'}",
    "{'a': x['" + "k" * 300 + "']}",
    "{'a': x" + "['k']" * 12 + "}",
    "{'a': 2 ** 10000}",
    "{'a': x} if True else {}",
]


@pytest.mark.parametrize("text", HOSTILE_PAYLOADS, ids=range(len(HOSTILE_PAYLOADS)))
def test_hostile_payloads_are_refused_at_load_with_the_element_named(text: str) -> None:
    """Anything outside the safe language refuses the file, naming the throw event;
    nothing in the text is executed (no eval, no attribute access, no calls)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    with pytest.raises(DefinitionError) as caught:
        load(thrower(_SPIFF_THROW.replace("{}", escaped)), "atasan.bpmn")
    assert "kirim" in str(caught.value)


@pytest.mark.parametrize(
    "definition, words",
    [
        (
            '<bpmn:messageEventDefinition messageRef="m"><bpmn:extensionElements>'
            "<spiffworkflow:messageVariable>hasil</spiffworkflow:messageVariable>"
            "</bpmn:extensionElements></bpmn:messageEventDefinition>",
            "throws",
        ),
        (
            '<bpmn:messageEventDefinition messageRef="m" camunda:resultVariable="a b" '
            'camunda:expression="x"/>',
            "field name",
        ),
        (
            '<bpmn:messageEventDefinition messageRef="m" camunda:expression="${bean.kirim()}"/>',
            "payload",
        ),
    ],
)
def test_misplaced_or_bad_message_parts_are_refused(definition: str, words: str) -> None:
    """13.5.1/13.5.2: a variable belongs to a catch, a payload to a throw; a variable is
    a field name; a JUEL bean call is not in the subset."""
    with pytest.raises(DefinitionError, match=words) as caught:
        load(thrower(definition), "atasan.bpmn")
    assert "kirim" in str(caught.value)


def test_a_payload_on_a_catch_is_refused() -> None:
    """A payload is evaluated where the message is thrown (13.5.1), never at a catch."""
    with pytest.raises(DefinitionError, match="thrown") as caught:
        load(catcher(_SPIFF_THROW.replace("{}", "{'a': 1}")), "staf.bpmn")
    assert "tunggu" in str(caught.value)


def test_a_payload_on_a_user_task_is_refused() -> None:
    """The extension is honoured on message events and receive tasks only."""
    data = catcher().replace(
        b'<bpmn:userTask id="lanjut"/>',
        b'<bpmn:userTask id="lanjut"><bpmn:extensionElements><spiffworkflow:messagePayload>'
        b"{'a': 1}</spiffworkflow:messagePayload></bpmn:extensionElements></bpmn:userTask>",
    )
    with pytest.raises(DefinitionError, match="message events") as caught:
        load(data, "staf.bpmn")
    assert "lanjut" in str(caught.value)


@pytest.mark.parametrize("path", ["surat.nomor", "__class__", "f(x)", "x[y]", "x + 1", ""])
def test_hostile_retrieval_expressions_are_refused(path: str) -> None:
    """8.4.7: a messagePath is a name or name['key'], nothing else."""
    data = (FIXTURES / "surat_pengirim.bpmn").read_bytes()
    data = data.replace(b"<bpmn:messagePath>nomor<", f"<bpmn:messagePath>{path}<".encode())
    with pytest.raises(DefinitionError, match="messagePath") as caught:
        load_definition_bytes(data, source="pengirim.bpmn")
    assert "kirim" in str(caught.value)


# ------------------------------------------------------------------ the language


@pytest.mark.parametrize("text", [*HOSTILE_PAYLOADS, "{'a': \x00}", "", "   ", "{'a': '\ud800'}"])
def test_hostile_payload_texts_raise_expression_error(text: str) -> None:
    """The parser itself, without the XML around it: every refusal is ExpressionError."""
    with pytest.raises(ExpressionError):
        compile_payload(text)


def test_payload_values_paths_and_nesting() -> None:
    """Values are the safe language, or paths with literal keys through dicts and
    lists; dicts nest."""
    payload = compile_payload("{'a': x['k'][1], 'b': {'c': n + 1}, 'd': 'teks', 'e': n > 1}")
    data = {"x": {"k": [10, 20]}, "n": 2}
    assert payload.evaluate(data) == {"a": 20, "b": {"c": 3}, "d": "teks", "e": True}
    assert compile_payload("x['k']").evaluate(data) == [10, 20]
    assert compile_path("x['k'][0]").evaluate(data) == 10


@pytest.mark.parametrize(
    "text, data",
    [("x['k']", {"x": {}}), ("x['k']", {"x": "teks"}), ("x[5]", {"x": [1]}), ("x", {})],
)
def test_a_path_to_nothing_is_an_error(text: str, data: dict[str, object]) -> None:
    with pytest.raises(ExpressionError):
        compile_path(text).evaluate(data)


def _definition(pid: str) -> ProcessDefinition:
    return load_definition(FIXTURES / f"surat_{pid}.bpmn")


def test_the_loaded_events_carry_payload_variable_and_correlation() -> None:
    """What the loader read (8.4.3/8.4.7), for `sopflow show` and the runtime."""
    sender = _definition("pengirim")
    kirim, tunggu = sender.nodes["kirim"].event, sender.nodes["tunggu"].event
    assert kirim is not None and tunggu is not None
    assert kirim.payload == "{'nomor': nomor_surat, 'perihal': perihal}"
    assert kirim.correlation == (("nomor_surat", "nomor"),)
    assert tunggu.variable == "balasan"
    assert tunggu.correlation == (("nomor_surat", "surat['nomor']"),)
