"""Hypothesis strategies for SOP tables, shared by the tests and scripts/fuzz_table.py."""

from __future__ import annotations

import keyword
import re

from hypothesis import strategies as st

from sopflow.definitions.model import DECISION_FIELD, ROLE_CODES, SopHeader
from sopflow.definitions.table import Keputusan, Langkah, Pelaksana, SopTable

__all__ = ["WAKTU", "sop_tables", "toml_noise"]

#: waktu texts the loader reads, in the forms the shipped SOPs write them
WAKTU = (
    "15 Menit",
    "2 hari",
    "480 menit",
    "2 Jam",
    "1 hari kerja",
    "2 x 24 jam",
    "1-2 hari",
    "3 minggu",
    "1 bulan",
)
KINDS = ("plain", "keputusan", "bersama", "untuk_setiap", "panggil")

_process_ids = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_fields = st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,5})?", fullmatch=True).filter(
    lambda name: (
        not keyword.iskeyword(name)
        and name
        not in (
            "true",
            "false",
            "null",
            "none",
            "start",
            "end",
            "pool",
            "lanes",
            "diagram",
            DECISION_FIELD,
        )
        and not re.match(r"(lane|step|merge|decision|fork|join|flow)_|.*_(di|item)$", name)
    )
)

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() != "")
_texts = st.lists(_text, max_size=3).map(tuple)


@st.composite
def sop_tables(draw: st.DrawFn, max_steps: int = 12, *, extended: bool = False) -> SopTable:
    """Any valid table: unique lanes, steps 1..n, decisions with a later ya, an earlier tidak.

    ``extended`` adds the rows the engine of many tokens runs: several Pelaksana,
    ``untuk_setiap`` and ``panggil``.
    """
    names = draw(st.lists(_text, min_size=1, max_size=5, unique=True))
    pelaksana = tuple(Pelaksana(n, draw(st.sampled_from(ROLE_CODES))) for n in names)
    count = draw(st.integers(min_value=1, max_value=max_steps))
    steps = []
    for no in range(1, count + 1):
        keputusan = None
        # one kind per row: a decision, several Pelaksana, a list, a call, or none
        kind = draw(st.sampled_from(KINDS if extended else KINDS[:2]))
        if kind == "keputusan" and 1 < no < count:
            keputusan = Keputusan(ya=no + 1, tidak=draw(st.integers(1, no - 1)))
        actors = [draw(st.sampled_from(names))]
        if kind == "bersama" and len(names) > 1:
            actors = draw(
                st.lists(st.sampled_from(names), min_size=2, max_size=len(names), unique=True)
            )
        steps.append(
            Langkah(
                no=no,
                kegiatan=draw(_text),
                pelaksana=actors[0],
                bersama=tuple(actors[1:]),
                untuk_setiap=draw(_fields) if kind == "untuk_setiap" else None,
                panggil=draw(_process_ids) if kind == "panggil" else None,
                kelengkapan=draw(_texts),
                waktu=draw(st.none() | st.sampled_from(WAKTU)),
                output=draw(_texts),
                keterangan=draw(st.none() | _text),
                keputusan=keputusan,
            )
        )
    header = SopHeader(
        nama=draw(st.none() | _text),
        nomor=draw(st.none() | _text),
        disahkan_oleh_nip=draw(st.none() | _text),
        dasar_hukum=draw(_texts),
        peringatan=draw(_texts),
        zona_waktu=draw(st.none() | st.sampled_from(["Asia/Jakarta", "Asia/Jayapura"])),
    )
    process_id = draw(
        _process_ids.filter(
            lambda pid: all(pid not in (step.panggil, step.untuk_setiap) for step in steps)
        )
    )
    return SopTable(
        process_id=process_id, identitas=header, pelaksana=pelaksana, langkah=tuple(steps)
    )


def toml_noise() -> st.SearchStrategy[str]:
    """Text near the table format: valid tables with a slice replaced, or cut, or nested."""
    pieces = st.sampled_from(
        [
            "[",
            "]",
            "{",
            "}",
            "[[langkah]]",
            "[[pelaksana]]",
            "[identitas]",
            "=",
            '"',
            "'",
            '"""',
            "\n",
            "#",
            ",",
            "no = 1",
            "pelaksana = []",
            'pelaksana = ["A", 1]',
            'untuk_setiap = ""',
            'panggil = "x y"',
            'waktu = "-5 menit"',
            'waktu = "1000000 tahun"',
            "keputusan = { ya = 0, tidak = 9 }",
            "\\",
            "\x00",
            "x = " + "[" * 40,
            'nama = "A"',
        ]
    )
    noisy = st.tuples(
        sop_tables(max_steps=4, extended=True),
        st.lists(pieces, max_size=6),
        st.integers(0, 10_000),
        st.integers(0, 40),
    ).map(_splice)
    return noisy | st.text(max_size=300)


def _splice(args: tuple[SopTable, list[str], int, int]) -> str:
    from sopflow.definitions.table import write_table

    table, inserted, at, cut = args
    text = write_table(table)
    at %= len(text) + 1
    return text[:at] + "".join(inserted) + text[at + cut :]
