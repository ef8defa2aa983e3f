"""The SOP checks: rules a BPMN file must meet before sopflow runs it.

Each check returns findings instead of raising, so a person fixing a file sees every
problem at once (``sopflow validate``) rather than one per attempt. A finding names
``file:line: element-id`` the way an editor or a modeler search can jump to it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection

from sopflow.definitions._convention import follows_sop_convention, is_assigned
from sopflow.definitions._decision_checks import (
    check_conditions,
    check_deciding_tasks,
    check_gateways,
    check_loops,
)
from sopflow.definitions.events import check_event_subprocess, check_events
from sopflow.definitions.jobspec import check_jobs
from sopflow.definitions.loader import (
    Bounds,
    RawNode,
    RawProcess,
    joint_steps,
)
from sopflow.definitions.model import NodeKind
from sopflow.errors import DefinitionError, WaktuError

__all__ = ["CHECKS", "PICTURE_CHECKS", "run_checks"]

Check = Callable[[RawProcess, Collection[str]], list[DefinitionError]]


def _unsupported(raw: RawProcess, handlers: Collection[str]) -> list[DefinitionError]:
    found = [
        raw.error(node.unsupported, line=node.line, element=node.id)
        for node in raw.nodes.values()
        if node.unsupported is not None
    ]
    found += [
        raw.error(
            "bpmn:scriptTask is not supported by sopflow unless the caller registers a "
            "script handler for it (scripts in a BPMN file are never executed)",
            line=node.line,
            element=node.id,
        )
        for node in raw.nodes.values()
        if node.kind is NodeKind.SCRIPT_TASK and node.id not in handlers
    ]
    return found


def _lanes(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    found: list[DefinitionError] = []
    for lane in raw.lanes:
        if lane.role is None and lane.name is None:
            found.append(
                raw.error(
                    "lane has no role: give it a name or a role property",
                    line=lane.line,
                    element=lane.id,
                )
            )
    # A file that is not an SOP keeps its home engine's meaning: a task in no lane and
    # with no assignment is open to anyone (a warning of validate, code open-task).
    sop = follows_sop_convention(raw)
    for node in raw.nodes.values():
        if not node.is_step:
            continue
        lanes = raw.node_lanes(node.id)
        if not lanes and not is_assigned(node) and sop:
            found.append(
                raw.error(
                    "user task is not in any lane (no lane lists it in flowNodeRef)",
                    line=node.line,
                    element=node.id,
                )
            )
        elif len(lanes) > 1:
            names = ", ".join(lane.label for lane in lanes)
            found.append(
                raw.error(
                    f"user task is in {len(lanes)} lanes: {names}",
                    line=node.line,
                    element=node.id,
                )
            )
    return found


def _step_properties(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    from sopflow.sla.durations import parse_waktu

    found: list[DefinitionError] = []
    numbers: dict[int, str] = {}
    # only the tasks of one joint step share a number (loader.joint_steps)
    joint = joint_steps(raw)
    for node in raw.nodes.values():
        if not node.is_row:
            continue
        waktu = node.prop("waktu")
        if waktu is not None:
            try:
                parse_waktu(waktu.value)
            except WaktuError as exc:
                found.append(raw.error(str(exc), line=waktu.line or node.line, element=node.id))
        no = node.prop("no")
        if no is not None:
            text = no.value.strip()
            # at most 9999: the store keeps step numbers as integers (10^26 overflowed)
            if not text.isascii() or not text.isdigit() or not 1 <= int(text[:9]) <= 9999:
                found.append(
                    raw.error(
                        f"step number no={no.value!r} is not a whole number from 1 to 9999",
                        line=no.line or node.line,
                        element=node.id,
                    )
                )
            elif int(text) in numbers and joint.get(node.id) != joint.get(numbers[int(text)], 0):
                found.append(
                    raw.error(
                        f"step number {int(text)} is also used by {numbers[int(text)]}",
                        line=no.line or node.line,
                        element=node.id,
                    )
                )
            else:
                numbers.setdefault(int(text), node.id)
        keputusan = node.prop("keputusan")
        if keputusan is not None and not keputusan.value.strip().isidentifier():
            found.append(
                raw.error(
                    f"keputusan {keputusan.value!r} is not a field name",
                    line=keputusan.line or node.line,
                    element=node.id,
                )
            )
    return found


def _scopes(raw: RawProcess) -> list[tuple[str | None, int | None]]:
    scopes: list[tuple[str | None, int | None]] = [(None, raw.line)]
    scopes += [
        (n.id, n.line)
        for n in raw.nodes.values()
        if n.kind in (NodeKind.SUBPROCESS, NodeKind.EVENT_SUBPROCESS)
    ]
    return scopes


def _events(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    found: list[DefinitionError] = []
    for scope, line in _scopes(raw):
        element = scope or raw.process_id
        what = "subprocess" if scope else "process"
        # Counted by tag: a timer start event is refused on its own, not as "no start".
        members = [n for n in raw.nodes.values() if n.scope == scope]
        starts = [n for n in members if n.tag == "startEvent"]
        container = raw.nodes[scope] if scope is not None else None
        if container is not None and container.kind is NodeKind.EVENT_SUBPROCESS:
            found += check_event_subprocess(raw, container, starts)
            continue
        # A process may add message, signal and timer start events to its none start
        # event (10.5.2); an embedded subprocess starts at one none start event only.
        plain = [n for n in starts if n.event is None and n.jobs.timer is None]
        if scope is None and len(plain) <= 1:
            starts = plain or starts[:1]
        if not starts:
            found.append(raw.error(f"{what} has no start event", line=line, element=element))
        elif len(starts) > 1:
            ids = ", ".join(s.id for s in starts)
            found.append(
                raw.error(
                    f"{what} has {len(starts)} start events ({ids}); sopflow starts a "
                    f"{what} at a single none start event",
                    line=line,
                    element=element,
                )
            )
        ends = [n for n in members if n.tag == "endEvent"]
        if not ends:
            found.append(raw.error(f"{what} has no end event", line=line, element=element))
    return found


def _flows(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    found = list(raw.problems)
    for flow in raw.flows.values():
        source, target = raw.nodes.get(flow.source), raw.nodes.get(flow.target)
        if source is not None and target is not None and source.scope != target.scope:
            found.append(
                raw.error(
                    "sequence flow crosses a subprocess boundary",
                    line=flow.line,
                    element=flow.id,
                )
            )
    for node in raw.nodes.values():
        if node.kind is None:
            continue
        for attr, text in (
            ("startQuantity", node.start_quantity),
            ("completionQuantity", node.completion_quantity),
        ):
            if text is not None and not (text.strip().isdigit() and int(text) >= 1):
                found.append(
                    raw.error(
                        f"{attr}={text!r} is not a whole number from 1 (BPMN 13.3.2)",
                        line=node.line,
                        element=node.id,
                    )
                )
        if node.kind in _CONDITIONAL_SOURCES and node.tag != "intermediateThrowEvent":
            continue
        for flow_id in node.outgoing:
            flow = raw.flows[flow_id]
            if flow.condition is None:
                continue
            if node.kind is NodeKind.PARALLEL_GATEWAY:
                message = (
                    "a flow leaving a parallelGateway takes no condition: every outgoing "
                    "flow gets a token (BPMN 13.4.2)"
                )
            else:
                message = (
                    f"a condition is not allowed on a flow leaving a {node.tag}: only on "
                    "flows leaving a gateway or an activity"
                )
            found.append(raw.error(message, line=flow.condition_line or flow.line, element=flow.id))
    return found


#: Nodes whose outgoing flows may carry conditions (13.3.1 activities, 13.4 gateways).
_CONDITIONAL_SOURCES = frozenset(
    {
        NodeKind.EXCLUSIVE_GATEWAY,
        NodeKind.INCLUSIVE_GATEWAY,
        NodeKind.USER_TASK,
        NodeKind.MANUAL_TASK,
        NodeKind.SCRIPT_TASK,
        NodeKind.SUBPROCESS,
        NodeKind.CALL_ACTIVITY,
        NodeKind.PASS,
        NodeKind.SERVICE_TASK,
        NodeKind.RECEIVE_TASK,
        NodeKind.BOUNDARY,
    }
)


_ENDS = (NodeKind.END, NodeKind.TERMINATE_END)


def _is_link(node: RawNode) -> bool:
    return node.event is not None and node.event.kind == "link"


def _is_end(node: RawNode) -> bool:
    """Ends a path: an end event of any kind, or a link throw (it goes on at its catch)."""
    if node.kind in _ENDS or node.tag == "endEvent":
        return True
    return node.tag == "intermediateThrowEvent" and _is_link(node)


def implicit_ends(raw: RawProcess, members: dict[str, RawNode] | None = None) -> list[RawNode]:
    """Activities and intermediate events of ``members`` (default: every node) with no
    outgoing sequence flow: where a token is consumed without an end event (13.2.1)."""
    nodes = members if members is not None else raw.nodes
    sources = {flow.source for flow in raw.flows.values()}
    return [
        n
        for n in nodes.values()
        if n.kind is not None
        and n.id not in sources
        and not _is_end(n)
        and n.kind is not NodeKind.EVENT_SUBPROCESS
        and (n.tag.endswith("Task") or n.tag in _IMPLICIT_END_TAGS)
    ]


_IMPLICIT_END_TAGS = frozenset(
    {"task", "subProcess", "callActivity", "intermediateCatchEvent", "intermediateThrowEvent"}
)


def _is_seed(node: RawNode) -> bool:
    """Starts a path: start and boundary events, event subprocesses, link catches."""
    if node.kind in (NodeKind.START, NodeKind.BOUNDARY, NodeKind.EVENT_SUBPROCESS):
        return True
    return node.kind is NodeKind.CATCH_EVENT and _is_link(node)


def _reachability(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    found: list[DefinitionError] = []
    for scope, _line in _scopes(raw):
        members = {n.id: n for n in raw.nodes.values() if n.scope == scope}
        forward: dict[str, list[str]] = {node_id: [] for node_id in members}
        backward: dict[str, list[str]] = {node_id: [] for node_id in members}
        for flow in raw.flows.values():
            if flow.source in members and flow.target in members:
                forward[flow.source].append(flow.target)
                backward[flow.target].append(flow.source)
        for node in members.values():
            # an event on an activity's boundary has no incoming flow: it is reached with
            # its host, and the host may finish through it (BPMN 2.0 10.5.4)
            if node.attached_to in members:
                forward[node.attached_to].append(node.id)
                backward[node.id].append(node.attached_to)
        # every start event begins the process (BPMN 2.0 10.5.2: several are alternative
        # starts); one that is not supported is refused on its own, not its whole path.
        # Boundary events, event subprocesses and link catches start paths too (10.5.6).
        starts = [n.id for n in members.values() if n.tag == "startEvent"]
        seeds = starts + [
            n.id
            for n in members.values()
            if n.tag != "startEvent"
            and n.kind is not None
            and _is_seed(n)
            and n.attached_to not in members  # a boundary event is reached with its host
        ]
        reached = _closure(seeds, forward)
        ends = [n.id for n in members.values() if _is_end(n)]
        if ends and not follows_sop_convention(raw):
            # A file of another engine may end a path at an activity or event with no
            # outgoing flow even though the process has end events (a non-interrupting
            # boundary event's side path): its token is consumed there (13.2.1, the
            # runtime's implicit end), as in Camunda 7 and SpiffWorkflow. ``validate``
            # warns (implicit-end); an SOP keeps the strict rule: every path to an end.
            ends += [n.id for n in implicit_ends(raw, members)]
        finishing = _closure(ends, backward)
        for node in members.values():
            if node.kind is None:
                continue  # already refused as unsupported; do not pile on
            if node.kind is NodeKind.EVENT_SUBPROCESS:
                continue  # started by its event, ends inside (13.5.4)
            if starts and node.id not in reached and not _is_seed(node):
                found.append(
                    raw.error("not reachable from the start event", line=node.line, element=node.id)
                )
            elif ends and node.id not in finishing and not _is_end(node):
                found.append(
                    raw.error("cannot reach an end event", line=node.line, element=node.id)
                )
    return found


def _closure(seeds: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    queue = deque(seeds)
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        queue.extend(edges.get(current, ()))
    return seen


def _drawn_lane(raw: RawProcess, shape: Bounds) -> str | None:
    centre = shape.centre
    for lane in raw.lanes:
        bounds = raw.shapes.get(lane.id)
        if bounds is not None and bounds.plane == shape.plane and bounds.contains(centre):
            return lane.label
    return None


def _diagram(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    """flowNodeRef decides the lane at run time; the drawing must not tell a different story."""
    found: list[DefinitionError] = []
    lane_planes = {raw.shapes[la.id].plane for la in raw.lanes if la.id in raw.shapes}
    if not lane_planes:
        return found  # no DI for lanes (foreign file): nothing to compare
    for node in raw.nodes.values():
        if node.tag not in ("userTask", "manualTask", "task", "scriptTask", "subProcess"):
            continue
        shape = raw.shapes.get(node.id)
        lanes = raw.node_lanes(node.id)
        if shape is None or shape.plane not in lane_planes or len(lanes) != 1:
            continue
        drawn = _drawn_lane(raw, shape)
        if drawn is None:
            found.append(
                raw.error(
                    f"drawn outside every lane but flowNodeRef puts it in lane {lanes[0].label}",
                    line=node.line,
                    element=node.id,
                )
            )
        elif drawn != lanes[0].label:
            found.append(
                raw.error(
                    f"drawn in lane {drawn} but flowNodeRef puts it in lane {lanes[0].label}",
                    line=node.line,
                    element=node.id,
                )
            )
    return found


#: Every check, in the order its findings are reported.
CHECKS: tuple[Check, ...] = (
    _unsupported,
    _events,
    _flows,
    _lanes,
    _step_properties,
    _reachability,
    check_gateways,
    check_conditions,
    check_loops,
    check_events,
    check_deciding_tasks,
    _diagram,
    check_jobs,
)


def _read_problems(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    return list(raw.problems)


#: What a process kept for its picture and document only (isExecutable="false") must
#: pass: what it says must be readable (flows between its own nodes, readable extension
#: properties) and the drawing must agree with its lanes, since the SOP document draws
#: it. Everything only running needs (a start event, lanes for every task, reachable
#: ends, complete gateways, supported elements, jobs) is left out: it never runs.
PICTURE_CHECKS: tuple[Check, ...] = (_read_problems, _diagram)


def run_checks(
    raw: RawProcess, *, script_handlers: Collection[str] = (), executable: bool = True
) -> list[DefinitionError]:
    """All findings for one process, sorted by line so they read top to bottom; for a
    process that never runs (``executable=False``), only :data:`PICTURE_CHECKS`."""
    found: list[DefinitionError] = []
    for check in CHECKS if executable else PICTURE_CHECKS:
        found.extend(check(raw, script_handlers))
    return sorted(found, key=lambda p: p.line or 0)
