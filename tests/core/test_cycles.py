"""Cycle arithmetic: labels, fiscal years starting in any month, nesting, elapsed fraction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from okrbridge.cycles import CycleError, FiscalCalendar, Period, PeriodKind, as_utc

MONTHS = range(1, 13)
NAMINGS = ("start", "end")


def _tiles(parts: list[Period], whole: Period) -> bool:
    """Whether `parts` cover `whole` exactly, in order, each starting where the previous ended."""
    return (parts[0].start == whole.start and parts[-1].end == whole.end
            and all(a.end == b.start for a, b in pairwise(parts)))


def _months_between(start: date, end: date) -> int:
    """Whole months from one first-of-month to another."""
    return (end.year - start.year) * 12 + end.month - start.month


# --- labels ---------------------------------------------------------------------------------------

def test_year_label_parses_to_the_calendar_year_with_a_january_start() -> None:
    year = FiscalCalendar().parse("2026")
    assert (year.start, year.end, year.kind, year.label) == (
        date(2026, 1, 1), date(2027, 1, 1), PeriodKind.YEAR, "2026")


def test_quarter_label_parses_to_three_months() -> None:
    quarter = FiscalCalendar().parse("2026-Q2")
    assert (quarter.start, quarter.end, quarter.kind, quarter.label) == (
        date(2026, 4, 1), date(2026, 7, 1), PeriodKind.QUARTER, "2026-Q2")


def test_month_label_parses_to_the_calendar_month_whatever_the_fiscal_start() -> None:
    month = FiscalCalendar(start_month=7).parse("2026-05")
    assert (month.start, month.end, month.kind, month.label) == (
        date(2026, 5, 1), date(2026, 6, 1), PeriodKind.MONTH, "2026-05")


def test_december_month_ends_on_the_first_of_next_january() -> None:
    assert FiscalCalendar().parse("2026-12").end == date(2027, 1, 1)


def test_surrounding_whitespace_in_a_label_is_ignored() -> None:
    assert FiscalCalendar().parse("  2026-Q3 \n").label == "2026-Q3"


def test_fiscal_year_named_by_end_starts_in_the_previous_calendar_year() -> None:
    year = FiscalCalendar(start_month=7, named_by="end").parse("2026")
    assert (year.start, year.end) == (date(2025, 7, 1), date(2026, 7, 1))


def test_fiscal_year_named_by_start_starts_in_its_own_calendar_year() -> None:
    year = FiscalCalendar(start_month=7, named_by="start").parse("2026")
    assert (year.start, year.end) == (date(2026, 7, 1), date(2027, 7, 1))


def test_first_fiscal_quarter_starts_in_the_fiscal_start_month() -> None:
    quarter = FiscalCalendar(start_month=4).parse("2026-Q1")
    assert (quarter.start, quarter.end) == (date(2025, 4, 1), date(2025, 7, 1))


@pytest.mark.parametrize("label", [
    "", "26", "20261", "2026-Q0", "2026-Q5", "2026-q2", "2026-00", "2026-13", "2026-5", "2026/05",
    "FY2026", "2026-Q2-01", "2026-H1",
])
def test_malformed_labels_raise_a_cycle_error_that_quotes_the_label(label: str) -> None:
    with pytest.raises(CycleError, match="is not a year"):
        FiscalCalendar().parse(label)


def test_a_non_string_label_raises_a_cycle_error() -> None:
    with pytest.raises(CycleError):
        FiscalCalendar().parse(2026)  # type: ignore[arg-type]


@pytest.mark.parametrize(("label", "start_month"), [("0000", 1), ("0001", 7), ("9999-12", 1), ("9999", 7)])
def test_labels_outside_the_representable_years_raise_a_cycle_error(label: str, start_month: int) -> None:
    # Regression: these used to escape as datetime's bare ValueError, which callers did not catch.
    calendar = FiscalCalendar(start_month=start_month, named_by="start" if label == "9999" else "end")
    with pytest.raises(CycleError, match=repr(label)):
        calendar.parse(label)


@pytest.mark.parametrize("start_month", [0, 13, -1])
def test_fiscal_start_outside_one_to_twelve_is_refused(start_month: int) -> None:
    with pytest.raises(CycleError, match="fiscal_year_start"):
        FiscalCalendar(start_month=start_month)


def test_unknown_naming_is_refused() -> None:
    with pytest.raises(CycleError, match="named by"):
        FiscalCalendar(named_by="middle")  # type: ignore[arg-type]


def test_quarter_and_month_numbers_out_of_range_are_refused() -> None:
    with pytest.raises(CycleError):
        FiscalCalendar().quarter(2026, 5)
    with pytest.raises(CycleError):
        FiscalCalendar.month(2026, 13)


# --- fiscal years starting in every month ---------------------------------------------------------

@pytest.mark.parametrize("named_by", NAMINGS)
@pytest.mark.parametrize("start_month", MONTHS)
def test_a_fiscal_year_is_twelve_months_from_its_start_month(start_month: int, named_by: str) -> None:
    calendar = FiscalCalendar(start_month, named_by)  # type: ignore[arg-type]
    year = calendar.year(2026)
    assert year.start.month == start_month and year.start.day == 1
    assert _months_between(year.start, year.end) == 12


@pytest.mark.parametrize("named_by", NAMINGS)
@pytest.mark.parametrize("start_month", MONTHS)
def test_the_year_is_named_by_the_calendar_year_it_starts_or_ends_in(start_month: int, named_by: str) -> None:
    year = FiscalCalendar(start_month, named_by).year(2026)  # type: ignore[arg-type]
    last_day = year.end - timedelta(days=1)
    assert (year.start.year if named_by == "start" else last_day.year) == 2026


@pytest.mark.parametrize("named_by", NAMINGS)
@pytest.mark.parametrize("start_month", MONTHS)
def test_four_quarters_of_three_months_tile_the_fiscal_year(start_month: int, named_by: str) -> None:
    calendar = FiscalCalendar(start_month, named_by)  # type: ignore[arg-type]
    year = calendar.year(2026)
    quarters = [calendar.quarter(2026, q) for q in range(1, 5)]
    assert [_months_between(q.start, q.end) for q in quarters] == [3, 3, 3, 3]
    assert _tiles(quarters, year)
    assert [q.label for q in quarters] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]


@pytest.mark.parametrize("named_by", NAMINGS)
@pytest.mark.parametrize("start_month", MONTHS)
def test_twelve_months_tile_the_fiscal_year(start_month: int, named_by: str) -> None:
    calendar = FiscalCalendar(start_month, named_by)  # type: ignore[arg-type]
    year = calendar.year(2026)
    months = calendar.periods(PeriodKind.MONTH, year)
    assert len(months) == 12
    assert all(m.kind is PeriodKind.MONTH for m in months)
    assert _tiles(months, year)


@pytest.mark.parametrize("named_by", NAMINGS)
@pytest.mark.parametrize("start_month", MONTHS)
def test_consecutive_fiscal_years_meet_without_gap_or_overlap(start_month: int, named_by: str) -> None:
    calendar = FiscalCalendar(start_month, named_by)  # type: ignore[arg-type]
    assert calendar.year(2026).end == calendar.year(2027).start
    assert not calendar.year(2026).overlaps(calendar.year(2027))


@pytest.mark.parametrize("named_by", NAMINGS)
@pytest.mark.parametrize("start_month", MONTHS)
def test_period_of_every_day_round_trips_through_its_label(start_month: int, named_by: str) -> None:
    calendar = FiscalCalendar(start_month, named_by)  # type: ignore[arg-type]
    day = date(2025, 1, 1)
    while day < date(2027, 1, 1):
        for kind in PeriodKind:
            period = calendar.period_of(kind, day)
            assert period.contains(day)
            assert period.kind is kind
            assert calendar.parse(period.label) == period
        day += timedelta(days=5)


@pytest.mark.parametrize("named_by", NAMINGS)
@pytest.mark.parametrize("start_month", MONTHS)
def test_every_parsed_quarter_contains_its_own_days(start_month: int, named_by: str) -> None:
    calendar = FiscalCalendar(start_month, named_by)  # type: ignore[arg-type]
    for q in range(1, 5):
        quarter = calendar.parse(f"2026-Q{q}")
        assert calendar.period_of(PeriodKind.QUARTER, quarter.start) == quarter
        assert calendar.period_of(PeriodKind.QUARTER, quarter.end - timedelta(days=1)) == quarter
        assert calendar.fiscal_year_of(quarter.start) == 2026


def test_both_namings_agree_with_a_january_start() -> None:
    assert FiscalCalendar(1, "start").year(2026) == FiscalCalendar(1, "end").year(2026)


# --- nesting --------------------------------------------------------------------------------------

@pytest.mark.parametrize("start_month", [1, 4, 7, 10, 11])
def test_a_year_nests_itself_four_quarters_and_twelve_months(start_month: int) -> None:
    calendar = FiscalCalendar(start_month)
    year = calendar.year(2026)
    nested = calendar.nested(year)
    assert nested[0] == year
    kinds = [p.kind for p in nested[1:]]
    assert kinds == [PeriodKind.QUARTER] * 4 + [PeriodKind.MONTH] * 12
    assert all(p.within(year) for p in nested)


def test_a_quarter_nests_itself_and_its_three_months() -> None:
    calendar = FiscalCalendar(7)
    quarter = calendar.parse("2026-Q2")
    nested = calendar.nested(quarter)
    assert [p.label for p in nested] == ["2026-Q2", "2025-10", "2025-11", "2025-12"]


def test_a_month_nests_only_itself() -> None:
    month = FiscalCalendar().parse("2026-05")
    assert FiscalCalendar().nested(month) == [month]


def test_within_and_overlaps_distinguish_touching_from_sharing_days() -> None:
    calendar = FiscalCalendar()
    q1, q2, april = calendar.parse("2026-Q1"), calendar.parse("2026-Q2"), calendar.parse("2026-04")
    assert not q1.overlaps(q2)
    assert april.within(q2) and april.overlaps(q2) and not april.within(q1)


# --- elapsed fraction and time zones --------------------------------------------------------------

def test_elapsed_fraction_is_zero_before_the_period_starts() -> None:
    period = FiscalCalendar().parse("2026")
    assert period.elapsed_fraction(datetime(2025, 6, 1, tzinfo=UTC)) == 0.0
    assert period.elapsed_fraction(period.starts_at) == 0.0


def test_elapsed_fraction_is_one_once_the_period_is_over() -> None:
    period = FiscalCalendar().parse("2026")
    assert period.elapsed_fraction(period.ends_at) == 1.0
    assert period.elapsed_fraction(datetime(2030, 1, 1, tzinfo=UTC)) == 1.0


def test_elapsed_fraction_is_one_half_at_the_midpoint() -> None:
    period = FiscalCalendar().parse("2026-04")  # 30 days
    assert period.elapsed_fraction(datetime(2026, 4, 16, tzinfo=UTC)) == 0.5


def test_naive_datetimes_are_treated_as_utc() -> None:
    period = FiscalCalendar().parse("2026-04")
    naive = datetime(2026, 4, 16)
    assert period.elapsed_fraction(naive) == period.elapsed_fraction(naive.replace(tzinfo=UTC))
    assert as_utc(naive) == datetime(2026, 4, 16, tzinfo=UTC)
    assert period.contains(datetime(2026, 4, 30, 23, 59))
    assert not period.contains(datetime(2026, 5, 1))


def test_aware_datetimes_are_compared_in_utc() -> None:
    period = FiscalCalendar().parse("2026-04")
    # 1 May 01:00 at UTC+2 is still 30 April in UTC, so it falls inside April.
    late_april = datetime(2026, 5, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert period.contains(late_april)
    assert FiscalCalendar().period_of(PeriodKind.MONTH, late_april) == period


def test_period_boundaries_are_utc_midnight_and_half_open() -> None:
    period = FiscalCalendar().parse("2026-Q1")
    assert period.starts_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert period.ends_at == datetime(2026, 4, 1, tzinfo=UTC)
    assert period.contains(period.starts_at) and not period.contains(period.ends_at)
    assert period.contains(date(2026, 3, 31)) and not period.contains(date(2026, 4, 1))
    assert str(period) == "2026-Q1"
