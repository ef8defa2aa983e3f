"""The one small interface between the engine and whoever decides who holds what."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sopflow.runtime.views import Actor

__all__ = [
    "CALLER",
    "KIND_ORDER",
    "Authority",
    "Credentials",
    "Holding",
    "TrustedCaller",
    "preferred",
    "signed_as",
]

#: Holding kind of a role the caller asserted (trusted-caller mode): nothing checked it.
CALLER = "caller"
#: The order a holding is preferred in when several will do: the definitive holder
#: before a Plt. (vacancy) before a Plh. (temporary stand-in); an unknown kind last.
KIND_ORDER = {"definitif": 0, "plt": 1, "plh": 2, CALLER: 3}


@dataclass(frozen=True, slots=True)
class Holding:
    """One role an actor holds at a moment, and on what grounds.

    ``kind`` is ``definitif``, ``plt`` or ``plh`` for a directory assignment, or
    :data:`CALLER` when the role was only asserted by the caller. ``basis`` is the
    number of the SK or Surat Perintah behind an assignment.
    """

    role: str
    kind: str = CALLER
    position: str | None = None
    position_name: str | None = None
    unit: str | None = None
    basis: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one person holds at the moment of one action."""

    actor_id: str
    holdings: tuple[Holding, ...]
    name: str | None = None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(h.role for h in self.holdings)

    def holding(self, role: str) -> Holding | None:
        """The holding that gives ``role``: a definitive one before a Plt./Plh. one."""
        return preferred(h for h in self.holdings if h.role == role)


def signed_as(kind: str, position_name: str) -> str:
    """How a document signs for a position held as ``kind``: "Plh. Camat ...", "Plt. ...",
    or the position's name for its definitive holder (SE Kepala BKN 1/SE/I/2021)."""
    return {"plh": "Plh. ", "plt": "Plt. "}.get(kind, "") + position_name


def preferred(holdings: Iterable[Holding]) -> Holding | None:
    """The first of ``holdings`` by :data:`KIND_ORDER`, or None when there is none."""
    return min(holdings, key=lambda h: KIND_ORDER.get(h.kind, 9), default=None)


class Authority(Protocol):
    """Decides the credentials of an actor; the engine checks them against the step."""

    #: True when roles come from the caller unchecked (sopflow 0.1's mode)
    trusted_caller: bool

    def credentials(self, actor: Actor, *, unit: str | None, at: datetime) -> Credentials:
        """What ``actor`` holds at ``at`` in ``unit`` (None: the instance has no unit)."""
        ...


class TrustedCaller:
    """No directory: the roles on the Actor are taken as the caller gives them."""

    trusted_caller = True

    def credentials(self, actor: Actor, *, unit: str | None, at: datetime) -> Credentials:
        return Credentials(
            actor_id=actor.id, holdings=tuple(Holding(role=r) for r in sorted(actor.roles))
        )
