"""What a JQL's answer can depend on: the projects bounding it, and what besides issues moves it."""

from __future__ import annotations

import pytest

from okrbridge.jql_scope import jql_scope

E = frozenset[str]


@pytest.mark.parametrize(("jql", "projects"), [
    ("project = ENG", {"eng"}),
    ("project in (ENG, \"Sales Team\") AND status = Done", {"eng", "sales team"}),
    ("project = ENG OR project = OPS", {"eng", "ops"}),
    ("project = ENG AND (status = Done OR labels = x)", {"eng"}),
    ("project = A AND project = B", set()),
    ("project=ENG and type=Bug ORDER BY created DESC", {"eng"}),
    ("key in (ENG-1, OPS-22)", {"eng", "ops"}),
    ("issue = ENG-7 AND status = Done", {"eng"}),
    ("project = ENG AND status not in (Done, Closed)", {"eng"}),
    ("project = ENG AND resolution is not EMPTY", {"eng"}),
    ("project = ENG OR labels = x", None),
    ("labels = okr", None),
    ("NOT project = ENG", None),
    ("project != ENG", None),
    ("project not in (ENG)", None),
    ("parent = ENG-1", None),  # an epic's children may live in other projects
    ("", None),
])
def test_the_projects_a_query_is_bounded_by(jql: str, projects: set[str] | None) -> None:
    found = jql_scope(jql)
    assert found.projects == (frozenset(projects) if projects is not None else None)
    assert found.volatile is None


@pytest.mark.parametrize(("jql", "why"), [
    ("project = ENG AND created > -7d", "relative date -7d"),
    ("project = ENG AND updated >= '-1w 2d'", "relative date"),
    ("project = ENG AND created > now()", "now()"),
    ('project = ENG AND assignee in membersOf("eng")', "membersOf()"),
    ("project = ENG AND assignee = currentUser()", "currentUser()"),
    ("project = ENG AND sprint in openSprints()", "sprint"),
    ("project = ENG AND watchers = alice", "watchers"),
    ("project = ENG AND status was Done", "change history"),
    ("project = ENG AND status changed after 2026-01-01", "change history"),
    ('project = ENG AND resolved >= startOfDay("+30m")', "startOfDay()"),
    ('project = "ENG', "could not analyse"),
    ("project = ENG AND (status = Done", "could not analyse"),
])
def test_a_query_whose_answer_moves_without_any_issue_changing_is_volatile(jql: str, why: str) -> None:
    found = jql_scope(jql)
    assert found.volatile is not None and why in found.volatile
    assert not found.changes_at_midnight


@pytest.mark.parametrize("jql", [
    "project = ENG AND resolved >= startOfYear()",
    "project = ENG AND resolved >= startOfMonth(-1) AND resolved < endOfMonth(-1)",
    'project = ENG AND resolved >= startOfWeek("-2w")',
    'project = ENG AND resolved >= startOfMonth("-1M")',
])
def test_a_calendar_function_changes_the_answer_only_at_midnight(jql: str) -> None:
    found = jql_scope(jql)
    assert found.volatile is None and found.changes_at_midnight
    assert found.projects == frozenset({"eng"})


def test_an_absolute_date_is_stable() -> None:
    assert jql_scope('project = ENG AND resolved >= "2026-01-01"') == jql_scope("project = ENG")
