"""Text renderings never hide or distort a number."""

from __future__ import annotations

from datetime import UTC, datetime

from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import Catalog, KeyResult, Measure, MeasureKind, Objective, Reading
from okrbridge.explanation import Explanation, JqlCount
from okrbridge.report import grade_period
from okrbridge.textout import report_text

TITLE = "Increase average subscription value from $300 to $500 across every region we sell in"


def test_report_text_keeps_long_titles_whole() -> None:
    kr = KeyResult("CO-1.2", TITLE, Measure(MeasureKind.INCREASE, start=300, target=500), "CO-1", unit="$")
    catalog = Catalog(objectives=(Objective("CO-1", "Grow", "2026", key_results=(kr,)),))
    readings = {"CO-1.2": [Reading("CO-1.2", datetime(2026, 3, 1, tzinfo=UTC), 400.0)]}
    period = FiscalCalendar().parse("2026-Q1")
    text = report_text(grade_period(catalog, readings, period, now=datetime(2026, 4, 2, tzinfo=UTC)))
    assert TITLE in text
    assert "$400" in text and "0.50" in text and "as of 2026-03-01" in text


def test_a_kr_row_says_how_its_value_was_obtained_and_when() -> None:
    measure = Measure(MeasureKind.INCREASE, start=0, target=10)
    kr = KeyResult("CO-1.2", "Conversion", measure, "CO-1", unit="%")
    catalog = Catalog(objectives=(Objective("CO-1", "Grow", "2026", key_results=(kr,)),))
    ratio = Explanation("jql_ratio", numerator=JqlCount("a = 1", 3), denominator=JqlCount("b = 2", 1200))
    readings = {"CO-1.2": [Reading("CO-1.2", datetime(2026, 3, 1, tzinfo=UTC), 0.25, ratio)]}
    period = FiscalCalendar().parse("2026-Q1")
    text = report_text(grade_period(catalog, readings, period, now=datetime(2026, 4, 2, tzinfo=UTC)))
    assert "as of 2026-03-01: 3 / 1,200: [a = 1] / [b = 2]" in text
