"""`Query.project_restriction()`: which projects a query cannot leave, and only when that is certain."""

from __future__ import annotations

import pytest

from sandbox.jql import JqlError, Query, fold_project, parse, search
from sandbox.jql.nodes import And, Compare, FieldRef, Literal
from sandbox.model import CustomField

from .conftest import make_context, make_issue

RESTRICTED: list[tuple[str, set[str]]] = [
    ("project = SALES", {"sales"}),
    ("project = sales", {"sales"}),
    ('project = "SALES"', {"sales"}),
    ("PROJECT = Sales", {"sales"}),
    ('"project" = SALES', {"sales"}),
    ("project in (SALES, web)", {"sales", "web"}),
    ("project IN (SALES)", {"sales"}),
    ("project = SALES AND status = Done", {"sales"}),
    ("status = Done AND labels = kr-1 AND project in (SALES, WEB)", {"sales", "web"}),
    ("project = SALES AND (status = Done OR labels = kr-1)", {"sales"}),
    ("project = SALES AND NOT status = Done", {"sales"}),
    ("project = SALES AND project != WEB", {"sales"}),
    ("project in (SALES, WEB) AND project in (web, OPS)", {"web"}),
    ("project = SALES AND project = WEB", set()),
    ("project = SALES ORDER BY created DESC", {"sales"}),
    ("project = NOPE", {"nope"}),  # compile refuses it; the restriction does not judge
]

UNRESTRICTED = [
    "ORDER BY key",
    "status = Done",
    "project != SALES",
    "project not in (SALES, WEB)",
    "NOT project = SALES",
    "NOT project != SALES",
    "NOT (project = SALES AND status = Done)",
    "project = SALES OR status = Done",
    "project = SALES OR project = WEB",
    "(project = SALES AND status = Done) OR (project = WEB AND status = Done)",
    "project is EMPTY",
    "project is not EMPTY",
    "project = EMPTY",
    "project in (SALES, EMPTY)",
    "project in (SALES, currentUser())",
    "project = currentUser()",
    "project in currentUser()",
    "project in SALES",          # refused when compiled
    "project = (SALES, WEB)",    # refused when compiled
    "cf[10016] = 3",
    "key = SALES-1",
    "status was Done",
]


@pytest.mark.parametrize(("jql", "expected"), RESTRICTED)
def test_a_project_conjunct_restricts_the_query(jql: str, expected: set[str]) -> None:
    assert parse(jql).project_restriction() == frozenset(expected)


@pytest.mark.parametrize("jql", UNRESTRICTED)
def test_anything_but_a_positive_project_conjunct_restricts_nothing(jql: str) -> None:
    assert parse(jql).project_restriction() is None


def test_nested_conjunctions_intersect() -> None:
    project = FieldRef("project")
    status = Compare(FieldRef("status"), "=", Literal("x", False))
    inner = And((Compare(project, "=", Literal("SALES", False)), status))
    query = Query("nested", And((inner, Compare(project, "=", Literal("sales", True)))), ())
    assert query.project_restriction() == frozenset({"sales"})


def test_a_custom_field_named_project_cannot_shadow_the_system_field() -> None:
    ctx = make_context(custom_fields=[CustomField("customfield_10099", "Project")])
    issues = [make_issue("SALES-1", 1), make_issue("WEB-1", 2)]
    assert [i.key for i in search(issues, "project = SALES", ctx)] == ["SALES-1"]
    assert parse("project = SALES").project_restriction() == frozenset({"sales"})


def test_fold_project_is_the_engines_case_folding() -> None:
    # The Kelvin sign lower-cases to "k" but upper-cases to itself: the engine (str.lower on both
    # sides) matches it, so an index keyed by str.upper would lose the issue.
    kelvin = "\u212aEY"
    issue = make_issue("KEY-1", 1, project=kelvin)
    assert [i.key for i in search([issue], "project = KEY", make_context())] == ["KEY-1"]
    assert fold_project(kelvin) in parse("project = KEY").project_restriction()  # type: ignore[operator]
    assert kelvin.upper() != "KEY"


def test_existing_keys_stand_in_for_the_pool_when_checking_named_keys() -> None:
    ctx = make_context()
    web = [make_issue("WEB-1", 2)]
    with pytest.raises(JqlError, match="An issue with key 'SALES-1' does not exist"):
        search(web, "project = WEB AND key = SALES-1", ctx)
    assert search(web, "project = WEB AND key = SALES-1", ctx, existing_keys={"SALES-1", "WEB-1"}) == []
    with pytest.raises(JqlError, match="An issue with key 'sales-9' does not exist"):
        search(web, "key = sales-9", ctx, existing_keys={"SALES-1", "WEB-1"})
