"""Timers (BPMN 2.0 section 10.5.5, table 10.104: timeDate, timeDuration, timeCycle).

The computation is one function for every timer element; these tests pin what each
text means, including Indonesian waktu measured on the work calendar exactly as the
SLA measures a step (Permenpan-RB 35/2012: the Mutu Baku waktu is working time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sopflow.definitions.jobspec import TimerDefinition
from sopflow.errors import TimerError
from sopflow.jobs.timers import check_timer, first_due, next_due
from sopflow.sla.calendar import WorkCalendar

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar.default()
#: Friday 15 August 2025, 10:00 WIB: the weekend, then 18 August (cuti bersama of
#: Independence Day) are not working days.
FRIDAY = datetime(2025, 8, 15, 10, 0, tzinfo=WIB)


def due(kind: str, text: str, start: datetime = FRIDAY, **data: object) -> datetime | None:
    return first_due(TimerDefinition(kind, text), start=start, data=data, calendar=CAL)


def test_iso_duration_is_elapsed_time_around_the_clock() -> None:
    assert due("duration", "PT30M") == FRIDAY + timedelta(minutes=30)
    assert due("duration", "P1DT12H") == FRIDAY + timedelta(days=1, hours=12)
    assert due("duration", "P1W") == FRIDAY + timedelta(weeks=1)


def test_iso_month_duration_lands_on_the_same_day_of_the_month() -> None:
    assert due("duration", "P1M") == datetime(2025, 9, 15, 10, 0, tzinfo=WIB)
    assert due("duration", "P1Y") == datetime(2026, 8, 15, 10, 0, tzinfo=WIB)


def test_waktu_working_days_skip_the_weekend_and_the_holiday() -> None:
    # Sat 16, Sun 17 (Hari Kemerdekaan) and Mon 18 (cuti bersama) are not counted.
    assert due("duration", "1 hari kerja") == datetime(2025, 8, 19, 10, 0, tzinfo=WIB)
    assert due("duration", "2 hari kerja") == datetime(2025, 8, 20, 10, 0, tzinfo=WIB)


def test_waktu_minutes_are_working_minutes() -> None:
    # Friday working hours end at 16:30: 30 minutes from 16:15 end on Tuesday 07:45.
    late = datetime(2025, 8, 15, 16, 15, tzinfo=WIB)
    assert due("duration", "30 menit", start=late) == CAL.add_working_minutes(late, 30)
    assert due("duration", "30 menit", start=late) == datetime(2025, 8, 19, 7, 45, tzinfo=WIB)


def test_waktu_times_24_hours_is_elapsed_days() -> None:
    assert due("duration", "2 x 24 jam") == FRIDAY + timedelta(days=2)


def test_time_date_without_offset_is_in_the_calendars_zone() -> None:
    makassar = CAL.with_time_zone("Asia/Makassar")
    moment = first_due(
        TimerDefinition("date", "2025-09-01T09:00:00"), start=FRIDAY, data={}, calendar=makassar
    )
    assert moment == datetime(2025, 9, 1, 9, 0, tzinfo=ZoneInfo("Asia/Makassar"))
    assert due("date", "2025-09-01T09:00:00+07:00") == datetime(2025, 9, 1, 9, 0, tzinfo=WIB)


def test_time_date_in_the_past_fires_at_once() -> None:
    assert due("date", "2025-01-01T00:00:00+07:00") == FRIDAY


def test_cycle_r3_fires_three_times_ten_hours_apart() -> None:
    timer = TimerDefinition("cycle", "R3/PT10H")
    moment = first_due(timer, start=FRIDAY, data={}, calendar=CAL)
    seen = []
    fired = 0
    while moment is not None:
        seen.append(moment)
        fired += 1
        moment = next_due(timer, previous=moment, fired=fired, data={}, calendar=CAL)
    assert seen == [FRIDAY + timedelta(hours=10 * n) for n in (1, 2, 3)]


def test_unbounded_cycle_stops_at_its_end() -> None:
    timer = TimerDefinition("cycle", "R/PT1H/2025-08-15T13:30:00+07:00")
    moment = first_due(timer, start=FRIDAY, data={}, calendar=CAL)
    seen = []
    while moment is not None:
        seen.append(moment.hour)
        moment = next_due(timer, previous=moment, fired=len(seen), data={}, calendar=CAL)
    assert seen == [11, 12, 13]


def test_cycle_with_a_start_begins_there_and_with_a_waktu_counts_working_days() -> None:
    timer = TimerDefinition("cycle", "R2/2025-08-15T09:00:00+07:00/1 hari kerja")
    first = first_due(timer, start=datetime(2025, 8, 15, 8, 0, tzinfo=WIB), data={}, calendar=CAL)
    assert first == datetime(2025, 8, 15, 9, 0, tzinfo=WIB)
    second = next_due(timer, previous=first, fired=1, data={}, calendar=CAL)
    assert second == datetime(2025, 8, 19, 9, 0, tzinfo=WIB)
    assert next_due(timer, previous=second, fired=2, data={}, calendar=CAL) is None


def test_cycle_from_start_to_end_repeats_that_interval() -> None:
    timer = TimerDefinition("cycle", "R2/2025-08-15T11:00:00+07:00/2025-08-15T11:30:00+07:00")
    first = first_due(timer, start=FRIDAY, data={}, calendar=CAL)
    assert first == datetime(2025, 8, 15, 11, 0, tzinfo=WIB)
    assert next_due(timer, previous=first, fired=1, data={}, calendar=CAL) == datetime(
        2025, 8, 15, 11, 30, tzinfo=WIB
    )


def test_expressions_use_the_safe_language_on_the_instance_data() -> None:
    assert due("duration", "${tenggat}", tenggat="3 hari kerja") == datetime(
        2025, 8, 21, 10, 0, tzinfo=WIB
    )
    assert due("date", "=batas", batas="2025-09-01T00:00:00+07:00") == datetime(
        2025, 9, 1, tzinfo=WIB
    )


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("duration", "PT0S", "longer than zero"),
        ("duration", "P", "not an ISO 8601 duration"),
        ("duration", "dua hari", "neither an ISO 8601 duration nor a waktu"),
        ("duration", "-", "not 'no standard'"),
        ("date", "besok pagi", "not an ISO 8601 date-time"),
        ("cycle", "0 0 9 * * ?", "cron cycles are not supported"),
        ("cycle", "R0/PT1H", "repetitions must be from 1"),
        ("cycle", "Rx/PT1H", "is not a whole number"),
        ("cycle", "R/2025-08-15T12:00/2025-08-15T11:00", "not after its start"),
        ("duration", "${__import__('os')}", "its expression is refused"),
    ],
)
def test_unreadable_timers_are_refused_with_the_text(kind: str, text: str, reason: str) -> None:
    with pytest.raises(TimerError) as info:
        check_timer(TimerDefinition(kind, text))
    assert text in str(info.value)
    assert reason in str(info.value)


def test_expression_value_that_is_no_timer_text_is_refused_when_run() -> None:
    with pytest.raises(TimerError, match="gave int, not a text"):
        due("duration", "${jam}", jam=3)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("duration", '"PT0.5S"', FRIDAY + timedelta(seconds=0.5)),
        ("duration", "'P14D'", FRIDAY + timedelta(days=14)),
        ("date", '"2025-08-20T09:00:00+07:00"', datetime(2025, 8, 20, 9, 0, tzinfo=WIB)),
        ("cycle", '"R2/PT1H"', FRIDAY + timedelta(hours=1)),
    ],
)
def test_a_quoted_string_literal_is_the_text_inside_the_quotes(
    kind: str, text: str, expected: datetime
) -> None:
    """SpiffWorkflow reads a timer's tFormalExpression (BPMN 2.0 10.5.5) as a Python
    expression, so its files write ``"PT1S"``: a string literal is a constant, read as the
    text it quotes, and checked at load like that text."""
    check_timer(TimerDefinition(kind, text))
    assert due(kind, text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"dua hari"', "neither an ISO 8601 duration nor a waktu"),
        ("\"PT1S'", "neither an ISO 8601 duration nor a waktu"),  # quotes that do not pair
        ('"PT1S" + "x"', "neither an ISO 8601 duration nor a waktu"),  # not one literal
        ('"P\\u0031D"', "neither an ISO 8601 duration nor a waktu"),  # escapes are not read
    ],
)
def test_a_quoted_text_that_is_no_plain_literal_of_a_timer_is_refused(
    text: str, reason: str
) -> None:
    with pytest.raises(TimerError, match=reason):
        check_timer(TimerDefinition("duration", text))
