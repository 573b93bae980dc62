"""A subject's observations summed per calendar month (UTC): what a grade needs, without every point.

Why: every cycle okrbridge grades (fiscal years, quarters, months) starts and ends at a UTC month
boundary, so a grade's window is a run of whole months, cut at the report's instant. A month of a
KR's history folds into one `MonthSum` — the exact line sums of its observations and the latest
of them — and the store keeps, per month, the *running* sums: those of every observation up to
the month's end (`running_rows`). A window's trend line is then the difference of two rows (the
last month inside it and the last before it) and its latest observation that of its last month,
so a year's grade reads two rows per KR, not twelve. The sums are exact (see okrbridge.line_fit),
so the grade is the one the full series gives, number for number. Pure, no IO.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from okrbridge.cycles import as_utc
from okrbridge.domain import Reading
from okrbridge.line_fit import EMPTY, LineSums
from okrbridge.series import micros


@dataclass(frozen=True, slots=True)
class MonthSum:
    """One subject's month: the line sums of its observations (or, as `running_rows` makes them, of
    every observation through the month's end) and the month's latest observation (its instant in
    microseconds, the stored observation it is, row id * 2 + kind, and its value)."""

    month: str
    sums: LineSums
    last_at: int
    last_ref: int
    last_value: float


def month_key(moment: datetime) -> str:
    """The UTC month an instant falls in, as "YYYY-MM" (what the store keys month sums by)."""
    return as_utc(moment).strftime("%Y-%m")


def month_start(key: str) -> datetime:
    """The first instant of the month "YYYY-MM" (UTC)."""
    year, month = key.split("-")
    return datetime(int(year), int(month), 1, tzinfo=UTC)


def next_month(key: str) -> str:
    """The month after "YYYY-MM"."""
    year, month = map(int, key.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def month_keys(first: str, end: str) -> list[str]:
    """The months from "YYYY-MM" `first` up to, not including, `end`, in order."""
    keys: list[str] = []
    key = first
    while key < end:
        keys.append(key)
        key = next_month(key)
    return keys


def is_month_start(moment: datetime) -> bool:
    """Whether an instant is the first instant of a UTC month."""
    utc = as_utc(moment)
    return utc == month_start(month_key(utc))


def month_sum_of(month: str, observations: Iterable[tuple[int, int, float]]) -> MonthSum | None:
    """The MonthSum of (instant, ref, value) observations (any order); None for none."""
    points = sorted(observations)
    if not points:
        return None
    last_at, last_ref, last_value = points[-1]  # the latest, and of two at one instant the later ref
    return MonthSum(month, LineSums.of([t for t, _, _ in points], [v for _, _, v in points]),
                    last_at, last_ref, last_value)


class MonthlyObservations:
    """`Observations` (see okrbridge.series) of one subject from its running month sums, for windows
    bounded by the month starts `bounds` (a store reads the rows those windows need and no others);
    the sums hold the observations up to the one instant `until` every query names.

    Each row holds the sums of the subject's observations through its month, counted from a start the
    rows share: the subject's first month, or the earliest bound when the store worked them out from
    there (no window starts before it). A window's line is its last row less the row before it.
    """

    __slots__ = ("_bounds", "_make", "_rows", "_spans", "_starts", "_sums", "until")

    def __init__(self, months: Iterable[MonthRow], bounds: Iterable[datetime], until: datetime,
                 make: Callable[[int, float], Reading]) -> None:
        """`months` as `MonthRow`s of one subject (any order; what the store reads), `bounds` the
        instants windows may start or end at, `until` the instant the sums stop at, `make` the
        Reading of a stored observation (ref, value)."""
        self._rows = sorted(months, key=itemgetter(1))
        self._starts = [_month_micros(row[1]) for row in self._rows]
        self._sums: list[LineSums | None] = [None] * len(self._rows)
        self._bounds = frozenset(map(_bound, bounds))
        self._spans: dict[tuple[datetime | None, datetime], tuple[int, int]] = {}
        self._make = make
        self.until = as_utc(until)

    def _span(self, not_before: datetime | None, before: datetime, until: datetime) -> tuple[int, int]:
        """The indexes [low, high) of the rows inside the window (kept: a grade asks for its window's
        latest observation and its line, and a report reads the latest ahead)."""
        if until != self.until:
            raise ValueError(f"these month sums hold observations up to {self.until.isoformat()}, "
                             f"not {as_utc(until).isoformat()}")
        found = self._spans.get((not_before, before))
        if found is None:
            found = self._spans[not_before, before] = self._find_span(not_before, before)
        return found

    def _find_span(self, not_before: datetime | None, before: datetime) -> tuple[int, int]:
        """`_span`, searched for."""
        if not_before is None:
            raise ValueError("month sums answer windows with a start (a cycle's), not open ones")
        low, high = _bound(not_before), _bound(before)
        if low not in self._bounds or high not in self._bounds:
            raise ValueError(f"these month sums were read for windows bounded at other months than "
                             f"{as_utc(not_before).isoformat()} and {as_utc(before).isoformat()}")
        low = bisect_left(self._starts, low)
        return low, max(low, bisect_left(self._starts, high))

    def _sums_at(self, index: int) -> LineSums:
        """The running sums of row `index` (read from its text once)."""
        made = self._sums[index]
        if made is None:
            made = self._sums[index] = row_sums(self._rows[index])
        return made

    def last(self, *, not_before: datetime | None, before: datetime, until: datetime) -> int | None:
        """The latest observation of the window: that of its last month with any."""
        low, high = self._span(not_before, before, until)
        return high - 1 if high > low else None

    def line(self, *, not_before: datetime | None, before: datetime, until: datetime) -> LineSums:
        """The window's line sums: its last month's running sums less those of the month before it."""
        low, high = self._span(not_before, before, until)
        if high == low:
            return EMPTY
        through = self._sums_at(high - 1)
        return through - self._sums_at(low - 1) if low else through

    def reading(self, pick: int) -> Reading:
        """The latest observation of month `pick` as a Reading."""
        row = self._rows[pick]
        return self._make(row[9], row[10])

    def detail_ref(self, pick: int) -> int | None:
        """The stored observation `pick` names."""
        return self._rows[pick][9]


MonthRow = tuple[str, str, int, int | str, int | str, int | str, int | str, int, int, int, float]
"""A subject's running sums through a month, flat, as the store reads them: (subject, month, count,
Σx, Σx², Σy, Σxy, exponent, non-finite, ref and value of the month's latest observation); the four
sums as integers or their decimal text."""


def month_row(subject_id: str, each: MonthSum) -> MonthRow:
    """A subject's MonthSum as a MonthRow."""
    sums = each.sums
    return (subject_id, each.month, sums.count, sums.sum_x, sums.sum_xx, sums.sum_y, sums.sum_xy,
            sums.exponent, sums.nonfinite, each.last_ref, each.last_value)


def row_sums(row: MonthRow) -> LineSums:
    """The line sums a MonthRow holds."""
    _, _, count, sum_x, sum_xx, sum_y, sum_xy, exponent, nonfinite, _, _ = row
    return LineSums(count, int(sum_x), int(sum_xx), int(sum_y), int(sum_xy), exponent, nonfinite)


def running(before: MonthRow | None, months: Iterable[MonthSum]) -> list[MonthSum]:
    """The running sums of a subject's months (each `MonthSum` of one month's observations, in month
    order) on top of `before`, the running row of the month before them (None: nothing before)."""
    total = row_sums(before) if before is not None else EMPTY
    made: list[MonthSum] = []
    for each in months:
        total = total + each.sums
        made.append(MonthSum(each.month, total, each.last_at, each.last_ref, each.last_value))
    return made


def running_rows(subject_id: str, before: MonthRow | None, months: Iterable[MonthSum]) -> list[MonthRow]:
    """`running` as the MonthRows of `subject_id`."""
    return [month_row(subject_id, each) for each in running(before, months)]


@lru_cache(maxsize=4096)
def _month_micros(key: str) -> int:
    """The first instant of month "YYYY-MM" in microseconds (a year of KRs shares twelve)."""
    return micros(month_start(key))


def bound_month(moment: datetime) -> str:
    """The month a window bound starts, "YYYY-MM"; ValueError unless it is the start of a month."""
    if not is_month_start(moment):
        raise ValueError(f"{as_utc(moment).isoformat()} is not the start of a month")
    return month_key(moment)


@lru_cache(maxsize=1024)
def _bound(moment: datetime) -> int:
    """A window bound in microseconds; ValueError unless it is the start of a month."""
    bound_month(moment)
    return micros(moment)


__all__ = [
    "MonthRow",
    "MonthSum",
    "MonthlyObservations",
    "bound_month",
    "is_month_start",
    "month_key",
    "month_keys",
    "month_row",
    "month_start",
    "month_sum_of",
    "next_month",
    "row_sums",
    "running",
    "running_rows",
]
