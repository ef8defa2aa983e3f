"""One behaviour per BPMN element kind, in one registry.

The token machine looks an element's behaviour up here and knows nothing else about
element kinds; a new kind is a new class and one line in :data:`REGISTRY`.
"""

from __future__ import annotations

from sopflow.definitions.model import Node, NodeKind
from sopflow.runtime.behaviours.activities import (
    CallActivity,
    PassTask,
    ScriptTask,
    SubProcess,
    UserTask,
)
from sopflow.runtime.behaviours.base import Behaviour
from sopflow.runtime.behaviours.catching import (
    BoundaryEvent,
    CatchEvent,
    EventGateway,
    EventStart,
    EventSubProcess,
    ReceiveTask,
    ThrowEvent,
)
from sopflow.runtime.behaviours.events import EndEvent, TerminateEndEvent
from sopflow.runtime.behaviours.gateways import (
    ExclusiveGateway,
    InclusiveGateway,
    ParallelGateway,
)
from sopflow.runtime.behaviours.loops import LoopBody, MultiInstanceBody
from sopflow.runtime.behaviours.multiple import MultipleCatchEvent, MultipleThrowEvent
from sopflow.runtime.behaviours.service import ServiceTask
from sopflow.runtime.behaviours.timers import TimerCatchEvent

__all__ = ["REGISTRY", "Behaviour", "behaviour_for"]

REGISTRY: dict[NodeKind, Behaviour] = {
    NodeKind.START: EventStart(),
    NodeKind.END: EndEvent(),
    NodeKind.TERMINATE_END: TerminateEndEvent(),
    NodeKind.USER_TASK: UserTask(),
    NodeKind.MANUAL_TASK: UserTask(),
    NodeKind.SCRIPT_TASK: ScriptTask(),
    NodeKind.PASS: PassTask(),
    NodeKind.SUBPROCESS: SubProcess(),
    NodeKind.CALL_ACTIVITY: CallActivity(),
    NodeKind.EXCLUSIVE_GATEWAY: ExclusiveGateway(),
    NodeKind.PARALLEL_GATEWAY: ParallelGateway(),
    NodeKind.INCLUSIVE_GATEWAY: InclusiveGateway(),
    NodeKind.SERVICE_TASK: ServiceTask(),
    NodeKind.TIMER_CATCH: TimerCatchEvent(),
    NodeKind.CATCH_EVENT: CatchEvent(),
    NodeKind.RECEIVE_TASK: ReceiveTask(),
    NodeKind.THROW_EVENT: ThrowEvent(),
    NodeKind.BOUNDARY: BoundaryEvent(),
    NodeKind.EVENT_GATEWAY: EventGateway(),
    NodeKind.EVENT_SUBPROCESS: EventSubProcess(),
    NodeKind.MULTIPLE_CATCH: MultipleCatchEvent(),
    NodeKind.MULTIPLE_THROW: MultipleThrowEvent(),
}


_MULTI_INSTANCE = MultiInstanceBody()
_LOOP = LoopBody()


def behaviour_for(node: Node, *, inner: bool = False) -> Behaviour:
    """The element's behaviour; for a repeating activity, its body unless ``inner``."""
    if not inner:
        if node.multi is not None:
            return _MULTI_INSTANCE
        if node.loop is not None:
            return _LOOP
    return REGISTRY[node.kind]
