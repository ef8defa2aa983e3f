"""The SOP table side of the document: a table as the document sees it, and back.

A table is drawn without compiling it (``table_sheet``), and a definition can be written
back as the table it came from (``definition_to_table``); both live here so the document
module keeps to the drawing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sopflow.authority.policy import ProcessRules, StepRules, rules_of
from sopflow.definitions.model import DECISION_FIELD, Decision, Lane, ProcessDefinition, Step
from sopflow.definitions.table import (
    Keputusan,
    Kewenangan,
    Langkah,
    Pelaksana,
    SopTable,
    write_table,
)
from sopflow.errors import DefinitionError
from sopflow.reports._flowchart import RowExtra, row_steps

__all__ = ["definition_sheet", "definition_to_table", "render_table", "table_sheet"]


# ------------------------------------------------------------------------- back to a table


def definition_to_table(definition: ProcessDefinition) -> SopTable:
    """The SOP table a definition was (or could have been) compiled from.

    Step numbers become the table's 1..n in step order; each decision's Ya and Tidak
    targets are written as step numbers.
    """
    steps = row_steps(_with_calls(definition))
    number_of = {step.id: index for index, step in enumerate(steps, 1)}
    for step in definition.steps:  # the other tasks of a joint step: their row's number
        first = next(s for s in steps if s.no == step.no)
        number_of.setdefault(step.id, number_of[first.id])
    decisions = {d.step_id: d for d in definition.decisions}
    # a definition built in code has no file, so no properties that declare rules
    rules = rules_of(definition) if definition.xml else ProcessRules(cancel_roles=())
    row_of_no = {s.no: number_of[s.id] for s in definition.steps}
    langkah = []
    for index, step in enumerate(steps, 1):
        if step.lane is None or definition.lane(step.lane) is None:
            raise DefinitionError(
                "step has no Pelaksana lane, so it has no column in the SOP table",
                file=definition.source,
                line=step.line,
                element=step.id,
            )
        keputusan = None
        decision = decisions.get(step.id)
        if decision is not None:
            ya = number_of.get(decision.yes_target or "")
            tidak = number_of.get(decision.no_target or "")
            if ya is None or tidak is None:
                raise DefinitionError(
                    "decision does not lead to a step on both Ya and Tidak, which the "
                    "SOP table cannot write",
                    file=definition.source,
                    element=decision.gateway_id,
                )
            keputusan = Keputusan(ya=ya, tidak=tidak)
        langkah.append(
            Langkah(
                no=index,
                kegiatan=step.name,
                pelaksana=step.lane,
                kelengkapan=step.kelengkapan,
                waktu=step.waktu,
                output=step.output,
                keterangan=step.keterangan,
                keputusan=keputusan,
                bersama=tuple(
                    dict.fromkeys(
                        other.lane
                        for other in definition.steps
                        if other.no == step.no
                        and other is not step
                        and other.lane is not None
                        and other.lane != step.lane
                    )
                ),
                untuk_setiap=_per_item(definition, step),
                panggil=_called(definition, step),
                **_step_rules(rules.step(step.id), row_of_no),
            )
        )
    return SopTable(
        process_id=definition.process_id,
        identitas=definition.header,
        pelaksana=tuple(Pelaksana(nama=lane.name, peran=lane.role) for lane in definition.lanes),
        langkah=tuple(langkah),
        kewenangan=Kewenangan(
            pembatal=rules.cancel_roles if rules.cancel_declared else (),
            pemisahan_keputusan=rules.decisions_separated,
            hanya_definitif=rules.definitive_only,
        ),
        source=definition.source,
    )


def _step_rules(found: StepRules, row_of_no: Mapping[int, int]) -> dict[str, Any]:
    """The authority rules a step's properties declare, as table keys (defaults left out)."""
    written = found.separation_source == "bukan_pelaksana_langkah"
    return {
        "bukan_pelaksana_langkah": tuple(
            sorted(row_of_no[no] for no in found.separate_from if no in row_of_no)
        )
        if written
        else (),
        "hanya_definitif": found.definitive_only,
        "unit_induk": found.parent_unit,
    }


def render_table(definition: ProcessDefinition) -> str:
    """The SOP table text (TOML) that ``sopflow compile`` reads."""
    return write_table(definition_to_table(definition))


def _with_calls(definition: ProcessDefinition) -> ProcessDefinition:
    """The definition with its call rows among its steps: every row of the SOP.

    A call outside every lane (a foreign file may leave one there) has no column to be
    drawn in, and the engine does not need one: it is left out of the paper.
    """
    if not definition.calls:
        return definition
    calls = tuple(c for c in definition.calls if c.lane is not None)
    rows = sorted((*definition.steps, *calls), key=lambda s: s.no)
    return replace(definition, steps=tuple(rows), calls=())


def _per_item(definition: ProcessDefinition, step: Step) -> str | None:
    """The list a multi-instance step runs over (``untuk_setiap``), when it names one."""
    node = definition.nodes.get(step.id)
    return node.multi.collection if node is not None and node.multi is not None else None


def _called(definition: ProcessDefinition, step: Step) -> str | None:
    node = definition.nodes.get(step.id)
    return node.call.process if node is not None and node.call is not None else None


def definition_sheet(
    definition: ProcessDefinition, called: Mapping[str, str] | None = None
) -> tuple[ProcessDefinition, dict[int, RowExtra]]:
    """The document's view of a loaded definition: the same rows its table would give.

    A call activity is a row (the off-page connector, the called SOP named in its
    Keterangan), a multi-instance step a row with its note; the tasks of a joint step
    already share their number, so they are one row with a symbol in each column.
    """
    called = called or {}
    rows = []
    extras: dict[int, RowExtra] = {}
    for step in _with_calls(definition).steps:
        node = definition.nodes.get(step.id)
        multi = node.multi if node is not None else None
        process = _called(definition, step)
        if process is not None:
            extras[step.no] = RowExtra(calls=True)
        if multi is None and process is None:
            rows.append(step)
            continue
        items = multi.collection if multi is not None else None
        cardinality = multi.cardinality if multi is not None else None
        note = _note(items, cardinality, process, step.keterangan, called)
        rows.append(replace(step, keterangan=note))
    return replace(definition, steps=tuple(rows), calls=()), extras


def _note(
    items: str | None,
    cardinality: str | None,
    process: str | None,
    keterangan: str | None,
    called: Mapping[str, str],
) -> str | None:
    """The Keterangan of a row: what runs per item or in another SOP, then the SOP's own."""
    parts: list[str] = []
    if items is not None:
        parts.append(f"Dilakukan untuk setiap {items.replace('_', ' ')}")
    elif cardinality is not None:
        parts.append(f"Dilakukan {cardinality} kali")
    if process is not None:
        name = called.get(process) or process
        if not name.casefold().startswith("sop "):
            name = f"SOP {name}"
        parts.append(f"Menjalankan {name}")
    if keterangan is not None:
        parts.append(keterangan)
    return "\n".join(parts) if parts else None


# ------------------------------------------------------------------------ from a table


def _row_note(step: Langkah, called: Mapping[str, str]) -> str | None:
    return _note(step.untuk_setiap, None, step.panggil, step.keterangan, called)


def table_sheet(
    table: SopTable, called: Mapping[str, str] | None = None
) -> tuple[ProcessDefinition, dict[int, RowExtra]]:
    """The document's view of a table: one step per row, plus what the rows add.

    The view is built directly (no BPMN, no loader): the paper shows rows, and a row done
    by several Pelaksana, per item or by another SOP is one row on paper however the
    engine runs it.
    """
    from sopflow.definitions.compiler import joint_task_id, step_id

    called = called or {}
    roles = {p.nama: p.peran for p in table.pelaksana}
    ids = {
        step.no: joint_task_id(step.no, 1) if step.bersama else step_id(step.no)
        for step in table.langkah
    }
    steps = tuple(
        Step(
            id=ids[step.no],
            no=step.no,
            name=step.kegiatan,
            lane=step.pelaksana,
            role=roles[step.pelaksana],
            kelengkapan=step.kelengkapan,
            waktu=step.waktu,
            output=step.output,
            keterangan=_row_note(step, called),
            decision_field=DECISION_FIELD if step.keputusan else None,
        )
        for step in table.langkah
    )
    decisions = tuple(
        Decision(
            gateway_id=f"decision_{step.no:02d}",
            step_id=ids[step.no],
            field=DECISION_FIELD,
            yes_target=ids[step.keputusan.ya],
            no_target=ids[step.keputusan.tidak],
        )
        for step in table.langkah
        if step.keputusan is not None
    )
    definition = ProcessDefinition(
        process_id=table.process_id,
        name=table.identitas.nama or table.process_id,
        version="",
        source=table.source or table.process_id,
        xml=b"",
        header=table.identitas,
        lanes=tuple(
            Lane(id=f"lane_{i}", name=p.nama, role=p.peran)
            for i, p in enumerate(table.pelaksana, start=1)
        ),
        steps=steps,
        decisions=decisions,
        nodes={},
        start_node="start",
    )
    extras = {
        step.no: RowExtra(bersama=step.bersama, calls=step.panggil is not None)
        for step in table.langkah
        if step.bersama or step.panggil is not None
    }
    return definition, extras
