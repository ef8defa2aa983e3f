"""Shared fixtures: a memory store, a fake clock, engines over fixture and shipped SOPs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from sopflow.definitions.loader import load_definition
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime.engine import Engine
from sopflow.stores import open_store
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


class ListCatalog:
    """The smallest DefinitionSource: a fixed list of definitions."""

    def __init__(self, *definitions: ProcessDefinition) -> None:
        self.definitions = {d.process_id: d for d in definitions}

    def get(self, process_id: str) -> ProcessDefinition:
        from sopflow.errors import UnknownProcessError

        try:
            return self.definitions[process_id]
        except KeyError:
            raise UnknownProcessError(f"no process {process_id!r}") from None

    def __iter__(self) -> Iterator[ProcessDefinition]:
        return iter(self.definitions.values())


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """The CLI's main() configures structlog; undo it so tests stay independent."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def clock() -> FakeClock:
    # Monday 4 August 2025, 08:00 WIB: inside working hours
    return FakeClock("2025-08-04T08:00:00+07:00")


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store("memory://")
    yield s
    s.close()


@pytest.fixture
def review_loop() -> ProcessDefinition:
    return load_definition(FIXTURES / "engine" / "review_loop.bpmn")


@pytest.fixture
def engine(review_loop: ProcessDefinition, store: Store, clock: FakeClock) -> Engine:
    return Engine(ListCatalog(review_loop), store, clock=clock)
