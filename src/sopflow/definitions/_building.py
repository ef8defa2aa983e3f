"""Building the immutable :class:`~sopflow.definitions.model.ProcessDefinition` from a
checked RawProcess (loader stage 6): step numbers, joint steps, the SOP's decisions, the
header, the version, and the nodes the engine runs.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from types import MappingProxyType
from typing import Any

from sopflow.definitions._raw import (
    RawNode,
    RawProcess,
)
from sopflow.definitions.model import (
    Decision,
    Flow,
    Lane,
    Node,
    NodeKind,
    ProcessDefinition,
    SopHeader,
    Step,
)

__all__ = [
    "boolean_test",
    "build_definition",
    "definition_version",
    "joint_steps",
    "quantity",
    "step_numbers",
]


#: Properties of the process that map onto SopHeader, split by shape.
_HEADER_LISTS = (
    "dasar_hukum",
    "kualifikasi_pelaksana",
    "keterkaitan",
    "peralatan_perlengkapan",
    "peringatan",
    "pencatatan_pendataan",
)
_HEADER_SCALARS = tuple(
    name for name in SopHeader.__dataclass_fields__ if name not in _HEADER_LISTS
)


def _successors(raw: RawProcess, node: RawNode) -> list[str]:
    """Execution order neighbours: into a subprocess's start, out of its end."""
    if node.kind is NodeKind.SUBPROCESS:
        inner = raw.start_of(node.id)
        if inner:
            return [inner[0].id]
    targets = [raw.flows[f].target for f in node.outgoing if raw.flows[f].target in raw.nodes]
    ends = (NodeKind.END, NodeKind.TERMINATE_END)
    if node.kind in ends and node.scope is not None and node.scope in raw.nodes:
        parent = raw.nodes[node.scope]
        targets += [
            raw.flows[f].target for f in parent.outgoing if raw.flows[f].target in raw.nodes
        ]
    return targets


def joint_steps(raw: RawProcess) -> dict[str, str]:
    """The tasks of joint steps, each mapped to the parallel split it is a branch of.

    A joint step (several Pelaksana doing one row, ``pelaksana = [...]`` in a table) is a
    parallel split whose every branch is one task, each in its own lane, all entering one
    parallel join; its tasks share the row's number, and nothing else may.
    """
    found: dict[str, str] = {}
    for split in raw.nodes.values():
        if split.kind is not NodeKind.PARALLEL_GATEWAY or len(split.outgoing) < 2:
            continue
        tasks = [raw.nodes.get(raw.flows[f].target) for f in split.outgoing]
        joins: set[str] = set()
        lanes: set[str] = set()
        for task in tasks:
            if task is None or not task.is_step or task.multi is not None:
                break
            if len(task.incoming) != 1 or len(task.outgoing) != 1:
                break
            join = raw.nodes.get(raw.flows[task.outgoing[0]].target)
            task_lanes = raw.node_lanes(task.id)
            if join is None or join.kind is not NodeKind.PARALLEL_GATEWAY or len(task_lanes) != 1:
                break
            joins.add(join.id)
            lanes.add(task_lanes[0].id)
        else:
            if len(joins) == 1 and len(lanes) == len(tasks):
                found.update((task.id, split.id) for task in tasks if task is not None)
    return found


def step_numbers(raw: RawProcess) -> dict[str, int]:
    """Step numbers: the ``no`` property, else breadth-first order from the start.

    Steps without ``no`` are numbered after the highest explicit number, so a file
    that numbers some steps keeps those numbers.
    """
    explicit: dict[str, int] = {}
    for node in raw.nodes.values():
        prop = node.prop("no") if node.is_row else None
        if prop is not None and re.fullmatch(r"\s*\d+\s*", prop.value):
            explicit[node.id] = int(prop.value)
    order: list[str] = []
    starts = raw.start_of(None)
    seen: set[str] = set()
    queue = deque(s.id for s in starts[:1])
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        node = raw.nodes[current]
        if node.is_row:
            order.append(current)
        queue.extend(t for t in _successors(raw, node) if t not in seen)
    order += [n.id for n in raw.nodes.values() if n.is_row and n.id not in seen]
    numbers = dict(explicit)
    next_no = max(explicit.values(), default=0) + 1
    for node_id in order:
        if node_id not in numbers:
            numbers[node_id] = next_no
            next_no += 1
    return numbers


def _follow_to_step(raw: RawProcess, flow_id: str | None) -> str | None:
    """The first step a flow leads to, passing through merge gateways and pass-through nodes."""
    seen: set[str] = set()
    while flow_id is not None and flow_id in raw.flows:
        target = raw.flows[flow_id].target
        node = raw.nodes.get(target)
        if node is None or target in seen:
            return None
        seen.add(target)
        if node.is_row:
            return node.id
        if node.kind is NodeKind.PARALLEL_GATEWAY and node.outgoing:
            first = raw.flows[node.outgoing[0]].target
            if joint_steps(raw).get(first) == node.id:
                return first  # a joint step: the row is its first task
        passes = node.kind in (NodeKind.EXCLUSIVE_GATEWAY, NodeKind.PASS)
        if not passes or len(node.outgoing) != 1:
            return None
        flow_id = node.outgoing[0]
    return None


_BOOL_TEST = re.compile(
    r"^\s*(?P<neg>not\s+)?(?P<field>[A-Za-z_]\w*)\s*"
    r"(?:(?P<op>==|!=)\s*(?P<value>true|false|True|False))?\s*$"
)


def boolean_test(condition: str | None) -> tuple[str, bool] | None:
    """``(field, polarity)`` when a condition is a plain boolean field test, else None.

    ``disetujui == true`` and ``disetujui`` are (disetujui, True); ``disetujui == false``,
    ``not disetujui`` and ``disetujui != true`` are (disetujui, False).
    """
    if condition is None:
        return None
    match = _BOOL_TEST.match(condition)
    if match is None or match["field"] in ("not", "true", "false", "True", "False"):
        return None
    polarity = True
    if match["neg"]:
        if match["op"]:
            return None  # "not x == true" reads ambiguously: not covered
        polarity = False
    if match["op"]:
        polarity = (match["value"].lower() == "true") == (match["op"] == "==")
    return (match["field"], polarity)


def _decision(raw: RawProcess, gateway: RawNode) -> Decision | None:
    if gateway.kind is not NodeKind.EXCLUSIVE_GATEWAY or len(gateway.incoming) != 1:
        return None
    source = raw.nodes.get(raw.flows[gateway.incoming[0]].source)
    if source is None or not source.is_step:
        return None
    prop = source.prop("keputusan")
    if prop is None:
        return None
    field_name = prop.value.strip()
    yes_flow: str | None = None
    no_flow: str | None = None
    for flow_id in gateway.outgoing:
        label = (raw.flows[flow_id].name or "").strip().casefold()
        if label == "ya" and yes_flow is None:
            yes_flow = flow_id
        elif label == "tidak" and no_flow is None:
            no_flow = flow_id
    for flow_id in gateway.outgoing:  # unnamed flows: read the condition instead
        test = boolean_test(raw.flows[flow_id].condition)
        if test is not None and test[0] == field_name:
            if test[1] and yes_flow is None:
                yes_flow = flow_id
            elif not test[1] and no_flow is None:
                no_flow = flow_id
    if no_flow is None and gateway.default in gateway.outgoing and gateway.default != yes_flow:
        no_flow = gateway.default
    return Decision(
        gateway_id=gateway.id,
        step_id=source.id,
        field=field_name,
        yes_target=_follow_to_step(raw, yes_flow),
        no_target=_follow_to_step(raw, no_flow),
    )


def _header(raw: RawProcess) -> SopHeader:
    values: dict[str, Any] = {}
    for name in _HEADER_SCALARS:
        prop = next((p for p in raw.properties if p.name == name and p.value != ""), None)
        if prop is not None:
            values[name] = prop.value
    for name in _HEADER_LISTS:
        values[name] = tuple(p.value for p in raw.properties if p.name == name and p.value != "")
    values.setdefault("nama", raw.name)
    return SopHeader(**values)


def definition_version(data: bytes, process_id: str | None = None) -> str:
    """sha256 of the file; of the file plus the process id when it holds several."""
    if process_id is None:
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha256(data + b"\n#" + process_id.encode()).hexdigest()


def quantity(text: str | None) -> int:
    """startQuantity / completionQuantity as a number (the checks refused anything below 1)."""
    value = (text or "1").strip()
    return int(value) if value.isdigit() else 1


def build_definition(
    raw: RawProcess, *, data: bytes, shared: bool = False, executable: bool = True
) -> ProcessDefinition:
    """Turn a checked RawProcess into the immutable definition.

    ``shared``: the file holds several executable processes, so the version is the
    sha256 of the bytes followed by ``\n#`` and the process id (one version each).
    ``executable``: False for a process kept for its picture and document only, which
    need not have a start event.
    """
    lanes = tuple(
        Lane(id=lane.id, name=lane.label, role=lane.role or lane.label) for lane in raw.lanes
    )
    lane_by_id = {lane.id: lane for lane in lanes}
    numbers = step_numbers(raw)
    steps: list[Step] = []
    calls: list[Step] = []
    for node in raw.nodes.values():
        if not node.is_row:
            continue
        node_lanes = raw.node_lanes(node.id)
        lane = lane_by_id[node_lanes[0].id] if node_lanes else None
        keputusan = node.prop("keputusan")
        waktu = node.prop("waktu")
        keterangan = node.prop("keterangan")
        (steps if node.is_step else calls).append(
            Step(
                id=node.id,
                no=numbers[node.id],
                name=node.name or node.id,
                lane=lane.name if lane else None,
                role=lane.role if lane else "",
                kelengkapan=node.props("kelengkapan"),
                waktu=waktu.value if waktu else None,
                output=node.props("output"),
                keterangan=keterangan.value if keterangan else None,
                decision_field=keputusan.value.strip() if keputusan else None,
                line=node.line,
                **node.extras,
            )
        )
    steps.sort(key=lambda s: s.no)
    calls.sort(key=lambda s: s.no)
    nodes: dict[str, Node] = {}
    for node in raw.nodes.values():
        if node.kind is None:
            continue  # never reached: the checks refuse unsupported elements
        outgoing = tuple(
            Flow(
                id=f.id,
                source=f.source,
                target=f.target,
                name=f.name,
                condition=f.condition,
                is_default=(node.default == f.id),
            )
            for f in (raw.flows[fid] for fid in node.outgoing)
        )
        inner = (
            raw.start_of(node.id)
            if node.kind in (NodeKind.SUBPROCESS, NodeKind.EVENT_SUBPROCESS)
            else []
        )
        if node.kind is NodeKind.EVENT_SUBPROCESS and inner:
            node.interrupting = inner[0].interrupting
        nodes[node.id] = Node(
            id=node.id,
            kind=node.kind,
            name=node.name,
            outgoing=outgoing,
            scope=node.scope,
            start=inner[0].id if inner else None,
            incoming=tuple(node.incoming),
            start_quantity=quantity(node.start_quantity),
            completion_quantity=quantity(node.completion_quantity),
            jobs=node.jobs,
            multi=node.multi,
            loop=node.loop,
            call=node.call,
            event=node.event,
            events=node.events,
            parallel=node.parallel,
            attached_to=node.attached_to,
            interrupting=node.interrupting,
            boundaries=tuple(
                n.id for n in raw.nodes.values() if n.attached_to == node.id and n.kind
            ),
            event_subprocesses=tuple(
                n.id
                for n in raw.nodes.values()
                if n.scope == node.id and n.kind is NodeKind.EVENT_SUBPROCESS
            ),
            hooks=node.hooks,
            scripts_on_instances=node.scripts_on_instances,
        )
    decisions = [d for d in (_decision(raw, n) for n in raw.nodes.values()) if d is not None]
    decisions.sort(key=lambda d: numbers.get(d.step_id, 0))
    start = next(iter(raw.start_of(None)), None)
    return ProcessDefinition(
        process_id=raw.process_id,
        name=raw.name,
        version=definition_version(data, raw.process_id if shared else None),
        source=raw.source,
        xml=data,
        header=_header(raw),
        lanes=lanes,
        steps=tuple(steps),
        decisions=tuple(decisions),
        calls=tuple(calls),
        nodes=MappingProxyType(nodes),
        start_node=start.id if start is not None else "",
        start_form=start.extras.get("form", ()) if start is not None else (),
        start_form_key=start.extras.get("form_key") if start is not None else None,
        event_subprocesses=tuple(
            n.id
            for n in raw.nodes.values()
            if n.scope is None and n.kind is NodeKind.EVENT_SUBPROCESS
        ),
        executable=executable,
    )
