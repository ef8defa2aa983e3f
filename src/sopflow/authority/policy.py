"""What a process file says about who may act, read from its sopflow properties.

The rules live in the BPMN file as ``camunda:property`` (or ``spiffworkflow:property``)
entries, the same convention as the SOP identity sheet, so they travel with the
definition version an instance runs on and an edit makes a new version:

on the process
    ``pembatal``            roles that may cancel an instance (``"camat, sekcam"``);
                            default: the first step's role and the unit's Camat
    ``pemisahan_keputusan`` ``"tidak"`` turns off the deciding-step default below
    ``hanya_definitif``     ``"ya"``: every step needs the definitive holder
on a task
    ``bukan_pelaksana_langkah``  step numbers (``"9, 10"``) whose actors may not do this step
    ``hanya_definitif``     ``"ya"``/``"tidak"``: needs the definitive holder (no Plh./Plt.)
    ``unit_induk``          ``"ya"``: holders in a parent unit (the kabupaten's
                            Inspektorat, say) may act on it

A deciding step (one with ``disetujui``) is by default separated from the step its
"Tidak" flow returns to and from every deciding step between the two: whoever prepared
the work, or approved it one level down, does not approve it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from sopflow.definitions.model import NodeKind, ProcessDefinition
from sopflow.definitions.xmlsafe import parse_xml
from sopflow.errors import DefinitionError

__all__ = ["ProcessRules", "StepRules", "rules_of"]

_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_NAMESPACES = (
    "http://camunda.org/schema/1.0/bpmn",
    "http://spiffworkflow.org/bpmn/schema/1.0/core",
)
_YES = {"ya", "yes", "true", "1"}
_NO = {"tidak", "no", "false", "0"}


@dataclass(frozen=True, slots=True)
class StepRules:
    #: step numbers whose actors may not do this step, with where the rule comes from
    separate_from: tuple[int, ...] = ()
    separation_source: str = ""
    #: None: the deployment's default
    definitive_only: bool | None = None
    parent_unit: bool = False


@dataclass(frozen=True, slots=True)
class ProcessRules:
    cancel_roles: tuple[str, ...]
    definitive_only: bool | None = None
    #: every lane role a step of the process asks for
    roles: tuple[str, ...] = ()
    steps: dict[str, StepRules] = field(default_factory=dict)
    #: whether ``pembatal`` was written (else ``cancel_roles`` is the default), and what
    #: ``pemisahan_keputusan`` says (None: not written): what a table written back shows
    cancel_declared: bool = False
    decisions_separated: bool | None = None

    def step(self, task_id: str) -> StepRules:
        return self.steps.get(task_id, StepRules())

    @property
    def any_parent_unit(self) -> bool:
        return any(s.parent_unit for s in self.steps.values())


def _props(elem: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for ext in elem.iterchildren(f"{{{_BPMN}}}extensionElements"):
        for ns in _NAMESPACES:
            for prop in ext.iterfind(f"{{{ns}}}properties/{{{ns}}}property"):
                name = prop.get("name")
                if name:
                    found[name] = (prop.get("value") or "").strip()
    return found


def _flag(value: str | None, what: str, element: str) -> bool | None:
    if value is None:
        return None
    if value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise DefinitionError(f"{what} must be 'ya' or 'tidak', got {value!r}", element=element)


def rules_of(definition: ProcessDefinition) -> ProcessRules:
    """The access rules of ``definition`` (cached per version: a version never changes)."""
    found = _CACHE.get(definition.version)
    if found is None:
        found = _rules(definition)
        if len(_CACHE) > 512:
            _CACHE.clear()
        _CACHE[definition.version] = found
    return found


_CACHE: dict[str, ProcessRules] = {}


def _rules(definition: ProcessDefinition) -> ProcessRules:
    root = parse_xml(definition.xml, source=definition.source)
    process = next(
        (p for p in root.iter(f"{{{_BPMN}}}process") if p.get("id") == definition.process_id),
        None,
    )
    pprops = _props(process) if process is not None else {}
    first = min(definition.steps, key=lambda s: s.no) if definition.steps else None
    cancel = declared = tuple(
        r.strip() for r in pprops.get("pembatal", "").split(",") if r.strip()
    )
    if not cancel:
        cancel = tuple(dict.fromkeys([*(([first.role]) if first else []), "camat"]))
    decisions_on = _flag(
        pprops.get("pemisahan_keputusan"), "pemisahan_keputusan", definition.process_id
    )
    tprops: dict[str, dict[str, str]] = {}
    if process is not None:
        for elem in process.iter():
            tid = elem.get("id")
            if tid and definition.step(tid) is not None:
                tprops[tid] = _props(elem)
    by_no = {s.no: s for s in definition.steps}
    steps: dict[str, StepRules] = {}
    for step in definition.steps:
        props = tprops.get(step.id, {})
        separate: list[int] = []
        source = ""
        text = props.get("bukan_pelaksana_langkah")
        if text:
            for part in text.replace(";", ",").split(","):
                part = part.strip()
                if not part.isdigit() or int(part) not in by_no:
                    raise DefinitionError(
                        f"bukan_pelaksana_langkah: {part!r} is not a step number of this process",
                        element=step.id,
                    )
                separate.append(int(part))
            source = "bukan_pelaksana_langkah"
        elif step.decision_field is not None and decisions_on is not False:
            separate = _decided_on(definition, step.id)
            source = "keputusan (tidak disetujui oleh pembuat yang sama)"
        steps[step.id] = StepRules(
            separate_from=tuple(sorted(set(separate) - {step.no})),
            separation_source=source,
            definitive_only=_flag(props.get("hanya_definitif"), "hanya_definitif", step.id),
            parent_unit=bool(_flag(props.get("unit_induk"), "unit_induk", step.id)),
        )
    return ProcessRules(
        cancel_roles=cancel,
        roles=tuple(sorted({s.role for s in definition.steps})),
        definitive_only=_flag(
            pprops.get("hanya_definitif"), "hanya_definitif", definition.process_id
        ),
        steps=steps,
        cancel_declared=bool(declared),
        decisions_separated=decisions_on,
    )


def _decided_on(definition: ProcessDefinition, step_id: str) -> list[int]:
    """The step a deciding step's "Tidak" returns to, and the deciding steps in between."""
    decision = next((d for d in definition.decisions if d.step_id == step_id), None)
    this = definition.step(step_id)
    if decision is None or decision.no_target is None or this is None:
        return []
    target = _first_step(definition, decision.no_target)
    if target is None or target >= this.no:
        return [target] if target is not None else []
    between = [
        s.no for s in definition.steps if target < s.no < this.no and s.decision_field is not None
    ]
    return [target, *between]


def _first_step(definition: ProcessDefinition, node_id: str) -> int | None:
    seen: set[str] = set()
    current: str | None = node_id
    while current is not None and current not in seen:
        seen.add(current)
        step = definition.step(current)
        if step is not None:
            return step.no
        node = definition.nodes.get(current)
        if node is None or node.kind is NodeKind.END or len(node.outgoing) != 1:
            return None
        current = node.outgoing[0].target
    return None
