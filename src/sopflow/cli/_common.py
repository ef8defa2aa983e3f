"""Argument helpers shared by the CLI verbs: --db, --catalog, --at, --data, --json."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sopflow.definitions.model import DECISION_FIELD
from sopflow.errors import ClockError, TaskDataError
from sopflow.runtime.clock import ensure_aware

if TYPE_CHECKING:
    from sopflow.definitions.catalog import Catalog

DEFAULT_DB = "sqlite:///sopflow.db"
DEFAULT_CATALOG = "bpmn"
DISPLAY_TZ = ZoneInfo("Asia/Jakarta")

_TRUE = {"ya", "true", "yes", "y"}
_FALSE = {"tidak", "false", "no", "n"}


def add_store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get("SOPFLOW_DB", DEFAULT_DB),
        help=f"store URL (default: $SOPFLOW_DB or {DEFAULT_DB})",
    )
    parser.add_argument(
        "--catalog",
        default=os.environ.get("SOPFLOW_CATALOG", DEFAULT_CATALOG),
        help=f"directory of BPMN files (default: $SOPFLOW_CATALOG or {DEFAULT_CATALOG}/)",
    )


def catalog_directory(path: str) -> Path:
    """The directory ``--catalog`` means: as given, or the built-in SOPs.

    With neither ``--catalog`` nor ``$SOPFLOW_CATALOG`` and no ``bpmn/`` where sopflow runs,
    the SOPs shipped in the package are used, so an installed sopflow works anywhere.
    """
    if path == DEFAULT_CATALOG and not Path(path).is_dir():
        from sopflow.definitions.catalog import builtin_directory

        return builtin_directory()
    return Path(path)


def open_catalog(path: str) -> Catalog:
    from sopflow.definitions.catalog import Catalog

    return Catalog.from_directory(catalog_directory(path))


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_at(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at",
        metavar="ISO",
        help=(
            "when it happened (ISO-8601, e.g. 2025-08-15T10:00+07:00; without an offset, "
            "in the process's time zone: WIB unless the SOP says WITA/WIT)"
        ),
    )


#: How far ahead of this computer's clock an action's --at may be: an entry records
#: something that has happened (a clock a few hours off is tolerated); a completion
#: dated years ahead would freeze its instance, every later action being "before" it.
FUTURE_SLACK = timedelta(days=1)


def parse_at(
    text: str | None, tz: tzinfo | None = None, *, action: bool = False
) -> datetime | None:
    """``--at``: an aware datetime inside the clock's window, or a one-line ClockError.

    Without an offset the time is read in ``tz`` (the process's zone; WIB by default).
    ``action=True`` (start, complete, claim, release, cancel) also refuses a time more
    than :data:`FUTURE_SLACK` ahead of the real clock; views (``inbox --at``) may look ahead.
    """
    if text is None:
        return None
    if len(text) > 64:
        raise ClockError(f"--at {text[:20]!r}...: not an ISO-8601 date-time")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"--at {text!r} is not an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or DISPLAY_TZ)
    try:
        moment = ensure_aware(moment, "--at")
    except OverflowError:  # pragma: no cover - ensure_aware compares without converting
        raise ClockError(f"--at {text!r} is outside the years sopflow accepts") from None
    if action and moment > datetime.now(UTC) + FUTURE_SLACK:
        raise ClockError(
            f"--at {text!r} is in the future; an entry records something that has happened"
        )
    return moment


def listing_zone(text: str | None, zone_names: Iterable[str | None]) -> tzinfo:
    """The zone an offset-less ``--at`` of a listing is read in: the zone of the processes
    it covers. Across offices in different zones (WIB and WITA) such a time means two
    moments, so it is refused in one line: give an offset or ``--process``."""
    zones = {zone(name) for name in zone_names}
    names = sorted({getattr(z, "key", str(z)) for z in zones})
    if len(zones) <= 1:
        return next(iter(zones), DISPLAY_TZ)
    if text is not None and _has_no_offset(text):
        raise ClockError(
            f"--at {text!r} has no offset and this listing covers processes in "
            f"{', '.join(names)}: add an offset (e.g. +07:00 for WIB, +08:00 for WITA) "
            "or choose one --process"
        )
    return DISPLAY_TZ


def _has_no_offset(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.strip()).tzinfo is None
    except ValueError:
        return False  # parse_at says what is wrong with it


_INT = re.compile(r"-?(0|[1-9][0-9]{0,17})")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]{0,14})\.[0-9]{1,15}")


def parse_value(text: str, *, boolean: bool = False) -> Any:
    """One ``--data`` value: text stays text, so a foreign gateway comparing with 'Yes' works.

    Exceptions: a field declared boolean (a deciding step's ``disetujui``) reads
    ya/tidak/true/false/yes/no; a plain integer (up to 18 digits, an NIP fits) or decimal
    is a number. Anything else (``nan``, ``1e308``, ``007``, 5,000 digits) is text; give
    other JSON with ``--data-json``.
    """
    low = text.strip().lower()
    if boolean:
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise TaskDataError(f"--data value {text!r}: this field takes ya or tidak")
    if _INT.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def parse_data(
    pairs: list[str] | None,
    json_pairs: list[str] | None = None,
    *,
    booleans: frozenset[str] = frozenset({DECISION_FIELD}),
) -> dict[str, Any]:
    """``--data K=V`` (see :func:`parse_value`) and ``--data-json K=JSON`` pairs."""
    data: dict[str, Any] = {}
    for flag, items in (("--data", pairs or []), ("--data-json", json_pairs or [])):
        for pair in items:
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep or not key:
                raise TaskDataError(f"{flag} {pair!r}: write KEY=VALUE (e.g. disetujui=ya)")
            if flag == "--data":
                data[key] = parse_value(value, boolean=key in booleans)
                continue
            try:
                data[key] = json.loads(value, parse_constant=_refuse_constant)
            except (ValueError, RecursionError) as exc:
                raise TaskDataError(f"--data-json {key}: not JSON: {exc}") from None
    return data


def add_data(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--data", action="append", metavar="K=V", help=help)
    parser.add_argument(
        "--data-json",
        action="append",
        metavar="K=JSON",
        help='a value written as JSON, e.g. --data-json jumlah=3 or \'tim=["a","b"]\'',
    )


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(out)


def when(moment: datetime | None, tz: tzinfo | None = None) -> str:
    """A time for a table, in ``tz`` (the process's zone) or WIB; WITA/WIT say so."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz or DISPLAY_TZ)
    text = local.strftime("%Y-%m-%d %H:%M")
    abbrev = local.tzname()
    return text if abbrev in (None, "WIB") else f"{text} {abbrev}"


def zone(name: str | None) -> tzinfo:
    """The zone a process works in (its ``zona_waktu``), WIB when it names none."""
    if not name:
        return DISPLAY_TZ
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return DISPLAY_TZ
