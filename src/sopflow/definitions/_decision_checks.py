"""The SOP checks of decisions: gateways, their conditions, loops and deciding steps.

An SOP's approve/return decisions are where a wrong file does real harm (a document sent
down the wrong branch, a return that never comes back), so these checks are strict:
every exclusive split covers its cases (BPMN 2.0 13.4.2: with no flow taken the
instance would be stuck), every condition parses in the safe language, every loop has
a way to end, and a deciding step is followed by the gateway that routes its answer.
"""

from __future__ import annotations

from collections.abc import Collection

from sopflow.definitions.loader import (
    RawFlow,
    RawNode,
    RawProcess,
    boolean_test,
)
from sopflow.definitions.model import NodeKind
from sopflow.errors import DefinitionError, ExpressionError

__all__ = ["check_conditions", "check_deciding_tasks", "check_gateways", "check_loops"]


def check_gateways(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    found: list[DefinitionError] = []
    for node in raw.nodes.values():
        if node.kind is None:
            continue
        flows = [raw.flows[f] for f in node.outgoing]
        if node.default is not None:
            default = raw.flows.get(node.default)
            if default is None or default.source != node.id:
                found.append(
                    raw.error(
                        f"default {node.default!r} is not an outgoing flow of this "
                        + ("gateway" if node.tag.endswith("Gateway") else node.tag),
                        line=node.line,
                        element=node.id,
                    )
                )
            elif default.condition is not None:
                found.append(
                    raw.error(
                        "the default flow must not carry a condition",
                        line=default.condition_line or default.line,
                        element=default.id,
                    )
                )
        if node.kind is not NodeKind.EXCLUSIVE_GATEWAY:
            continue
        if len(flows) == 1 and flows[0].condition is not None and node.default != flows[0].id:
            found.append(
                raw.error(
                    "the gateway's only outgoing flow carries a condition: when it is false "
                    "the instance would stop; remove the condition",
                    line=flows[0].condition_line or flows[0].line,
                    element=flows[0].id,
                )
            )
        if len(flows) < 2:
            continue
        for flow in flows:
            if flow.condition is None and flow.id != node.default:
                found.append(
                    raw.error(
                        "flow leaves an exclusive gateway with neither a condition nor being "
                        "its default",
                        line=flow.line,
                        element=flow.id,
                    )
                )
        # A general gateway may leave cases open: the engine raises GatewayError naming
        # it when no condition holds. An SOP decision (after a keputusan step) is proven
        # complete here, because its Ya/Tidak must route every answer.
        if node.default is None and _after_decision(raw, node) and not _covering(flows):
            found.append(
                raw.error(
                    f"exclusive gateway has {len(flows)} outgoing flows but no default flow, "
                    "and its conditions do not cover every case: mark one flow as the default",
                    line=node.line,
                    element=node.id,
                )
            )
    return found


def _after_decision(raw: RawProcess, gateway: RawNode) -> bool:
    """Does the gateway route the answer of a deciding (keputusan) step?"""
    for flow_id in gateway.incoming:
        source = raw.nodes.get(raw.flows[flow_id].source)
        if source is not None and source.is_step and source.prop("keputusan") is not None:
            return True
    return False


def _covering(flows: list[RawFlow]) -> bool:
    """Conservative: only a boolean field test and its negation cover every case."""
    if len(flows) != 2:
        return False
    from sopflow.runtime.expressions import complementary

    if complementary(flows[0].condition or "", flows[1].condition or ""):
        return True  # ${approved} / ${!approved}, score > 5 / score <= 5 (any dialect)
    tests = [boolean_test(f.condition) for f in flows]
    first, second = tests
    return (
        first is not None and second is not None and first[0] == second[0] and first[1] != second[1]
    )


def check_conditions(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    from sopflow.runtime.expressions import compile_expression

    found: list[DefinitionError] = []
    for flow in raw.flows.values():
        if flow.condition is None:
            continue
        try:
            compile_expression(flow.condition)
        except ExpressionError as exc:
            found.append(
                raw.error(
                    f"condition {flow.condition!r} is not in the safe expression language: "
                    f"{exc.message}",
                    line=flow.condition_line or flow.line,
                    element=flow.id,
                )
            )
    for node in raw.nodes.values():  # a conditional event's condition (BPMN 10.5.5)
        event = node.event
        if event is None or event.condition is None:
            continue
        try:
            compile_expression(event.condition)
        except ExpressionError as exc:
            found.append(
                raw.error(
                    f"the condition {event.condition!r} of a conditional event is not in the "
                    f"safe expression language: {exc.message}",
                    line=node.line,
                    element=node.id,
                )
            )
    return found


def check_loops(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    """Multi-instance (13.3.7) and standard loops (13.3.6) must say how often they run."""
    from sopflow.runtime.expressions import compile_expression

    found: list[DefinitionError] = []
    for node in raw.nodes.values():
        texts: list[tuple[str, str | None]] = []
        if node.multi is not None:
            if node.multi.cardinality is None and node.multi.collection is None:
                found.append(
                    raw.error(
                        "multi-instance needs a loopCardinality or an input collection "
                        "(camunda:collection or loopDataInputRef)",
                        line=node.line,
                        element=node.id,
                    )
                )
            texts += [
                ("loopCardinality", node.multi.cardinality),
                ("collection", node.multi.collection),
                ("completionCondition", node.multi.completion),
            ]
        if node.loop is not None or node.loop_maximum is not None:
            maximum = node.loop_maximum
            if maximum is not None and not maximum.strip().isdigit():
                found.append(
                    raw.error(
                        f"loopMaximum={maximum!r} is not a whole number from 0 (BPMN 13.3.6)",
                        line=node.line,
                        element=node.id,
                    )
                )
            elif node.loop is not None and node.loop.condition is None and maximum is None:
                found.append(
                    raw.error(
                        "a standard loop needs a loopCondition or a loopMaximum, or it never ends",
                        line=node.line,
                        element=node.id,
                    )
                )
            if node.loop is not None:
                texts.append(("loopCondition", node.loop.condition))
        for what, text in texts:
            if text is None:
                continue
            try:
                compile_expression(text)
            except ExpressionError as exc:
                found.append(
                    raw.error(
                        f"{what} {text!r} is not in the safe expression language: {exc.message}",
                        line=node.line,
                        element=node.id,
                    )
                )
    return found


def check_deciding_tasks(raw: RawProcess, _: Collection[str]) -> list[DefinitionError]:
    found: list[DefinitionError] = []
    for node in raw.nodes.values():
        if not node.is_step or node.prop("keputusan") is None:
            continue
        targets = [raw.nodes.get(raw.flows[f].target) for f in node.outgoing]
        if (
            len(targets) != 1
            or targets[0] is None
            or (targets[0].kind is not NodeKind.EXCLUSIVE_GATEWAY)
        ):
            found.append(
                raw.error(
                    "a deciding task (keputusan) must be followed by an exclusive gateway",
                    line=node.line,
                    element=node.id,
                )
            )
    return found
