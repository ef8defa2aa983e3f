"""What one action costs on the wire to PostgreSQL: one transaction, at most three round trips.

On a network the time of an action is its round trips, not its statements (issue 14:
12 round trips and 3 transactions per completion before). These tests put a counting
TCP proxy between the store and the server and count, per action, how often the client
starts talking again after the server answered (a round trip), and how many BEGIN and
COMMIT the client sent. The counts are exact, not timed: the bound is guarded, not only
measured by the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from _stores import ENV, drop_schema, postgres_base, with_schema
from conftest import ListCatalog
from sopflow.definitions.model import ProcessDefinition
from sopflow.errors import ConflictError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores.postgres import split_url
from sopflow.testing import FakeClock

pytestmark = pytest.mark.postgres
STAF = Actor("budi", {"pelaksana"})


class WireCounter:
    """A TCP proxy that counts round trips and the transaction statements sent."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.trips = 0
        self.sent = bytearray()
        self._last = "server"
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.trips, self.sent, self._last = 0, bytearray(), "server"

    def count(self, word: bytes) -> int:
        with self.lock:
            return bytes(self.sent).count(word)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(
                target=self._pump, args=(client, server, "client"), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, "server"), daemon=True
            ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, side: str) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for sock in (src, dst):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                return
            with self.lock:
                if side == "client":
                    if self._last == "server":
                        self.trips += 1  # the client speaks again: a new round trip
                    self.sent += data
                self._last = side
            dst.sendall(data)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def wire() -> Iterator[tuple[WireCounter, str]]:
    base = postgres_base()
    url = with_schema(base, f"sopflow_test_{secrets.token_hex(6)}")
    parts = urlsplit(url)
    counter = WireCounter(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{counter.port}"
    netloc_via = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
    proxied = urlunsplit(
        (parts.scheme, netloc_via, parts.path, parts.query + "&sslmode=disable", "")
    )
    yield counter, proxied
    counter.close()
    drop_schema(url)


def _measure(counter: WireCounter, action: Any) -> tuple[int, int, int]:
    counter.reset()
    action()
    return counter.trips, counter.count(b"BEGIN"), counter.count(b"COMMIT")


@pytest.mark.skipif(not os.environ.get(ENV), reason=f"{ENV} not set")
def test_each_action_is_one_transaction_in_at_most_three_round_trips(
    wire: tuple[WireCounter, str], review_loop: ProcessDefinition, clock: FakeClock
) -> None:
    counter, url = wire
    store = open_store(url)
    # psycopg prepares a statement it has run 5 times and then sends only its name:
    # keep the text on the wire so BEGIN and COMMIT can be counted.
    store._conn.prepare_threshold = None  # type: ignore[attr-defined]
    engine = Engine(ListCatalog(review_loop), store, clock=clock)
    engine.start("review_loop", actor=STAF)  # stores the definition once, ahead of actions
    iid = ""

    def start() -> None:
        nonlocal iid
        iid = engine.start("review_loop", actor=STAF, data={"perihal": "LKjIP"}).instance_id

    measured = {
        "start": _measure(counter, start),
        "claim": _measure(counter, lambda: engine.claim(iid, 1, actor=STAF)),
        "release": _measure(counter, lambda: engine.release(iid, 1, actor=STAF)),
        "complete": _measure(counter, lambda: engine.complete(iid, 1, actor=STAF)),
        "cancel": _measure(counter, lambda: engine.cancel(iid, reason="salah", actor=STAF)),
    }
    store.close()
    for action, (trips, begins, commits) in measured.items():
        assert (begins, commits) == (1, 1), (action, measured)
        assert trips <= 3, (action, measured)
    # A start reads nothing first, but its batch is two round trips: the hash chain's
    # entries digest the rows as stored, with the ids the server gave them, so they are
    # computed from the first round trip's reads and sent with COMMIT (stores/_chain.py).
    assert measured["start"][0] == 2
    # An action on a step: its one read (instance + open steps), then the same two.
    assert measured["complete"][0] == 3
    # A cancel reads the instance and its children in one statement, then the same two.
    assert measured["cancel"][0] == 3


@pytest.mark.skipif(not os.environ.get(ENV), reason=f"{ENV} not set")
def test_reads_open_no_transaction(
    wire: tuple[WireCounter, str], review_loop: ProcessDefinition, clock: FakeClock
) -> None:
    counter, url = wire
    store = open_store(url)
    store._conn.prepare_threshold = None  # type: ignore[attr-defined]
    engine = Engine(ListCatalog(review_loop), store, clock=clock)
    iid = engine.start("review_loop", actor=STAF).instance_id
    for read in (
        lambda: store.load_with_open_steps(iid),
        lambda: store.open_steps(roles=["pelaksana"]),
        lambda: store.load_instance(iid),
    ):
        assert _measure(counter, read) == (1, 0, 0)
    store.close()


@pytest.mark.skipif(not os.environ.get(ENV), reason=f"{ENV} not set")
def test_a_conflict_found_in_the_batch_rolls_all_of_it_back(
    wire: tuple[WireCounter, str], review_loop: ProcessDefinition, clock: FakeClock
) -> None:
    """The revision guard is checked after the pipelined batch ran: nothing may remain."""
    from sopflow.stores.base import AuditRow, Change, NewStep

    url = wire[1]
    store = open_store(url)
    engine = Engine(ListCatalog(review_loop), store, clock=clock)
    iid = engine.start("review_loop", actor=STAF).instance_id
    row = store.load_instance(iid)
    engine.claim(iid, 1, actor=STAF)
    before = (store.steps(iid), store.audit(iid), store.load_instance(iid))
    stale = Change(
        instance_id=iid,
        expected_revision=row.revision,
        status="running",
        state=row.state,
        last_action_at=row.last_action_at,
        new_steps=[NewStep(task="step_02", step_no=2, role="sekcam", ready_at=row.started_at)],
        audit=[AuditRow(at=row.last_action_at, event="task.claimed", payload={})],
    )
    with pytest.raises(ConflictError, match=iid):
        store.apply(stale)
    assert (store.steps(iid), store.audit(iid), store.load_instance(iid)) == before
    store.close()


def test_the_url_query_reaches_libpq_as_written() -> None:
    """issue 14: ``options=-c%20synchronous_commit%3Doff`` became ``+synchronous_commit``."""
    dsn, own = split_url(
        "postgresql://u:pw@db:5432/app?options=-c%20synchronous_commit%3Doff"
        "&schema=sopflow&sslmode=require&synchronous_commit=off"
    )
    assert (
        dsn == "postgresql://u:pw@db:5432/app?options=-c%20synchronous_commit%3Doff&sslmode=require"
    )
    assert own == {"schema": "sopflow", "synchronous_commit": "off"}


@pytest.mark.skipif(not os.environ.get(ENV), reason=f"{ENV} not set")
def test_with_a_staff_directory_a_completion_costs_three_round_trips(
    wire: tuple[WireCounter, str], clock: FakeClock
) -> None:
    """The instance's unit and the directory's revision come with the action's read.

    With a staff directory the engine decides roles itself (docs/authority.md) from a
    cached directory keyed by the stored revision. A completion consults it twice (the
    actor's credentials, the unit rules); both use the revision read with the instance
    (issue 14: it used to be read each time, 5 round trips), so a completion costs what
    it costs in trusted-caller mode.
    """
    from tests._staff import CAMAT, purbalingga, staffed_engine, who

    counter, url = wire
    store = open_store(url)
    store._conn.prepare_threshold = None  # type: ignore[attr-defined]
    engine = staffed_engine(store, clock, purbalingga())
    iid = engine.start("purbalingga_pengukuran_kinerja", actor=who(CAMAT)).instance_id
    clock.advance(minutes=10)
    trips, begins, commits = _measure(counter, lambda: engine.complete(iid, 1, actor=who(CAMAT)))
    store.close()
    assert (begins, commits) == (1, 1)
    assert trips == 3, trips


@pytest.mark.skipif(not os.environ.get(ENV), reason=f"{ENV} not set")
def test_actions_that_write_jobs_cost_what_the_others_cost(
    wire: tuple[WireCounter, str], clock: FakeClock
) -> None:
    """A job (a timer reached, an external task) is written in the action's own batch: the
    instance is found by uuid inside it (stores/_jobs.py), so a completion that schedules
    a timer or an external task is still one read and the batch's two round trips.

    Completing an external task is four: the task's job row (its lock is checked before
    anything else), then the instance and its open steps, then the batch's two.
    """
    from tests._jobs_bpmn import catch, chain, load

    counter, url = wire
    store = open_store(url)
    store._conn.prepare_threshold = None  # type: ignore[attr-defined]
    definition = load(
        chain(
            "p",
            '<bpmn:userTask id="isi"/>',
            catch("tunggu", "timeDuration", "PT1H"),
            '<bpmn:userTask id="tinjau"/>',
            '<bpmn:serviceTask id="kirim" camunda:type="external" camunda:topic="ekinerja"/>',
        )
    )
    engine = Engine(ListCatalog(definition), store, clock=clock)
    iid = engine.start("p", actor=STAF).instance_id
    timer = _measure(counter, lambda: engine.complete(iid, "isi", actor=STAF))
    clock.advance(hours=1)
    assert engine.run_due() == 1
    external = _measure(counter, lambda: engine.complete(iid, "tinjau", actor=STAF))
    [task] = engine.fetch_and_lock("ekinerja", "w1", max_tasks=1, lock_for=60)
    done = _measure(counter, lambda: engine.complete_external(task.id, "w1", {"nomor": "1"}))
    store.close()
    assert timer == (3, 1, 1)
    assert external == (3, 1, 1)
    assert done == (4, 1, 1)


def test_status_reads_each_row_set_once(
    wire: tuple[WireCounter, str], review_loop: ProcessDefinition, clock: FakeClock
) -> None:
    """``status`` reads the instance, its chain (to refuse an edited one), its open steps,
    its step rows once for the history and the waits, their signatures, its audit rows,
    incidents and children: 12 reads, each one round trip and no transaction."""
    counter, url = wire
    store = open_store(url)
    engine = Engine(ListCatalog(review_loop), store, clock=clock)
    iid = engine.start("review_loop", actor=STAF).instance_id
    engine.status(iid)
    trips, begins, commits = _measure(counter, lambda: engine.status(iid))
    assert (begins, commits) == (0, 0)
    assert trips <= 12, trips
    store.close()
