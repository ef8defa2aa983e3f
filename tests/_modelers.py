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


def open_tasks(*, lanes: bool = False, task_ext: str = "", process_ext: str = "") -> bytes:
    """A Camunda Modeler style file whose tasks name no one (issue 12, the lead's decision).

    start -> userTask ``terima`` (no lane, no assignment) -> gateway on ``${lengkap}``:
    yes -> manualTask ``arsip`` (no lane) -> end; no -> userTask ``kembali``
    (``candidateGroups="kasi"``) -> end. ``lanes``: the same, with one lane "Loket"
    holding the start event and ``kembali`` only, as a file half-moved into lanes is.
    ``terima``'s form declares the boolean ``lengkap``; ``task_ext`` goes into its
    extensionElements after the form, ``process_ext`` into the process's.
    """
    lane_set = (
        """
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_loket" name="Loket">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>kembali</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>"""
        if lanes
        else ""
    )
    form = '<camunda:formData><camunda:formField id="lengkap" type="boolean" /></camunda:formData>'
    task_extension = f"<bpmn:extensionElements>{form}{task_ext}</bpmn:extensionElements>"
    process_extension = (
        f"<bpmn:extensionElements>{process_ext}</bpmn:extensionElements>" if process_ext else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NAMESPACES} id="defs" targetNamespace="http://bpmn.io/schema/bpmn"
    exporter="Camunda Modeler" exporterVersion="5.20.0">
  <bpmn:process id="berkas" name="Berkas masuk" isExecutable="true">{process_extension}{lane_set}
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="terima" name="Terima berkas">{task_extension}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="lengkap_gw" name="Lengkap?">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_ya</bpmn:outgoing>
      <bpmn:outgoing>f_tidak</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:manualTask id="arsip" name="Arsipkan berkas">
      <bpmn:incoming>f_ya</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:manualTask>
    <bpmn:userTask id="kembali" name="Kembalikan berkas" camunda:candidateGroups="kasi">
      <bpmn:incoming>f_tidak</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="terima" />
    <bpmn:sequenceFlow id="f2" sourceRef="terima" targetRef="lengkap_gw" />
    <bpmn:sequenceFlow id="f_ya" sourceRef="lengkap_gw" targetRef="arsip">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${{lengkap}}
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_tidak" sourceRef="lengkap_gw" targetRef="kembali">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${{!lengkap}}
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="arsip" targetRef="end" />
    <bpmn:sequenceFlow id="f4" sourceRef="kembali" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()
