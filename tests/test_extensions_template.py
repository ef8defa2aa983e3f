"""The Camunda Modeler element template "Langkah SOP (Mutu Baku)" (issue 12).

The template (Camunda 7 element-template schema) must write exactly the properties sopflow
reads, accept the waktu texts sopflow accepts and flag those it refuses. The browser round
trip (apply, fill, save, ``sopflow show --json``) is ``modeler/template-check.js``, run by
``make test-modeler``; these tests pin the file itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from tests._modelers import one_task

from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.model import ROLE_CODES
from sopflow.errors import WaktuError
from sopflow.sla.durations import parse_waktu

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / ".camunda" / "element-templates" / "langkah-sop.json"
EXAMPLES = ROOT / "examples" / ".camunda" / "element-templates" / "langkah-sop.json"


def _template() -> dict[str, Any]:
    [template] = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(template, dict)
    return template


def _waktu_pattern() -> str:
    [waktu] = [p for p in _template()["properties"] if p["label"] == "Waktu"]
    return str(waktu["constraints"]["pattern"]["value"])


def test_the_template_is_shipped_next_to_bpmn_and_in_examples() -> None:
    """Camunda Modeler looks for .camunda/element-templates beside a file and above it."""
    assert SHIPPED.read_bytes() == EXAMPLES.read_bytes()
    assert _template()["name"] == "Langkah SOP (Mutu Baku)"
    assert "bpmn:UserTask" in _template()["appliesTo"]


def test_it_binds_exactly_the_properties_sopflow_reads() -> None:
    bindings = {(p["binding"]["type"], p["binding"]["name"]) for p in _template()["properties"]}
    assert bindings == {
        ("property", "camunda:candidateGroups"),
        ("camunda:property", "waktu"),
        ("camunda:property", "kelengkapan"),
        ("camunda:property", "output"),
        ("camunda:property", "keterangan"),
    }
    [role] = [p for p in _template()["properties"] if p["type"] == "Dropdown"]
    assert [c["value"] for c in role["choices"]] == list(ROLE_CODES)


def test_what_the_template_writes_is_what_sopflow_shows() -> None:
    """The XML the modeler saves for a filled template (see template-check.js) loads as a step."""
    props = "".join(
        f'<camunda:property name="{name}" value="{value}" />'
        for name, value in (
            ("waktu", "2 Hari Kerja"),
            ("kelengkapan", "Surat permohonan"),
            ("output", "Nota dinas"),
            ("keterangan", "Diperiksa"),
        )
    )
    attrs = 'camunda:modelerTemplate="sopflow.langkah-sop" camunda:modelerTemplateVersion="1" '
    attrs += 'camunda:candidateGroups="kasi"'
    data = one_task(lane=None, attrs=attrs, ext=f"<camunda:properties>{props}</camunda:properties>")
    shown = load_definition_bytes(data, source="uji.bpmn").to_dict()["steps"][0]
    assert shown["candidate_groups"] == ["kasi"]
    assert (shown["waktu"], shown["kelengkapan"], shown["output"], shown["keterangan"]) == (
        "2 Hari Kerja",
        ["Surat permohonan"],
        ["Nota dinas"],
        "Diperiksa",
    )


def _shipped_waktu() -> list[str]:
    values = set()
    for file in (ROOT / "bpmn").glob("*.bpmn"):
        for prop in etree.parse(str(file)).iter("{http://camunda.org/schema/1.0/bpmn}property"):
            if prop.get("name") == "waktu":
                values.add(prop.get("value") or "")
    return sorted(values)


@pytest.mark.parametrize(
    "text",
    [
        *_shipped_waktu(),
        "1 Hari Kerja",
        "2 x 24 Jam",
        "5-10 menit",
        "1 s/d 3 hari kerja",
        "1 jam 30 menit",
        "maksimal 3 hari",
        "3 hari kalender",
        "1 minggu",
        "1 bulan",
        "-",
        "Sesuai jadwal",
    ],
)
def test_the_waktu_pattern_accepts_what_sopflow_reads(text: str) -> None:
    assert re.fullmatch(_waktu_pattern(), text), text
    parse_waktu(text)


@pytest.mark.parametrize(
    "text", ["sebentar", "-5 menit", "15", "15 detik", "2 x 12 jam", "menit 15", "1 hari; 2 jam"]
)
def test_the_waktu_pattern_flags_what_sopflow_refuses(text: str) -> None:
    assert not re.fullmatch(_waktu_pattern(), text), text
    with pytest.raises(WaktuError):
        parse_waktu(text)
