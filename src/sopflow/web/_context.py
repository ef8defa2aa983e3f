"""What every request handler shares: the engine, the settings, and read-only helpers.

The helpers only *show* what the engine's authority decides: which positions a person
holds now (to write "Plh. Camat" next to a step), the office's time zone, the instances
a person may see (the same :func:`~sopflow.runtime.duties.visible` rule that
``Engine.status(actor=...)`` applies, asked without recording a refusal for each row of
a listing). Every action goes to the engine, which checks again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sopflow.authority.base import Credentials, Holding
from sopflow.authority.directory import Directory
from sopflow.authority.policy import rules_of
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime.duties import in_unit, visible
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.sla.policy import SlaPolicy
from sopflow.stores.base import InstanceRow
from sopflow.web._settings import WebSettings

__all__ = ["WebContext"]

WIB = ZoneInfo("Asia/Jakarta")


@dataclass
class WebContext:
    engine: Engine
    settings: WebSettings = field(default_factory=WebSettings)

    @property
    def store(self) -> Any:
        return self.engine.store

    def now(self) -> datetime:
        return self.engine.clock.now()

    def directory(self) -> Directory:
        directory: Directory = self.store.load_directory()
        return directory

    def credentials(self, nip: str, unit: str | None = None) -> Credentials:
        return self.engine.authority.credentials(Actor(nip), unit=unit, at=self.now())

    def holdings(self, nip: str) -> tuple[Holding, ...]:
        return self.credentials(nip).holdings

    def holds_any_position(self, nip: str) -> bool:
        return bool(self.directory().held(nip, self.now()))

    def is_admin(self, nip: str) -> bool:
        return nip in self.settings.admins

    def is_operator(self, nip: str) -> bool:
        return nip in self.settings.operators

    def zone(self, definition: ProcessDefinition) -> tzinfo:
        policy = self.engine.sla
        if isinstance(policy, SlaPolicy):
            return policy.calendar_for(definition).time_zone
        return WIB

    def unit_of(self, instance_id: str) -> str | None:
        unit: str | None = self.store.instance_unit(instance_id)
        return unit

    def may_see(self, nip: str, row: InstanceRow, unit: str | None = None) -> bool:
        unit = unit if unit is not None else self.unit_of(row.instance_id)
        definition = self.engine.definition(row.version)
        credentials = self.credentials(nip, unit)
        return visible(credentials, unit, self.directory(), rules_of(definition))

    def acting_as(self, nip: str, role: str | None, unit: str | None) -> Holding | None:
        """The holding under which ``nip`` would take a step of ``role`` in ``unit``
        (shown as "Plh. Camat ..."; the engine decides again when the step is taken)."""
        directory = self.directory()
        for h in self.credentials(nip, unit).holdings:
            if h.role == role and (unit is None or in_unit(h, unit, directory, parent_ok=True)):
                return h
        return None
