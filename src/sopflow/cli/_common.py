"""Argument helpers shared by the CLI verbs: --db, --catalog, --at, --data, --json."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sopflow.errors import ClockError, TaskDataError

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


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_at(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at",
        metavar="ISO",
        help="when it happened (ISO-8601, e.g. 2025-08-15T10:00+07:00; no offset = Asia/Jakarta)",
    )


def parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"--at {text!r} is not an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=DISPLAY_TZ)
    return moment


def parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_data(pairs: list[str] | None) -> dict[str, Any]:
    """``K=V`` pairs; ya/tidak/true/false become booleans, numbers become numbers."""
    data: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise TaskDataError(f"--data {pair!r}: write KEY=VALUE (e.g. disetujui=ya)")
        data[key.strip()] = parse_value(value)
    return data


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


def when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
