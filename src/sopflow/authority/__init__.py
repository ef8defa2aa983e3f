"""Who may act: the credentials an actor holds at the moment of an action.

The engine never trusts a role because a caller says so once a deployment has a staff
directory; it asks an :class:`Authority` what the person holds *then* (definitive,
Plt. or Plh. positions, in which unit). Without a directory, :class:`TrustedCaller`
keeps sopflow 0.1's behaviour: the roles on the :class:`~sopflow.Actor` are taken as
given, and the store says it runs in that mode.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False

if TYPE_CHECKING:
    from sopflow.authority.base import Authority, Credentials, Holding, TrustedCaller
    from sopflow.authority.directory import Assignment, Directory, Person, Position, Unit
    from sopflow.authority.io import dump_csv, dump_toml, load_directory_file, parse_directory
    from sopflow.authority.nip import format_nip, normalize_nip
    from sopflow.authority.staff import DirectoryAuthority, authority_for, signature

#: name -> module; imported on first use (PEP 562), so that importing a submodule (the
#: work list needs ``authority.staff``) does not load the CSV and TOML readers (issue 14)
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Authority", "Credentials", "Holding", "TrustedCaller"), "base"),
    **dict.fromkeys(("Assignment", "Directory", "Person", "Position", "Unit"), "directory"),
    **dict.fromkeys(("dump_csv", "dump_toml", "load_directory_file", "parse_directory"), "io"),
    **dict.fromkeys(("format_nip", "normalize_nip"), "nip"),
    **dict.fromkeys(("DirectoryAuthority", "authority_for", "signature"), "staff"),
}

__all__ = [
    "Assignment",
    "Authority",
    "Credentials",
    "Directory",
    "DirectoryAuthority",
    "Holding",
    "Person",
    "Position",
    "TrustedCaller",
    "Unit",
    "authority_for",
    "dump_csv",
    "dump_toml",
    "format_nip",
    "load_directory_file",
    "normalize_nip",
    "parse_directory",
    "signature",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sopflow.authority' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sopflow.authority.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
