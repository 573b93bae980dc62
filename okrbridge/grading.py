"""Pure scoring: a key result's score by measure kind, the objective roll-up, bands, pace, forecast.

Scores are on the 0.0-1.0 scale. Ratios are computed with exact rational arithmetic and rounded once,
so the known examples come out exact (300 -> 500 at 400 is 0.5, not 0.49999999999999994), a score
is monotonic in its value, and a weighted mean never lands outside its inputs — which matters where
a result sits exactly on a band boundary such as 0.7. No IO happens here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from okrbridge.domain import Direction, KeyResult, Kpi, Measure, MeasureKind, Pace, Status
from okrbridge.explanation import Explanation
from okrbridge.line_fit import LineSums
from okrbridge.series import micros


def _clamp_unit(x: float) -> float:
    """`x` limited to 0..1."""
    return min(1.0, max(0.0, x))


def _required(measure: Measure, name: str) -> float:
    """A finite number the measure must declare, or a ValueError naming the field and the kind."""
    value: float | None = getattr(measure, name)
    if value is None or not math.isfinite(value):
        raise ValueError(f"a {measure.kind.value} measure needs a finite `{name}`, got {value!r}")
    return float(value)


def _optional(measure: Measure, name: str) -> float | None:
    """A number the measure may declare; when given it must be finite."""
    value: float | None = getattr(measure, name)
    if value is not None and not math.isfinite(value):
        raise ValueError(f"`{name}` of a {measure.kind.value} measure must be finite, got {value!r}")
    return None if value is None else float(value)


def _progress(value: float, start: float, goal: float) -> float:
    """How far `value` has moved from `start` toward `goal`, as a share clamped to 0..1.

    Works in either direction (goal above or below start), so increase and decrease share it.
    """
    if start == goal:
        raise ValueError(f"start and target must differ, both are {start!r}")
    toward_up = goal > start
    # Comparisons first: they settle the clamped ends exactly and handle infinite values, which
    # Fraction cannot represent.
    if (value >= goal) if toward_up else (value <= goal):
        return 1.0
    if (value <= start) if toward_up else (value >= start):
        return 0.0
    return exact_share(value, start, goal)


def exact_share(value: float, start: float, goal: float) -> float:
    """(value - start) / (goal - start) of finite floats, computed exactly and rounded once.

    Every float is an integer over a power of two, so the ratio is one integer over another and
    Python's int division rounds it correctly: the float `Fraction` arithmetic gives, without a
    Fraction (`grades` scores every KR of every period).
    """
    v_num, v_den = float(value).as_integer_ratio()
    s_num, s_den = float(start).as_integer_ratio()
    g_num, g_den = float(goal).as_integer_ratio()
    return ((v_num * s_den - s_num * v_den) * g_den) / ((g_num * s_den - s_num * g_den) * v_den)


def _distance_to_band(x: float, low: float | None, high: float | None) -> Fraction:
    """How far a finite `x` lies outside `[low, high]` (0 inside); a missing bound is unbounded."""
    if low is not None and x < low:
        return Fraction(low) - Fraction(x)
    if high is not None and x > high:
        return Fraction(x) - Fraction(high)
    return Fraction(0)


def _threshold_score(measure: Measure, value: float) -> float:
    """1.0 inside the band; outside it, how much of the start's distance to the band is closed."""
    low, high = _optional(measure, "low"), _optional(measure, "high")
    if low is None and high is None:
        raise ValueError("a threshold measure needs `low`, `high` or both")
    if low is not None and high is not None and low > high:
        raise ValueError(f"a threshold measure needs low <= high, got low={low} high={high}")
    if (low is None or value >= low) and (high is None or value <= high):
        return 1.0
    start = _optional(measure, "start")
    if start is None or not math.isfinite(value):
        # No start means no distance to measure progress over: outside the band is simply a miss.
        return 0.0
    from_start = _distance_to_band(start, low, high)
    if from_start == 0:
        # Started inside the band and has since left it: that is a loss, never progress.
        return 0.0
    # Measured as distance to the band rather than a signed ratio toward one bound, so a value that
    # overshoots to the far side of the band scores by how near it is, not 1.0 (it is outside).
    # On the start's own side this equals (start - value) / (start - nearer bound).
    return float(max(Fraction(0), 1 - _distance_to_band(value, low, high) / from_start))


def score_value(measure: Measure, value: float | None, *, done_ratio: float | None = None) -> float | None:
    """A key result's score in 0..1 for `value` under its measure; None when there is no value.

    - increase: (value - start) / (target - start), clamped to 0..1
    - decrease: (start - value) / (start - target), clamped to 0..1
    - threshold: 1.0 inside [low, high]; outside, progress from `start` toward the band (the
      nearer bound on the start's side), 0.0 without a start or when the start was inside
    - baseline: 1.0 when met in the direction `measure.better` (>= or <= baseline), else 0.0
    - milestone: value 1.0 (done) scores 1.0; not done scores `done_ratio` when the measure gives
      partial credit and a ratio is known, else 0.0

    A NaN value is treated as no value. A measure missing a number its kind needs raises ValueError.
    """
    if value is None or math.isnan(value):
        return None
    kind = measure.kind
    if kind in (MeasureKind.INCREASE, MeasureKind.DECREASE):
        # (start - value) / (start - target) is (value - start) / (target - start): one formula,
        # read as progress from start toward target, serves both kinds.
        return _progress(value, _required(measure, "start"), _required(measure, "target"))
    if kind is MeasureKind.THRESHOLD:
        return _threshold_score(measure, value)
    if kind is MeasureKind.BASELINE:
        baseline = _required(measure, "baseline")
        met = value >= baseline if measure.better is Direction.INCREASE else value <= baseline
        return 1.0 if met else 0.0
    if kind is MeasureKind.MILESTONE:
        if value >= 1.0:
            return 1.0
        if measure.partial_credit and done_ratio is not None and not math.isnan(done_ratio):
            return _clamp_unit(done_ratio)
        return 0.0
    raise ValueError(f"unknown measure kind {kind!r}")


@dataclass(frozen=True)
class Bands:
    """Where a score turns from off track to at risk to on track: [0, off) / [off, at) / [at, 1]."""

    off_track_below: float = 0.4
    at_risk_below: float = 0.7

    def __post_init__(self) -> None:
        """Refuse bands that are out of order or outside 0..1 (NaN fails every comparison)."""
        if not 0.0 <= self.off_track_below <= self.at_risk_below <= 1.0:
            raise ValueError(
                "bands need 0 <= off_track_below <= at_risk_below <= 1, got "
                f"off_track_below={self.off_track_below!r} at_risk_below={self.at_risk_below!r}")

    def status(self, score: float | None) -> Status:
        """The band a score falls in; no score (None or NaN) is NO_DATA."""
        if score is None or math.isnan(score):
            return Status.NO_DATA
        if score < self.off_track_below:
            return Status.OFF_TRACK
        if score < self.at_risk_below:
            return Status.AT_RISK
        return Status.ON_TRACK


def objective_score(weighted: Sequence[tuple[float, float | None]]) -> float | None:
    """The weighted mean of `(weight, score)` pairs, weights normalised to sum to 1.

    A KR without a score counts as 0.0 as long as some KR has one: otherwise an objective whose
    lagging KR has stopped reporting would grade higher than one that reports honestly — missing
    data must not inflate a grade. No scores at all, no KRs, or a zero total weight give None.
    Negative or non-finite weights raise ValueError.
    """
    for weight, _ in weighted:
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"a key result weight must be a finite number >= 0, got {weight!r}")
    present = [(w, s) for w, s in weighted if s is not None and not math.isnan(s)]
    if not present:
        return None
    # Exact sums of dyadic rationals (see `exact_share`): each term is n / 2**k.
    total, total_bits = _dyadic_sum(_dyadic(float(w)) for w, _ in weighted)
    if total == 0:
        return None
    # Missing scores add nothing to the numerator but keep their weight in the denominator.
    numerator, numerator_bits = _dyadic_sum(_dyadic_product(float(w), float(s)) for w, s in present)
    if total_bits >= numerator_bits:
        return (numerator << (total_bits - numerator_bits)) / total
    return numerator / (total << (numerator_bits - total_bits))


def _dyadic(x: float) -> tuple[int, int]:
    """A finite float as (n, k) with x == n / 2**k."""
    numerator, denominator = x.as_integer_ratio()
    return numerator, denominator.bit_length() - 1


def _dyadic_product(x: float, y: float) -> tuple[int, int]:
    """x * y exactly, as (n, k) with x * y == n / 2**k."""
    (x_num, x_bits), (y_num, y_bits) = _dyadic(x), _dyadic(y)
    return x_num * y_num, x_bits + y_bits


def _dyadic_sum(terms: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The exact sum of (n, k) terms, as (n, k)."""
    listed = list(terms)
    bits = max((k for _, k in listed), default=0)
    return sum(n << (bits - k) for n, k in listed), bits


def pace(score: float | None, elapsed_fraction: float, *, tolerance: float = 0.1) -> Pace:
    """The score compared with how much of the cycle has passed.

    NOT_STARTED before the cycle starts or without a score; DONE at 1.0; AHEAD / BEHIND when the
    score is more than `tolerance` above / below the elapsed fraction; ON_PACE otherwise.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    if score is None or math.isnan(score) or elapsed_fraction <= 0:
        return Pace.NOT_STARTED
    if score >= 1.0:
        return Pace.DONE
    if score > elapsed_fraction + tolerance:
        return Pace.AHEAD
    if score < elapsed_fraction - tolerance:
        return Pace.BEHIND
    return Pace.ON_PACE


def forecast(points: Sequence[tuple[datetime, float]], at: datetime) -> float | None:
    """The value at `at` on the least-squares line through `(time, value)` points, rounded once.

    None with fewer than two points, when they all share one instant (no slope to fit), when a value
    is not finite, or when the line leaves the range of a float by `at`. Naive datetimes are UTC.
    The line is fitted exactly (see okrbridge.line_fit), so it never overflows and the same points
    give the same forecast however they are grouped.
    """
    return forecast_micros([micros(t) for t, _ in points], [float(v) for _, v in points], micros(at))


def forecast_micros(times: Sequence[int], values: Sequence[float], at: int) -> float | None:
    """`forecast` of points given as instants in integer microseconds and their values."""
    return LineSums.of(times, values).value_at(at)


def _kpi_measure(kpi: Kpi) -> Measure | None:
    """The KR measure a KPI is scored like: baseline -> target progress, or met-or-not of one level."""
    if kpi.baseline is not None and kpi.target is not None and kpi.baseline != kpi.target:
        kind = MeasureKind.INCREASE if kpi.direction is Direction.INCREASE else MeasureKind.DECREASE
        return Measure(kind, start=kpi.baseline, target=kpi.target)
    level = kpi.target if kpi.target is not None else kpi.baseline
    if level is None:
        return None
    return Measure(MeasureKind.BASELINE, baseline=level, better=kpi.direction)


def kpi_score(kpi: Kpi, value: float | None) -> float | None:
    """A KPI's progress from its baseline to its target in its direction, clamped to 0..1.

    With only one of baseline and target (or both equal), 1.0 when that level is met, else 0.0.
    None without a value, or when the KPI declares neither level.
    """
    measure = _kpi_measure(kpi)
    return None if measure is None else score_value(measure, value)


def _meets(kpi: Kpi, value: float, level: float) -> bool:
    """Whether `value` is at `level` or better in the KPI's direction."""
    return value >= level if kpi.direction is Direction.INCREASE else value <= level


def kpi_status(kpi: Kpi, value: float | None) -> Status:
    """A KPI's status: ON_TRACK when the target is met, AT_RISK between baseline and target,
    OFF_TRACK ("missed") when worse than the baseline.

    With only a baseline: met is ON_TRACK, else OFF_TRACK. With only a target: met is ON_TRACK,
    else AT_RISK (short of the goal, but with no declared floor it cannot be called missed).
    NO_DATA without a value or when the KPI declares neither level.
    """
    if value is None or math.isnan(value):
        return Status.NO_DATA
    if kpi.target is not None and _meets(kpi, value, kpi.target):
        return Status.ON_TRACK
    if kpi.baseline is not None:
        if not _meets(kpi, value, kpi.baseline):
            return Status.OFF_TRACK
        return Status.AT_RISK if kpi.target is not None else Status.ON_TRACK
    return Status.AT_RISK if kpi.target is not None else Status.NO_DATA


def score_of(subject: KeyResult | Kpi, value: float | None,
             explanation: Explanation | None = None) -> float | None:
    """The score of a value of a KR or KPI under its measure as the catalog declares it now.

    The one rule for a score: grades, history, the remote links on epics and every later renderer
    call this with the stored value (and, for a partial-credit milestone, its explanation's done
    ratio), so editing a target in okrs.toml changes every one of them alike. None without a value.
    """
    if isinstance(subject, Kpi):
        return kpi_score(subject, value)
    measure = subject.measure
    # only a milestone's score reads the done ratio (`grades` scores 240,000 values at 10,000 KRs)
    done_ratio = (explanation.done_ratio if explanation is not None and measure.kind is MeasureKind.MILESTONE
                  else None)
    return score_value(measure, value, done_ratio=done_ratio)
