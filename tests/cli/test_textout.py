"""Text renderings never hide or distort a number."""

from __future__ import annotations

from datetime import UTC, datetime

from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import Catalog, KeyResult, Measure, MeasureKind, Objective, Reading
from okrbridge.report import grade_period
from okrbridge.textout import explain, report_text

TITLE = "Increase average subscription value from $300 to $500 across every region we sell in"


def test_report_text_keeps_long_titles_whole() -> None:
    kr = KeyResult("CO-1.2", TITLE, Measure(MeasureKind.INCREASE, start=300, target=500), "CO-1", unit="$")
    catalog = Catalog(objectives=(Objective("CO-1", "Grow", "2026", key_results=(kr,)),))
    readings = {"CO-1.2": [Reading("CO-1.2", datetime(2026, 3, 1, tzinfo=UTC), 400.0)]}
    period = FiscalCalendar().parse("2026-Q1")
    text = report_text(grade_period(catalog, readings, period, now=datetime(2026, 4, 2, tzinfo=UTC)))
    assert TITLE in text
    assert "$400" in text and "0.50" in text and "as of 2026-03-01" in text


def test_explain_names_the_jql_and_counts_of_a_ratio() -> None:
    detail = {"source": "jql_ratio", "numerator": {"jql": "a = 1", "count": 3},
              "denominator": {"jql": "b = 2", "count": 12}}
    assert explain(detail) == "3 / 12: [a = 1] / [b = 2]"
