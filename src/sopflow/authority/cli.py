"""Small pieces the command line shares about who acts and in which mode."""

from __future__ import annotations

import argparse
from typing import Any

from sopflow.errors import PermissionDeniedError, StoreError
from sopflow.runtime.views import Actor

__all__ = ["store_mode", "viewer"]


def viewer(args: argparse.Namespace, engine: Any) -> Actor | None:
    """The reader of ``inbox``/``status``: required when the store has a staff directory."""
    actor = getattr(args, "actor", None)
    if actor:
        return Actor(actor, getattr(args, "role", None) or [])
    if not engine.authority.trusted_caller:
        raise PermissionDeniedError(
            "this store has a staff directory: pass --actor NIP to say who reads"
        )
    return None


def store_mode(url: str) -> dict[str, Any]:
    """Who decides roles in the store at ``url``: its staff directory, or the caller.

    ``validate --db`` prints it so an office that checks its files also learns whether the
    deployment they will run in believes ``--role camat`` from anyone (docs/authority.md).
    """
    from sopflow.authority.staff import DirectoryAuthority, authority_for
    from sopflow.stores import open_store, redact_url

    if url.lower().startswith("sqlite:"):
        from pathlib import Path

        path = url[len("sqlite://") :].split("?", 1)[0]
        path = path[1:] if path.startswith("/") else path
        if path and not Path(path).exists():
            # a typo must not create an empty store and report it as trusted-caller mode
            raise StoreError(f"{redact_url(url)}: no database there")
    with open_store(url) as store:
        authority = authority_for(store)
        if not isinstance(authority, DirectoryAuthority):
            return {
                "store": redact_url(url),
                "mode": "trusted caller",
                "line": f"store {redact_url(url)}: trusted-caller mode: no staff directory, "
                "roles are taken as the caller gives them (import one: sopflow staff import)",
            }
        directory = authority.directory
    return {
        "store": redact_url(url),
        "mode": "directory",
        "units": len(directory.units),
        "jabatan": len(directory.positions),
        "pegawai": len(directory.people),
        "line": f"store {redact_url(url)}: staff directory ({len(directory.units)} unit, "
        f"{len(directory.positions)} jabatan, {len(directory.people)} pegawai): roles come "
        "from the directory, not the caller",
    }
