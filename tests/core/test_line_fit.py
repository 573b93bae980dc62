"""Exact least-squares sums: the same forecast however the points are grouped, rounded once."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from itertools import pairwise

import pytest

from okrbridge.line_fit import EMPTY, LineSums

DAY = 86_400_000_000
"""A day in microseconds."""
T0 = 1_767_225_600_000_000
"""2026-01-01T00:00:00Z in microseconds since the epoch."""


def _textbook(times: list[int], values: list[float], at: int) -> float:
    """The least-squares line at `at` with Fractions: mean_y + slope * (at - mean_x), rounded once."""
    xs, ys = [Fraction(t) for t in times], [Fraction(v) for v in values]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return float(mean_y + slope * (at - mean_x))


def test_a_straight_line_is_extended_exactly() -> None:
    # 10, 20, 30 on days 0, 1, 2: on day 10 the line is at 110
    sums = LineSums.of([T0, T0 + DAY, T0 + 2 * DAY], [10.0, 20.0, 30.0])
    assert sums.value_at(T0 + 10 * DAY) == 110.0


def test_a_worked_example_with_scatter() -> None:
    # points (0, 1), (1, 2), (2, 2), (3, 4) in days: mean x 1.5, mean y 2.25, slope 0.9 -> at day 5: 5.4
    sums = LineSums.of([T0 + d * DAY for d in range(4)], [1.0, 2.0, 2.0, 4.0])
    assert sums.value_at(T0 + 5 * DAY) == 5.4


def test_sums_of_groups_add_up_to_the_sums_of_all_points() -> None:
    rng = random.Random(7)
    times = sorted(T0 + rng.randrange(365 * DAY) for _ in range(300))
    values = [rng.choice([float(rng.randint(0, 500)), rng.uniform(-1e3, 1e3), rng.random() / 3])
              for _ in times]
    whole = LineSums.of(times, values)
    cuts = [0, 17, 100, 101, 250, 300]
    grouped = EMPTY
    for low, high in pairwise(cuts):
        grouped = grouped + LineSums.of(times[low:high], values[low:high])
    assert grouped == whole
    assert whole - LineSums.of(times[:100], values[:100]) == LineSums.of(times[100:], values[100:])
    at = T0 + 400 * DAY
    assert whole.value_at(at) == _textbook(times, values, at)


@pytest.mark.parametrize("values", [
    [1.0, 2.5, 2.0, 7.25],
    [1e308, 1e308, 1e308],
    [0.1, 0.2, 0.3, 0.7],
    [-5.0, 3.0, -2.0, 8.0, 1e-300],
])
def test_the_forecast_is_the_exact_line_rounded_once(values: list[float]) -> None:
    times = [T0 + i * 3 * DAY + i * i for i in range(len(values))]
    at = T0 + 90 * DAY
    assert LineSums.of(times, values).value_at(at) == _textbook(times, values, at)


def test_no_line_through_fewer_than_two_points_one_instant_or_a_non_finite_value() -> None:
    assert EMPTY.value_at(T0) is None
    assert LineSums.of([T0], [1.0]).value_at(T0) is None
    assert LineSums.of([T0, T0], [1.0, 2.0]).value_at(T0 + DAY) is None
    with_inf = LineSums.of([T0, T0 + DAY, T0 + 2 * DAY], [1.0, math.inf, 3.0])
    assert with_inf.nonfinite == 1 and with_inf.value_at(T0) is None
    assert (with_inf - LineSums.of([T0 + DAY], [math.inf])).value_at(T0 + 3 * DAY) == 4.0


def test_a_line_that_leaves_the_float_range_is_no_forecast() -> None:
    steep = LineSums.of([T0, T0 + 1], [-1.7e308, 1.7e308])
    assert steep.value_at(T0 + DAY) is None
