"""Hardened XML parsing for files that come from outside (modelers, uploads, other offices).

A BPMN file is user input. libxml2 will happily expand entities (billion laughs), fetch
external DTDs or entities (XXE: ``file:///etc/passwd``, ``http://...``) and build huge trees
unless told not to. sopflow never needs a DTD, so any DOCTYPE at all is refused instead of
being "safely" processed, and the size is bounded before a single byte is parsed (and
before a file is read, so a 50 MB upload is never pulled into memory).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from lxml import etree

from sopflow.errors import BpmnSchemaError, DefinitionError, UnsafeDocumentError

__all__ = ["DEFAULT_MAX_BYTES", "parse_xml", "read_limited"]

#: The largest BPMN file sopflow accepts. A 14-step SOP with full DI is about 40 KB.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

_DTD_MESSAGE = "DTD/entity declarations are not allowed"
# A DOCTYPE or ENTITY declaration anywhere, ASCII-compatible encodings; UTF-16 is caught
# after parsing through docinfo (and by stripping NUL bytes for the scan).
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers keep state (error log) and are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _too_big(size: int, max_bytes: int, source: str) -> UnsafeDocumentError:
    return UnsafeDocumentError(
        f"file is {size} bytes, larger than the limit of {max_bytes} bytes", file=source
    )


def read_limited(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file, refusing it by its size on disk before reading anything.

    Reads at most ``max_bytes + 1`` bytes even if the file grows between ``stat`` and
    ``read`` (or is a device/pipe whose size ``stat`` cannot tell).
    """
    source = str(path)
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise _too_big(size, max_bytes, source)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except IsADirectoryError as exc:
        raise DefinitionError("is a directory, not a BPMN file", file=source) from exc
    except FileNotFoundError as exc:
        raise DefinitionError("no such file", file=source) from exc
    except OSError as exc:
        raise DefinitionError(f"cannot read: {exc.strerror or exc}", file=source) from exc
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, source)
    return data


def parse_xml(
    data: bytes, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._ElementTree:
    """Parse untrusted XML bytes into a tree with source lines kept for messages.

    Raises UnsafeDocumentError for oversized input or any DTD/entity declaration, and
    BpmnSchemaError (with lxml's line) for input that is not well-formed XML.
    """
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, source)
    found = _DECLARATION.search(data)
    if found is None and b"\x00" in data[:4096]:
        found = _DECLARATION.search(data.replace(b"\x00", b""))
        line = None
    else:
        line = _line_of(data, found.start()) if found else None
    if found is not None:
        raise UnsafeDocumentError(_DTD_MESSAGE, file=source, line=line)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        lineno = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        message = (exc.msg or str(exc)).strip()
        # libxml2 appends ", line N, column M"; the location already leads the message.
        message = re.sub(r",\s*line \d+, column \d+$", "", message)
        raise BpmnSchemaError(f"not well-formed XML: {message}", file=source, line=lineno) from exc
    tree = root.getroottree()
    docinfo: Any = tree.docinfo  # lxml-stubs lack doctype/internalDTD
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeDocumentError(_DTD_MESSAGE, file=source)
    return tree
