"""Dates relative to the fixed sandbox clock (Thursday 2026-05-14 10:00 UTC)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from sandbox.jql import JqlError, search
from sandbox.jql.functions import date_function, date_value, zone
from sandbox.model import Issue

from .conftest import NOW, make_context

Keys = Callable[[str], set[str]]
UTC_ZONE = zone("UTC")


def utc(
    month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0, year: int = 2026
) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, second, ms * 1000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("call", "args", "expected"),
    [
        ("now", (), utc(5, 14, 10)),
        ("startOfDay", (), utc(5, 14)),
        ("endOfDay", (), utc(5, 14, 23, 59, 59, 999)),
        ("startOfDay", ("-3d",), utc(5, 11)),
        ("startOfDay", ("-1",), utc(5, 13)),
        ("startOfWeek", (), utc(5, 10)),  # Sunday
        ("endOfWeek", (), utc(5, 16, 23, 59, 59, 999)),  # Saturday
        ("startOfWeek", ("1",), utc(5, 17)),
        ("startOfWeek", ("+1d",), utc(5, 11)),  # Monday of this week
        ("startOfMonth", (), utc(5, 1)),
        ("startOfMonth", ("-1",), utc(4, 1)),
        ("startOfMonth", ("-1M",), utc(4, 1)),
        ("startOfMonth", ("+14d",), utc(5, 15)),
        ("endOfMonth", (), utc(5, 31, 23, 59, 59, 999)),
        ("endOfMonth", ("-1",), utc(4, 30, 23, 59, 59, 999)),
        ("endOfMonth", ("+1M",), utc(6, 30, 23, 59, 59, 999)),
        ("startOfQuarter", (), utc(4, 1)),
        ("startOfQuarter", ("-1",), utc(1, 1)),
        ("startOfQuarter", ("+1q",), utc(7, 1)),
        ("endOfQuarter", (), utc(6, 30, 23, 59, 59, 999)),
        ("endOfQuarter", ("-1",), utc(3, 31, 23, 59, 59, 999)),
        ("startOfYear", (), utc(1, 1)),
        ("startOfYear", ("-1y",), utc(1, 1, year=2025)),
        ("endOfYear", (), utc(12, 31, 23, 59, 59, 999)),
        ("endOfDay", ("+1h",), utc(5, 15, 0, 59, 59, 999)),
    ],
)
def test_date_functions_at_the_fixed_clock(call: str, args: tuple[str, ...], expected: datetime) -> None:
    assert date_function(call, args, NOW, UTC_ZONE) == expected


def test_month_arithmetic_clamps_to_the_last_day() -> None:
    end_of_january = utc(1, 31, 12)
    assert date_value("+1M", "created", end_of_january, UTC_ZONE) == utc(2, 28, 12)
    assert date_function("endOfMonth", ("+1",), end_of_january, UTC_ZONE) == utc(2, 28, 23, 59, 59, 999)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-7d", utc(5, 7, 10)),
        ("-2w", utc(4, 30, 10)),
        ("-1M", utc(4, 14, 10)),
        ("4h", utc(5, 14, 14)),
        ("-30m", utc(5, 14, 9, 30)),
        ("-4w 2d", utc(4, 14, 10)),
        ("+1y", utc(5, 14, 10, year=2027)),
        ("2026-05-01", utc(5, 1)),
        ("2026/05/01", utc(5, 1)),
        ("2026/5/1", utc(5, 1)),
        ("2026-05-01 13:30", utc(5, 1, 13, 30)),
        ("2026/05/01 7:05", utc(5, 1, 7, 5)),
    ],
)
def test_date_values_absolute_and_relative(text: str, expected: datetime) -> None:
    assert date_value(text, "created", NOW, UTC_ZONE) == expected


def test_day_boundaries_follow_the_context_time_zone() -> None:
    # 10:00 UTC is 06:00 in New York (EDT, UTC-4) and 22:00 in Auckland (NZST, UTC+12).
    assert date_function("startOfDay", (), NOW, zone("America/New_York")) == utc(5, 14, 4)
    assert date_function("startOfDay", (), NOW, zone("Pacific/Auckland")) == utc(5, 13, 12)
    assert date_value("2026-05-01", "created", NOW, zone("America/New_York")) == utc(5, 1, 4)


def test_searches_use_the_context_time_zone(issues: list[Issue]) -> None:
    # WEB-1 was created at 09:00 UTC. In Tokyo (UTC+9) today began at 15:00 UTC yesterday, so WEB-1
    # is from today; in Honolulu (UTC-10) today began at 10:00 UTC, after WEB-1 was created.
    tokyo = make_context(time_zone="Asia/Tokyo")
    assert {i.key for i in search(issues, "created >= startOfDay()", tokyo)} == {"WEB-1"}
    honolulu = make_context(time_zone="Pacific/Honolulu")
    assert {i.key for i in search(issues, "created >= startOfDay()", honolulu)} == set()


def test_unknown_time_zone_is_a_jql_error(issues: list[Issue]) -> None:
    with pytest.raises(JqlError, match="time zone 'Mars/Olympus' is not known"):
        search(issues, "created > now()", make_context(time_zone="Mars/Olympus"))


def test_created_this_month(key_set: Keys) -> None:
    assert key_set("created >= startOfMonth()") == {"SALES-1", "SALES-11", "WEB-1"}


def test_created_last_month(key_set: Keys) -> None:
    assert key_set("created >= startOfMonth(-1) AND created <= endOfMonth(-1)") == {"SALES-2"}


def test_created_this_week_counts_from_sunday(key_set: Keys) -> None:
    # SALES-11 was created on Sunday 2026-05-10 00:30.
    assert key_set("created >= startOfWeek()") == {"SALES-11", "WEB-1"}


def test_created_this_quarter_and_year(key_set: Keys) -> None:
    assert key_set("created >= startOfQuarter()") == {"SALES-1", "SALES-2", "SALES-11", "WEB-1"}
    assert key_set("created < startOfQuarter() AND created >= startOfYear()") == {"SALES-3", "SALES-10"}


def test_relative_values_count_from_now(key_set: Keys) -> None:
    assert key_set("created > -7d") == {"SALES-11", "WEB-1"}
    assert key_set('created > "-2w"') == {"SALES-1", "SALES-11", "WEB-1"}
    assert key_set("created > -1M") == {"SALES-1", "SALES-2", "SALES-11", "WEB-1"}
    assert key_set("created > -90m") == {"WEB-1"}
    assert key_set("updated > -1h") == {"SALES-11", "WEB-1"}


def test_a_date_without_time_means_the_start_of_that_day(key_set: Keys) -> None:
    assert key_set('created >= "2026-05-01" AND created < "2026/05/02"') == {"SALES-1"}


def test_datetime_equality_matches_within_the_minute(key_set: Keys) -> None:
    # SALES-1 was created at 09:00: a bare date is midnight, so `= "2026-05-01"` misses it (as in Jira).
    assert key_set('created = "2026-05-01 09:00"') == {"SALES-1"}
    assert key_set('created = "2026-05-01"') == set()
    assert key_set('created != "2026-05-01 09:00" AND project = SALES') == {
        "SALES-2",
        "SALES-3",
        "SALES-10",
        "SALES-11",
    }
    assert key_set('created in ("2026-05-01 09:00", "2026-05-14 09:00")') == {"SALES-1", "WEB-1"}


def test_resolved_and_its_alias(key_set: Keys) -> None:
    assert key_set("resolved >= startOfDay()") == key_set("resolutiondate >= startOfDay()") == {"SALES-11"}
    assert key_set("resolved is empty") == {"SALES-1", "SALES-3", "SALES-10", "WEB-1"}


def test_due_date_compares_by_calendar_day(key_set: Keys) -> None:
    assert key_set('duedate = "2026-05-13"') == key_set('due = "2026-05-13 18:45"') == {"SALES-3"}
    assert key_set("duedate < now()") == {"SALES-3"}
    assert key_set("duedate <= endOfWeek()") == {"SALES-3"}
    assert key_set("duedate > startOfDay()") == {"WEB-1"}
    assert key_set("duedate >= startOfDay(-1) AND duedate <= 7d") == {"SALES-3", "WEB-1"}
    assert key_set("duedate is empty") == {"SALES-1", "SALES-2", "SALES-10", "SALES-11"}


def test_date_functions_are_refused_on_non_date_fields(key_set: Keys) -> None:
    with pytest.raises(JqlError, match="Function 'now' is not supported by the field 'assignee'"):
        key_set("assignee = now()")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-05-01 25:00", "-7x", "05/01/2026", "7"])
def test_invalid_date_values_are_refused_with_jiras_message(key_set: Keys, value: str) -> None:
    with pytest.raises(JqlError) as caught:
        key_set(f'created > "{value}"')
    assert caught.value.message == (
        f"Date value '{value}' for field 'created' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


@pytest.mark.parametrize("argument", ["x", "-", "1.5", "+1q"])
def test_invalid_function_increments_are_refused(key_set: Keys, argument: str) -> None:
    with pytest.raises(JqlError) as caught:
        key_set(f'created > startOfMonth("{argument}")')
    assert caught.value.message == (
        "Duration for function 'startOfMonth' should have the format (+/-)n(yMwdm), "
        "e.g -1M for one month earlier."
    )


def test_date_function_argument_count_is_checked(key_set: Keys) -> None:
    with pytest.raises(JqlError) as caught:
        key_set("created > startOfDay(1, 2)")
    assert caught.value.message == "Function 'startOfDay' expected between '0' and '1' arguments but got '2'."


def test_absurd_offsets_are_jql_errors_not_crashes(key_set: Keys) -> None:
    with pytest.raises(JqlError):
        key_set("created > -999999999w")
    with pytest.raises(JqlError):
        key_set("created > startOfYear(999999999)")
