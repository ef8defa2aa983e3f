"""Small BPMN files in other modelers' conventions, written for the tests (never copied)."""

from __future__ import annotations

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:flowable="http://flowable.org/bpmn" '
    'xmlns:activiti="http://activiti.org/bpmn" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
    'xmlns:acme="http://example.org/acme"'
)


def one_task(
    *,
    attrs: str = "",
    ext: str = "",
    lane: str | None = "Seksi Umum",
    process_attrs: str = "",
    definitions_attrs: str = "",
    task: str = "userTask",
) -> bytes:
    """start -> one task (``attrs`` on it, ``ext`` in its extensionElements) -> end."""
    lanes = ""
    if lane is not None:
        lanes = f"""
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_1" name="{lane}">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>task_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>"""
    extension = f"<bpmn:extensionElements>{ext}</bpmn:extensionElements>" if ext else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NAMESPACES} id="defs" targetNamespace="http://example.org/t" {definitions_attrs}>
  <bpmn:process id="proses" name="Proses uji" isExecutable="true" {process_attrs}>{lanes}
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:{task} id="task_1" name="Periksa berkas" {attrs}>{extension}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:{task}>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task_1" />
    <bpmn:sequenceFlow id="f2" sourceRef="task_1" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()
