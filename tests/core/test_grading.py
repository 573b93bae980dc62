"""Scoring by measure kind, the objective roll-up, bands, pace, forecast and KPI grading."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from okrbridge.domain import Direction, Kpi, Measure, MeasureKind, Pace, Status
from okrbridge.grading import (
    Bands,
    exact_share,
    forecast,
    kpi_score,
    kpi_status,
    objective_score,
    pace,
    score_value,
)

INCREASE = Measure(MeasureKind.INCREASE, start=300, target=500)
DECREASE = Measure(MeasureKind.DECREASE, start=20, target=15)
BAND = Measure(MeasureKind.THRESHOLD, low=2, high=5, start=10)
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Every finite float, extremes included: scoring must not overflow to NaN near the float limits.
finite = st.floats(allow_nan=False, allow_infinity=False)


# --- increase / decrease --------------------------------------------------------------------------

def test_increase_scores_the_share_of_the_way_from_start_to_target() -> None:
    assert score_value(INCREASE, 400) == 0.5
    assert score_value(INCREASE, 350) == 0.25


def test_increase_at_start_scores_zero_and_at_target_one() -> None:
    assert score_value(INCREASE, 300) == 0.0
    assert score_value(INCREASE, 500) == 1.0


def test_increase_beyond_target_clamps_to_one() -> None:
    assert score_value(INCREASE, 900) == 1.0
    assert score_value(INCREASE, math.inf) == 1.0


def test_increase_below_start_clamps_to_zero() -> None:
    assert score_value(INCREASE, 100) == 0.0
    assert score_value(INCREASE, -math.inf) == 0.0


def test_decrease_scores_the_share_of_the_way_down_to_target() -> None:
    assert score_value(DECREASE, 17.5) == 0.5
    assert score_value(DECREASE, 19) == pytest.approx(0.2)


def test_decrease_beyond_target_clamps_to_one_and_above_start_to_zero() -> None:
    assert score_value(DECREASE, 15) == 1.0
    assert score_value(DECREASE, 3) == 1.0
    assert score_value(DECREASE, 20) == 0.0
    assert score_value(DECREASE, 25) == 0.0


def test_days_to_sale_unchanged_from_start_scores_zero() -> None:
    assert score_value(Measure(MeasureKind.DECREASE, start=20, target=17), 20) == 0.0


@given(start=st.floats(-1e6, 1e6), span=st.floats(1e-3, 1e6), share=st.floats(-2, 3))
def test_increase_and_decrease_are_mirror_images(start: float, span: float, share: float) -> None:
    # Moving the same distance toward the target scores the same whichever way the target lies.
    up = Measure(MeasureKind.INCREASE, start=start, target=start + span)
    down = Measure(MeasureKind.DECREASE, start=-start, target=-(start + span))
    value = start + share * span
    assert score_value(up, value) == score_value(down, -value)


def test_increase_without_start_or_target_is_refused() -> None:
    with pytest.raises(ValueError, match="`start`"):
        score_value(Measure(MeasureKind.INCREASE, target=5), 1)
    with pytest.raises(ValueError, match="`target`"):
        score_value(Measure(MeasureKind.DECREASE, start=5), 1)


def test_equal_start_and_target_is_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        score_value(Measure(MeasureKind.INCREASE, start=5, target=5), 5)


def test_no_value_gives_no_score_for_every_kind() -> None:
    for kind in MeasureKind:
        assert score_value(Measure(kind), None) is None


def test_nan_value_gives_no_score() -> None:
    assert score_value(INCREASE, math.nan) is None


# --- threshold ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [2, 3.5, 5])
def test_threshold_inside_the_band_including_its_bounds_scores_one(value: float) -> None:
    assert score_value(BAND, value) == 1.0


def test_threshold_above_the_band_scores_progress_from_start_toward_high() -> None:
    assert score_value(BAND, 7) == pytest.approx(0.6)  # (10 - 7) / (10 - 5)
    assert score_value(BAND, 10) == 0.0
    assert score_value(BAND, 12) == 0.0


def test_threshold_below_the_band_scores_progress_from_start_toward_low() -> None:
    measure = Measure(MeasureKind.THRESHOLD, low=60, high=80, start=20)
    assert score_value(measure, 50) == 0.75  # (50 - 20) / (60 - 20)
    assert score_value(measure, 10) == 0.0


def test_threshold_overshooting_to_the_far_side_scores_by_distance_not_full_marks() -> None:
    # Started 5 above the band [2, 5], ended 1 below it: outside, so not 1.0; 4/5 of the gap closed.
    assert score_value(BAND, 1) == pytest.approx(0.8)
    assert score_value(BAND, -10) == 0.0


def test_threshold_without_start_scores_zero_outside() -> None:
    measure = Measure(MeasureKind.THRESHOLD, low=2, high=5)
    assert score_value(measure, 4) == 1.0
    assert score_value(measure, 6) == 0.0
    assert score_value(measure, 1) == 0.0


def test_threshold_that_started_inside_and_left_scores_zero() -> None:
    measure = Measure(MeasureKind.THRESHOLD, low=2, high=5, start=3)
    assert score_value(measure, 5.5) == 0.0


def test_threshold_with_one_bound_is_open_on_the_other_side() -> None:
    at_least = Measure(MeasureKind.THRESHOLD, low=99.0, start=95.0)
    assert score_value(at_least, 1e9) == 1.0
    assert score_value(at_least, 97.0) == 0.5


def test_threshold_with_no_bounds_or_reversed_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="low"):
        score_value(Measure(MeasureKind.THRESHOLD, start=1), 1)
    with pytest.raises(ValueError, match="low <= high"):
        score_value(Measure(MeasureKind.THRESHOLD, low=5, high=2), 1)


# --- baseline and milestone -----------------------------------------------------------------------

def test_baseline_for_increase_is_met_at_or_above_it() -> None:
    measure = Measure(MeasureKind.BASELINE, baseline=95, better=Direction.INCREASE)
    assert score_value(measure, 95) == 1.0
    assert score_value(measure, 99) == 1.0
    assert score_value(measure, 94.9) == 0.0


def test_baseline_for_decrease_is_met_at_or_below_it() -> None:
    measure = Measure(MeasureKind.BASELINE, baseline=2, better=Direction.DECREASE)
    assert score_value(measure, 2) == 1.0
    assert score_value(measure, 1) == 1.0
    assert score_value(measure, 2.1) == 0.0


def test_baseline_without_a_baseline_is_refused() -> None:
    with pytest.raises(ValueError, match="`baseline`"):
        score_value(Measure(MeasureKind.BASELINE), 1)


def test_milestone_done_scores_one_and_not_done_zero() -> None:
    milestone = Measure(MeasureKind.MILESTONE)
    assert score_value(milestone, 1.0) == 1.0
    assert score_value(milestone, 0.0) == 0.0


def test_milestone_without_partial_credit_ignores_the_done_ratio() -> None:
    assert score_value(Measure(MeasureKind.MILESTONE), 0.0, done_ratio=0.6) == 0.0


def test_milestone_with_partial_credit_scores_the_done_ratio_until_done() -> None:
    milestone = Measure(MeasureKind.MILESTONE, partial_credit=True)
    assert score_value(milestone, 0.0, done_ratio=0.6) == 0.6
    assert score_value(milestone, 0.0) == 0.0
    assert score_value(milestone, 1.0, done_ratio=0.6) == 1.0
    assert score_value(milestone, 0.0, done_ratio=1.5) == 1.0


# --- properties -----------------------------------------------------------------------------------

@st.composite
def measures(draw: st.DrawFn) -> Measure:
    """Any well-formed measure with finite numbers."""
    kind = draw(st.sampled_from(MeasureKind))
    if kind in (MeasureKind.INCREASE, MeasureKind.DECREASE):
        start, target = draw(finite), draw(finite)
        assume(start != target)
        return Measure(kind, start=start, target=target)
    if kind is MeasureKind.THRESHOLD:
        low, high = sorted((draw(finite), draw(finite)))
        return Measure(kind, low=low, high=high, start=draw(st.none() | finite))
    if kind is MeasureKind.BASELINE:
        return Measure(kind, baseline=draw(finite), better=draw(st.sampled_from(Direction)))
    return Measure(kind, partial_credit=draw(st.booleans()))


@given(measure=measures(), value=finite, done_ratio=st.none() | st.floats(0, 1))
def test_score_is_always_within_zero_and_one(
        measure: Measure, value: float, done_ratio: float | None) -> None:
    score = score_value(measure, value, done_ratio=done_ratio)
    assert score is not None and 0.0 <= score <= 1.0


@given(start=finite, target=finite, a=finite, b=finite)
def test_increase_score_never_falls_as_the_value_rises(
        start: float, target: float, a: float, b: float) -> None:
    assume(start < target)
    measure = Measure(MeasureKind.INCREASE, start=start, target=target)
    low, high = sorted((a, b))
    assert score_value(measure, low) <= score_value(measure, high)  # type: ignore[operator]


@given(start=finite, target=finite, a=finite, b=finite)
def test_decrease_score_never_rises_as_the_value_rises(
        start: float, target: float, a: float, b: float) -> None:
    assume(start > target)
    measure = Measure(MeasureKind.DECREASE, start=start, target=target)
    low, high = sorted((a, b))
    assert score_value(measure, low) >= score_value(measure, high)  # type: ignore[operator]


# --- objective roll-up ----------------------------------------------------------------------------

def test_objective_score_with_equal_weights_is_the_mean() -> None:
    assert objective_score([(1.0, 0.5), (1.0, 0.5), (1.0, 0.0)]) == pytest.approx(1 / 3)


def test_objective_score_weights_are_normalised() -> None:
    assert objective_score([(2.0, 1.0), (2.0, 0.0)]) == objective_score([(0.5, 1.0), (0.5, 0.0)]) == 0.5


def test_objective_score_honours_unequal_weights() -> None:
    assert objective_score([(3.0, 1.0), (1.0, 0.0)]) == 0.75


def test_missing_kr_score_counts_as_zero_when_another_kr_has_one() -> None:
    assert objective_score([(1.0, 0.8), (1.0, None)]) == 0.4


def test_objective_score_is_none_when_no_kr_has_a_score() -> None:
    assert objective_score([(1.0, None), (2.0, None)]) is None
    assert objective_score([]) is None


def test_objective_score_of_krs_all_at_a_band_boundary_stays_on_it() -> None:
    # Rounding must not push three 0.7s to 0.6999999999999998 and drop the objective a band.
    score = objective_score([(1.0, 0.7), (1.0, 0.7), (1.0, 0.7)])
    assert score == 0.7
    assert Bands().status(score) is Status.ON_TRACK


def test_zero_total_weight_gives_no_objective_score() -> None:
    assert objective_score([(0.0, 1.0)]) is None


@pytest.mark.parametrize("weight", [-1.0, math.nan, math.inf])
def test_negative_or_non_finite_weights_are_refused(weight: float) -> None:
    with pytest.raises(ValueError, match="weight"):
        objective_score([(weight, 0.5)])


@given(st.lists(st.tuples(st.floats(0.01, 100), st.none() | st.floats(0, 1)), min_size=1, max_size=8))
def test_objective_score_lies_within_its_kr_scores(weighted: list[tuple[float, float | None]]) -> None:
    assume(any(s is not None for _, s in weighted))
    counted = [0.0 if s is None else s for _, s in weighted]
    score = objective_score(weighted)
    assert score is not None and min(counted) <= score <= max(counted)


# --- bands ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "status"), [
    (None, Status.NO_DATA), (0.0, Status.OFF_TRACK), (0.3999, Status.OFF_TRACK), (0.4, Status.AT_RISK),
    (0.6999, Status.AT_RISK), (0.7, Status.ON_TRACK), (1.0, Status.ON_TRACK),
])
def test_default_bands_boundaries(score: float | None, status: Status) -> None:
    assert Bands().status(score) is status


def test_custom_bands_move_the_boundaries() -> None:
    bands = Bands(off_track_below=0.3, at_risk_below=0.6)
    assert [bands.status(s) for s in (0.29, 0.3, 0.59, 0.6)] == [
        Status.OFF_TRACK, Status.AT_RISK, Status.AT_RISK, Status.ON_TRACK]


def test_bands_with_equal_boundaries_have_no_at_risk_band() -> None:
    bands = Bands(off_track_below=0.5, at_risk_below=0.5)
    assert (bands.status(0.49), bands.status(0.5)) == (Status.OFF_TRACK, Status.ON_TRACK)


@pytest.mark.parametrize(("off", "at"), [(0.8, 0.7), (-0.1, 0.5), (0.4, 1.1), (math.nan, 0.7)])
def test_bands_out_of_order_or_range_are_refused(off: float, at: float) -> None:
    with pytest.raises(ValueError, match="bands"):
        Bands(off_track_below=off, at_risk_below=at)


# --- pace -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "elapsed", "expected"), [
    (None, 0.5, Pace.NOT_STARTED),
    (0.9, 0.0, Pace.NOT_STARTED),
    (1.0, 0.3, Pace.DONE),
    (0.7, 0.5, Pace.AHEAD),
    (0.3, 0.5, Pace.BEHIND),
    (0.5, 0.5, Pace.ON_PACE),
    (0.6, 0.5, Pace.ON_PACE),
    (0.4, 0.5, Pace.ON_PACE),
    (0.95, 1.0, Pace.ON_PACE),
])
def test_pace_compares_score_with_elapsed_fraction(
        score: float | None, elapsed: float, expected: Pace) -> None:
    assert pace(score, elapsed) is expected


def test_pace_tolerance_widens_on_pace() -> None:
    assert pace(0.2, 0.5, tolerance=0.1) is Pace.BEHIND
    assert pace(0.2, 0.5, tolerance=0.35) is Pace.ON_PACE


def test_negative_pace_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        pace(0.5, 0.5, tolerance=-0.1)


# --- forecast -------------------------------------------------------------------------------------

def test_forecast_extends_a_straight_line() -> None:
    points = [(T0, 300.0), (T0 + timedelta(days=10), 320.0), (T0 + timedelta(days=20), 340.0)]
    assert forecast(points, T0 + timedelta(days=100)) == pytest.approx(500.0)


def test_forecast_fits_the_least_squares_line_through_noisy_points() -> None:
    # Fit of (0, 1), (1, 3), (2, 2): slope 0.5, intercept 1.5.
    points = [(T0 + timedelta(days=d), v) for d, v in [(0, 1.0), (1, 3.0), (2, 2.0)]]
    assert forecast(points, T0 + timedelta(days=4)) == pytest.approx(3.5)


def test_forecast_ignores_point_order_and_treats_naive_times_as_utc() -> None:
    points = [(datetime(2026, 1, 11), 20.0), (T0, 10.0)]
    assert forecast(points, T0 + timedelta(days=20)) == pytest.approx(30.0)


def test_forecast_needs_two_points_at_different_times() -> None:
    assert forecast([], T0) is None
    assert forecast([(T0, 1.0)], T0) is None
    assert forecast([(T0, 1.0), (T0, 2.0)], T0 + timedelta(days=1)) is None


# --- KPIs -----------------------------------------------------------------------------------------

CONVERSION = Kpi("web-conversion", "Web conversion", Direction.INCREASE, "%", baseline=2.0, target=2.5)
LATENCY = Kpi("latency", "p95 latency", Direction.DECREASE, "ms", baseline=800, target=400)


def test_kpi_score_is_progress_from_baseline_to_target() -> None:
    assert kpi_score(CONVERSION, 2.25) == 0.5
    assert kpi_score(CONVERSION, 3.0) == 1.0
    assert kpi_score(CONVERSION, 1.0) == 0.0
    assert kpi_score(LATENCY, 600) == 0.5
    assert kpi_score(LATENCY, 900) == 0.0


def test_kpi_status_worse_than_baseline_is_off_track() -> None:
    assert kpi_status(CONVERSION, 1.9) is Status.OFF_TRACK
    assert kpi_status(LATENCY, 801) is Status.OFF_TRACK


def test_kpi_status_between_baseline_and_target_is_at_risk() -> None:
    assert kpi_status(CONVERSION, 2.0) is Status.AT_RISK
    assert kpi_status(LATENCY, 500) is Status.AT_RISK


def test_kpi_status_at_or_beyond_target_is_on_track() -> None:
    assert kpi_status(CONVERSION, 2.5) is Status.ON_TRACK
    assert kpi_status(LATENCY, 300) is Status.ON_TRACK


def test_kpi_with_only_a_baseline_is_met_or_missed() -> None:
    uptime = Kpi("uptime", "Uptime", Direction.INCREASE, "%", baseline=99.5)
    assert (kpi_status(uptime, 99.5), kpi_score(uptime, 99.5)) == (Status.ON_TRACK, 1.0)
    assert (kpi_status(uptime, 99.4), kpi_score(uptime, 99.4)) == (Status.OFF_TRACK, 0.0)


def test_kpi_with_only_a_target_short_of_it_is_at_risk() -> None:
    nps = Kpi("nps", "NPS", Direction.INCREASE, target=40)
    assert (kpi_status(nps, 45), kpi_score(nps, 45)) == (Status.ON_TRACK, 1.0)
    assert (kpi_status(nps, 30), kpi_score(nps, 30)) == (Status.AT_RISK, 0.0)


def test_kpi_without_value_or_levels_has_no_data() -> None:
    assert (kpi_status(CONVERSION, None), kpi_score(CONVERSION, None)) == (Status.NO_DATA, None)
    bare = Kpi("bare", "Bare")
    assert (kpi_status(bare, 3.0), kpi_score(bare, 3.0)) == (Status.NO_DATA, None)


def test_forecast_of_values_near_the_float_limit_never_overflows() -> None:
    flat = [(T0, 1e308), (T0 + timedelta(days=30), 1e308)]
    assert forecast(flat, T0 + timedelta(days=300)) == pytest.approx(1e308)
    rising = [(T0, 1e307), (T0 + timedelta(days=10), 2e307)]
    assert forecast(rising, T0 + timedelta(days=20)) == pytest.approx(3e307)


def test_forecast_that_leaves_the_float_range_is_no_forecast() -> None:
    steep = [(T0, -1.7e308), (T0 + timedelta(days=1), 1.7e308)]
    assert forecast(steep, T0 + timedelta(days=30)) is None
    assert forecast([(T0, 1.0), (T0 + timedelta(days=1), math.inf)], T0) is None


_FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@given(_FINITE, _FINITE, _FINITE)
def test_a_share_is_the_fraction_ratio_rounded_once(value: float, start: float, goal: float) -> None:
    assume(start != goal)
    try:
        expected = float((Fraction(value) - Fraction(start)) / (Fraction(goal) - Fraction(start)))
    except OverflowError:  # beyond float's range (a goal a hair from its start): both refuse alike
        with pytest.raises(OverflowError):
            exact_share(value, start, goal)
        return
    assert exact_share(value, start, goal) == expected


@given(st.lists(st.tuples(st.floats(min_value=0, max_value=1e6),
                          st.one_of(st.none(), st.floats(min_value=0, max_value=1))), min_size=1, max_size=8))
def test_an_objective_score_is_the_fraction_weighted_mean_rounded_once(
        weighted: list[tuple[float, float | None]]) -> None:
    present = [(w, s) for w, s in weighted if s is not None]
    total = sum((Fraction(w) for w, _ in weighted), Fraction(0))
    expected = (None if not present or total == 0
                else float(sum((Fraction(w) * Fraction(s) for w, s in present), Fraction(0)) / total))
    assert objective_score(weighted) == expected
