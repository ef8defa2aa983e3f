"""Does a process say it follows sopflow's SOP convention (docs/bpmn-conventions.md)?

The SOP checks that only make sense for an SOP (every step in a lane, because the lane is
the Pelaksana column that says who does the step) apply to a file that says it is one. A
file says so by carrying sopflow's own properties, which no other engine reads and no
foreign modeler writes: the SOP's identity sheet on the process (``nomor``,
``kecamatan``, ...), a lane's ``role``, or a step's Mutu Baku (``no``, ``waktu``,
``kelengkapan``, ``output``, ``keterangan``, ``keputusan``). ``sopflow compile`` writes
every lane's role, so the shipped SOPs and every compiled table are SOP files; a file from
Camunda, Flowable or SpiffArena carries none of these and is read with its home engine's
meaning instead (a task in no lane and with no assignment is open to anyone).
"""

from __future__ import annotations

from typing import Final

from sopflow.definitions.loader import RawNode, RawProcess
from sopflow.definitions.model import SopHeader

__all__ = ["STEP_PROPERTIES", "follows_sop_convention", "is_assigned", "open_steps"]

#: a step's Mutu Baku properties (docs/bpmn-conventions.md, "User task")
STEP_PROPERTIES: Final = frozenset(
    {"no", "waktu", "kelengkapan", "output", "keterangan", "keputusan"}
)
_HEADER: Final = frozenset(SopHeader.__dataclass_fields__)


def follows_sop_convention(raw: RawProcess) -> bool:
    """True when the process, one of its lanes or one of its steps carries an SOP property."""
    if any(p.name in _HEADER and p.value.strip() for p in raw.properties):
        return True
    if any(lane.role for lane in raw.lanes):
        return True
    return any(
        p.name in STEP_PROPERTIES and p.value.strip()
        for node in raw.nodes.values()
        if node.is_row
        for p in node.properties
    )


def is_assigned(node: RawNode) -> bool:
    """Does the task name who may act (an assignee, candidate users or groups)?

    By value, as ``Step.is_open`` reads it: ``candidateGroups=" , "`` names no one.
    """
    return any(node.extras.get(k) for k in ("assignee", "candidate_users", "candidate_groups"))


def open_steps(raw: RawProcess) -> list[RawNode]:
    """The steps in no lane and with no assignment (``Step.is_open`` once built)."""
    return [
        node
        for node in raw.nodes.values()
        if node.is_step and not raw.node_lanes(node.id) and not is_assigned(node)
    ]
