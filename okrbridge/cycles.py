"""Cycle arithmetic: fiscal years, quarters and months, and how far through one we are.

A cycle label is `"2026"` (a fiscal year), `"2026-Q2"` (a fiscal quarter) or `"2026-05"` (a calendar
month). Fiscal years start in a configurable month; a fiscal year is named after the calendar year
it ends in (`named_by="end"`, as most companies with a non-January year do: FY2026 starting in July
runs July 2025 - June 2026) or the one it starts in (`named_by="start"`). With a January start both
namings agree. Periods are half-open `[start, end)` in UTC; no IO happens here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Literal

_LABEL = re.compile(r"^(?P<year>[0-9]{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


class CycleError(ValueError):
    """A cycle label that does not parse, or an impossible calendar setting."""


class PeriodKind(StrEnum):
    """The three cycle lengths okrbridge grades over, longest first."""

    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"


@dataclass(frozen=True, order=True)
class Period:
    """A half-open span of days `[start, end)` with its kind and label (e.g. `2026-Q2`)."""

    start: date
    end: date
    kind: PeriodKind
    label: str

    @cached_property  # grading asks it of each objective's cycle for every KR of every period
    def starts_at(self) -> datetime:
        """The first instant of the period (UTC midnight)."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @cached_property
    def ends_at(self) -> datetime:
        """The first instant after the period (UTC midnight of `end`); grades are taken before it."""
        return datetime.combine(self.end, time.min, tzinfo=UTC)

    def contains(self, moment: date | datetime) -> bool:
        """Whether a day or an instant lies inside the period."""
        if isinstance(moment, datetime):
            return self.starts_at <= as_utc(moment) < self.ends_at
        return self.start <= moment < self.end

    def overlaps(self, other: Period) -> bool:
        """Whether the two periods share at least one day."""
        return self.start < other.end and other.start < self.end

    def within(self, other: Period) -> bool:
        """Whether this period lies entirely inside `other`."""
        return other.start <= self.start and self.end <= other.end

    def elapsed_fraction(self, now: datetime) -> float:
        """How much of the period has passed at `now`: 0.0 before it starts, 1.0 once it is over."""
        total = (self.ends_at - self.starts_at).total_seconds()
        passed = (as_utc(now) - self.starts_at).total_seconds()
        return min(1.0, max(0.0, passed / total))

    def __str__(self) -> str:
        return self.label


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are taken to be UTC, as the store writes them."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""The earliest instant a check-in or an `--at` may name."""
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""Check-ins and `--at` instants lie before this: a date near datetime's end cannot be moved to UTC
or into the next fiscal year, and nothing a team measures is dated a millennium ahead."""


class InstantOutOfRange(ValueError):
    """A date-time outside [EARLIEST, LATEST); the message names it and the range."""


def user_instant(moment: datetime) -> datetime:
    """A date-time a user typed (check-in time, `--at`) as an aware UTC instant in [EARLIEST, LATEST).

    Naive times are UTC. Raises InstantOutOfRange, naming the instant and the range, for anything
    outside it, including offsets that push a date past the end of what datetime can hold.
    """
    try:
        utc: datetime | None = as_utc(moment)
    except OverflowError:  # the offset moves it past datetime's first or last day
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InstantOutOfRange(f"{moment.isoformat()} is out of range: dates must lie between "
                         f"{EARLIEST.date()} and {(LATEST.date() - timedelta(days=1))}")
    return utc


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    """(year, month) moved by `months`, month in 1..12."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _first_of(year: int, month: int) -> date:
    """The first day of a month, as a CycleError (not datetime's bare ValueError) when out of range.

    Labels such as `"0000"`, or `"9999-12"` whose end falls in year 10000, parse but name days
    `date` cannot hold; callers (the linter) catch CycleError to name the bad label.
    """
    try:
        return date(year, month, 1)
    except ValueError as exc:
        raise CycleError(f"year {year} is outside the supported years 1 to 9999") from exc


@dataclass(frozen=True)
class FiscalCalendar:
    """Turns cycle labels into periods for a fiscal year starting in `start_month`."""

    start_month: int = 1
    named_by: Literal["start", "end"] = "end"

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise CycleError(f"fiscal_year_start must be a month from 1 to 12, not {self.start_month}")
        if self.named_by not in ("start", "end"):
            raise CycleError(f"fiscal years are named by 'start' or 'end', not {self.named_by!r}")

    def _first_calendar_year(self, fiscal_year: int) -> int:
        """The calendar year in which fiscal year `fiscal_year` begins."""
        if self.start_month == 1 or self.named_by == "start":
            return fiscal_year
        return fiscal_year - 1

    def year(self, fiscal_year: int) -> Period:
        """The whole fiscal year."""
        first = self._first_calendar_year(fiscal_year)
        end_year, end_month = _add_months(first, self.start_month, 12)
        return Period(_first_of(first, self.start_month), _first_of(end_year, end_month),
                      PeriodKind.YEAR, f"{fiscal_year:04d}")

    def quarter(self, fiscal_year: int, quarter: int) -> Period:
        """Fiscal quarter 1..4 of a fiscal year."""
        if not 1 <= quarter <= 4:
            raise CycleError(f"a quarter is 1 to 4, not {quarter}")
        first = self._first_calendar_year(fiscal_year)
        y0, m0 = _add_months(first, self.start_month, 3 * (quarter - 1))
        y1, m1 = _add_months(y0, m0, 3)
        return Period(_first_of(y0, m0), _first_of(y1, m1), PeriodKind.QUARTER,
                      f"{fiscal_year:04d}-Q{quarter}")

    @staticmethod
    def month(year: int, month: int) -> Period:
        """A calendar month; months are labelled by the calendar, never by the fiscal year."""
        if not 1 <= month <= 12:
            raise CycleError(f"a month is 1 to 12, not {month}")
        y1, m1 = _add_months(year, month, 1)
        return Period(_first_of(year, month), _first_of(y1, m1), PeriodKind.MONTH,
                      f"{year:04d}-{month:02d}")

    def fiscal_year_of(self, day: date) -> int:
        """The fiscal year a day belongs to."""
        first = day.year if day.month >= self.start_month else day.year - 1
        if self.start_month == 1 or self.named_by == "start":
            return first
        return first + 1

    def period_of(self, kind: PeriodKind, moment: date | datetime) -> Period:
        """The period of `kind` that contains a day or an instant."""
        day = as_utc(moment).date() if isinstance(moment, datetime) else moment
        if kind is PeriodKind.MONTH:
            return self.month(day.year, day.month)
        fiscal_year = self.fiscal_year_of(day)
        if kind is PeriodKind.YEAR:
            return self.year(fiscal_year)
        months_in = (day.month - self.start_month) % 12
        return self.quarter(fiscal_year, months_in // 3 + 1)

    def parse(self, label: str) -> Period:
        """`"2026"`, `"2026-Q2"` or `"2026-05"` as a period; CycleError names what is wrong.

        A label is read once per calendar: grading asks for each objective's cycle in every period
        it grades, and a Period is immutable, so one is shared by all of them.
        """
        if not isinstance(label, str):
            raise CycleError(
                f"cycle {label!r} is not a year (2026), a quarter (2026-Q2) or a month (2026-05)")
        return _parsed(self, label)

    def _parse(self, label: str) -> Period:
        """`parse`, uncached."""
        match = _LABEL.fullmatch(label.strip())
        if match is None:
            raise CycleError(
                f"cycle {label!r} is not a year (2026), a quarter (2026-Q2) or a month (2026-05)")
        year = int(match["year"])
        try:
            if match["quarter"]:
                return self.quarter(year, int(match["quarter"]))
            if match["month"]:
                return self.month(year, int(match["month"]))
            return self.year(year)
        except CycleError as exc:
            # The range error speaks of calendar years; name the label the user actually wrote.
            raise CycleError(f"cycle {label!r}: {exc}") from exc

    def periods(self, kind: PeriodKind, within: Period) -> list[Period]:
        """Every period of `kind` that overlaps `within`, in time order.

        Quarters and months nest inside fiscal years, so for the usual cases (the quarters of a year,
        the months of a quarter) these lie wholly inside `within`.
        """
        found: list[Period] = []
        current = self.period_of(kind, within.start)
        while current.start < within.end:
            found.append(current)
            current = self.period_of(kind, current.end)
        return found

    def nested(self, cycle: Period) -> list[Period]:
        """The cycle itself followed by every shorter period inside it: year, quarters, months."""
        order = list(PeriodKind)
        shorter = order[order.index(cycle.kind) + 1:]
        return [cycle, *(p for kind in shorter for p in self.periods(kind, cycle))]


@lru_cache(maxsize=1024)
def _parsed(calendar: FiscalCalendar, label: str) -> Period:
    """`calendar.parse(label)`, kept (a handful of distinct labels, read thousands of times)."""
    return calendar._parse(label)
