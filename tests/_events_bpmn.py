"""BPMN files for the event tests: a process body in XML, root declarations beside it.

``doc(pid, body, roots)``: ``body`` is the XML inside ``<bpmn:process>`` (flow nodes,
sequence flows written ``flow(id, source, target)``), ``roots`` the messages, signals,
errors and escalations declared at the root. Every top-level flow node goes into one
lane, ``pelaksana``; nodes inside subprocesses take the subprocess's lane.
"""

from __future__ import annotations

import itertools

from lxml import etree

from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime.views import Actor

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
OFFICER = Actor("ani", "pelaksana")

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<bpmn:definitions xmlns:bpmn="{BPMN}" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'id="defs" targetNamespace="https://sopflow.id/bpmn">\n'
)


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def flows(*chain: str, prefix: str = "f") -> str:
    """Sequence flows along ``chain`` (ids), named prefix + source."""
    return "".join(flow(f"{prefix}_{a}", a, b) for a, b in itertools.pairwise(chain))


def message(mid: str, name: str) -> str:
    return f'<bpmn:message id="{mid}" name="{name}"/>'


def signal(sid: str, name: str) -> str:
    return f'<bpmn:signal id="{sid}" name="{name}"/>'


def error(eid: str, code: str) -> str:
    return f'<bpmn:error id="{eid}" errorCode="{code}"/>'


def escalation(eid: str, code: str) -> str:
    return f'<bpmn:escalation id="{eid}" escalationCode="{code}"/>'


def timer(kind: str, text: str) -> str:
    return (
        f"<bpmn:timerEventDefinition><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"
    )


def doc(pid: str, body: str, roots: str = "") -> bytes:
    wrapped = etree.fromstring(
        f'<x xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}">{body}</x>'.encode()
    )
    ids = [
        e.get("id")
        for e in wrapped
        if isinstance(e.tag, str)
        and e.get("id")
        and not e.tag.endswith("sequenceFlow")
        and not e.tag.endswith("boundaryEvent")
    ]
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    return (
        _HEAD
        + roots
        + f'<bpmn:process id="{pid}" name="{pid}" isExecutable="true">'
        + '<bpmn:laneSet id="lanes"><bpmn:lane id="lane_1" name="pelaksana">'
        + refs
        + "</bpmn:lane></bpmn:laneSet>"
        + body
        + "</bpmn:process></bpmn:definitions>\n"
    ).encode()


def load(data: bytes, name: str = "events.bpmn") -> ProcessDefinition:
    return load_definition_bytes(data, source=name, script_handlers=("ingatkan", "kerja"))
