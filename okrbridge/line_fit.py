"""The least-squares line of a KR's trend, from exact sums that add up across months. Pure, no IO.

Why exact: a forecast is the least-squares line through every observation of a cycle, which is
millions of points for a year of hourly syncs at 10,000 KRs. Kept as five sums — n, Σx, Σx², Σy,
Σxy — a month's observations fold into one small record that is stored once and added to its
neighbours, so a year's forecast reads twelve records instead of every point. Float sums would
depend on the order and grouping they were added in; these are exact integers (instants are whole
microseconds, values are floats, and every float is an integer times a power of two), so a fit
from monthly records, from a cycle's raw points, or from any other grouping is the same number,
and the forecast is the exact line's value rounded once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import mul


@dataclass(frozen=True, slots=True)
class LineSums:
    """Exact sums of points (x = instant in microseconds, y = value): `sum_y` and `sum_xy` are the
    sums scaled by 2**`exponent` (so they are integers); `nonfinite` counts points whose value is
    infinite or NaN (a line through them predicts nothing; they are left out of the other sums)."""

    count: int = 0
    sum_x: int = 0
    sum_xx: int = 0
    sum_y: int = 0
    sum_xy: int = 0
    exponent: int = 0
    nonfinite: int = 0

    @classmethod
    def of(cls, times: Sequence[int], values: Sequence[float]) -> LineSums:
        """The sums of the points `(times[i], values[i])`."""
        if not all(map(math.isfinite, values)):
            finite = [(t, v) for t, v in zip(times, values, strict=True) if math.isfinite(v)]
            kept = cls.of([t for t, _ in finite], [v for _, v in finite])
            return _replace_nonfinite(kept, len(values) - len(finite))
        if not times:
            return EMPTY
        sum_x, sum_xx = sum(times), sum(map(mul, times, times))
        if all(map(float.is_integer, values)):  # counts and most sums: no scaling needed
            ints = list(map(int, values))
            return cls(len(times), sum_x, sum_xx, sum(ints), sum(map(mul, times, ints)))
        ratios = [value.as_integer_ratio() for value in values]
        exponent = max(denominator.bit_length() - 1 for _, denominator in ratios)
        scaled = [numerator << (exponent - denominator.bit_length() + 1) for numerator, denominator in ratios]
        return cls(len(times), sum_x, sum_xx, sum(scaled), sum(map(mul, times, scaled)), exponent)

    def __add__(self, other: LineSums) -> LineSums:
        """The sums of both sets of points."""
        shift_self, shift_other = _shifts(self, other)
        return LineSums(self.count + other.count, self.sum_x + other.sum_x, self.sum_xx + other.sum_xx,
                        (self.sum_y << shift_self) + (other.sum_y << shift_other),
                        (self.sum_xy << shift_self) + (other.sum_xy << shift_other),
                        max(self.exponent, other.exponent), self.nonfinite + other.nonfinite)

    def __sub__(self, other: LineSums) -> LineSums:
        """The sums of these points without `other`'s (which must be among them)."""
        shift_self, shift_other = _shifts(self, other)
        return LineSums(self.count - other.count, self.sum_x - other.sum_x, self.sum_xx - other.sum_xx,
                        (self.sum_y << shift_self) - (other.sum_y << shift_other),
                        (self.sum_xy << shift_self) - (other.sum_xy << shift_other),
                        max(self.exponent, other.exponent), self.nonfinite - other.nonfinite)

    @property
    def points(self) -> int:
        """How many points the sums hold, non-finite ones included."""
        return self.count + self.nonfinite

    def value_at(self, at: int) -> float | None:
        """The value of the least-squares line at instant `at` (microseconds), rounded once.

        None with fewer than two points, when they all share one instant (no slope to fit), when a
        value is not finite, or when the line at `at` lies outside the range of a float.
        """
        n = self.count
        if self.points < 2 or self.nonfinite:
            return None
        spread = n * self.sum_xx - self.sum_x * self.sum_x  # n²·variance of x: zero iff one instant
        if spread == 0:
            return None
        slope_part = n * self.sum_xy - self.sum_x * self.sum_y
        # mean_y + slope * (at - mean_x), over one common denominator (the 2**exponent scale included)
        numerator = self.sum_y * spread + slope_part * (n * at - self.sum_x)
        try:
            return numerator / ((n * spread) << self.exponent)  # int / int is correctly rounded
        except OverflowError:
            return None


EMPTY = LineSums()
"""The sums of no points."""


def _shifts(first: LineSums, second: LineSums) -> tuple[int, int]:
    """How far each one's scaled sums move left to share the larger exponent."""
    exponent = max(first.exponent, second.exponent)
    return exponent - first.exponent, exponent - second.exponent


def _replace_nonfinite(sums: LineSums, nonfinite: int) -> LineSums:
    """`sums` with `nonfinite` more non-finite points."""
    return LineSums(sums.count, sums.sum_x, sums.sum_xx, sums.sum_y, sums.sum_xy, sums.exponent,
                    sums.nonfinite + nonfinite)


__all__ = ["EMPTY", "LineSums"]
