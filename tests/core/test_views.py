"""Views: what each audience and each person sees, with nothing of what they may not see."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from okrbridge.audiences import Audience, DetailLevel, Person, Scope, default_audiences
from okrbridge.catalog import bundled_sample, load_catalog
from okrbridge.domain import Catalog, Pace, Source, SourceKind, Status
from okrbridge.explanation import Explanation
from okrbridge.report import grade_period
from okrbridge.view_model import Query
from okrbridge.views import ViewData, audience_view, person_view, reader_view, visible_objectives
from tests.view_fixtures import (
    AUDIENCES,
    CATALOG,
    HIDDEN_TOKENS,
    HOSTILE_JQL,
    NOW,
    PEOPLE,
    PUBLIC,
    Q1,
    READINGS,
    SECRET_KPI,
    forbidden_for,
    view_data,
)

BY_NAME = {a.name: a for a in AUDIENCES}


def _json(data: object) -> str:
    """A view's JSON text, as the web API would serve it."""
    return json.dumps(data.to_dict())  # type: ignore[attr-defined]


@pytest.mark.parametrize("person", PEOPLE, ids=[p.name for p in PEOPLE])
def test_no_view_a_person_may_read_names_or_numbers_what_they_may_not_see(person: Person) -> None:
    data = view_data()
    forbidden = forbidden_for(person)
    readable = [a for a in AUDIENCES if a.open_to(person.groups)]
    texts = [_json(audience_view(data, a)) for a in readable] + [_json(person_view(data, person, AUDIENCES))]
    for text in texts:
        assert [t for t in forbidden if t in text] == []


@pytest.mark.parametrize("audience", AUDIENCES, ids=[a.name for a in AUDIENCES])
def test_an_audience_view_shows_only_what_each_of_its_groups_may_see(audience: Audience) -> None:
    text = _json(audience_view(view_data(), audience))
    assert [t for t in forbidden_for(audience) if t in text] == []


def test_what_a_reader_may_see_does_appear() -> None:
    insiders = _json(audience_view(view_data(), BY_NAME["insiders"]))
    assert all(token in insiders for token in ("HIDE-7", "Zanzibar", "Quuxcorp", "2,222.5", "4,321.5"))


@pytest.mark.parametrize(("name", "shown", "objectives_left_out", "kpis_left_out"), [
    ("company", ["PUB-1"], 2, 1),
    ("team-alpha", ["PUB-1"], 1, 1),
    ("team-beta", ["BOTH-3"], 0, 0),
    ("teams", [], 2, 0),
    ("insiders", ["PUB-1", "HIDE-7"], 1, 0),
])
def test_each_view_counts_what_it_leaves_out_of_its_scope(
        name: str, shown: list[str], objectives_left_out: int, kpis_left_out: int) -> None:
    view = audience_view(view_data(), BY_NAME[name])
    assert [o.id for o in view.objectives] == shown
    assert (view.left_out.objectives, view.left_out.kpis) == (objectives_left_out, kpis_left_out)


def test_a_visible_parent_lists_only_the_aligned_children_its_reader_may_see() -> None:
    data = view_data()
    alpha = audience_view(data, BY_NAME["team-alpha"]).objectives[0]
    assert alpha.aligned == (("BOTH-3", "Joint venture with beta"),)
    assert audience_view(data, BY_NAME["company"]).objectives[0].aligned == ()
    insiders = audience_view(data, BY_NAME["insiders"])
    assert insiders.objectives[0].aligned == (("HIDE-7", "Classified merger Zanzibar"),)
    assert insiders.objectives[1].parent_id == "PUB-1"


def test_a_summary_has_grades_and_no_key_results() -> None:
    objective = audience_view(view_data(), BY_NAME["company"]).objectives[0]
    assert objective.krs == () and objective.kr_count == 2
    # (5/10 + 3/4) / 2, hand-computed; 90 of 365 days elapsed at 2026-04-01 is well behind 0.625.
    assert objective.score == pytest.approx(0.625)
    assert (objective.status, objective.pace) == (Status.AT_RISK, Pace.AHEAD)


def test_a_detail_view_pins_value_goal_trend_forecast_staleness_and_initiatives() -> None:
    objective = audience_view(view_data(), BY_NAME["team-alpha"]).objectives[0]
    widgets, counted = objective.krs
    assert (widgets.value, widgets.score, widgets.goal) == (5.0, 0.5, "0 → 10")
    trend = [(p.at.date().isoformat(), p.value) for p in widgets.trend]
    assert trend == [("2026-01-15", 2.0), ("2026-03-01", 5.0)]
    # The line through (Jan 15, 2) and (Mar 1, 5) rises 3 in 45 days; Jan 15 to 2027-01-01 is 351 days.
    assert widgets.forecast == pytest.approx(2 + 3 * 351 / 45)
    assert widgets.forecast_text == "25.4"
    assert widgets.epics_jql == 'issuetype = Epic AND labels = "kr-PUB-1.1"'
    epics = [(i.epic_key, i.children_done, i.children_total) for i in widgets.initiatives]
    assert epics == [("ALPHA-12", 1, 4)]  # ALPHA-3 stopped driving it
    assert not widgets.stale and widgets.how == "check-in"
    assert counted.stale and counted.stale_reason == "Error in the JQL Query: 'x' <is> & unknown"
    assert counted.queries == (Query("value", HOSTILE_JQL),)
    assert counted.how == f"count 3: [{HOSTILE_JQL}]"
    assert objective.stale


def test_personal_holds_what_a_person_owns_and_counts_what_they_may_not_see() -> None:
    data = view_data()
    ben = person_view(data, PEOPLE[3], AUDIENCES)
    assert [v.key for v in ben.views] == ["company", "team-beta"]
    assert ben.personal.objectives == ()
    assert [kr.id for kr in ben.personal.key_results] == ["PUB-1.2"]
    assert (ben.personal.left_out.objectives, ben.personal.left_out.kpis) == (1, 1)
    ann = person_view(data, PEOPLE[1], AUDIENCES).personal
    assert [o.id for o in ann.objectives] == ["PUB-1"] and ann.key_results == ()
    assert ann.left_out.objectives == 1  # HIDE-7.1 is hers, in an objective she may not see


def test_a_key_result_fed_by_a_hidden_kpi_names_neither_the_kpi_nor_its_query() -> None:
    fed = replace(PUBLIC.key_results[0], id="PUB-1.9", source=Source(SourceKind.KPI, kpi=SECRET_KPI.id))
    catalog = Catalog(objectives=(replace(PUBLIC, key_results=(fed,)),), kpis=(SECRET_KPI,))
    secret = Explanation("kpi", kpi="secret-burn",
                         kpi_explanation=Explanation("jql_count", jql="project = SECRETJQL", count=4))
    readings = {"PUB-1.9": [replace(READINGS["PUB-1.1"][1], subject_id="PUB-1.9", explained=secret)]}
    data = ViewData(catalog, grade_period(catalog, readings, Q1, now=NOW), readings)
    public = Audience("open", "Open", (), Scope.COMPANY, DetailLevel.DETAIL)
    kr = audience_view(data, public).objectives[0].krs[0]
    assert (kr.how, kr.queries) == ("from a KPI not shown here", ())
    assert "secret-burn" not in _json(audience_view(data, public))
    assert "SECRETJQL" not in _json(audience_view(data, public))


def test_default_audiences_of_the_sample_follow_its_teams_and_groups() -> None:
    catalog = load_catalog(bundled_sample("okrs.toml")).catalog
    audiences = {a.name: a for a in default_audiences(catalog)}
    assert audiences["company"].groups == () and audiences["company"].detail is DetailLevel.SUMMARY
    assert audiences["leadership"].groups == ("okr-executives",)
    assert audiences["team-sales"].groups == ("okr-executives", "okr-sales")
    assert audiences["team-sales"].detail is DetailLevel.DETAIL and audiences["team-sales"].team == "sales"


def test_view_json_is_plain_data() -> None:
    data = json.loads(_json(audience_view(view_data(), BY_NAME["team-alpha"])))
    assert data["left_out"] == {"objectives": 1, "kpis": 1}
    kr = data["objectives"][0]["krs"][0]
    assert kr["trend"][0] == {"at": "2026-01-15T00:00:00+00:00", "value": 2.0}
    assert kr["status"] == "at risk" and data["audience"]["groups"] == ["grp-a"]
    assert HIDDEN_TOKENS[0] not in json.dumps(data) and CATALOG.objective("HIDE-7") is not None


@pytest.mark.parametrize(("person", "shown", "left_out"), [
    (PEOPLE[0], ["PUB-1"], 2),              # nobody: only what everyone may see
    (PEOPLE[1], ["PUB-1", "BOTH-3"], 1),    # ann (grp-a) may see the joint venture
    (PEOPLE[3], ["PUB-1", "BOTH-3"], 1),    # ben owns HIDE-7 but may not see it
    (PEOPLE[4], ["PUB-1", "HIDE-7"], 1),    # spy (grp-secret)
], ids=lambda p: p.name if isinstance(p, Person) else None)
def test_a_readers_view_shows_in_detail_all_they_may_see_and_counts_the_rest(
        person: Person, shown: list[str], left_out: int) -> None:
    view = reader_view(view_data(), person)
    assert sorted(o.id for o in view.objectives) == sorted(shown)
    assert view.detail and all(o.krs for o in view.objectives)
    assert view.left_out.objectives == left_out
    assert [t for t in forbidden_for(person) if t in _json(view)] == []
    assert [o.id for o in visible_objectives(CATALOG, person)] == [o.id for o in CATALOG.objectives
                                                                   if o.id in shown]


@pytest.mark.parametrize(("value", "explanation", "expected"), [
    (1.0, None, "done"),
    (0.0, None, "not done"),
    (0.0, {"issue": "ENG-1", "done_ratio": 14 / 15}, "not done (93% of its issues done)"),
])
def test_a_milestone_value_reads_done_or_not_done_with_its_epics_share(
        value: float | None, explanation: dict[str, object] | None, expected: str) -> None:
    from okrbridge.domain import MeasureKind
    from okrbridge.report import KrGrade
    from okrbridge.views import _value_text

    catalog = load_catalog(bundled_sample("okrs.toml")).catalog
    milestone = next(kr for kr in catalog.key_results() if kr.measure.kind is MeasureKind.MILESTONE)
    grade = KrGrade(milestone.id, milestone.title, milestone.owner, milestone.unit, MeasureKind.MILESTONE,
                    1.0, value, value, Status.NO_DATA if value is None else Status.ON_TRACK, None,
                    Explanation.from_dict(explanation) if explanation else None)
    assert _value_text(milestone, grade) == expected
