"""Small BPMN files for the job tests, written from a compact description.

``bpmn(nodes, flows)``: ``nodes`` is a list of XML snippets of flow nodes (user tasks go
in one lane, ``pelaksana``); ``flows`` a list of ``(id, source, target)``. The result
is a complete, XSD-valid file the loader checks like any other.
"""

from __future__ import annotations

import itertools
import re

from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.model import ProcessDefinition

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="defs" targetNamespace="https://sopflow.id/bpmn">
  <bpmn:process id="{pid}" name="{pid}" isExecutable="true">
"""


def bpmn(pid: str, nodes: list[str], flows: list[tuple[str, str, str]]) -> bytes:
    ids = [m for n in nodes for m in re.findall(r'^\s*<bpmn:\w+ id="([^"]+)"', n)]
    lane = "".join(f"        <bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>\n" for i in ids)
    text = HEAD.format(pid=pid)
    text += '    <bpmn:laneSet id="lanes">\n      <bpmn:lane id="lane_1" name="pelaksana">\n'
    text += lane + "      </bpmn:lane>\n    </bpmn:laneSet>\n"
    text += "".join("    " + n.strip() + "\n" for n in nodes)
    text += "".join(
        f'    <bpmn:sequenceFlow id="{f}" sourceRef="{s}" targetRef="{t}"/>\n' for f, s, t in flows
    )
    text += "  </bpmn:process>\n</bpmn:definitions>\n"
    return text.encode()


def timer(kind: str, text: str) -> str:
    return (
        f"<bpmn:timerEventDefinition><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"
    )


def catch(node_id: str, kind: str, text: str) -> str:
    """An intermediate timer catch event (BPMN 10.5.5) as a node snippet."""
    return (
        f'<bpmn:intermediateCatchEvent id="{node_id}">{timer(kind, text)}'
        "</bpmn:intermediateCatchEvent>"
    )


def chain(pid: str, *middle: str) -> bytes:
    """start -> each node of ``middle`` (snippets, in order) -> end."""
    nodes = ['<bpmn:startEvent id="start"/>', *middle, '<bpmn:endEvent id="end"/>']
    ids = [re.search(r'id="([^"]+)"', n).group(1) for n in nodes]  # type: ignore[union-attr]
    flows = [(f"f{i}", a, b) for i, (a, b) in enumerate(itertools.pairwise(ids), 1)]
    return bpmn(pid, nodes, flows)


def load(data: bytes, name: str = "jobs.bpmn") -> ProcessDefinition:
    return load_definition_bytes(data, source=name)
