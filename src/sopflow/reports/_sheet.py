"""The SOP table side of the document: a table as the document sees it, and back.

A table is drawn without compiling it (``table_sheet``), and a definition can be written
back as the table it came from (``definition_to_table``); both live here so the document
module keeps to the drawing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sopflow.definitions.model import DECISION_FIELD, Decision, Lane, ProcessDefinition, Step
from sopflow.definitions.table import Keputusan, Langkah, Pelaksana, SopTable, write_table
from sopflow.errors import DefinitionError
from sopflow.reports._flowchart import RowExtra, row_steps

__all__ = ["definition_to_table", "render_table", "table_sheet"]


# ------------------------------------------------------------------------- back to a table


def definition_to_table(definition: ProcessDefinition) -> SopTable:
    """The SOP table a definition was (or could have been) compiled from.

    Step numbers become the table's 1..n in step order; each decision's Ya and Tidak
    targets are written as step numbers.
    """
    steps = row_steps(definition)
    number_of = {step.id: index for index, step in enumerate(steps, 1)}
    for step in definition.steps:  # the other tasks of a joint step: their row's number
        first = next(s for s in steps if s.no == step.no)
        number_of.setdefault(step.id, number_of[first.id])
    decisions = {d.step_id: d for d in definition.decisions}
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
            )
        )
    return SopTable(
        process_id=definition.process_id,
        identitas=definition.header,
        pelaksana=tuple(Pelaksana(nama=lane.name, peran=lane.role) for lane in definition.lanes),
        langkah=tuple(langkah),
        source=definition.source,
    )


def render_table(definition: ProcessDefinition) -> str:
    """The SOP table text (TOML) that ``sopflow compile`` reads."""
    return write_table(definition_to_table(definition))


# ------------------------------------------------------------------------ from a table


def _row_note(step: Langkah, called: Mapping[str, str]) -> str | None:
    """The Keterangan of a row: what runs per item or in another SOP, then the SOP's own."""
    parts: list[str] = []
    if step.untuk_setiap is not None:
        parts.append(f"Dilakukan untuk setiap {step.untuk_setiap.replace('_', ' ')}")
    if step.panggil is not None:
        name = called.get(step.panggil) or step.panggil
        if not name.casefold().startswith("sop "):
            name = f"SOP {name}"
        parts.append(f"Menjalankan {name}")
    if step.keterangan is not None:
        parts.append(step.keterangan)
    return "\n".join(parts) if parts else None


def table_sheet(
    table: SopTable, called: Mapping[str, str] | None = None
) -> tuple[ProcessDefinition, dict[int, RowExtra]]:
    """The document's view of a table: one step per row, plus what the rows add.

    The view is built directly (no BPMN, no loader): the paper shows rows, and a row done
    by several Pelaksana, per item or by another SOP is one row on paper however the
    engine runs it.
    """
    from sopflow.definitions.compiler import step_id

    called = called or {}
    roles = {p.nama: p.peran for p in table.pelaksana}
    steps = tuple(
        Step(
            id=step_id(step.no),
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
            step_id=step_id(step.no),
            field=DECISION_FIELD,
            yes_target=step_id(step.keputusan.ya),
            no_target=step_id(step.keputusan.tidak),
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
