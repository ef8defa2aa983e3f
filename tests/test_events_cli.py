"""``sopflow correlate`` / ``signal`` / ``conditions``, and the events guide's escalation
example."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from _events_bpmn import OFFICER, doc, flows, message, signal
from conftest import ListCatalog
from sopflow.cli import main
from sopflow.definitions.catalog import Catalog
from sopflow.definitions.loader import load_definition
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

WIB = ZoneInfo("Asia/Jakarta")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "events" / "eskalasi-sekcam.bpmn"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    body = (
        '<bpmn:startEvent id="start"/>'
        '<bpmn:intermediateCatchEvent id="tunggu">'
        '<bpmn:messageEventDefinition messageRef="m1"/></bpmn:intermediateCatchEvent>'
        '<bpmn:intermediateCatchEvent id="aba">'
        '<bpmn:signalEventDefinition signalRef="s1"/></bpmn:intermediateCatchEvent>'
        '<bpmn:userTask id="lanjut"/><bpmn:endEvent id="end"/>'
        + flows("start", "tunggu", "aba", "lanjut", "end")
    )
    (catalog / "surat.bpmn").write_bytes(
        doc("surat", body, message("m1", "disposisi") + signal("s1", "mulai_rapat"))
    )
    monkeypatch.setenv("SOPFLOW_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SOPFLOW_CATALOG", str(catalog))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_correlate_and_signal_verbs(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = Engine(
        Catalog.from_directory(env / "catalog"), open_store(f"sqlite:///{env / 'cli.db'}")
    )
    ids = [
        engine.start("surat", actor=OFFICER, data={"nomor": n}).instance_id
        for n in ("001/2025", "002/2025")
    ]
    code, out, err = run(capsys, "correlate", "disposisi")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "matches 2 catches" in err
    code, out, err = run(
        capsys,
        "correlate",
        "disposisi",
        "--key",
        "nomor=002/2025",
        "--data",
        "isi=segera",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out) == {"instances": [ids[1]], "started": []}
    code, out, err = run(capsys, "correlate", "disposisi", "--instance", ids[1])
    assert code == 1 and "nothing waits for it" in err and err.count("\n") == 1
    code, out, err = run(capsys, "signal", "mulai_rapat")
    assert code == 0, err
    assert out.strip() == f"signal 'mulai_rapat' delivered to {ids[1]}"
    assert engine.status(ids[1]).data["isi"] == "segera"
    assert [w.task_id for w in engine.work_list(instance_id=ids[1])] == ["lanjut"]


def test_conditions_verb_starts_the_processes_whose_start_condition_holds(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """BPMN 10.5.5 conditional start events, evaluated when the caller says the data
    changed (``engine.evaluate_start_conditions``); a condition that cannot be evaluated
    on the data is one line on stderr, exit 1, nothing started."""
    (env / "catalog" / "izin.bpmn").write_bytes(
        doc(
            "izin",
            '<bpmn:startEvent id="mulai"><bpmn:conditionalEventDefinition>'
            "<bpmn:condition>luas &gt; 100</bpmn:condition></bpmn:conditionalEventDefinition>"
            '</bpmn:startEvent><bpmn:userTask id="periksa"/><bpmn:endEvent id="end"/>'
            + flows("mulai", "periksa", "end"),
        )
    )
    code, out, err = run(capsys, "conditions", "--data", "luas=50")
    assert (code, out.strip()) == (0, "start conditions reached no instance"), err
    code, out, err = run(capsys, "conditions", "--data", "luas=250", "--json")
    assert code == 0, err
    [started] = json.loads(out)["started"]
    engine = Engine(
        Catalog.from_directory(env / "catalog"), open_store(f"sqlite:///{env / 'cli.db'}")
    )
    assert engine.status(started).data == {"luas": 250}
    code, out, err = run(capsys, "conditions", "--data", "lebar=3")
    assert code == 1 and out == "" and err.count("\n") == 1 and "izin" in err
    assert len(engine.store.instances(process_id="izin")) == 1


def test_the_guides_escalation_example_reminds_then_escalates(
    store: Store, clock: FakeClock
) -> None:
    """docs/events.md: after 1 hari kerja a reminder (non-interrupting), after 2 hari
    kerja the Camat takes the step over (interrupting), on the work calendar."""
    definition = load_definition(EXAMPLE)
    engine = Engine(ListCatalog(definition), store, clock=clock)
    clock.set(datetime(2025, 8, 14, 9, 0, tzinfo=WIB))  # Thursday
    started = engine.start("eskalasi_sekcam", actor=Actor("staf", "Staf")).instance_id
    engine.complete(started, "susun_draf", actor=Actor("staf", "Staf"))
    clock.set(datetime(2025, 8, 15, 9, 0, tzinfo=WIB))  # Friday: 1 hari kerja
    assert engine.run_due() == 1
    assert [w.task_id for w in engine.work_list(instance_id=started)] == ["periksa_sekcam"]
    clock.set(datetime(2025, 8, 19, 8, 59, tzinfo=WIB))  # Tuesday, after the long weekend
    assert engine.run_due() == 0
    clock.set(datetime(2025, 8, 19, 9, 0, tzinfo=WIB))
    assert engine.run_due() == 1
    [item] = engine.work_list(instance_id=started)
    assert (item.task_id, item.role) == ("periksa_camat", "Camat")
