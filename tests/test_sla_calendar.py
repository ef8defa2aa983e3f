"""The Indonesian work calendar: working days, working time, and when a standard runs out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopflow.errors import CalendarError, SopflowError
from sopflow.sla import Standard, StandardKind, WorkCalendar, from_config, parse_waktu

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
CAL = WorkCalendar.default()


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


# --- the cases the SLA monitor relies on (default calendar, WIB) ------------------------


def test_one_hari_over_independence_day_and_cuti_bersama() -> None:
    # Friday 15 Aug 2025; Sun 17 Aug Hari Kemerdekaan, Mon 18 Aug cuti bersama
    assert CAL.due_at(parse_waktu("1 hari"), wib(2025, 8, 15, 10)) == wib(2025, 8, 19, 10)


def test_thirty_minutes_inside_the_morning() -> None:
    assert CAL.due_at(parse_waktu("30 menit"), wib(2025, 8, 11, 10)) == wib(2025, 8, 11, 10, 30)


def test_thirty_minutes_across_the_lunch_break() -> None:
    assert CAL.due_at(parse_waktu("30 menit"), wib(2025, 8, 11, 11, 45)) == wib(2025, 8, 11, 13, 15)


def test_two_times_24_hours_runs_through_the_weekend() -> None:
    assert CAL.due_at(parse_waktu("2 x 24 jam"), wib(2025, 8, 15, 10)) == wib(2025, 8, 17, 10)


def test_480_minutes_span_two_days() -> None:
    # Monday 10:00: 300 minutes left that day (10-12, 13-16), 180 more on Tuesday
    assert CAL.due_at(parse_waktu("480 menit"), wib(2025, 8, 11, 10)) == wib(2025, 8, 12, 10, 30)


def test_friday_keeps_its_long_prayer_break() -> None:
    # Friday 11:00 + 60 minutes: 30 before 11:30, then 30 after 13:00
    assert CAL.add_working_minutes(wib(2025, 8, 8, 11), 60) == wib(2025, 8, 8, 13, 30)
    assert CAL.working_minutes_between(wib(2025, 8, 8, 0), wib(2025, 8, 9, 0)) == 450


def test_the_week_has_37_and_a_half_hours() -> None:
    minutes = CAL.working_minutes_between(wib(2025, 8, 4), wib(2025, 8, 11))
    assert minutes == 37.5 * 60
    assert CAL.working_day_minutes == 450


def test_wita_offices_get_the_same_local_results() -> None:
    wita = CAL.with_time_zone("Asia/Makassar")
    ready = datetime(2025, 8, 15, 10, tzinfo=WITA)
    due = wita.due_at(parse_waktu("1 hari"), ready)
    assert due == datetime(2025, 8, 19, 10, tzinfo=WITA)
    assert due is not None and due.utcoffset() == timedelta(hours=8)
    monday = datetime(2025, 8, 11, 11, 45, tzinfo=WITA)
    expected = datetime(2025, 8, 11, 13, 15, tzinfo=WITA)
    assert wita.due_at(parse_waktu("30 menit"), monday) == expected


def test_the_wib_calendar_reads_a_wita_moment_in_jakarta_time() -> None:
    # 08:00 WITA is 07:00 WIB: before the Jakarta office opens
    assert not CAL.is_working_time(datetime(2025, 8, 11, 8, tzinfo=WITA))
    assert CAL.with_time_zone(WITA).is_working_time(datetime(2025, 8, 11, 8, tzinfo=WITA))


def test_an_extra_local_holiday_shifts_the_due_date() -> None:
    local = CAL.with_extra_holidays([date(2025, 8, 19)])
    assert local.due_at(parse_waktu("1 hari"), wib(2025, 8, 15, 10)) == wib(2025, 8, 20, 10)
    assert local.holiday_name(date(2025, 8, 19)) == "libur lokal (local holiday)"


def test_a_cancelled_holiday_is_worked() -> None:
    worked = CAL.with_cancelled_holidays([date(2025, 8, 18)])
    assert worked.is_working_day(date(2025, 8, 18))
    assert worked.due_at(parse_waktu("1 hari"), wib(2025, 8, 15, 10)) == wib(2025, 8, 18, 10)
    assert worked.holiday_name(date(2025, 8, 18)) is None


def test_cuti_bersama_can_be_left_out() -> None:
    public_only = from_config({"cuti_bersama": False})
    assert public_only.is_working_day(date(2025, 8, 18))
    assert not public_only.is_working_day(date(2025, 12, 25))
    no_national = from_config({"national_holidays": False})
    assert no_national.is_working_day(date(2025, 12, 25))


def test_holidays_have_their_indonesian_names() -> None:
    assert CAL.holiday_name(date(2025, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
    assert CAL.holiday_name(date(2025, 8, 18)) is not None
    assert CAL.holiday_name(date(2025, 8, 19)) is None


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 8, 11), True),  # Monday
        (date(2025, 8, 16), False),  # Saturday
        (date(2025, 8, 17), False),  # Sunday and Independence Day
        (date(2025, 8, 18), False),  # cuti bersama
        (date(2025, 3, 31), False),  # Idul Fitri
        (date(2025, 4, 7), False),  # Idul Fitri cuti bersama
        (date(2026, 1, 1), False),  # another year, loaded on demand
        (date(2026, 1, 2), True),
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_a_datetime_counts_as_its_local_day() -> None:
    # 2025-08-15 20:00 UTC is Saturday 03:00 in Jakarta
    assert not CAL.is_working_day(datetime(2025, 8, 15, 20, tzinfo=UTC))
    assert CAL.is_working_day(datetime(2025, 8, 15, 0, tzinfo=UTC))


# --- edges of working intervals ---------------------------------------------------------


def test_a_start_outside_working_time_moves_to_the_next_working_moment() -> None:
    assert CAL.add_working_minutes(wib(2025, 8, 16, 9), 30) == wib(2025, 8, 19, 8)
    assert CAL.add_working_minutes(wib(2025, 8, 11, 6), 0) == wib(2025, 8, 11, 7, 30)
    assert CAL.add_working_minutes(wib(2025, 8, 11, 12, 30), 10) == wib(2025, 8, 11, 13, 10)
    assert CAL.next_working_moment(wib(2025, 8, 11, 16)) == wib(2025, 8, 12, 7, 30)


def test_an_exact_end_of_interval_stays_there() -> None:
    assert CAL.add_working_minutes(wib(2025, 8, 11, 11, 30), 30) == wib(2025, 8, 11, 12)
    assert CAL.add_working_minutes(wib(2025, 8, 11, 15), 60) == wib(2025, 8, 11, 16)


def test_working_minutes_between_skips_breaks_nights_and_holidays() -> None:
    assert CAL.working_minutes_between(wib(2025, 8, 11, 11), wib(2025, 8, 11, 14)) == 120
    assert CAL.working_minutes_between(wib(2025, 8, 15, 16), wib(2025, 8, 19, 8)) == 60
    assert CAL.working_minutes_between(wib(2025, 8, 16, 8), wib(2025, 8, 18, 15)) == 0


def test_working_minutes_between_is_antisymmetric() -> None:
    a, b = wib(2025, 8, 11, 10), wib(2025, 8, 12, 10)
    assert CAL.working_minutes_between(b, a) == -CAL.working_minutes_between(a, b) == -450


def test_working_minutes_between_mixed_zones() -> None:
    a = wib(2025, 8, 11, 10)
    b = datetime(2025, 8, 11, 4, tzinfo=UTC)  # 11:00 WIB
    assert CAL.working_minutes_between(a, b) == 60


def test_add_working_days_keeps_the_time_of_day() -> None:
    assert CAL.add_working_days(wib(2025, 8, 14, 15, 45), 1) == wib(2025, 8, 15, 15, 45)
    assert CAL.add_working_days(wib(2025, 8, 11, 9), 5) == wib(2025, 8, 19, 9)  # skips 18 Aug
    assert CAL.add_working_days(wib(2025, 8, 11, 9), 0) == wib(2025, 8, 11, 9)
    # ready on Saturday: counted from Monday 07:30 (and 18 Aug is cuti bersama)
    assert CAL.add_working_days(wib(2025, 8, 16, 9), 1) == wib(2025, 8, 20, 7, 30)


def test_fractions_of_a_day_are_fractions_of_a_working_day() -> None:
    # +1 day -> Tuesday 10:00, + 225 minutes -> 12:00 (120) then 13:00 + 105
    assert CAL.due_at(parse_waktu("1,5 hari"), wib(2025, 8, 11, 10)) == wib(2025, 8, 12, 14, 45)


def test_months_land_on_the_same_day_clamped() -> None:
    assert CAL.due_at(parse_waktu("1 bulan"), wib(2025, 1, 31, 10)) == wib(2025, 2, 28, 10)
    assert CAL.due_at(parse_waktu("1 bulan"), wib(2024, 1, 31, 10)) == wib(2024, 2, 29, 10)
    assert CAL.due_at(parse_waktu("2 bulan"), wib(2025, 11, 15, 9)) == wib(2026, 1, 15, 9)


def test_no_standard_has_no_due_date() -> None:
    assert CAL.due_at(parse_waktu("sesuai jadwal"), wib(2025, 8, 11, 10)) is None


def test_due_at_is_returned_in_the_calendar_zone() -> None:
    due = CAL.due_at(parse_waktu("30 menit"), datetime(2025, 8, 11, 3, tzinfo=UTC))
    assert due == wib(2025, 8, 11, 10, 30)
    assert due is not None and due.tzinfo == WIB


# --- 24x7 ----------------------------------------------------------------------------


def test_a_24x7_calendar_counts_every_minute() -> None:
    always = WorkCalendar.always()
    saturday = wib(2025, 8, 16, 23, 30)
    assert always.add_working_minutes(saturday, 60) == wib(2025, 8, 17, 0, 30)
    assert always.is_working_day(date(2025, 8, 17))
    assert always.working_minutes_between(wib(2025, 8, 15), wib(2025, 8, 18)) == 3 * 1440
    assert always.due_at(parse_waktu("1 hari"), saturday) == wib(2025, 8, 17, 23, 30)
    assert always.holiday_name(date(2025, 8, 17)) is None


def test_all_day_intervals_join_across_midnight() -> None:
    shifts = from_config({"hours": {day: ["00:00-24:00"] for day in ("sat", "sun")}})
    assert shifts.add_working_minutes(wib(2025, 8, 9, 23), 120) == wib(2025, 8, 10, 1)
    assert shifts.working_minutes_between(wib(2025, 8, 9), wib(2025, 8, 11)) == 2880


# --- round trips -----------------------------------------------------------------------

_working_moment = st.builds(
    lambda day, minute: CAL.next_working_moment(
        wib(2025, 1, 1) + timedelta(days=day, minutes=minute)
    ),
    st.integers(min_value=0, max_value=730),
    st.integers(min_value=0, max_value=1439),
)


@settings(max_examples=200, deadline=None)
@given(_working_moment, st.integers(min_value=0, max_value=20_000))
def test_add_then_measure_gives_the_same_minutes(start: datetime, minutes: int) -> None:
    assert CAL.is_working_time(start)
    end = CAL.add_working_minutes(start, minutes)
    assert CAL.working_minutes_between(start, end) == minutes


@settings(max_examples=100, deadline=None)
@given(_working_moment, st.floats(min_value=0, max_value=5000, allow_nan=False))
def test_fractional_minutes_round_trip_to_the_microsecond(start: datetime, minutes: float) -> None:
    end = CAL.add_working_minutes(start, minutes)
    assert CAL.working_minutes_between(start, end) == pytest.approx(minutes, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(_working_moment, st.integers(1, 3000), st.integers(1, 3000))
def test_adding_in_two_steps_is_adding_once(start: datetime, m1: int, m2: int) -> None:
    once = CAL.add_working_minutes(start, m1 + m2)
    twice = CAL.add_working_minutes(CAL.add_working_minutes(start, m1), m2)
    assert once == twice


def test_ten_years_of_working_time_is_quick() -> None:
    start = wib(2025, 1, 2, 8)
    end = CAL.add_working_minutes(start, 450 * 2500)
    assert CAL.working_minutes_between(start, end) == 450 * 2500
    assert end.year >= 2034


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.add_working_minutes(datetime(2025, 8, 11, 10), 30),
        lambda: CAL.working_minutes_between(datetime(2025, 8, 11, 10), wib(2025, 8, 11, 11)),
        lambda: CAL.working_minutes_between(wib(2025, 8, 11, 10), datetime(2025, 8, 11, 11)),
        lambda: CAL.add_working_days(datetime(2025, 8, 11, 10), 1),
        lambda: CAL.due_at(parse_waktu("1 hari"), datetime(2025, 8, 11, 10)),
        lambda: CAL.due_at(Standard(StandardKind.NONE), datetime(2025, 8, 11, 10)),
        lambda: CAL.is_working_day(datetime(2025, 8, 11, 10)),
        lambda: CAL.is_working_time(datetime(2025, 8, 11, 10)),
    ],
)
def test_naive_datetimes_are_refused(call: Any) -> None:
    with pytest.raises(CalendarError, match="no time zone"):
        call()


@pytest.mark.parametrize("minutes", [-1, float("nan"), float("inf"), "30", True])
def test_bad_minute_counts_are_refused(minutes: Any) -> None:
    with pytest.raises(CalendarError):
        CAL.add_working_minutes(wib(2025, 8, 11, 10), minutes)


@pytest.mark.parametrize("days", [-1, 1.5, True, "1"])
def test_bad_day_counts_are_refused(days: Any) -> None:
    with pytest.raises(CalendarError):
        CAL.add_working_days(wib(2025, 8, 11, 10), days)


def test_a_walk_past_the_end_of_time_is_a_calendar_error() -> None:
    with pytest.raises(CalendarError):
        CAL.add_working_minutes(wib(9999, 12, 30, 8), 10_000)


# --- configuration --------------------------------------------------------------------------


def test_config_of_a_wita_office_with_its_own_hours() -> None:
    paser = from_config(
        {
            "time_zone": "Asia/Makassar",
            "hours": {"senin": ["07.30-12.00", "13.00-16.00"], "Fri": "07:30-11:00"},
            "extra_holidays": ["2025-08-20", date(2025, 8, 21)],
            "cancelled_holidays": ["2025-08-18"],
        }
    )
    assert paser.time_zone.key == "Asia/Makassar"
    assert paser.hours[0] == ((450, 720), (780, 960))
    assert paser.hours[1] == ()  # Tuesday not listed: not worked
    assert paser.hours[4] == ((450, 660),)
    assert paser.is_working_day(date(2025, 8, 18))
    assert not paser.is_working_day(date(2025, 8, 20))
    assert not paser.is_working_day(date(2025, 8, 21))


def test_config_round_trips() -> None:
    for calendar in (
        CAL,
        WorkCalendar.always("Asia/Jayapura"),
        CAL.with_extra_holidays([date(2025, 8, 20)]).with_time_zone("Asia/Makassar"),
    ):
        assert from_config(calendar.to_config()) == calendar
    assert WorkCalendar.from_config({}) == CAL == WorkCalendar()


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"timezone": "Asia/Jakarta"}, "timezone"),
        ({"time_zone": "Asia/Bandung"}, "time_zone"),
        ({"time_zone": 7}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"hours": ["07:30-16:00"]}, "hours"),
        ({"hours": {"funday": ["07:30-16:00"]}}, "hours.funday"),
        ({"hours": {"mon": ["7:30 to 16:00"]}}, "hours.mon[0]"),
        ({"hours": {"mon": ["16:00-07:30"]}}, "hours.mon"),
        ({"hours": {"mon": ["07:30-25:00"]}}, "hours.mon[0]"),
        ({"hours": {"mon": ["07:30-12:00", "11:00-16:00"]}}, "hours.mon"),
        ({"hours": {"mon": 8}}, "hours.mon"),
        ({"hours": {"mon": ["07:30-16:00"], "senin": ["07:30-16:00"]}}, "hours.senin"),
        ({"hours": {}}, "hours"),
        ({"hours": {"mon": []}}, "hours"),
        ({"extra_holidays": "2025-08-20"}, "extra_holidays"),
        ({"extra_holidays": ["20-08-2025"]}, "extra_holidays[0]"),
        ({"extra_holidays": ["2025-08-20", 20250821]}, "extra_holidays[1]"),
        ({"extra_holidays": [datetime(2025, 8, 20, 8)]}, "extra_holidays[0]"),
        ({"cancelled_holidays": ["2025-02-30"]}, "cancelled_holidays[0]"),
        ({"extra_holidays": ["2025-08-18"], "cancelled_holidays": ["2025-08-18"]}, "both"),
        ({"always": "false"}, "always"),
        ({"always": True, "hours": {"mon": ["07:30-16:00"]}}, "hours"),
        ({"always": True, "extra_holidays": ["2025-08-20"]}, "extra_holidays"),
        ({"cuti_bersama": 1}, "cuti_bersama"),
    ],
)
def test_invalid_config_names_the_key(config: dict[str, Any], key: str) -> None:
    with pytest.raises(CalendarError) as caught:
        from_config(config)
    assert key in str(caught.value)
    assert isinstance(caught.value, SopflowError)


def test_config_must_be_a_mapping() -> None:
    with pytest.raises(CalendarError):
        from_config(["time_zone", "Asia/Jakarta"])  # type: ignore[arg-type]


def test_a_calendar_is_immutable_and_hashable() -> None:
    with pytest.raises(AttributeError):
        CAL.always_open = True  # type: ignore[misc]
    assert hash(CAL) == hash(WorkCalendar.default())
    assert CAL.with_time_zone("Asia/Makassar") != CAL
    assert CAL.time_zone == WIB  # deriving left the original alone
