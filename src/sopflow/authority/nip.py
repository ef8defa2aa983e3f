"""The NIP (Nomor Induk Pegawai) of a civil servant: 18 digits that say something.

PP 11/2017 and BKN practice write an NIP as ``YYYYMMDD YYYYMM G NNN``: birth date,
appointment (TMT CPNS) year and month, gender (1 male, 2 female) and a sequence number.
Checking the structure catches the common typing errors (a digit dropped, two digits
swapped into a month 13) before a wrong person is given a position's authority.
"""

from __future__ import annotations

from datetime import date

from sopflow.errors import NipError

__all__ = ["format_nip", "normalize_nip"]


def normalize_nip(text: str, *, field: str = "nip") -> str:
    """The 18 digits of ``text`` (spaces allowed as written on letters), or NipError."""
    if not isinstance(text, str):
        raise NipError(f"NIP must be text, got {type(text).__name__}", field=field)
    digits = "".join(text.split())
    if len(digits) != 18 or not digits.isascii() or not digits.isdigit():
        raise NipError(f"NIP {text!r} is not 18 digits", field=field)
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise NipError(f"NIP {text!r}: digits 1-8 are not a birth date", field=field) from None
    tmt_year, tmt_month = int(digits[8:12]), int(digits[12:14])
    if not 1 <= tmt_month <= 12:
        raise NipError(f"NIP {text!r}: digits 13-14 are not a TMT month", field=field)
    if tmt_year < born.year + 14:
        raise NipError(
            f"NIP {text!r}: TMT {tmt_year} is before the holder could be appointed "
            f"(born {born.year})",
            field=field,
        )
    if digits[14] not in "12":
        raise NipError(f"NIP {text!r}: digit 15 (gender) must be 1 or 2", field=field)
    if born.year < 1900:
        raise NipError(f"NIP {text!r}: birth year {born.year} is not plausible", field=field)
    return digits


def format_nip(digits: str) -> str:
    """``19660705 198703 1 007``: the grouping used on letters and SOP identity sheets."""
    return f"{digits[0:8]} {digits[8:14]} {digits[14]} {digits[15:]}"
