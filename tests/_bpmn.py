"""Helpers of the tests/test_bpmn_*.py specifications: an engine over one fixture."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ListCatalog

from sopflow.definitions.loader import load_definition
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

ENGINE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "engine"
STAF = Actor("budi", {"pelaksana"})


def fixture(name: str) -> ProcessDefinition:
    return load_definition(ENGINE_FIXTURES / f"{name}.bpmn")


def engine_for(store: Store, clock: FakeClock, *names: str) -> Engine:
    return Engine(ListCatalog(*(fixture(n) for n in names)), store, clock=clock)


def ready(engine: Engine, instance_id: str) -> list[str]:
    """The open steps of an instance, by task id, sorted (order of branches is free)."""
    return sorted(w.task_id for w in engine.work_list(instance_id=instance_id))
