"""The directory-backed :class:`~sopflow.authority.base.Authority`.

With a staff directory in the store the engine stops trusting the roles a caller
passes: an actor is an NIP, and what that person may do is read from the assignments
that cover the day of the action. ``Actor.roles`` then only *chooses* among the
positions the person holds (``--role sekcam`` or ``--as POSITION`` for someone who is
Sekcam and Plh. Camat at once); a role the person does not hold is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sopflow.authority.base import (
    CALLER,
    Authority,
    Credentials,
    Holding,
    TrustedCaller,
    signed_as,
)
from sopflow.authority.directory import Directory
from sopflow.authority.nip import format_nip, normalize_nip
from sopflow.errors import NipError
from sopflow.runtime.views import Actor

__all__ = ["DirectoryAuthority", "DirectoryStore", "authority_for", "signature"]

@runtime_checkable
class DirectoryStore(Protocol):
    """What a store offers when it can hold a directory (the SQL stores)."""

    def has_directory(self) -> bool: ...

    def load_directory(self) -> Directory: ...


class DirectoryAuthority:
    """Credentials from the store's directory, at the moment of each action.

    ``definitive_only`` is the deployment's default for steps that say nothing: False
    follows SE Kepala BKN 1/SE/I/2021, under which a Plh./Plt. carries out the
    position's routine authority; set True where a regulation reserves signing to the
    definitive official, or mark single steps ``hanya_definitif = "ya"``.
    """

    trusted_caller = False

    def __init__(self, store: DirectoryStore, *, definitive_only: bool = False) -> None:
        self.store = store
        self.definitive_only = definitive_only

    @property
    def directory(self) -> Directory:
        return self.store.load_directory()

    def credentials(self, actor: Actor, *, unit: str | None, at: datetime) -> Credentials:
        directory = self.store.load_directory()
        try:
            nip = normalize_nip(actor.id)
        except NipError:
            return Credentials(actor_id=actor.id, holdings=())
        person = directory.people.get(nip)
        if person is None:
            return Credentials(actor_id=nip, holdings=())
        # Every holding, in whatever unit: the unit rules (runtime/duties.py) need to tell
        # "holds the role elsewhere" from "does not hold it", and say which.
        holdings = []
        for assignment, position in directory.held(nip, at):
            if actor.roles and not ({position.peran, position.kode} & actor.roles):
                continue
            holdings.append(
                Holding(
                    role=position.peran,
                    kind=assignment.jenis,
                    position=position.kode,
                    position_name=position.nama,
                    unit=position.unit,
                    basis=assignment.dasar,
                )
            )
        return Credentials(actor_id=nip, holdings=tuple(holdings), name=person.nama)


def authority_for(store: Any) -> Authority:
    """A DirectoryAuthority when ``store`` holds a directory, else TrustedCaller."""
    if isinstance(store, DirectoryStore) and store.has_directory():
        return DirectoryAuthority(store)
    return TrustedCaller()


def signature(holding: Holding, actor_id: str, name: str | None = None) -> str:
    """How a step record names its actor: "Plh. Camat Cibatu (NIP ..., dasar Sprin ...)"."""
    if holding.kind == CALLER or holding.position_name is None:
        return f"{actor_id} ({holding.role}, peran dinyatakan pemanggil)"
    try:
        nip = format_nip(normalize_nip(actor_id))
    except NipError:
        nip = actor_id
    who = f"{name}, " if name else ""
    basis = f", dasar {holding.basis}" if holding.basis else ""
    return f"{signed_as(holding.kind, holding.position_name)} ({who}NIP {nip}{basis})"
