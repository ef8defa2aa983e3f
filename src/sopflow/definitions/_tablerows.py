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
from typing import TYPE_CHECKING, Any

from sopflow.definitions._tablelines import Locator
from sopflow.definitions.model import DECISION_FIELD
from sopflow.errors import TableError, WaktuError

if TYPE_CHECKING:
    from sopflow.definitions.table import Langkah

__all__ = ["AUTHORITY_KEYS", "FIELD_RE", "KEWENANGAN_KEYS", "PROCESS_ID_RE", "RowReader"]

#: the keys of a ``[[langkah]]`` the authority rules read (docs/authority.md)
AUTHORITY_KEYS: tuple[str, ...] = ("bukan_pelaksana_langkah", "hanya_definitif", "unit_induk")
#: the keys of ``[kewenangan]``, the process-wide authority rules
KEWENANGAN_KEYS: tuple[str, ...] = ("pembatal", "pemisahan_keputusan", "hanya_definitif")

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
    """The row-kind and authority keys of ``[[langkah]]`` and ``[kewenangan]``; the table
    reader supplies ``loc``, ``fail`` and ``text``."""

    loc: Locator

    def fail(self, message: str, line: int | None) -> TableError:
        raise NotImplementedError

    def text(self, value: Any, what: str, line: int | None, *, allow_empty: bool = False) -> str:
        raise NotImplementedError

    def flag(self, value: Any, what: str, line: int | None) -> bool:
        """A yes/no rule: a TOML boolean, so ``"tidak"`` (a true-looking string) cannot slip in."""
        if not isinstance(value, bool):
            raise self.fail(f"{what} must be true or false, not {_kind(value)}", line)
        return value

    def read_separation(self, value: Any, where: str, no: int, line: int | None) -> tuple[int, ...]:
        """``bukan_pelaksana_langkah = [9, 10]``: numbers only; that they are steps of the
        table is checked once every row is read (``check_separation``)."""
        what = f"{where}: bukan_pelaksana_langkah"
        if not isinstance(value, list) or not value:
            raise self.fail(
                f"{what} must be a non-empty list of step numbers (e.g. [9]), not {_kind(value)}",
                line,
            )
        numbers: list[int] = []
        for i, item in enumerate(value):
            if type(item) is not int:
                raise self.fail(f"{what}[{i + 1}] must be a step number, not {_kind(item)}", line)
            if item == no:
                raise self.fail(f"{what} names step {no} itself", line)
            if item in numbers:
                raise self.fail(f"{what} names step {item} twice", line)
            numbers.append(item)
        return tuple(sorted(numbers))

    def read_kewenangan(
        self, value: Any, line_of: Any, roles: tuple[str, ...]
    ) -> tuple[tuple[str, ...], bool | None, bool | None]:
        """``[kewenangan]``: who may cancel, the deciding-step default, definitive-only."""
        if not isinstance(value, dict):
            raise self.fail(f"kewenangan must be a table, not {_kind(value)}", line_of(None))
        for key in value:
            if key not in KEWENANGAN_KEYS:
                hint = difflib.get_close_matches(key, KEWENANGAN_KEYS, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise self.fail(
                    f"unknown key {key!r} in [kewenangan]{suggestion}; allowed: "
                    f"{', '.join(KEWENANGAN_KEYS)}",
                    line_of(key),
                )
        pembatal: tuple[str, ...] = ()
        if "pembatal" in value:
            raw = value["pembatal"]
            if not isinstance(raw, list) or not raw:
                raise self.fail(
                    "kewenangan.pembatal must be a non-empty list of role codes "
                    f'(e.g. ["camat", "sekcam"]), not {_kind(raw)}',
                    line_of("pembatal"),
                )
            items = [
                self.text(item, f"kewenangan.pembatal[{i + 1}]", line_of("pembatal"))
                for i, item in enumerate(raw)
            ]
            for item in items:
                if item not in roles:
                    raise self.fail(
                        f"kewenangan.pembatal: unknown role code {item!r}; known: "
                        f"{', '.join(roles)}",
                        line_of("pembatal"),
                    )
                if items.count(item) > 1:
                    raise self.fail(
                        f"kewenangan.pembatal names {item!r} twice", line_of("pembatal")
                    )
            pembatal = tuple(items)
        separation = definitive = None
        if "pemisahan_keputusan" in value:
            separation = self.flag(
                value["pemisahan_keputusan"],
                "kewenangan.pemisahan_keputusan",
                line_of("pemisahan_keputusan"),
            )
        if "hanya_definitif" in value:
            definitive = self.flag(
                value["hanya_definitif"], "kewenangan.hanya_definitif", line_of("hanya_definitif")
            )
        return pembatal, separation, definitive

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

    def check_authority(self, entry: Mapping[str, Any], where: str, line: Any) -> None:
        """A call row runs another SOP with its own Pelaksana: it has no actor to restrict."""
        if "panggil" not in entry:
            return
        for key in AUTHORITY_KEYS:
            if key in entry:
                raise self.fail(
                    f"{where}: {key} cannot be set on a panggil row (the called SOP's own "
                    "steps carry their rules)",
                    line(key),
                )

    def read_step_rules(
        self, entry: Mapping[str, Any], no: int, where: str, line: Any
    ) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        if "bukan_pelaksana_langkah" in entry:
            rules["bukan_pelaksana_langkah"] = self.read_separation(
                entry["bukan_pelaksana_langkah"], where, no, line("bukan_pelaksana_langkah")
            )
        for key in ("hanya_definitif", "unit_induk"):
            if key in entry:
                rules[key] = self.flag(entry[key], f"{where}: {key}", line(key))
        return rules

    def check_separation(self, steps: list[Langkah]) -> None:
        """Each number of ``bukan_pelaksana_langkah`` is a row someone does: a step, not a call."""
        for index, step in enumerate(steps):
            line = self.loc.section("langkah", index, "bukan_pelaksana_langkah")
            for no in step.bukan_pelaksana_langkah:
                where = f"step {step.no}: bukan_pelaksana_langkah"
                if not 1 <= no <= len(steps):
                    raise self.fail(
                        f"{where}: there is no step {no} (steps are 1..{len(steps)})", line
                    )
                if steps[no - 1].panggil is not None:
                    raise self.fail(
                        f"{where}: step {no} is a panggil row (another SOP does it), "
                        "so it has no actor to compare",
                        line,
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


def _kind(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), f"a {type(value).__name__} value")
