"""The canonical text of an SOP table: what ``write_table`` writes and the reader reads back.

Kept apart from the reader (table.py) so each module holds one direction; the key lists
of the identity sheet live here because both directions walk them in this order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tomli_w

from sopflow.definitions.model import SopHeader

if TYPE_CHECKING:
    from sopflow.definitions.table import Langkah, SopTable

__all__ = ["DISAHKAN_KEYS", "HEADER_COMMENT", "HEADER_LIST_KEYS", "HEADER_TEXT_KEYS", "write_table"]

HEADER_TEXT_KEYS: tuple[str, ...] = (
    "nama",
    "nomor",
    "pemerintah",
    "kecamatan",
    "unit",
    "tanggal_pembuatan",
    "tanggal_revisi",
    "tanggal_efektif",
    "zona_waktu",
)
HEADER_LIST_KEYS: tuple[str, ...] = (
    "dasar_hukum",
    "kualifikasi_pelaksana",
    "keterkaitan",
    "peralatan_perlengkapan",
    "peringatan",
    "pencatatan_pendataan",
)
DISAHKAN_KEYS: tuple[str, ...] = ("jabatan", "nama", "pangkat", "nip")
HEADER_COMMENT = "# sopflow SOP table (docs/table-format.md)\n"


def _identitas_document(header: SopHeader) -> dict[str, Any]:
    identitas: dict[str, Any] = {}
    for key in HEADER_TEXT_KEYS:
        value = getattr(header, key)
        if value is not None and key != "zona_waktu":
            identitas[key] = value
    for key in HEADER_LIST_KEYS:
        if getattr(header, key):
            identitas[key] = list(getattr(header, key))
    if header.zona_waktu is not None:
        identitas["zona_waktu"] = header.zona_waktu
    disahkan = {
        key: getattr(header, f"disahkan_oleh_{key}")
        for key in DISAHKAN_KEYS
        if getattr(header, f"disahkan_oleh_{key}") is not None
    }
    if disahkan:
        identitas["disahkan_oleh"] = disahkan
    return identitas


def _langkah_lines(step: Langkah) -> str:
    entry: dict[str, Any] = {
        "no": step.no,
        "kegiatan": step.kegiatan,
        "pelaksana": list(step.semua_pelaksana) if step.bersama else step.pelaksana,
    }
    if step.kelengkapan:
        entry["kelengkapan"] = list(step.kelengkapan)
    if step.waktu is not None:
        entry["waktu"] = step.waktu
    if step.output:
        entry["output"] = list(step.output)
    if step.keterangan is not None:
        entry["keterangan"] = step.keterangan
    if step.untuk_setiap is not None:
        entry["untuk_setiap"] = step.untuk_setiap
    if step.panggil is not None:
        entry["panggil"] = step.panggil
    text = tomli_w.dumps(entry)
    if step.keputusan is not None:
        # written inline by hand: tomli-w would make it a [langkah.keputusan] subtable,
        # which reads worse than the one-line form the format documents
        text += f"keputusan = {{ ya = {step.keputusan.ya}, tidak = {step.keputusan.tidak} }}\n"
    return text


def write_table(table: SopTable) -> str:
    """The canonical text of a table: ``parse_table(write_table(t)) == t``, byte-stable.

    Sections are written one by one (tomli-w renders each) so that every pelaksana and
    langkah gets its own ``[[...]]`` header, whatever its length: line numbers in error
    messages point at them.
    """
    parts = [
        HEADER_COMMENT,
        tomli_w.dumps({"format": table.format, "process_id": table.process_id}),
    ]
    identitas = _identitas_document(table.identitas)
    if identitas:
        parts.append("\n" + tomli_w.dumps({"identitas": identitas}))
    for person in table.pelaksana:
        parts.append(
            "\n[[pelaksana]]\n" + tomli_w.dumps({"nama": person.nama, "peran": person.peran})
        )
    for step in table.langkah:
        parts.append("\n[[langkah]]\n" + _langkah_lines(step))
    return "".join(parts)
