"""The SOP table: a TOML transcription of a Permenpan-RB 35/2012 SOP sheet.

People transcribe a signed SOP into this form because it mirrors the paper table (identity
sheet, Pelaksana columns, one row per step with its Mutu Baku) and is easy to review in a
diff; the compiler turns it into BPMN. Everything a typo could break is checked here, with
the file and line of the offending entry, so a transcriber never has to read a traceback or
a BPMN file to find a mistake. See docs/table-format.md.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sopflow.definitions._tablelines import MAX_NESTING, Locator, too_deep
from sopflow.definitions._tablerows import AUTHORITY_KEYS, PROCESS_ID_RE, RowReader
from sopflow.definitions._tablewrite import (
    DISAHKAN_KEYS,
    HEADER_LIST_KEYS,
    HEADER_TEXT_KEYS,
    write_table,
)
from sopflow.definitions.model import ROLE_CODES, SopHeader
from sopflow.errors import TableError

__all__ = [
    "FORMAT_VERSION",
    "MAX_TABLE_BYTES",
    "Keputusan",
    "Kewenangan",
    "Langkah",
    "Pelaksana",
    "SopTable",
    "parse_table",
    "write_table",
]

#: the table format this module reads and writes
FORMAT_VERSION = 1

#: a real SOP table is a few kilobytes; anything far larger is a mistake or an attack
MAX_TABLE_BYTES = 1_000_000

#: characters XML 1.0 cannot carry; rejected early so the compiler never fails on them
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_TOP_KEYS: tuple[str, ...] = (
    "format", "process_id", "identitas", "kewenangan", "pelaksana", "langkah"
)
_PELAKSANA_KEYS: tuple[str, ...] = ("nama", "peran")
_LANGKAH_KEYS: tuple[str, ...] = (
    "no",
    "kegiatan",
    "pelaksana",
    "kelengkapan",
    "waktu",
    "output",
    "keterangan",
    "keputusan",
    "untuk_setiap",
    "panggil",
    *AUTHORITY_KEYS,
)
_KEPUTUSAN_KEYS: tuple[str, ...] = ("ya", "tidak")


@dataclass(frozen=True, slots=True)
class Pelaksana:
    """One Pelaksana column: the lane name as the SOP writes it, and its role code."""

    nama: str
    peran: str


@dataclass(frozen=True, slots=True)
class Keputusan:
    """An approve/return decision after a step: step numbers for "Ya" and "Tidak"."""

    ya: int
    tidak: int


@dataclass(frozen=True, slots=True)
class Langkah:
    """One row of the SOP table (a step) with its Mutu Baku.

    ``pelaksana`` is the first Pelaksana column of the row; ``bersama`` the others that do
    the same step with it (a row with a symbol in several columns: each must record it).
    ``untuk_setiap`` names the list field whose items the step is done once for;
    ``panggil`` the process id of another SOP of the catalog the row runs (Keterkaitan).
    """

    no: int
    kegiatan: str
    pelaksana: str
    kelengkapan: tuple[str, ...] = ()
    waktu: str | None = None
    output: tuple[str, ...] = ()
    keterangan: str | None = None
    keputusan: Keputusan | None = None
    bersama: tuple[str, ...] = ()
    untuk_setiap: str | None = None
    panggil: str | None = None
    #: separation of duties: whoever did these steps of the instance may not do this one
    bukan_pelaksana_langkah: tuple[int, ...] = ()
    #: True: only the definitive holder (no Plh./Plt.); None: the process or deployment default
    hanya_definitif: bool | None = None
    #: holders in a parent unit (the kabupaten's offices) may act on the step
    unit_induk: bool = False

    @property
    def semua_pelaksana(self) -> tuple[str, ...]:
        """Every Pelaksana column of the row, in the order the table names them."""
        return (self.pelaksana, *self.bersama)


@dataclass(frozen=True, slots=True)
class Kewenangan:
    """The process-wide authority rules (``[kewenangan]``; docs/authority.md).

    ``pembatal``: roles that may cancel (empty: the first step's role and the Camat);
    ``pemisahan_keputusan``: False turns off the separation of deciding steps from the
    work they decide on; ``hanya_definitif``: True reserves every step to definitive holders.
    """

    pembatal: tuple[str, ...] = ()
    pemisahan_keputusan: bool | None = None
    hanya_definitif: bool | None = None


@dataclass(frozen=True, slots=True)
class SopTable:
    """A whole SOP table, checked: every reference resolves, steps are numbered 1..n."""

    process_id: str
    identitas: SopHeader
    pelaksana: tuple[Pelaksana, ...]
    langkah: tuple[Langkah, ...]
    kewenangan: Kewenangan = Kewenangan()
    format: int = FORMAT_VERSION
    #: where the table was read from, for messages; not part of the table's value
    source: str | None = field(default=None, compare=False)

    def pelaksana_by_nama(self, nama: str) -> Pelaksana | None:
        return next((p for p in self.pelaksana if p.nama == nama), None)

    def langkah_by_no(self, no: int) -> Langkah | None:
        return self.langkah[no - 1] if 1 <= no <= len(self.langkah) else None


# ---------------------------------------------------------------------------------- parsing


class _Reader(RowReader):
    """Checks the decoded TOML document against the format, one entry at a time."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.loc = Locator(text)

    def fail(self, message: str, line: int | None) -> TableError:
        return TableError(message, file=self.source, line=line)

    def check_keys(self, data: Mapping[str, Any], allowed: tuple[str, ...], where: str,
                   line_of: Any) -> None:
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                allowed_text = ", ".join(allowed)
                raise self.fail(
                    f"unknown key {key!r} in {where}{suggestion}; allowed: {allowed_text}",
                    line_of(key),
                )

    def text(self, value: Any, what: str, line: int | None, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{what} must be a string, not {_toml_type(value)}", line)
        if not allow_empty and not value.strip():
            raise self.fail(f"{what} must not be empty", line)
        bad = _XML_ILLEGAL_RE.search(value)
        if bad:
            raise self.fail(
                f"{what} contains the control character U+{ord(bad.group()):04X}", line
            )
        return value

    def text_list(self, value: Any, what: str, line: int | None) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(f"{what} must be a list of strings, not {_toml_type(value)}", line)
        return tuple(self.text(item, f"{what}[{i + 1}]", line) for i, item in enumerate(value))

    def integer(self, value: Any, what: str, line: int | None) -> int:
        if type(value) is not int:
            raise self.fail(f"{what} must be an integer, not {_toml_type(value)}", line)
        return value

    def table(self, value: Any, what: str, line: int | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a table, not {_toml_type(value)}", line)
        return value

    def array_of_tables(self, value: Any, what: str, line: int | None) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{what} must be an array of tables ([[{what}]])", line)
        return value

    # -- the document ---------------------------------------------------------------------

    def read(self, doc: dict[str, Any]) -> SopTable:
        self.check_keys(doc, _TOP_KEYS, "the top level", self.loc.top)
        for required in ("format", "process_id", "pelaksana", "langkah"):
            if required not in doc:
                raise self.fail(f"missing required key {required!r}", 1)
        fmt = self.integer(doc["format"], "format", self.loc.top("format"))
        if fmt != FORMAT_VERSION:
            raise self.fail(
                f"format {fmt} is not supported (this sopflow reads format {FORMAT_VERSION})",
                self.loc.top("format"),
            )
        pid_line = self.loc.top("process_id")
        process_id = self.text(doc["process_id"], "process_id", pid_line)
        if not PROCESS_ID_RE.match(process_id):
            raise self.fail(
                f"process_id {process_id!r} must match [A-Za-z_][A-Za-z0-9_.-]*", pid_line
            )
        header = self.read_identitas(doc.get("identitas", {}))
        pelaksana = self.read_pelaksana(doc["pelaksana"])
        langkah = self.read_langkah(doc["langkah"], pelaksana)
        kewenangan = Kewenangan()
        if "kewenangan" in doc:
            kewenangan = Kewenangan(*self.read_kewenangan(
                doc["kewenangan"],
                lambda key: self.loc.section("kewenangan", key=key),
                ROLE_CODES,
            ))
        for index, step in enumerate(langkah):
            if step.untuk_setiap == process_id:
                raise self.fail(
                    f"step {step.no}: untuk_setiap {process_id!r} is also the process id; "
                    "name the list after its items",
                    self.loc.section("langkah", index, "untuk_setiap"),
                )
            if step.panggil == process_id:
                raise self.fail(
                    f"step {step.no}: panggil {process_id!r} calls this SOP itself, "
                    "which would never end", self.loc.section("langkah", index, "panggil")
                )
        return SopTable(
            process_id=process_id,
            identitas=header,
            pelaksana=pelaksana,
            langkah=langkah,
            kewenangan=kewenangan,
            format=fmt,
            source=self.source,
        )

    def read_identitas(self, value: Any) -> SopHeader:
        data = self.table(value, "identitas", self.loc.section("identitas"))

        def line(key: str) -> int | None:
            return self.loc.section("identitas", key=key)

        self.check_keys(
            data, (*HEADER_TEXT_KEYS, "disahkan_oleh", *HEADER_LIST_KEYS), "[identitas]", line
        )
        fields: dict[str, Any] = {}
        for key in HEADER_TEXT_KEYS:
            if key in data:
                fields[key] = self.text(data[key], f"identitas.{key}", line(key))
        for key in HEADER_LIST_KEYS:
            if key in data:
                fields[key] = self.text_list(data[key], f"identitas.{key}", line(key))
        if "disahkan_oleh" in data:
            sub = self.table(data["disahkan_oleh"], "identitas.disahkan_oleh",
                             line("disahkan_oleh"))

            def sub_line(key: str) -> int | None:
                return self.loc.section("identitas", key=key, sub="disahkan_oleh")

            self.check_keys(sub, DISAHKAN_KEYS, "identitas.disahkan_oleh", sub_line)
            for key in DISAHKAN_KEYS:
                if key in sub:
                    fields[f"disahkan_oleh_{key}"] = self.text(
                        sub[key], f"identitas.disahkan_oleh.{key}", sub_line(key)
                    )
        zone = fields.get("zona_waktu")
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail(
                    f"zona_waktu {zone!r} is not an IANA time zone (e.g. Asia/Makassar)",
                    line("zona_waktu"),
                ) from None
        return SopHeader(**fields)

    def read_pelaksana(self, value: Any) -> tuple[Pelaksana, ...]:
        entries = self.array_of_tables(value, "pelaksana", self.loc.top("pelaksana"))
        if not entries:
            raise self.fail("at least one [[pelaksana]] is required", None)
        result: list[Pelaksana] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries):

            def line(key: str | None = None, index: int = index) -> int | None:
                return self.loc.section("pelaksana", index, key)

            where = f"[[pelaksana]] {index + 1}"
            self.check_keys(entry, _PELAKSANA_KEYS, where, line)
            for required in _PELAKSANA_KEYS:
                if required not in entry:
                    raise self.fail(f"{where}: missing required key {required!r}", line())
            nama = self.text(entry["nama"], f"{where}: nama", line("nama"))
            peran = self.text(entry["peran"], f"{where}: peran", line("peran"))
            if peran not in ROLE_CODES:
                raise self.fail(
                    f"{where}: unknown role code {peran!r}; known: {', '.join(ROLE_CODES)}",
                    line("peran"),
                )
            if nama in seen:
                raise self.fail(f"{where}: duplicate pelaksana nama {nama!r}", line("nama"))
            seen.add(nama)
            result.append(Pelaksana(nama=nama, peran=peran))
        return tuple(result)

    def read_langkah(
        self, value: Any, pelaksana: tuple[Pelaksana, ...]
    ) -> tuple[Langkah, ...]:
        entries = self.array_of_tables(value, "langkah", self.loc.top("langkah"))
        if not entries:
            raise self.fail("at least one [[langkah]] is required", None)
        names = {p.nama for p in pelaksana}
        steps: list[Langkah] = []
        lines: list[int | None] = []
        for index, entry in enumerate(entries):

            def line(key: str | None = None, index: int = index) -> int | None:
                return self.loc.section("langkah", index, key)

            where = f"[[langkah]] {index + 1}"
            self.check_keys(entry, _LANGKAH_KEYS, where, line)
            for required in ("no", "kegiatan", "pelaksana"):
                if required not in entry:
                    raise self.fail(f"{where}: missing required key {required!r}", line())
            no = self.integer(entry["no"], f"{where}: no", line("no"))
            if no != index + 1:
                problem = (
                    f"duplicate step number {no}"
                    if any(s.no == no for s in steps)
                    else f"step number {no} where {index + 1} was expected "
                    "(steps are numbered 1..n in order, without gaps)"
                )
                raise self.fail(f"{where}: {problem}", line("no"))
            where = f"step {no}"
            kegiatan = self.text(entry["kegiatan"], f"{where}: kegiatan", line("kegiatan"))
            actors = self.read_actors(entry["pelaksana"], where, names, line("pelaksana"))
            keputusan = None
            if "keputusan" in entry:
                keputusan = self.read_keputusan(entry["keputusan"], no, where, index)
            untuk_setiap = panggil = None
            if "untuk_setiap" in entry:
                untuk_setiap = self.read_field(entry["untuk_setiap"], where,
                                               line("untuk_setiap"))
            if "panggil" in entry:
                panggil = self.read_call(entry["panggil"], where, line("panggil"))
            self.check_combination(entry, actors, where, line)
            self.check_authority(entry, where, line)
            waktu = None
            if "waktu" in entry:
                waktu = self.text(entry["waktu"], f"{where}: waktu (omit it when the SOP "
                                  "gives none)", line("waktu"))
                self.check_waktu(waktu, where, line("waktu"))
            steps.append(
                Langkah(
                    no=no,
                    kegiatan=kegiatan,
                    pelaksana=actors[0],
                    kelengkapan=self.text_list(
                        entry.get("kelengkapan", []), f"{where}: kelengkapan",
                        line("kelengkapan"),
                    ),
                    waktu=waktu,
                    output=self.text_list(
                        entry.get("output", []), f"{where}: output", line("output")
                    ),
                    keterangan=(
                        self.text(entry["keterangan"], f"{where}: keterangan",
                                  line("keterangan"))
                        if "keterangan" in entry else None
                    ),
                    keputusan=keputusan,
                    bersama=actors[1:],
                    untuk_setiap=untuk_setiap,
                    panggil=panggil,
                    **self.read_step_rules(entry, no, where, line),
                )
            )
            lines.append(line())
        self.check_targets(steps)
        self.check_separation(steps)
        self.check_reachable(steps, lines)
        return tuple(steps)

    def read_keputusan(self, value: Any, no: int, where: str, index: int) -> Keputusan:
        def line(key: str | None = None) -> int | None:
            if key is None:
                return self.loc.section("langkah", index, "keputusan")
            return self.loc.section("langkah", index, key, sub="keputusan")

        data = self.table(value, f"{where}: keputusan", line())
        self.check_keys(data, _KEPUTUSAN_KEYS, f"{where}: keputusan", line)
        if "tidak" not in data:
            raise self.fail(
                f"{where}: keputusan needs 'tidak' (the step a rejection returns to)", line()
            )
        tidak = self.integer(data["tidak"], f"{where}: keputusan.tidak", line("tidak"))
        ya = (
            self.integer(data["ya"], f"{where}: keputusan.ya", line("ya"))
            if "ya" in data else no + 1
        )
        return Keputusan(ya=ya, tidak=tidak)

    def check_targets(self, steps: list[Langkah]) -> None:
        count = len(steps)
        for index, step in enumerate(steps):
            if step.keputusan is None:
                continue
            for key, target in (("ya", step.keputusan.ya), ("tidak", step.keputusan.tidak)):
                line = self.loc.section("langkah", index, key, sub="keputusan")
                where = f"step {step.no}: keputusan.{key}"
                if target == step.no:
                    raise self.fail(f"{where} points to the deciding step itself", line)
                if not 1 <= target <= count:
                    extra = " (ya defaults to the next step)" if key == "ya" else ""
                    raise self.fail(
                        f"{where}: there is no step {target} (steps are 1..{count}){extra}",
                        line,
                    )
                if key == "ya" and target < step.no:
                    raise self.fail(f"{where} must be a later step than {step.no}", line)
                if key == "tidak" and target > step.no:
                    raise self.fail(
                        f"{where} must be an earlier step than {step.no} "
                        "(a rejection returns to the step to redo)",
                        line,
                    )

    def check_reachable(self, steps: list[Langkah], lines: list[int | None]) -> None:
        """Every step must be reachable; a "ya" that skips steps would orphan them."""
        seen = {1}
        todo = [1]
        while todo:
            no = todo.pop()
            for target in successors(steps[no - 1], len(steps)):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        for step, line in zip(steps, lines, strict=True):
            if step.no not in seen:
                raise self.fail(f"step {step.no} can never be reached from step 1", line)


def successors(step: Langkah, count: int) -> tuple[int, ...]:
    """Step numbers that follow ``step``; ``count + 1`` stands for the end event."""
    if step.keputusan is not None:
        return (step.keputusan.ya, step.keputusan.tidak)
    return (step.no + 1,) if step.no < count else ()


def _toml_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
             list: "an array", dict: "a table"}
    return names.get(type(value), f"a {type(value).__name__} value")


_TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")


def parse_table(path_or_text: Path | str, source: str | None = None) -> SopTable:
    """Read and check an SOP table.

    A :class:`~pathlib.Path` is read as a file (``source`` defaults to its path); a ``str``
    is the TOML text itself (``source`` defaults to ``<table>``). Every problem raises
    :class:`~sopflow.errors.TableError` rendered as ``file:line: message``.
    """
    if isinstance(path_or_text, Path):
        source = source or str(path_or_text)
        try:
            raw = path_or_text.read_bytes()
        except OSError as exc:
            raise TableError(f"cannot read the table: {exc.strerror or exc}",
                             file=source) from None
        if len(raw) > MAX_TABLE_BYTES:
            raise TableError(f"table is larger than {MAX_TABLE_BYTES} bytes", file=source)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise TableError("the table is not UTF-8 text", file=source, line=line) from None
    else:
        source = source or "<table>"
        text = path_or_text
        if len(text) > MAX_TABLE_BYTES:
            raise TableError(f"table is larger than {MAX_TABLE_BYTES} bytes", file=source)
    deep = too_deep(text)
    if deep is not None:
        raise TableError(
            f"not valid for an SOP table: arrays or inline tables nest deeper than "
            f"{MAX_NESTING} levels", file=source, line=deep
        )
    try:
        doc = tomllib.loads(text)
    except RecursionError:  # pragma: no cover - too_deep refuses what could get here
        raise TableError("not valid TOML: nested too deeply", file=source) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_LINE_RE.search(message)
        line = int(match.group(1)) if match else max(1, len(text.splitlines()))
        message = _TOML_LINE_RE.sub("", message).strip()
        raise TableError(f"not valid TOML: {message}", file=source, line=line) from None
    return _Reader(text, source).read(doc)
