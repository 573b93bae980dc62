"""A subject's observations summed per calendar month (UTC): what a grade needs, without every point.

Why: every cycle okrbridge grades (fiscal years, quarters, months) starts and ends at a UTC month
boundary, so a grade's window is a run of whole months, cut at the report's instant. A month of a
KR's history folds into one `MonthSum` — the exact line sums of its observations and the latest
of them — and a window is answered from its months: the trend line is the sum of their sums, the
latest observation the last month's. The sums are exact (see okrbridge.line_fit), so the grade is
the one the full series gives, number for number. Pure, no IO.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter, lshift

from okrbridge.cycles import as_utc
from okrbridge.domain import Reading
from okrbridge.line_fit import LineSums
from okrbridge.series import micros


@dataclass(frozen=True, slots=True)
class MonthSum:
    """One subject's observations in one month: their line sums and the latest of them (its instant
    in microseconds, the stored observation it is, row id * 2 + kind, and its value)."""

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


def months_between(first: datetime, end: datetime) -> list[str]:
    """The months holding any instant of `[first, end)`, in order."""
    keys: list[str] = []
    key, stop = month_key(first), month_key(end)
    while key < stop or (key == stop and month_start(key) < as_utc(end)):
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
    """`Observations` (see okrbridge.series) of one subject from its month sums, for windows of whole
    months; each sum holds the observations up to the one instant `until` every query names.

    Kept as columns (one tuple per sum, scaled to one exponent), so a window's line is six C-level
    `sum()`s over slices rather than a chain of objects: `grades` builds one per KR.
    """

    __slots__ = ("_columns", "_exponent", "_last", "_make", "_starts", "until")

    def __init__(self, months: Iterable[MonthRow], until: datetime,
                 make: Callable[[int, float], Reading]) -> None:
        """`months` as `MonthRow`s of one subject (any order; what the store reads), `until` the
        instant their sums stop at, `make` the Reading of a stored observation (ref, value)."""
        ordered = sorted(months, key=itemgetter(1))
        _, keys, counts, text_x, text_xx, text_y, text_xy, exponents, nonfinite, refs, values = (
            zip(*ordered, strict=True) if ordered else ((),) * 11)
        # the store keeps the sums as decimal text: converted column by column, at C speed
        sums_x, sums_xx = tuple(map(int, text_x)), tuple(map(int, text_xx))
        sums_y, sums_xy = tuple(map(int, text_y)), tuple(map(int, text_xy))
        exponent = max(exponents, default=0)
        if exponent != min(exponents, default=0):  # non-integer values: scale every month alike
            shifts = [exponent - each for each in exponents]
            sums_y = tuple(map(lshift, sums_y, shifts))
            sums_xy = tuple(map(lshift, sums_xy, shifts))
        self._exponent = exponent
        self._starts = list(map(_month_micros, keys))
        self._columns = (counts, sums_x, sums_xx, sums_y, sums_xy, nonfinite)
        self._last = (refs, values)
        self._make = make
        self.until = as_utc(until)

    def _span(self, not_before: datetime | None, before: datetime, until: datetime) -> tuple[int, int]:
        """The indexes [low, high) of the months inside the window."""
        if until != self.until:
            raise ValueError(f"these month sums hold observations up to {self.until.isoformat()}, "
                             f"not {as_utc(until).isoformat()}")
        low = bisect_left(self._starts, _bound(not_before)) if not_before is not None else 0
        return low, max(low, bisect_left(self._starts, _bound(before)))

    def last(self, *, not_before: datetime | None, before: datetime, until: datetime) -> int | None:
        """The latest observation of the window: that of its last month with any."""
        low, high = self._span(not_before, before, until)
        return high - 1 if high > low else None

    def line(self, *, not_before: datetime | None, before: datetime, until: datetime) -> LineSums:
        """The window's line sums: the sums of its months."""
        low, high = self._span(not_before, before, until)
        counts, sums_x, sums_xx, sums_y, sums_xy, nonfinite = self._columns
        return LineSums(sum(counts[low:high]), sum(sums_x[low:high]), sum(sums_xx[low:high]),
                        sum(sums_y[low:high]), sum(sums_xy[low:high]), self._exponent,
                        sum(nonfinite[low:high]))

    def reading(self, pick: int) -> Reading:
        """The latest observation of month `pick` as a Reading."""
        refs, values = self._last
        return self._make(refs[pick], values[pick])

    def detail_ref(self, pick: int) -> int | None:
        """The stored observation `pick` names."""
        return self._last[0][pick]


MonthRow = tuple[str, str, int, int | str, int | str, int | str, int | str, int, int, int, float]
"""A subject's month flat, as the store reads it: (subject, month, count, Σx, Σx², Σy, Σxy, exponent,
non-finite, last ref, last value); the four sums as integers or their decimal text."""


def month_row(subject_id: str, each: MonthSum) -> MonthRow:
    """A subject's MonthSum as a MonthRow."""
    sums = each.sums
    return (subject_id, each.month, sums.count, sums.sum_x, sums.sum_xx, sums.sum_y, sums.sum_xy,
            sums.exponent, sums.nonfinite, each.last_ref, each.last_value)


@lru_cache(maxsize=4096)
def _month_micros(key: str) -> int:
    """The first instant of month "YYYY-MM" in microseconds (a year of KRs shares twelve)."""
    return micros(month_start(key))


@lru_cache(maxsize=1024)
def _bound(moment: datetime) -> int:
    """A window bound in microseconds; ValueError unless it is the start of a month."""
    if not is_month_start(moment):
        raise ValueError(f"{as_utc(moment).isoformat()} is not the start of a month")
    return micros(moment)


__all__ = [
    "MonthRow",
    "MonthSum",
    "MonthlyObservations",
    "is_month_start",
    "month_key",
    "month_row",
    "month_start",
    "month_sum_of",
    "months_between",
    "next_month",
]
