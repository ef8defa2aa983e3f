"""Hostile and broken files are refused with one clear error, never expanded or executed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sopflow.definitions.loader import load_definition, load_definition_bytes
from sopflow.definitions.xmlsafe import parse_xml, read_limited
from sopflow.errors import (
    BpmnSchemaError,
    DefinitionError,
    SopCheckError,
    UnsafeDocumentError,
)

HOSTILE = Path(__file__).parent / "fixtures" / "bpmn" / "hostile"
MINIMAL = Path(__file__).parent / "fixtures" / "bpmn" / "sop_minimal.bpmn"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Record (and refuse) any attempt to open a socket while loading."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("the loader tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts


def test_billion_laughs_is_refused_without_expansion() -> None:
    started = time.perf_counter()
    with pytest.raises(UnsafeDocumentError) as info:
        load_definition(HOSTILE / "billion_laughs.bpmn")
    assert time.perf_counter() - started < 1.0
    assert str(info.value) == (
        f"{HOSTILE / 'billion_laughs.bpmn'}:2: DTD/entity declarations are not allowed"
    )
    assert "lollol" not in str(info.value)


@pytest.mark.parametrize("name", ["xxe_file.bpmn", "xxe_http.bpmn"])
def test_external_entities_are_refused_and_never_fetched(
    name: str, no_network: list[object]
) -> None:
    with pytest.raises(UnsafeDocumentError) as info:
        load_definition(HOSTILE / name)
    assert info.value.message == "DTD/entity declarations are not allowed"
    assert info.value.line == 2
    assert "root:" not in str(info.value)  # nothing of /etc/passwd leaks into the message
    assert no_network == []


def test_a_doctype_hidden_in_utf16_is_refused_after_parsing() -> None:
    data = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    ).encode("utf-16")
    with pytest.raises(UnsafeDocumentError, match="DTD/entity declarations are not allowed"):
        parse_xml(data, source="upload.bpmn")


def test_undeclared_entity_reference_is_a_parse_error_not_an_expansion() -> None:
    with pytest.raises(BpmnSchemaError) as info:
        parse_xml(b'<?xml version="1.0"?>\n<a>&xxe;</a>', source="x.bpmn")
    assert str(info.value) == "x.bpmn:2: not well-formed XML: Entity 'xxe' not defined"


def test_malformed_xml_names_the_line_lxml_reports() -> None:
    with pytest.raises(BpmnSchemaError) as info:
        load_definition(HOSTILE / "malformed.bpmn")
    assert info.value.line == 5
    assert info.value.file == str(HOSTILE / "malformed.bpmn")
    assert info.value.message.startswith("not well-formed XML: Opening and ending tag mismatch")


def test_xsd_errors_name_line_and_element() -> None:
    with pytest.raises(BpmnSchemaError) as info:
        load_definition(HOSTILE / "not_bpmn.bpmn")
    error = info.value
    assert (error.line, error.element) == (5, "step_01")
    assert error.message.startswith("not valid BPMN 2.0: Element 'bpmn:userTsk'")


def test_xsd_error_on_an_attribute_names_the_element_that_carries_it() -> None:
    data = MINIMAL.read_bytes().replace(
        b'<bpmn:userTask id="step_03"', b'<bpmn:userTask foo="1" id="step_03"'
    )
    with pytest.raises(BpmnSchemaError) as info:
        load_definition_bytes(data, source="m.bpmn")
    assert info.value.element == "step_03"
    assert "The attribute 'foo' is not allowed" in info.value.message


def test_a_50_mb_file_is_refused_by_its_size_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.bpmn"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing on disk
    opened: list[object] = []
    real_open = open

    def spy_open(file: object, *args: object, **kwargs: object) -> object:
        opened.append(file)
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", spy_open)
    with pytest.raises(UnsafeDocumentError) as info:
        load_definition(big)
    assert str(info.value) == (
        f"{big}: file is 52428800 bytes, larger than the limit of 5242880 bytes"
    )
    assert big not in opened and str(big) not in opened


def test_size_limit_is_configurable_and_applies_to_bytes_too(tmp_path: Path) -> None:
    data = MINIMAL.read_bytes()
    with pytest.raises(UnsafeDocumentError, match="larger than the limit of 1000 bytes"):
        load_definition_bytes(data, source="stored", max_bytes=1000)
    copy = tmp_path / "m.bpmn"
    copy.write_bytes(data)
    with pytest.raises(UnsafeDocumentError):
        load_definition(copy, max_bytes=len(data) - 1)
    assert load_definition(copy, max_bytes=len(data)).process_id == "sop_minimal"
    assert read_limited(copy, max_bytes=len(data)) == data


def test_missing_file_and_directory_are_definition_errors(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="no such file"):
        load_definition(tmp_path / "absent.bpmn")
    with pytest.raises(DefinitionError, match="is a directory"):
        load_definition(tmp_path)


def test_python_code_in_a_condition_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = (HOSTILE / "injection.bpmn").read_bytes().replace(b"@MARKER@", str(marker).encode())
    with pytest.raises(SopCheckError) as info:
        load_definition_bytes(data, source="injection.bpmn")
    assert not marker.exists()
    [problem] = info.value.problems
    assert problem.element == "flow_02_ya"
    assert problem.line == 103
    assert problem.message.startswith(
        "condition \"__import__('os').system('touch "
    )
    assert "is not in the safe expression language: not allowed: function calls" in (
        problem.message
    )


def test_empty_and_binary_input_are_schema_errors() -> None:
    for data in (b"", b"\x89PNG\r\n\x1a\n\x00\x00", b"plain text"):
        with pytest.raises(BpmnSchemaError):
            load_definition_bytes(data, source="junk")


def test_xml_that_is_not_bpmn_is_refused() -> None:
    with pytest.raises(BpmnSchemaError) as info:
        load_definition_bytes(b"<html><body>hi</body></html>", source="page.bpmn")
    assert info.value.message.startswith("not valid BPMN 2.0:")
