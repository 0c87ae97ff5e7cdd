"""Dates as coaches type them, read the same by every form and every command."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.trust.dates import DateError, parse_day, parse_moment, parse_time

TUESDAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("today", TUESDAY),
        ("Tomorrow", dt.date(2026, 12, 2)),
        ("yesterday", dt.date(2026, 11, 30)),
        ("+3", dt.date(2026, 12, 4)),
        ("-1", dt.date(2026, 11, 30)),
        ("+2w", dt.date(2026, 12, 15)),
        ("+1m", dt.date(2027, 1, 1)),
        ("fri", dt.date(2026, 12, 4)),
        ("Friday", dt.date(2026, 12, 4)),
        ("next mon", dt.date(2026, 12, 7)),
        ("tue", dt.date(2026, 12, 8)),  # the next one, not today
        ("3 dec", dt.date(2026, 12, 3)),
        ("Dec 3", dt.date(2026, 12, 3)),
        ("3rd December", dt.date(2026, 12, 3)),
        ("3 Dec 2026", dt.date(2026, 12, 3)),
        ("wed 2 dec", dt.date(2026, 12, 2)),
        ("20 nov", dt.date(2026, 11, 20)),  # the nearest: just past, not next year
        ("2 feb", dt.date(2027, 2, 2)),  # the nearest: two months ahead
        ("2026-12-03", dt.date(2026, 12, 3)),
        ("13/12/2026", dt.date(2026, 12, 13)),  # only one reading is a date
        ("05.05.2026", dt.date(2026, 5, 5)),
    ],
)
def test_a_date_as_typed(typed, day):
    assert parse_day(typed, TUESDAY) == day


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("03/12", "could be read two ways; type it as 3 dec or 12 mar"),
        ("03/12/2026", "could be 3 December 2026 or 12 March 2026"),
        ("31 feb 2026", "is not a day of the calendar"),
        ("soon", "is not a date; type one of today"),
        ("", "no date given"),
        ("+99999999", "is not a date"),
    ],
)
def test_a_date_that_is_not_one_is_refused_with_the_reading_spelled_out(typed, says):
    with pytest.raises(DateError) as refused:
        parse_day(typed, TUESDAY)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_thursday_3_dec_is_named_right():
    with pytest.raises(DateError, match="3 Dec 2026 is a Thursday"):
        parse_day("mon 3 dec", TUESDAY)


@pytest.mark.parametrize(
    ("typed", "time"),
    [
        ("10:00", dt.time(10)),
        ("9.30", dt.time(9, 30)),
        ("2:30pm", dt.time(14, 30)),
        ("12am", dt.time(0)),
        ("14h15", dt.time(14, 15)),
    ],
)
def test_a_time_as_typed(typed, time):
    assert parse_time(typed) == time


@pytest.mark.parametrize("typed", ["25:00", "10", "13pm", "noonish"])
def test_a_time_that_is_not_one(typed):
    with pytest.raises(DateError):
        parse_time(typed)


def test_a_moment_is_a_day_and_a_time():
    assert parse_moment("fri 10:00", TUESDAY) == dt.datetime(2026, 12, 4, 10)
    assert parse_moment("3 dec 2026 9.30", TUESDAY) == dt.datetime(2026, 12, 3, 9, 30)
    assert parse_moment("2026-12-03 14:00", TUESDAY) == dt.datetime(2026, 12, 3, 14)
    assert parse_moment("2026-12-03T14:00:45", TUESDAY) == dt.datetime(2026, 12, 3, 14)
    with pytest.raises(DateError, match="needs a day and a time"):
        parse_moment("fri", TUESDAY)


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2150, 12, 31)),
)
def test_every_iso_day_and_spelled_day_reads_back(day, today):
    assert parse_day(day.isoformat(), today) == day
    spelled = f"{day.day} {day.strftime('%b')} {day.year}"
    assert parse_day(spelled, today) == day


@given(st.text(max_size=30), st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2150, 1, 1)))
def test_any_text_is_a_day_or_one_line_refusal(text, today):
    try:
        parse_day(text, today)
    except DateError as refused:
        assert "\n" not in str(refused) or "\n" in text
