"""What explains a value has one typed shape, round-trips through JSON, and decodes old rows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from okrbridge.explanation import Explanation, JqlCount

RATIO = Explanation("jql_ratio", numerator=JqlCount("labels = converted", 23),
                    denominator=JqlCount("type = Visit", 1000), deployment="cloud",
                    jira="https://example.atlassian.net", queried_at="2026-05-03T18:00:00+00:00")
SUM = Explanation("jql_sum", jql="project = ENG", field="customfield_10016", agg="sum", issues=12,
                  with_value=9)
MILESTONE = Explanation("milestone", issue="ENG-1", status="In Progress", status_category="indeterminate",
                        children_done=3, children_total=12)
VIA_KPI = Explanation("kpi", kpi="web-conversion", kpi_explanation=RATIO)
CHECKIN = Explanation("manual", note="March invoices", author="carol")


@pytest.mark.parametrize("explanation", [RATIO, SUM, MILESTONE, VIA_KPI, CHECKIN, Explanation()])
def test_every_shape_survives_the_json_column(explanation: Explanation) -> None:
    stored = json.loads(json.dumps(explanation.to_dict()))
    assert Explanation.from_dict(stored) == explanation


def test_the_json_form_leaves_unset_fields_out() -> None:
    assert SUM.to_dict() == {"source": "jql_sum", "jql": "project = ENG", "field": "customfield_10016",
                             "agg": "sum", "issues": 12, "with_value": 9}


def test_a_row_stored_before_the_type_existed_decodes_and_keeps_what_it_does_not_know() -> None:
    old = {"source": "kpi", "kpi": "P1",
           "kpi_detail": {"jql": "type = Visit", "count": 640, "snapshot_id": 7},
           "legacy_key": [1, 2], "count": "not a number"}
    decoded = Explanation.from_dict(old)
    assert decoded.kpi_explanation == Explanation("manual", jql="type = Visit", count=640, snapshot_id=7)
    assert decoded.count is None  # a value of the wrong type is not trusted...
    assert decoded.extra == {"legacy_key": [1, 2], "count": "not a number"}  # ...nor lost
    assert decoded.to_dict()["legacy_key"] == [1, 2]


def test_the_done_ratio_comes_from_the_epics_children_or_an_old_rows_ratio() -> None:
    assert MILESTONE.done_ratio == 0.25
    assert Explanation.from_dict({"issue": "ENG-1", "done_ratio": 0.4}).done_ratio == 0.4
    assert Explanation("milestone", issue="ENG-1", children_done=0, children_total=0).done_ratio is None


@pytest.mark.parametrize(("explanation", "line"), [
    (RATIO, "23 / 1,000: [labels = converted] / [type = Visit]"),
    (SUM, "sum of customfield_10016 over 12 issues: [project = ENG]"),
    (Explanation("jql_count", jql="project = WEB", count=17), "count 17: [project = WEB]"),
    (MILESTONE, "ENG-1 is In Progress (3/12 children done)"),
    (VIA_KPI, "from KPI web-conversion: 23 / 1,000: [labels = converted] / [type = Visit]"),
    (CHECKIN, 'check-in "March invoices" by carol'),
    (Explanation(), "check-in"),
])
def test_describe_says_which_jql_and_what_it_counted(explanation: Explanation, line: str) -> None:
    assert explanation.describe() == line


def test_describe_adds_the_day_when_given_one() -> None:
    at = datetime(2026, 5, 3, 18, tzinfo=UTC)
    assert CHECKIN.describe(as_of=at) == 'check-in "March invoices" by carol, as of 2026-05-03'


@pytest.mark.parametrize("stored", [
    {},
    {"source": "jql_count", "jql": "project = WEB", "count": 17, "queried_at": "2026-03-01T00:00:00+00:00"},
    {"numerator": {"jql": "a", "count": 1}, "denominator": {"jql": "b", "count": 4}, "source": "jql_ratio",
     "deployment": "cloud", "jira": "https://x.atlassian.net", "mystery": [1, 2]},
    {"kpi": "web-conversion", "kpi_detail": {"jql": "c", "count": 3}, "source_kind": "kpi", "count": "NaN"},
    {"issue": "WEB-1", "status": "Done", "children_done": 2, "children_total": 3, "done_ratio": 0.5},
])
def test_an_explanation_read_from_json_is_the_one_its_constructor_makes(stored: dict[str, Any]) -> None:
    decoded = Explanation.from_dict(stored, {"note": "by hand", "author": "carol"})
    built = dataclasses.replace(decoded)  # through the generated __init__, field by field
    assert decoded == built and list(vars(decoded)) == list(vars(built))
    assert decoded.to_dict() == built.to_dict()
