"""A subject's observations summed per calendar month (UTC): what a grade needs, without every point.

Why: every cycle okrbridge grades (fiscal years, quarters, months) starts and ends at a UTC month
boundary, so a grade's window is a run of whole months, cut at the report's instant. A month of a
KR's history folds into one `MonthSum` — the exact line sums of its observations and the latest
of them — and a window is answered from running totals of those: the trend line is one
subtraction, the latest observation the last month's. The sums are exact (see okrbridge.line_fit),
so the grade is the one the full series gives, number for number. Pure, no IO.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from okrbridge.cycles import as_utc
from okrbridge.domain import Reading
from okrbridge.line_fit import EMPTY, LineSums
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
    months; each sum holds the observations up to the one instant `until` every query names."""

    __slots__ = ("_cumulative", "_make", "_months", "_starts", "until")

    def __init__(self, months: Sequence[MonthSum], until: datetime,
                 make: Callable[[int, float], Reading]) -> None:
        self._months = sorted(months, key=lambda each: each.month)
        self._starts = [micros(month_start(each.month)) for each in self._months]
        running = [EMPTY]
        for each in self._months:
            running.append(running[-1] + each.sums)
        self._cumulative = running
        self._make = make
        self.until = as_utc(until)

    def _span(self, not_before: datetime | None, before: datetime, until: datetime) -> tuple[int, int]:
        """The indexes [low, high) of the months inside the window."""
        if as_utc(until) != self.until:
            raise ValueError(f"these month sums hold observations up to {self.until.isoformat()}, "
                             f"not {as_utc(until).isoformat()}")
        for bound in (not_before, before):
            if bound is not None and not is_month_start(bound):
                raise ValueError(f"{as_utc(bound).isoformat()} is not the start of a month")
        low = bisect_left(self._starts, micros(not_before)) if not_before is not None else 0
        return low, max(low, bisect_left(self._starts, micros(before)))

    def last(self, *, not_before: datetime | None, before: datetime, until: datetime) -> int | None:
        """The latest observation of the window: that of its last month with any."""
        low, high = self._span(not_before, before, until)
        return high - 1 if high > low else None

    def line(self, *, not_before: datetime | None, before: datetime, until: datetime) -> LineSums:
        """The window's line sums: a difference of two running totals."""
        low, high = self._span(not_before, before, until)
        return self._cumulative[high] - self._cumulative[low]

    def reading(self, pick: int) -> Reading:
        """The latest observation of month `pick` as a Reading."""
        chosen = self._months[pick]
        return self._make(chosen.last_ref, chosen.last_value)

    def detail_ref(self, pick: int) -> int | None:
        """The stored observation `pick` names."""
        return self._months[pick].last_ref


__all__ = ["MonthSum", "MonthlyObservations", "is_month_start", "month_key", "month_start",
           "month_sum_of", "months_between", "next_month"]
