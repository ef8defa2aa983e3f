"""Warnings of ``sopflow validate``: findings that do not refuse a file but need a look.

- ``unknown-extension``: an extension in a namespace sopflow does not know;
- ``due-date-conflict``: a step has a waktu and a due date that say different things (the
  waktu wins, as the SOP's Mutu Baku is the signed standard);
- ``undeclared-field``: a gateway condition reads a field that no step's decision
  (``keputusan``) and no form field declares, so an instance stops at that gateway unless
  the application happens to send the field (SpiffArena's ``approved == True`` files);
- ``open-task``: a user or manual task of a file that is not an SOP is in no lane and names
  no assignee or candidates, so any actor may claim and complete it (its home engine's
  meaning; in an SOP file the same task is an error, code ``lane``);
- ``implicit-end``: an activity or event of a file that is not an SOP has no outgoing flow
  although its scope has an end event: its token ends there (BPMN 2.0 13.2.1, as Camunda 7
  and SpiffWorkflow run it); in an SOP file the same node is an error ("cannot reach an
  end event").
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from sopflow.definitions._convention import follows_sop_convention, open_steps
from sopflow.definitions.extensions import Finding, extension_findings
from sopflow.definitions.loader import RawProcess, executable_process_ids, read_process
from sopflow.definitions.model import DECISION_FIELD, NodeKind
from sopflow.definitions.xmlsafe import DEFAULT_MAX_BYTES, parse_xml, read_limited
from sopflow.errors import DefinitionError, ExpressionError, WaktuError

__all__ = ["file_warnings", "iso_duration_minutes", "tree_warnings"]

_DURATION = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)


def iso_duration_minutes(text: str) -> float | None:
    """Minutes of an ISO 8601 duration without years or months (``P2D``, ``PT4H``), or None."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        return None
    weeks, days, hours, minutes, seconds = (int(match[g] or 0) for g in "wdhms")
    return ((weeks * 7 + days) * 24 + hours) * 60 + minutes + seconds / 60


def file_warnings(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Finding]:
    """The warnings of one file; a file that cannot be read has none (its errors say why)."""
    try:
        data = read_limited(path, max_bytes=max_bytes)
        tree = parse_xml(data, source=str(path), max_bytes=max_bytes)
    except DefinitionError:
        return []
    return tree_warnings(tree, source=str(path))


def tree_warnings(tree: etree._ElementTree, *, source: str) -> list[Finding]:
    found = [f for f in extension_findings(tree, source=source) if f.severity == "warning"]
    try:
        ids = executable_process_ids(tree.getroot(), source)
        raws = [read_process(tree, source=source, process_id=i) for i in ids]
    except DefinitionError:
        return found
    for raw in raws:
        found += _due_date_conflicts(raw)
        found += _undeclared_fields(raw)
        found += _open_tasks(raw)
        found += _implicit_ends(raw)
    return sorted(found, key=lambda f: f.line or 0)


def _implicit_ends(raw: RawProcess) -> list[Finding]:
    from sopflow.definitions.checks import implicit_ends

    if follows_sop_convention(raw):
        return []  # an error there ("cannot reach an end event"), not a warning
    scopes_with_ends = {n.scope for n in raw.nodes.values() if n.tag == "endEvent"}
    return [
        Finding(
            raw.source,
            node.line,
            node.id,
            "implicit-end",
            "warning",
            f"{node.tag} has no outgoing flow although its process has an end event: the "
            "token ends here (an implicit end)",
        )
        for node in implicit_ends(raw)
        if node.scope in scopes_with_ends
    ]


def _open_tasks(raw: RawProcess) -> list[Finding]:
    if follows_sop_convention(raw):
        return []  # an error there (code lane), not a warning
    return [
        Finding(
            raw.source,
            node.line,
            node.id,
            "open-task",
            "warning",
            f"{node.tag} is in no lane and names no assignee or candidates: any actor may "
            "claim and complete it (with a staff directory, anyone holding a position in the "
            "instance's unit)",
        )
        for node in open_steps(raw)
    ]


def _due_date_conflicts(raw: RawProcess) -> list[Finding]:
    from sopflow.sla.durations import StandardKind, parse_waktu

    found: list[Finding] = []
    for node in raw.nodes.values():
        waktu = node.prop("waktu") if node.is_step else None
        due = node.extras.get("due_date")
        if waktu is None or not isinstance(due, str):
            continue
        try:
            standard = parse_waktu(waktu.value)
        except WaktuError:
            continue  # an error of its own
        minutes = iso_duration_minutes(due)
        if standard.kind is StandardKind.CALENDAR and minutes == standard.amount:
            continue  # "2 x 24 jam" and P2D say the same
        found.append(
            Finding(
                raw.source,
                node.line,
                node.id,
                "due-date-conflict",
                "warning",
                f"waktu {waktu.value!r} and due date {due!r} differ; the waktu is the step's "
                "standard, the due date is not used",
            )
        )
    return found


def _undeclared_fields(raw: RawProcess) -> list[Finding]:
    from sopflow.runtime.expressions import compile_expression

    if any(n.kind is NodeKind.SCRIPT_TASK or n.tag == "serviceTask" for n in raw.nodes.values()):
        return []  # a handler may set any field
    declared = {DECISION_FIELD}
    for node in raw.nodes.values():
        keputusan = node.prop("keputusan")
        if keputusan is not None:
            declared.add(keputusan.value.strip())
        declared.update(f.id for f in node.extras.get("form", ()))
    found: list[Finding] = []
    for node in raw.nodes.values():
        if node.kind is not NodeKind.EXCLUSIVE_GATEWAY:
            continue
        for flow_id in node.outgoing:
            flow = raw.flows[flow_id]
            if flow.condition is None:
                continue
            try:
                names = compile_expression(flow.condition).names
            except ExpressionError:
                continue  # an error of its own
            for name in sorted(names - declared):
                found.append(
                    Finding(
                        raw.source,
                        flow.condition_line or flow.line,
                        flow.id,
                        "undeclared-field",
                        "warning",
                        f"the condition reads {name!r}, which no step (keputusan) or form field "
                        "declares: an instance stops at this gateway unless the application "
                        "sends it",
                    )
                )
    return found
