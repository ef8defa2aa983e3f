"""How a Mutu Baku waktu cell is read into a standard, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sopflow.errors import SopflowError, WaktuError
from sopflow.sla import HariPolicy, Standard, StandardKind, parse_waktu

WM = StandardKind.WORKING_MINUTES
WD = StandardKind.WORKING_DAYS
CAL = StandardKind.CALENDAR
MON = StandardKind.CALENDAR_MONTHS


@pytest.mark.parametrize(
    ("text", "kind", "amount", "target"),
    [
        # spellings seen in signed SOPs: case and spacing vary
        ("15 Menit", WM, 15, None),
        ("15menit", WM, 15, None),
        ("120 Menit", WM, 120, None),
        ("  10   menit ", WM, 10, None),
        ("1 jam", WM, 60, None),
        ("1 JAM", WM, 60, None),
        ("2 HARI KERJA", WD, 2, None),
        ("1 hari kerja", WD, 1, None),
        ("1 harikerja", WD, 1, None),
        ("3 hari", WD, 3, None),
        ("1 minggu", WD, 5, None),
        ("2 Bulan", MON, 2, None),
        # decimal comma or point
        ("1,5 jam", WM, 90, None),
        ("1.5 jam", WM, 90, None),
        ("0,5 hari kerja", WD, 0.5, None),
        # ranges: hyphen, en dash, s.d., sampai
        ("5-10 menit", WM, 10, 5),
        ("5 - 10 menit", WM, 10, 5),
        ("1 – 20 hari", WD, 20, 1),
        ("5 s.d. 10 menit", WM, 10, 5),
        ("5 s/d 10 menit", WM, 10, 5),
        ("1 sampai 2 jam", WM, 120, 60),
        ("1 sampai dengan 3 hari kerja", WD, 3, 1),
        ("30 menit - 1 jam", WM, 60, 30),
        ("0-10 menit", WM, 10, 0),
        # N x 24 jam is elapsed calendar time
        ("2 x 24 jam", CAL, 2 * 24 * 60, None),
        ("2x24 jam", CAL, 2 * 24 * 60, None),
        ("1 X 24 Jam", CAL, 24 * 60, None),
        ("3 × 24 jam", CAL, 3 * 24 * 60, None),
        ("3 hari kalender", CAL, 3 * 24 * 60, None),
        # forms of official writing
        ("3 (tiga) hari kerja", WD, 3, None),
        ("1 (satu) Minggu", WD, 5, None),
        ("maksimal 3 hari", WD, 3, None),
        ("± 10 menit", WM, 10, None),
        ("10 menit.", WM, 10, None),
        ("1 jam 30 menit", WM, 90, None),
        ("1 tahun", MON, 12, None),
    ],
)
def test_reads_the_spellings_of_real_sops(
    text: str, kind: StandardKind, amount: float, target: float | None
) -> None:
    standard = parse_waktu(text)
    assert (standard.kind, standard.amount, standard.target) == (kind, amount, target)
    assert standard.text == text
    assert standard.has_standard


@pytest.mark.parametrize("text", [None, "", "   ", "-", "—", "sesuai jadwal", "Sesuai Jadwal"])
def test_empty_cells_and_sesuai_jadwal_have_no_standard(text: str | None) -> None:
    standard = parse_waktu(text)
    assert standard.kind is StandardKind.NONE
    assert not standard.has_standard
    assert standard.text == text


def test_bare_hari_follows_the_policy_but_hari_kerja_never_does() -> None:
    policy = HariPolicy.CALENDAR_DAYS
    assert parse_waktu("3 hari", hari=policy) == Standard(CAL, 3 * 1440, None, "3 hari")
    assert parse_waktu("3 hari kerja", hari=policy).kind is WD
    assert parse_waktu("1-2 hari", hari=policy).target == 1440
    assert parse_waktu("3 hari").kind is WD  # working days by default


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5 menit", "negative"),
        ("10-5 menit", "smaller to the larger"),
        ("2 jam - 30 menit", "smaller to the larger"),
        ("5-5 menit", "empty"),
        ("0 menit", "positive"),
        ("0 x 24 jam", "positive"),
        ("11 tahun", "10 years"),
        ("3651 hari kerja", "10 years"),
        ("200000 jam", "10 years"),
        ("1,5 bulan", "whole"),
        ("2 x 8 jam", "24 jam"),
        ("1 jam 2 hari", "different ways"),
        ("1 hari - 2 bulan", "same way"),
        ("segera", "no number"),
        ("menit", "no number"),
        ("3 detik", "unknown unit"),
        ("5 menit 5", "unknown unit"),
        ("1.000.000 menit", "unknown unit"),
        ("٣ hari", "no number"),  # digits of another script are not silently accepted
        ("10", "unknown unit"),
        ("x" * 500, "too long"),
    ],
)
def test_refuses_what_it_cannot_read_and_quotes_the_text(text: str, reason: str) -> None:
    with pytest.raises(WaktuError) as caught:
        parse_waktu(text)
    assert reason in str(caught.value)
    assert text[:20] in str(caught.value)
    assert isinstance(caught.value, SopflowError)


def test_a_non_text_is_refused() -> None:
    with pytest.raises(WaktuError):
        parse_waktu(15)  # type: ignore[arg-type]


def test_a_standard_built_by_hand_is_checked_too() -> None:
    with pytest.raises(WaktuError):
        Standard(WM, -1)
    with pytest.raises(WaktuError):
        Standard(WM, 10, 10)
    with pytest.raises(WaktuError):
        Standard(StandardKind.NONE, 5)
    with pytest.raises(WaktuError):
        Standard(MON, float("nan"))


def test_standard_is_frozen_and_hashable() -> None:
    standard = parse_waktu("5-10 menit")
    with pytest.raises(AttributeError):
        standard.amount = 3  # type: ignore[misc]
    assert len({standard, parse_waktu("5-10 menit")}) == 1


def test_the_target_of_a_range_is_a_standard_of_its_own() -> None:
    lower = parse_waktu("5-10 menit").at_target()
    assert lower is not None
    assert (lower.kind, lower.amount, lower.target) == (WM, 5, None)
    assert parse_waktu("0-10 menit").at_target() is None
    assert parse_waktu("10 menit").at_target() is None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("30 menit", "30 menit kerja (30 working minutes)"),
        ("1 jam", "1 jam kerja (60 working minutes)"),
        ("1,5 jam", "90 menit kerja (90 working minutes)"),
        ("5-10 menit", "5–10 menit kerja (5–10 working minutes)"),
        ("1 hari", "1 hari kerja (1 working day)"),
        ("0,5 hari", "0,5 hari kerja (0,5 working days)"),
        ("2 minggu", "10 hari kerja (10 working days)"),
        ("2x24 jam", "2 x 24 jam (48 calendar hours)"),
        ("2 Bulan", "2 bulan (2 calendar months)"),
        ("sesuai jadwal", "tanpa standar waktu (no time standard)"),
    ],
)
def test_describe_gives_a_short_bilingual_label(text: str, label: str) -> None:
    assert parse_waktu(text).describe() == label


def test_units_of_the_amount() -> None:
    assert parse_waktu("1 jam").unit == "minutes"
    assert parse_waktu("1 hari").unit == "days"
    assert parse_waktu("1 bulan").unit == "months"
    assert parse_waktu("1x24 jam").unit == "minutes"


@given(st.text(max_size=40))
def test_any_text_is_either_read_or_refused_with_waktu_error(text: str) -> None:
    try:
        standard = parse_waktu(text)
    except WaktuError:
        return
    assert standard.kind is StandardKind.NONE or standard.amount > 0


@given(
    st.integers(min_value=1, max_value=600),
    st.sampled_from(["menit", "Menit", "MENIT", "mnt"]),
    st.sampled_from(["", " ", "  "]),
)
def test_minutes_in_any_case_and_spacing(n: int, unit: str, gap: str) -> None:
    assert parse_waktu(f"{n}{gap}{unit}") == Standard(WM, n, None, f"{n}{gap}{unit}")
