"""The sync plan asks each distinct question once and turns answers into explained values."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import (
    Aggregate,
    Catalog,
    Initiatives,
    KeyResult,
    Kpi,
    Measure,
    MeasureKind,
    Objective,
    Source,
    SourceKind,
)
from okrbridge.explanation import JqlCount
from okrbridge.sync_plan import Answer, Question, evaluate, plan_sync

VISITS = "project = WEB AND issuetype = Visit"
CONVERTED = "project = WEB AND issuetype = Visit AND labels = converted"
INCREASE = Measure(MeasureKind.INCREASE, start=0, target=10)


def _catalog() -> Catalog:
    """Two KRs and a KPI that share the VISITS JQL, one manual KR, one KPI-sourced KR."""
    krs = (
        KeyResult("K1", "Conversion", INCREASE, "O1",
                  source=Source(SourceKind.JQL_RATIO, numerator=CONVERTED, denominator=VISITS),
                  initiatives=Initiatives(jql="issuetype = Epic AND labels = kr-K1")),
        KeyResult("K2", "Visits", INCREASE, "O1", source=Source(SourceKind.JQL_COUNT, jql=VISITS)),
        KeyResult("K3", "Manual", INCREASE, "O1"),
        KeyResult("K4", "Via KPI", INCREASE, "O1", source=Source(SourceKind.KPI, kpi="P1")),
        KeyResult("K5", "Checkout", Measure(MeasureKind.MILESTONE, partial_credit=True), "O1",
                  source=Source(SourceKind.MILESTONE, issue="ENG-1")),
    )
    kpis = (Kpi("P1", "Visits KPI", source=Source(SourceKind.JQL_COUNT, jql=VISITS)),)
    return Catalog(objectives=(Objective("O1", "Grow", "2026", key_results=krs),), kpis=kpis)


def test_identical_jql_is_asked_once_across_krs_and_kpis() -> None:
    plan = plan_sync(_catalog())
    counts = [q for q in plan.questions if q.kind == "count"]
    assert sorted(q.jql for q in counts) == sorted([CONVERTED, VISITS])


def test_manual_krs_without_initiatives_are_skipped() -> None:
    plan = plan_sync(_catalog())
    assert plan.skipped == {"K3": "manual: values come from check-ins"}
    assert "K3" not in {s.subject_id for s in plan.subjects}


def test_initiatives_and_partial_credit_progress_are_planned() -> None:
    plan = plan_sync(_catalog())
    assert Question("epics", jql="issuetype = Epic AND labels = kr-K1") in plan.epic_questions
    assert Question("epic_progress", keys=("ENG-1",)) in plan.questions


def test_only_restricts_the_plan_to_named_subjects() -> None:
    plan = plan_sync(_catalog(), only=frozenset({"K2"}))
    assert [s.subject_id for s in plan.subjects] == ["K2"]
    assert plan.questions == (Question("count", jql=VISITS),)


def test_ratio_value_is_a_percentage_with_both_jqls_in_the_detail() -> None:
    plan = next(s for s in plan_sync(_catalog()).subjects if s.subject_id == "K1")
    answers = {Question("count", jql=CONVERTED): Answer(23), Question("count", jql=VISITS): Answer(1000)}
    outcome = evaluate(plan, answers, base_detail={"deployment": "cloud"})
    assert outcome.value == 2.3
    assert outcome.explanation.numerator == JqlCount(CONVERTED, 23)
    assert outcome.explanation.denominator == JqlCount(VISITS, 1000)
    assert outcome.explanation.deployment == "cloud"


def test_a_failed_question_fails_only_with_jiras_message() -> None:
    plan = next(s for s in plan_sync(_catalog()).subjects if s.subject_id == "K1")
    answers = {Question("count", jql=CONVERTED): Answer(error="Field 'labelz' does not exist"),
               Question("count", jql=VISITS): Answer(1000)}
    outcome = evaluate(plan, answers)
    assert not outcome.ok
    assert "Field 'labelz' does not exist" in (outcome.error or "")
    assert CONVERTED in (outcome.error or "")


def test_a_zero_denominator_means_no_value_yet_not_a_failure() -> None:
    plan = next(s for s in plan_sync(_catalog()).subjects if s.subject_id == "K1")
    answers = {Question("count", jql=CONVERTED): Answer(0), Question("count", jql=VISITS): Answer(0)}
    outcome = evaluate(plan, answers)
    assert outcome.ok and outcome.value is None
    assert outcome.no_value and VISITS in outcome.no_value


@pytest.mark.parametrize(("agg", "value", "no_value"), [("sum", 0.0, None), ("avg", None, "no issue")])
def test_a_sum_over_no_issue_is_zero_and_an_average_has_no_value(agg: str, value: float | None,
                                                                 no_value: str | None) -> None:
    source = Source(SourceKind.JQL_SUM, jql=VISITS, field="customfield_10016", agg=Aggregate(agg))
    kr = KeyResult("K9", "Points", INCREASE, "O1", source=source)
    catalog = Catalog(objectives=(Objective("O1", "Grow", "2026", key_results=(kr,)),))
    [plan] = plan_sync(catalog).subjects
    answers = {plan.questions[0]: Answer({"value": None, "count": 0, "with_value": 0})}
    outcome = evaluate(plan, answers)
    assert outcome.value == value
    assert (outcome.no_value or "").startswith(no_value or "")
    assert bool(outcome.no_value) == bool(no_value)


@pytest.mark.parametrize(("at", "reason"), [
    (datetime(2025, 12, 31, 23, tzinfo=UTC), "cycle 2026 has not started"),
    (datetime(2027, 1, 1, tzinfo=UTC), "cycle 2026 is over"),
])
def test_krs_outside_their_objectives_cycle_are_not_synced(at: datetime, reason: str) -> None:
    plan = plan_sync(_catalog(), at=at)
    assert [s.subject_id for s in plan.subjects] == ["P1"]  # KPIs are ongoing
    assert plan.skipped["K2"] == reason


def test_the_catalogs_fiscal_year_naming_decides_whether_a_cycle_is_open() -> None:
    # FY2026 named by its start, starting in July, runs July 2026 to June 2027: in June 2026 it has
    # not started yet (named by its end it would be in its last month).
    catalog = dataclasses.replace(_catalog(), calendar=FiscalCalendar(7, "start"))
    plan = plan_sync(catalog, at=datetime(2026, 6, 1, tzinfo=UTC))
    assert plan.skipped["K2"] == "cycle 2026 has not started"


def test_krs_inside_their_cycle_are_synced() -> None:
    plan = plan_sync(_catalog(), at=datetime(2026, 6, 1, tzinfo=UTC))
    assert {"K1", "K2", "K4", "K5"} <= {s.subject_id for s in plan.subjects}


def test_kpi_sourced_kr_reuses_the_kpis_value_and_explains_it() -> None:
    plans = {s.subject_id: s for s in plan_sync(_catalog()).subjects}
    answers = {Question("count", jql=VISITS): Answer(640)}
    kpi = evaluate(plans["P1"], answers)
    kr = evaluate(plans["K4"], answers, kpi_values={"P1": kpi})
    assert kr.value == 640.0
    assert kr.explanation.kpi_explanation is not None and kr.explanation.kpi_explanation.jql == VISITS
    assert kr.explanation.describe() == f"from KPI P1: count 640: [{VISITS}]"


def test_milestone_with_partial_credit_carries_the_done_ratio() -> None:
    plan = next(s for s in plan_sync(_catalog()).subjects if s.subject_id == "K5")
    answers = {
        Question("issue", keys=("ENG-1",)): Answer(
            {"key": "ENG-1", "status": "In Progress", "status_category": "indeterminate", "done": False}),
        Question("epic_progress", keys=("ENG-1",)): Answer({"done": 3, "total": 12}),
    }
    outcome = evaluate(plan, answers)
    assert outcome.value == 0.0
    assert outcome.done_ratio == 0.25


def test_a_label_finds_epics_carrying_it_and_is_quoted_for_jql() -> None:
    kr = KeyResult("K1.1", "Grow", INCREASE, "O1",
                   initiatives=Initiatives(label="kr-K1.1", jql="project = WEB AND issuetype = Epic"))
    catalog = Catalog(objectives=(Objective("O1", "Grow", "2026", key_results=(kr,)),))
    [question] = plan_sync(catalog).epic_questions
    assert question.jql == '(project = WEB AND issuetype = Epic) OR (issuetype = Epic AND labels = "kr-K1.1")'
