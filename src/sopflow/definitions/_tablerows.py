"""Reading the keys that say how a row is done: by several Pelaksana, per item, by a call.

A mixin of the table reader (table.py), kept apart so each module stays readable: these
keys are where the table format meets the engine of many tokens (parallel branches,
multi-instance, call activities), and their rules are written down here in one place.
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Mapping
from typing import Any

from sopflow.definitions.model import DECISION_FIELD
from sopflow.errors import TableError, WaktuError

__all__ = ["FIELD_RE", "PROCESS_ID_RE", "RowReader"]

PROCESS_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")

#: a field name of the safe expression language (an ``untuk_setiap`` list)
FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: ids the compiler writes: a list's data object takes the list's name as its id
_COMPILER_ID_RE = re.compile(
    r"(start|end|pool|collaboration|definitions|lanes|diagram|diagram_plane"
    r"|(lane|step|merge|decision|fork|join|flow)_.*|.*_(di|item))\Z"
)

#: names the engine gives meaning to: a list of items may not take them
_RESERVED_FIELDS = frozenset(
    {
        DECISION_FIELD,
        "loopCounter",
        "nrOfInstances",
        "nrOfActiveInstances",
        "nrOfCompletedInstances",
        "true",
        "false",
        "null",
        "none",
        "and",
        "or",
        "not",
        "in",
    }
)


class RowReader:
    """The row-kind keys of ``[[langkah]]``; the table reader supplies ``fail`` and ``text``."""

    def fail(self, message: str, line: int | None) -> TableError:
        raise NotImplementedError

    def text(self, value: Any, what: str, line: int | None, *, allow_empty: bool = False) -> str:
        raise NotImplementedError

    def read_actors(
        self, value: Any, where: str, names: set[str], line: int | None
    ) -> tuple[str, ...]:
        """One Pelaksana column, or a list of those that do the step together."""
        if isinstance(value, list):
            if not value:
                raise self.fail(f"{where}: pelaksana must name at least one column", line)
            actors = tuple(
                self.text(item, f"{where}: pelaksana[{i + 1}]", line)
                for i, item in enumerate(value)
            )
        else:
            actors = (self.text(value, f"{where}: pelaksana", line),)
        for actor in actors:
            if actor not in names:
                hint = difflib.get_close_matches(actor, sorted(names), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise self.fail(
                    f"{where}: pelaksana {actor!r} is not declared in [[pelaksana]]{suggestion}",
                    line,
                )
            if actors.count(actor) > 1:
                raise self.fail(f"{where}: pelaksana names {actor!r} twice", line)
        return actors

    def read_field(self, value: Any, where: str, line: int | None) -> str:
        name = self.text(value, f"{where}: untuk_setiap", line)
        if not FIELD_RE.match(name) or keyword.iskeyword(name):
            raise self.fail(
                f"{where}: untuk_setiap {name!r} must be a field name "
                "([A-Za-z_][A-Za-z0-9_]*, the list the step is done for)",
                line,
            )
        if name in _RESERVED_FIELDS:
            raise self.fail(
                f"{where}: untuk_setiap {name!r} is a name the engine reserves; "
                "name the list after its items (e.g. 'seksi')",
                line,
            )
        if _COMPILER_ID_RE.match(name):
            raise self.fail(
                f"{where}: untuk_setiap {name!r} is also the id of an element the compiler "
                "writes; name the list after its items (e.g. 'seksi')",
                line,
            )
        return name

    def read_call(self, value: Any, where: str, line: int | None) -> str:
        called = self.text(value, f"{where}: panggil", line)
        if not PROCESS_ID_RE.match(called):
            raise self.fail(
                f"{where}: panggil {called!r} must be a process id ([A-Za-z_][A-Za-z0-9_.-]*)", line
            )
        return called

    def check_combination(
        self, entry: Mapping[str, Any], actors: tuple[str, ...], where: str, line: Any
    ) -> None:
        """One row, one kind of work: the keys that each need the whole row refuse each other.

        A joint row's decision would need every Pelaksana's verdict, a decision after
        work done per item the verdict of every item, and a called SOP has its own
        Pelaksana and decisions; none of these has one reading, so none is guessed.
        """
        kinds = [key for key in ("keputusan", "untuk_setiap", "panggil") if key in entry]
        if len(actors) > 1:
            kinds.insert(0, "pelaksana")
        if len(kinds) > 1:
            shown = " and ".join(
                "several pelaksana" if kind == "pelaksana" else kind for kind in kinds[:2]
            )
            raise self.fail(
                f"{where}: {shown} cannot be combined in one row; split the row in two",
                line(kinds[1]),
            )

    def check_waktu(self, waktu: str, where: str, line: int | None) -> None:
        """The loader reads every waktu when it loads the compiled file; read it now.

        Otherwise a table with "-5 menit" compiles to a file the catalog refuses, and
        the transcriber learns it from a BPMN error instead of a line of the table.
        """
        from sopflow.sla.durations import parse_waktu

        try:
            parse_waktu(waktu)
        except WaktuError as exc:
            raise self.fail(f"{where}: waktu: {exc}", line) from None
