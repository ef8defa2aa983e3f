"""Who may see and retry an incident (issue 13's units applied to issue 11's incidents).

An incident is read under the rule of the instance's status (a position in its unit);
retrying it moves the instance, so it needs a role the process names (a lane's role or a
``pembatal`` role) in the instance's unit or a parent unit. A refusal is a typed error
stored as a ``permission.denied`` audit row of the instance (issue 13: refused actions
are stored, not only logged). Without a directory nothing is checked (trusted caller).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from _jobs_bpmn import chain, load
from _staff import CAMAT, CAMAT_PACE, KASI, PACE, PBG, STAFF, TIM
from _stores import store_url_fixture  # noqa: F401  (fixture)
from conftest import ListCatalog
from sopflow.authority.io import parse_directory
from sopflow.errors import PermissionDeniedError, UnitAccessError
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

_PROPS = (
    b"<bpmn:extensionElements><camunda:properties>"
    b'<camunda:property name="kecamatan" value="Purbalingga"/>'
    b"</camunda:properties></bpmn:extensionElements>"
)


def _xml() -> bytes:
    """isi (lane tim) -> kirim (an external task) -> tinjau, in Kecamatan Purbalingga."""
    xml = chain(
        "p",
        '<bpmn:userTask id="isi"/>',
        '<bpmn:serviceTask id="kirim" camunda:type="external" camunda:topic="ekinerja"/>',
        '<bpmn:userTask id="tinjau"/>',
    )
    xml = xml.replace(b'name="pelaksana"', b'name="tim"')
    return xml.replace(b'isExecutable="true">', b'isExecutable="true">' + _PROPS, 1)


def _engine(store: Store, clock: FakeClock, *, staffed: bool = True) -> Engine:
    if staffed:
        store.import_directory(parse_directory(STAFF))  # type: ignore[attr-defined]
    return Engine(ListCatalog(load(_xml())), store, clock=clock)


def _incident(engine: Engine, actor: Actor) -> str:
    """An instance whose external task failed with no retries left: an incident."""
    started = engine.start("p", actor=actor).instance_id
    engine.complete(started, "isi", actor=actor)
    [task] = engine.fetch_and_lock("ekinerja", "w1")
    engine.fail_external(task.id, "w1", "SRIKANDI menolak token", retries=0)
    return started


@pytest.fixture
def sql_store(store_url: str) -> Store:
    return open_store(store_url)


def _refusals(store: Store, instance_id: str) -> list[dict[str, Any]]:
    return [a.payload for a in store.audit(instance_id) if a.event == "permission.denied"]


def test_only_holders_in_the_unit_see_its_incidents(sql_store: Store, clock: FakeClock) -> None:
    """A holder in Purbalingga (or one of its sections) sees the incident; the Camat of
    Pace sees none in the list and is refused, on record, for that instance's incidents."""
    engine = _engine(sql_store, clock)
    started = _incident(engine, Actor(TIM))
    assert sql_store.instance_unit(started) == PBG  # type: ignore[attr-defined]
    assert [i.instance_id for i in engine.incidents(actor=TIM)] == [started]
    assert [i.instance_id for i in engine.incidents(actor=KASI)] == [started]  # a Seksi of PBG
    assert engine.incidents(actor=CAMAT_PACE) == []
    with pytest.raises(UnitAccessError, match="incidents are not shown"):
        engine.incidents(instance_id=started, actor=CAMAT_PACE)
    [refusal] = _refusals(sql_store, started)
    assert (refusal["actor"], refusal["rule"]) == (CAMAT_PACE, "unit")
    # the application itself (no actor) is trusted, as status trusts it
    assert len(engine.incidents()) == 1


def test_retry_needs_a_role_the_process_names_in_the_unit(
    sql_store: Store, clock: FakeClock
) -> None:
    """The Kasi may read the incident but holds no role of the process (tim, or camat who
    may cancel it): retry refused and recorded. The Camat of Pace is refused too. The
    Anggota Tim SAKIP of Purbalingga retries it; the record says who."""
    engine = _engine(sql_store, clock)
    started = _incident(engine, Actor(TIM))
    [incident] = engine.incidents()
    with pytest.raises(PermissionDeniedError, match="may not retry incident"):
        engine.retry(incident.id, actor=KASI)
    with pytest.raises(PermissionDeniedError, match="camat, tim"):
        engine.retry(incident.id, actor=CAMAT_PACE)
    assert [r["actor"] for r in _refusals(sql_store, started)] == [KASI, CAMAT_PACE]
    assert len(engine.incidents()) == 1  # nothing resolved by the refusals
    resolved = engine.retry(incident.id, actor=Actor(CAMAT))
    assert resolved.resolved_by == CAMAT
    assert engine.incidents() == []


def test_trusted_caller_mode_lets_any_caller_retry(store: Store, clock: FakeClock) -> None:
    """Without a directory an actor id is a label the caller chose: nothing to check."""
    engine = _engine(store, clock, staffed=False)
    _incident(engine, Actor("ani", "tim"))
    [incident] = engine.incidents(actor="siapa-saja")
    assert engine.retry(incident.id, actor="siapa-saja").resolved_by == "siapa-saja"


def test_cli_incidents_and_retry_take_the_actor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sopflow incidents --actor NIP`` / ``retry ID --actor NIP``: with a directory the
    CLI needs the NIP; a refusal is one line and a non-zero exit."""
    from sopflow.cli import main
    from sopflow.definitions.catalog import Catalog

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "p.bpmn").write_bytes(_xml())
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SOPFLOW_DB", url)
    monkeypatch.setenv("SOPFLOW_CATALOG", str(catalog))
    store = open_store(url)
    store.import_directory(parse_directory(STAFF))  # type: ignore[attr-defined]
    engine = Engine(Catalog.from_directory(catalog), store)
    _incident(engine, Actor(TIM))
    [incident] = engine.incidents()
    store.close()

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = run("incidents")
    assert code != 0 and "pass --actor NIP" in err
    code, out, err = run("incidents", "--actor", CAMAT_PACE)
    assert (code, out.strip()) == (0, "no incidents"), err
    code, out, err = run("incidents", "--actor", TIM)
    assert code == 0 and "SRIKANDI menolak token" in out, err
    code, _, err = run("retry", str(incident.id), "--actor", KASI)
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "may not retry incident" in err
    code, out, err = run("retry", str(incident.id), "--actor", TIM)
    assert code == 0 and f"incident {incident.id} resolved" in out, err


def test_a_units_report_lists_the_incidents_of_its_instances_only(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sopflow report --unit`` is a unit's monitoring (Permenpan-RB 35/2012): it lists
    that unit's open incidents, never another unit's (their messages are that unit's
    to read, as their status is)."""
    from sopflow.cli import main

    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    engine = _engine(store, clock)
    started = _incident(engine, Actor(TIM))
    catalog = tmp_path / "bpmn"
    catalog.mkdir()
    (catalog / "p.bpmn").write_bytes(_xml())
    base = ["report", "--db", url, "--catalog", str(catalog), "--process", "p"]
    assert main([*base, "--unit", PBG]) == 0
    mine = capsys.readouterr().out
    assert "Insiden terbuka: 1" in mine and started in mine
    assert main([*base, "--unit", PACE]) == 0
    assert "Insiden terbuka" not in capsys.readouterr().out
