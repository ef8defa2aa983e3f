"""The evaluation of an SOP against the criteria of Permenpan-RB 35/2012.

Monitoring (``stats_form``) asks whether each *step* ran well; evaluation asks whether
the *SOP as a whole* is still a good procedure. The regulation's evaluation table, as
the agencies' templates that cite it list the criteria (docs/web.md, "Evaluasi"), judges
each SOP Ya / Tidak against seven criteria; agencies score it as the share of Ya and
file it together with the monitoring form.

An evaluation is a record of a person's judgement, not a figure sopflow computes: the
evaluator answers every criterion and may add a catatan to each. It is kept per SOP
*version* (the sha256 of the BPMN the instances ran), so a revised SOP starts with no
evaluation of its own and the old one still says what it judged. Who may record one is
decided by :mod:`sopflow.authority.evaluation`; this module only checks the answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sopflow.authority.base import signed_as
from sopflow.errors import EvaluationError

__all__ = [
    "CRITERIA",
    "MAX_CATATAN",
    "Answer",
    "Evaluation",
    "NewEvaluation",
    "parse_answers",
    "parse_tanggal",
]

#: key -> the criterion as the evaluation table words it (Bahasa Indonesia)
CRITERIA: dict[str, str] = {
    "mendorong_kinerja": "Mampu mendorong peningkatan kinerja",
    "mudah_dipahami": "Mudah dipahami",
    "mudah_dilaksanakan": "Mudah dilaksanakan",
    "peran_masing_masing": "Semua orang dapat menjalankan perannya masing-masing",
    "mengatasi_permasalahan": "Mampu mengatasi permasalahan yang berkaitan dengan proses",
    "kebutuhan_kinerja": "Mampu menjawab kebutuhan peningkatan kinerja organisasi",
    "sinergi": "Sinergi satu dengan lainnya",
}
#: the longest catatan of one criterion (characters): a paragraph, not a document
MAX_CATATAN = 2000


@dataclass(frozen=True, slots=True)
class Answer:
    """One criterion judged: Ya (``ya=True``) or Tidak, with the evaluator's catatan."""

    criterion: str
    ya: bool
    catatan: str = ""

    @property
    def label(self) -> str:
        return CRITERIA.get(self.criterion, self.criterion)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kriteria": self.criterion,
            "uraian": self.label,
            "ya": self.ya,
            "catatan": self.catatan,
        }


@dataclass(frozen=True, slots=True)
class NewEvaluation:
    """What the evaluator submits for one SOP version; checked by :func:`parse_answers`
    before it reaches a store, signed with the position the authority found."""

    process_id: str
    version: str
    unit: str
    nip: str
    position: str
    position_name: str
    kind: str
    tanggal: date
    answers: tuple[Answer, ...]
    created_at: int

    @property
    def ya(self) -> int:
        return sum(a.ya for a in self.answers)

    @property
    def score(self) -> float:
        """The share of Ya, as agencies score an evaluation (0.0 to 1.0)."""
        return self.ya / len(self.answers) if self.answers else 0.0


@dataclass(frozen=True, slots=True)
class Evaluation(NewEvaluation):
    """A stored evaluation: its number in the store and the evaluator's name."""

    id: int = 0
    nama: str | None = None

    @property
    def penilai(self) -> str:
        """The signature line: "Plh. <position>" for a Plh. or Plt., as documents sign."""
        return signed_as(self.kind, self.position_name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "process_id": self.process_id,
            "version": self.version,
            "unit": self.unit,
            "nip": self.nip,
            "nama": self.nama,
            "jabatan": self.position,
            "nama_jabatan": self.position_name,
            "jenis": self.kind,
            "tanggal": self.tanggal.isoformat(),
            "kriteria": [a.to_dict() for a in self.answers],
            "ya": self.ya,
            "jumlah": len(self.answers),
            "nilai": round(self.score, 4),
        }


def _unprintable(c: str) -> bool:
    n = ord(c)
    return (n < 32 and c not in "\n\r\t") or 0x7F <= n < 0xA0 or 0xD800 <= n < 0xE000


def _yes(value: object, field: str) -> bool:
    """Ya/Tidak as a form or JSON gives it; anything else is refused, never guessed."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("ya", "tidak"):
        return value.strip().lower() == "ya"
    raise EvaluationError("must be Ya or Tidak", field=field)


def parse_answers(
    given: Mapping[str, object], catatan: Mapping[str, object] | None = None
) -> tuple[Answer, ...]:
    """The seven answers in the table's order, from ``criterion -> Ya/Tidak`` and
    ``criterion -> catatan``.

    Every criterion must be answered (an evaluation with a gap would score the gap as
    Tidak, or as nothing, and the agencies' share would not be comparable), no other
    key is accepted (a misspelt criterion would silently be dropped), and a catatan is
    at most :data:`MAX_CATATAN` characters of text (line breaks and tabs, but no other
    control character or lone surrogate: PostgreSQL cannot store a NUL). The catatan is
    kept as written: escaping is the job of whatever shows it.
    """
    notes = dict(catatan or {})
    for key in [*given, *notes]:
        if key not in CRITERIA:
            raise EvaluationError(
                f"unknown criterion; the criteria are {', '.join(CRITERIA)}",
                field=f"kriteria.{str(key)[:60]}",
            )
    answers = []
    for key in CRITERIA:
        if key not in given or given[key] is None:
            raise EvaluationError("not answered (Ya or Tidak)", field=f"kriteria.{key}")
        note = notes.get(key) or ""
        if not isinstance(note, str):
            raise EvaluationError("must be text", field=f"catatan.{key}")
        if any(_unprintable(c) for c in note):
            # PostgreSQL cannot store a NUL; an escape sequence would forge a terminal line
            raise EvaluationError(
                "contains a control character or a lone surrogate", field=f"catatan.{key}"
            )
        if len(note) > MAX_CATATAN:
            raise EvaluationError(
                f"{len(note)} characters; at most {MAX_CATATAN}", field=f"catatan.{key}"
            )
        answers.append(Answer(key, _yes(given[key], f"kriteria.{key}"), note.strip()))
    return tuple(answers)


def parse_tanggal(text: str) -> date:
    """The evaluation day as a form or JSON writes it (YYYY-MM-DD; not the week, ordinal
    or basic forms date.fromisoformat also reads)."""
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except ValueError:
        message = f"{text[:40]!r} is not a date (YYYY-MM-DD)"
        raise EvaluationError(message, field="tanggal") from None
