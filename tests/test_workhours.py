"""Working-time arithmetic: opening hours in Tirana's time zone, holidays, summer time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.workhours import WorkingHours, parse_hours, parse_span

TIRANE = ZoneInfo("Europe/Tirane")
OFFICE = parse_hours("Europe/Tirane", {"mon-thu": "08:00-16:30", "fri": ["08:00-14:00"]},
                     ["2026-11-30"])  # a Monday off (the day after Independence Day)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TIRANE)


def test_open_and_closed_moments() -> None:
    assert OFFICE.is_open(local(2026, 12, 1, 9, 0))          # Tuesday morning
    assert not OFFICE.is_open(local(2026, 12, 1, 16, 30))    # closing time itself
    assert not OFFICE.is_open(local(2026, 12, 4, 15, 0))     # Friday afternoon
    assert not OFFICE.is_open(local(2026, 12, 5, 10, 0))     # Saturday
    assert not OFFICE.is_open(local(2026, 11, 30, 10, 0))    # the holiday
    # The same moment given in UTC: 07:30 UTC is 08:30 in Tirana in winter.
    assert OFFICE.is_open(datetime(2026, 12, 1, 7, 30, tzinfo=UTC))


def test_next_opening_skips_the_weekend_and_holidays() -> None:
    assert OFFICE.next_open(local(2026, 12, 1, 9, 0)) == local(2026, 12, 1, 9, 0)
    assert OFFICE.next_open(local(2026, 12, 1, 7, 0)) == local(2026, 12, 1, 8, 0)
    assert OFFICE.next_open(local(2026, 11, 27, 15, 0)) == local(2026, 12, 1, 8, 0)
    assert OFFICE.next_open(local(2026, 12, 4, 14, 0)) == local(2026, 12, 7, 8, 0)


def test_working_time_between_two_moments() -> None:
    # Friday 13:00 -> Tuesday 09:00: 1 h on Friday, the weekend and the holiday count nothing.
    assert OFFICE.between(local(2026, 11, 27, 13, 0), local(2026, 12, 1, 9, 0)) == \
        timedelta(hours=2)
    # Within one span, and reversed.
    assert OFFICE.between(local(2026, 12, 1, 9, 0), local(2026, 12, 1, 9, 45)) == \
        timedelta(minutes=45)
    assert OFFICE.between(local(2026, 12, 1, 10, 0), local(2026, 12, 1, 9, 0)) == timedelta()
    # A whole working week (Mon-Thu 8.5 h, Fri 6 h) from Sunday to Sunday.
    assert OFFICE.between(local(2026, 12, 6, 0, 0), local(2026, 12, 13, 0, 0)) == \
        timedelta(hours=4 * 8.5 + 6)


def test_summer_time_change_keeps_local_opening_hours() -> None:
    # Clocks go forward on Sunday 29 March 2026: Monday opens at 08:00 local = 06:00 UTC.
    monday = OFFICE.next_open(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert monday == local(2026, 3, 30, 8, 0)
    assert monday.astimezone(UTC).hour == 6
    assert OFFICE.between(datetime(2026, 3, 27, 13, 0, tzinfo=UTC),
                          datetime(2026, 3, 30, 7, 0, tzinfo=UTC)) == timedelta(minutes=60)


def test_without_hours_it_is_always_open() -> None:
    always = WorkingHours()
    moment = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    assert always.always and always.is_open(moment) and always.next_open(moment) == moment
    assert always.between(moment, moment + timedelta(days=2)) == timedelta(days=2)


def test_spans_that_touch_count_once_each() -> None:
    hours = parse_hours("Europe/Tirane", {"mon": ["12:00-16:00", "08:00-12:00"]})
    assert hours.between(local(2026, 11, 30, 7, 0), local(2026, 11, 30, 17, 0)) == timedelta(
        hours=8)


def test_a_span_to_midnight_and_a_week_without_hours() -> None:
    late = parse_hours("Europe/Tirane", {"sat": "20:00-24:00"})
    assert late.between(local(2026, 12, 5, 23, 0), local(2026, 12, 6, 1, 0)) == timedelta(hours=1)
    never = parse_hours("Europe/Tirane", {"mon": "closed"})
    assert never.next_open(local(2026, 12, 1, 9, 0)) is None
    assert not never.is_open(local(2026, 12, 1, 9, 0))


@pytest.mark.parametrize(("zone", "days", "holidays", "message"), [
    ("Europe/Tiranë", {"mon": "08:00-16:00"}, [], "unknown time zone"),
    ("Europe/Tirane", {"monday": "08:00-16:00"}, [], "not a day"),
    ("Europe/Tirane", {"fri-mon": "08:00-16:00"}, [], "from Monday to Sunday"),
    ("Europe/Tirane", {"mon": "8-16"}, [], "not opening hours"),
    ("Europe/Tirane", {"mon": "16:00-08:00"}, [], "end before they start"),
    ("Europe/Tirane", {"mon": "08:00-25:00"}, [], "not a time of day"),
    ("Europe/Tirane", {"mon": "08:00-16:00"}, ["28.11.2026"], "not a date"),
    # Counted twice, an overlap would add to the staff's working time.
    ("Europe/Tirane", {"mon-fri": "08:00-16:00", "fri": "12:00-18:00"}, [],
     "fri: the opening hours 08:00-16:00 and 12:00-18:00 overlap"),
    ("Europe/Tirane", {"sat": ["20:00-24:00", "21:00-22:00"]}, [],
     "sat: the opening hours 20:00-24:00 and 21:00-22:00 overlap"),
])
def test_bad_hours_are_named(zone: str, days: dict, holidays: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(zone, days, holidays)


def test_holidays_may_be_dates() -> None:
    hours = parse_hours("Europe/Tirane", {"mon-fri": "08:00-16:00"}, [date(2026, 12, 8)])
    assert not hours.is_open(local(2026, 12, 8, 10, 0))
    assert parse_span("08:00 - 16:00") == parse_span("08:00-16:00")
