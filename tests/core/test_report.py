"""Grading a catalog for a year, a quarter and a month from stored readings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from okrbridge.cycles import FiscalCalendar, Period, PeriodKind
from okrbridge.domain import (
    Catalog,
    Direction,
    KeyResult,
    Kpi,
    Level,
    Measure,
    MeasureKind,
    Objective,
    Pace,
    Reading,
    Status,
)
from okrbridge.explanation import Explanation
from okrbridge.grading import Bands
from okrbridge.report import GradeMemo, KrGrade, ObjectiveGrade, PeriodReport, grade_period

CALENDAR = FiscalCalendar()
YEAR, Q1, Q2 = CALENDAR.parse("2026"), CALENDAR.parse("2026-Q1"), CALENDAR.parse("2026-Q2")
FEBRUARY, MARCH = CALENDAR.parse("2026-02"), CALENDAR.parse("2026-03")
NOW = datetime(2026, 6, 15, tzinfo=UTC)


def _kr(kr_id: str, title: str, kind: MeasureKind, start: float, target: float, unit: str) -> KeyResult:
    """A key result of objective CO-1 with an increase/decrease measure."""
    return KeyResult(kr_id, title, Measure(kind, start=start, target=target), objective_id="CO-1",
                     owner="bob", unit=unit)


SALES = Objective(
    "CO-1", "Increase sales revenue", "2026", Level.COMPANY, team="leadership", owner="alice",
    key_results=(
        _kr("CO-1.1", "Average subscription value from $300 to $500", MeasureKind.INCREASE, 300, 500, "$"),
        _kr("CO-1.2", "Churn from 20% to 15%", MeasureKind.DECREASE, 20, 15, "%"),
        _kr("CO-1.3", "Days to sale from 20 to 17", MeasureKind.DECREASE, 20, 17, "days"),
    ))
CONVERSION = Kpi("web-conversion", "Web conversion rate", Direction.INCREASE, "%", baseline=2.0, target=2.5)
CATALOG = Catalog(objectives=(SALES,), kpis=(CONVERSION,))


def _at(month: int, day: int) -> datetime:
    """An instant in 2026 (UTC noon)."""
    return datetime(2026, month, day, 12, tzinfo=UTC)


def _readings(by_id: dict[str, list[tuple[datetime, float | None]]]) -> dict[str, list[Reading]]:
    """Readings keyed by subject id, each explained by its (made-up) query and time."""
    return {
        subject: [Reading(subject, t, v, Explanation("jql_count", jql=f"q {subject}",
                                                     queried_at=t.isoformat())) for t, v in points]
        for subject, points in by_id.items()
    }


# Deliberately unsorted; one naive timestamp (UTC); one reading past NOW that must never count.
READINGS = _readings({
    "CO-1.1": [(_at(5, 10), 450.0), (_at(2, 15), 350.0), (datetime(2026, 3, 20, 9), 400.0),
               (_at(8, 1), 500.0)],
    "CO-1.2": [(_at(3, 1), 17.5)],
    "CO-1.3": [(_at(3, 5), 20.0)],
    "web-conversion": [(_at(1, 20), 1.8), (_at(4, 2), 2.25)],
})


def _kr_grade(report: PeriodReport, kr_id: str) -> KrGrade:
    """The grade of one KR in a report."""
    return next(kr for o in report.objectives for kr in o.krs if kr.id == kr_id)


def _objective(report: PeriodReport, objective_id: str) -> ObjectiveGrade:
    """The grade of one objective in a report."""
    return next(o for o in report.objectives if o.id == objective_id)


# --- the known examples, as of the end of Q1 ------------------------------------------------------

def test_subscription_value_300_to_500_at_400_scores_one_half() -> None:
    kr = _kr_grade(grade_period(CATALOG, READINGS, Q1, now=NOW), "CO-1.1")
    assert (kr.value, kr.score, kr.status) == (400.0, 0.5, Status.AT_RISK)


def test_churn_20_to_15_at_17_5_scores_one_half() -> None:
    kr = _kr_grade(grade_period(CATALOG, READINGS, Q1, now=NOW), "CO-1.2")
    assert (kr.value, kr.score, kr.status) == (17.5, 0.5, Status.AT_RISK)


def test_days_to_sale_20_to_17_at_20_scores_zero() -> None:
    kr = _kr_grade(grade_period(CATALOG, READINGS, Q1, now=NOW), "CO-1.3")
    assert (kr.value, kr.score, kr.status) == (20.0, 0.0, Status.OFF_TRACK)


def test_quarter_objective_score_is_the_mean_of_its_krs() -> None:
    objective = _objective(grade_period(CATALOG, READINGS, Q1, now=NOW), "CO-1")
    assert objective.score == pytest.approx(1 / 3)
    assert objective.status is Status.OFF_TRACK
    assert (objective.cycle, objective.level, objective.team, objective.owner) == (
        "2026", Level.COMPANY, "leadership", "alice")


# --- the same yearly objective graded at the end of different periods -----------------------------

def test_readings_after_the_period_end_are_ignored() -> None:
    kr = _kr_grade(grade_period(CATALOG, READINGS, Q1, now=NOW), "CO-1.1")
    # The 450 of 10 May lies after Q1 ends: the grade stays at the 400 of 20 March.
    assert kr.as_of == datetime(2026, 3, 20, 9, tzinfo=UTC)
    assert kr.explanation is not None and kr.explanation.jql == "q CO-1.1"


def test_month_grade_uses_the_last_reading_inside_the_month() -> None:
    report = grade_period(CATALOG, READINGS, FEBRUARY, now=NOW)
    assert (_kr_grade(report, "CO-1.1").value, _kr_grade(report, "CO-1.1").score) == (350.0, 0.25)


def test_kr_without_a_reading_before_the_cut_off_has_no_data() -> None:
    report = grade_period(CATALOG, READINGS, FEBRUARY, now=NOW)
    churn = _kr_grade(report, "CO-1.2")
    assert (churn.value, churn.score, churn.status, churn.as_of, churn.pace) == (
        None, None, Status.NO_DATA, None, Pace.NOT_STARTED)


def test_missing_kr_scores_count_as_zero_in_the_objective() -> None:
    objective = _objective(grade_period(CATALOG, READINGS, FEBRUARY, now=NOW), "CO-1")
    assert objective.score == pytest.approx(0.25 / 3)


def test_objective_without_any_reading_has_no_data() -> None:
    objective = _objective(grade_period(CATALOG, {}, Q1, now=NOW), "CO-1")
    assert (objective.score, objective.status, objective.pace) == (None, Status.NO_DATA, Pace.NOT_STARTED)
    assert all(kr.status is Status.NO_DATA for kr in objective.krs)


def test_year_grade_is_cut_off_at_now_and_ignores_readings_from_the_future() -> None:
    report = grade_period(CATALOG, READINGS, YEAR, now=NOW)
    assert report.as_of == NOW
    kr = _kr_grade(report, "CO-1.1")
    assert (kr.value, kr.score) == (450.0, 0.75)


def test_year_grade_after_the_year_uses_the_last_reading_of_the_year() -> None:
    report = grade_period(CATALOG, READINGS, YEAR, now=datetime(2027, 2, 1, tzinfo=UTC))
    assert report.as_of == YEAR.ends_at
    assert _kr_grade(report, "CO-1.1").score == 1.0


def test_naive_now_is_treated_as_utc() -> None:
    report = grade_period(CATALOG, READINGS, YEAR, now=datetime(2026, 6, 15))
    assert report.as_of == NOW


def test_the_latest_of_unsorted_readings_wins() -> None:
    shuffled = {"CO-1.1": list(reversed(READINGS["CO-1.1"]))}
    assert _kr_grade(grade_period(CATALOG, shuffled, Q2, now=NOW), "CO-1.1").value == 450.0


def test_a_reading_without_a_value_does_not_hide_the_last_good_one() -> None:
    readings = _readings({"CO-1.1": [(_at(2, 1), 400.0), (_at(3, 1), None)]})
    assert _kr_grade(grade_period(CATALOG, readings, Q1, now=NOW), "CO-1.1").value == 400.0


def test_readings_from_before_the_objective_cycle_do_not_grade_it() -> None:
    # KR ids are reused across cycles; last year's value must not grade this year's KR.
    readings = _readings({"CO-1.1": [(datetime(2025, 12, 20, tzinfo=UTC), 480.0)]})
    assert _kr_grade(grade_period(CATALOG, readings, Q1, now=NOW), "CO-1.1").status is Status.NO_DATA


# --- which objectives a period includes -----------------------------------------------------------

def _with_quarterly_objectives() -> Catalog:
    """CATALOG plus a 2026-Q1 objective and a 2025 objective that reuse the KR id CO-2.1."""
    def objective(cycle: str, objective_id: str) -> Objective:
        kr = KeyResult("CO-2.1", "Ship the new checkout", Measure(MeasureKind.INCREASE, start=0, target=10),
                       objective_id=objective_id)
        return Objective(objective_id, f"Objective of {cycle}", cycle, parent="CO-1", key_results=(kr,))
    return Catalog(objectives=(SALES, objective("2026-Q1", "CO-2"), objective("2025", "OLD-1")),
                   kpis=(CONVERSION,))


@pytest.mark.parametrize(("period", "expected"), [
    (YEAR, ["CO-1", "CO-2"]), (Q1, ["CO-1", "CO-2"]), (FEBRUARY, ["CO-1", "CO-2"]), (Q2, ["CO-1"]),
])
def test_a_period_includes_every_objective_whose_cycle_overlaps_it(
        period: Period, expected: list[str]) -> None:
    report = grade_period(_with_quarterly_objectives(), {}, period, now=NOW)
    assert [o.id for o in report.objectives] == expected


def test_a_quarterly_objective_in_a_year_report_is_graded_at_its_own_cycle_end() -> None:
    readings = _readings({"CO-2.1": [(_at(3, 1), 5.0), (_at(5, 1), 10.0)]})
    objective = _objective(grade_period(_with_quarterly_objectives(), readings, YEAR, now=NOW), "CO-2")
    assert (objective.score, objective.krs[0].value, objective.parent) == (0.5, 5.0, "CO-1")


def test_the_catalog_calendar_decides_which_objectives_a_period_holds() -> None:
    july = Catalog(objectives=(SALES,), calendar=FiscalCalendar(7))  # FY2026 is July 2025 to June 2026
    q1 = july.calendar.parse("2026-Q1")
    assert [o.id for o in grade_period(july, {}, q1, now=NOW).objectives] == ["CO-1"]
    assert grade_period(july, {}, FiscalCalendar.month(2026, 7), now=NOW).objectives == ()


def test_a_fiscal_year_named_by_its_start_is_honoured_by_grading() -> None:
    # FY2026 named by its start runs July 2026 to June 2027, so July 2026 holds the 2026 objective.
    start_named = Catalog(objectives=(SALES,), calendar=FiscalCalendar(7, "start"))
    assert [o.id for o in grade_period(start_named, {}, FiscalCalendar.month(2026, 7), now=NOW).objectives] \
        == ["CO-1"]


# --- pace and forecast ----------------------------------------------------------------------------

def test_pace_uses_the_elapsed_share_of_the_objective_cycle_at_the_period_end() -> None:
    report = grade_period(CATALOG, READINGS, Q1, now=NOW)
    # At the end of Q1, 90/365 (~0.25) of the year has passed.
    assert _kr_grade(report, "CO-1.1").pace is Pace.AHEAD      # 0.5
    assert _kr_grade(report, "CO-1.3").pace is Pace.BEHIND     # 0.0
    assert _objective(report, "CO-1").pace is Pace.ON_PACE     # 1/3


def test_the_pace_tolerance_decides_how_far_from_the_elapsed_share_is_still_on_pace() -> None:
    # End of Q1: 90/365 (~0.247) of the year has passed; CO-1 scores 1/3 (~0.086 ahead of it) and
    # CO-1.1 scores 0.5 (~0.253 ahead).
    tight = grade_period(CATALOG, READINGS, Q1, now=NOW, pace_tolerance=0.05)
    loose = grade_period(CATALOG, READINGS, Q1, now=NOW, pace_tolerance=0.3)
    assert (_objective(tight, "CO-1").pace, _kr_grade(tight, "CO-1.1").pace) == (Pace.AHEAD, Pace.AHEAD)
    assert (_objective(loose, "CO-1").pace, _kr_grade(loose, "CO-1.1").pace) == (Pace.ON_PACE, Pace.ON_PACE)


def test_pace_mid_period_uses_now_not_the_period_end() -> None:
    early = datetime(2026, 1, 25, tzinfo=UTC)
    readings = _readings({"CO-1.1": [(_at(1, 20), 320.0)]})  # 0.1 after 24/365 of the year
    assert _kr_grade(grade_period(CATALOG, readings, YEAR, now=early), "CO-1.1").pace is Pace.ON_PACE
    assert _kr_grade(grade_period(CATALOG, readings, YEAR, now=NOW), "CO-1.1").pace is Pace.BEHIND


def test_forecast_extends_the_trend_to_the_end_of_the_objective_cycle() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # +10 every 36.5 days, all inside Q1, reaches +100 by the year's end (365 days): 300 -> 400.
    readings = _readings({"CO-1.1": [(start, 300.0), (start + timedelta(days=36.5), 310.0),
                                     (start + timedelta(days=73), 320.0)]})
    kr = _kr_grade(grade_period(CATALOG, readings, Q1, now=NOW), "CO-1.1")
    assert kr.forecast == pytest.approx(400.0)
    assert kr.forecast_score == pytest.approx(0.5)


def test_forecast_uses_only_readings_up_to_the_cut_off() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # The June reading would bend the line sharply upward were it not after the end of Q1.
    readings = _readings({"CO-1.1": [(start, 300.0), (start + timedelta(days=73), 320.0),
                                     (_at(6, 1), 2000.0)]})
    assert _kr_grade(grade_period(CATALOG, readings, Q1, now=NOW), "CO-1.1").forecast == pytest.approx(400.0)


def test_a_single_reading_gives_no_forecast() -> None:
    kr = _kr_grade(grade_period(CATALOG, READINGS, Q1, now=NOW), "CO-1.2")
    assert (kr.forecast, kr.forecast_score) == (None, None)


def test_partial_credit_milestone_scores_the_epic_done_ratio_from_the_reading_detail() -> None:
    kr = KeyResult("M-1", "Launch", Measure(MeasureKind.MILESTONE, partial_credit=True), weight=2.0)
    catalog = Catalog(objectives=(Objective("M", "Launch", "2026-Q1", key_results=(kr,)),))
    detail = Explanation("milestone", issue="WEB-1", children_done=3, children_total=4)
    readings = {"M-1": [Reading("M-1", _at(2, 1), 0.0, detail), Reading("M-1", _at(2, 2), 0.0, detail)]}
    grade = grade_period(catalog, readings, Q1, now=NOW).objectives[0].krs[0]
    assert (grade.score, grade.weight, grade.measure) == (0.75, 2.0, MeasureKind.MILESTONE)
    assert grade.forecast is None


# --- KPIs, bands and JSON -------------------------------------------------------------------------

def test_kpis_are_graded_by_their_latest_reading_before_the_cut_off() -> None:
    (in_q1,) = grade_period(CATALOG, READINGS, Q1, now=NOW).kpis
    (in_q2,) = grade_period(CATALOG, READINGS, Q2, now=NOW).kpis
    assert (in_q1.value, in_q1.score, in_q1.status) == (1.8, 0.0, Status.OFF_TRACK)
    assert (in_q2.value, in_q2.score, in_q2.status) == (2.25, 0.5, Status.AT_RISK)
    assert (in_q2.id, in_q2.name, in_q2.unit, in_q2.as_of) == (
        "web-conversion", "Web conversion rate", "%", _at(4, 2))


def test_kpi_without_readings_has_no_data() -> None:
    (kpi,) = grade_period(CATALOG, {}, Q1, now=NOW).kpis
    assert (kpi.value, kpi.score, kpi.status, kpi.as_of) == (None, None, Status.NO_DATA, None)


def test_custom_bands_change_the_status() -> None:
    report = grade_period(CATALOG, READINGS, Q1, now=NOW, bands=Bands(0.2, 0.5))
    assert _kr_grade(report, "CO-1.1").status is Status.ON_TRACK
    assert _objective(report, "CO-1").status is Status.AT_RISK


def test_report_carries_the_period_and_its_kr_fields() -> None:
    report = grade_period(CATALOG, READINGS, MARCH, now=NOW)
    assert (report.period, report.kind, report.start, report.end, report.as_of) == (
        "2026-03", PeriodKind.MONTH, date(2026, 3, 1), date(2026, 4, 1), MARCH.ends_at)
    kr = _kr_grade(report, "CO-1.3")
    assert (kr.title, kr.owner, kr.unit, kr.measure, kr.weight) == (
        "Days to sale from 20 to 17", "bob", "days", MeasureKind.DECREASE, 1.0)


def test_to_dict_is_plain_json_with_iso_dates_and_enum_values() -> None:
    summer = datetime(2026, 6, 15, 14, tzinfo=timezone(timedelta(hours=2)))
    report = grade_period(CATALOG, READINGS, Q1, now=summer)
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert (data["period"], data["kind"], data["start"], data["end"], data["as_of"]) == (
        "2026-Q1", "quarter", "2026-01-01", "2026-04-01", "2026-04-01T00:00:00+00:00")
    objective = data["objectives"][0]
    assert (objective["id"], objective["level"], objective["status"], objective["pace"]) == (
        "CO-1", "company", "off track", "on pace")
    kr = objective["krs"][0]
    assert (kr["id"], kr["measure"], kr["score"], kr["as_of"]) == (
        "CO-1.1", "increase", 0.5, "2026-03-20T09:00:00+00:00")
    assert kr["explanation"] == {"source": "jql_count", "jql": "q CO-1.1",
                                 "queried_at": "2026-03-20T09:00:00"}
    assert data["kpis"][0]["status"] == "off track"


def test_the_written_out_json_form_of_a_report_is_the_generic_one_field_by_field() -> None:
    from okrbridge.report import _plain, _plain_generic

    for period in (YEAR, Q1, Q2, MARCH):
        report = grade_period(CATALOG, READINGS, period, now=NOW)
        assert any(kr.explanation is not None for o in report.objectives for kr in o.krs)
        assert _plain(report.objectives) == _plain_generic(report.objectives)
        assert _plain(report.kpis) == _plain_generic(report.kpis)


@pytest.mark.parametrize("now", [NOW, datetime(2026, 3, 20, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)])
def test_nested_reports_sharing_a_memo_are_the_reports_graded_one_by_one(now: datetime) -> None:
    quarterly = Objective("CO-2", "Ship the portal", "2026-Q2", Level.COMPANY, team="leadership",
                          key_results=(_kr("CO-2.1", "Signups", MeasureKind.INCREASE, 0, 100, "signups"),))
    catalog = Catalog(objectives=(SALES, quarterly), kpis=(CONVERSION,))
    readings = _readings({"CO-1.1": [(_at(m, 10), 300.0 + 20 * m) for m in range(1, 13)],
                          "CO-1.2": [(_at(2, 1), 19.0), (_at(5, 1), 18.0), (_at(11, 1), 16.0)],
                          "CO-2.1": [(_at(4, 2), 10.0), (_at(6, 20), 80.0)],
                          "web-conversion": [(_at(1, 5), 2.1), (_at(7, 5), 2.3)]})
    periods = CALENDAR.nested(YEAR)
    memo: GradeMemo = {}
    shared = [grade_period(catalog, readings, period, now=now, memo=memo) for period in periods]
    assert shared == [grade_period(catalog, readings, period, now=now) for period in periods]
    # a quarter's grade of the yearly objective is its last month's, worked out once
    by_label = {report.period: report for report in shared}
    assert by_label["2026-Q1"].objectives[0] is by_label["2026-03"].objectives[0]
    assert len(memo) < sum(len(report.objectives) for report in shared)
