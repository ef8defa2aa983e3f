"""Small pieces the command line shares about who acts and in which mode."""

from __future__ import annotations

import argparse
from typing import Any

from sopflow.errors import PermissionDeniedError
from sopflow.runtime.views import Actor

__all__ = ["viewer"]


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
