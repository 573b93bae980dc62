"""Whatever text arrives, `search` answers with a list or a JqlError — never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.jql import JqlError, search
from sandbox.model import Issue

from .conftest import make_context, world

ISSUES = world()
CTX = make_context()

FIELDS = [
    "project",
    "key",
    "issuekey",
    "id",
    "type",
    "issuetype",
    "status",
    "statusCategory",
    "resolution",
    "labels",
    "assignee",
    "reporter",
    "priority",
    "component",
    "fixVersion",
    "parent",
    '"Epic Link"',
    "summary",
    "description",
    "text",
    "created",
    "createdDate",
    "updated",
    "resolved",
    "resolutiondate",
    "duedate",
    "due",
    '"Story Points"',
    "cf[10016]",
    "cf[1]",
    "customfield_10016",
    "nosuchfield",
]
KEYWORDS = [
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "~",
    "!~",
    "IN",
    "NOT IN",
    "IS",
    "IS NOT",
    "NOT",
    "EMPTY",
    "NULL",
    "WAS",
    "WAS IN",
    "WAS NOT",
    "WAS NOT IN",
    "CHANGED",
    "BEFORE",
    "AFTER",
    "ON",
    "DURING",
    "BY",
    "FROM",
    "TO",
    "AND",
    "OR",
    "&&",
    "||",
    "!",
    "ORDER BY",
    "ASC",
    "DESC",
    "(",
    ")",
    ",",
]
VALUES = [
    "SALES",
    "WEB",
    "SALES-1",
    "SALES-99",
    "10001",
    "Done",
    '"To Do"',
    "'In Progress'",
    "kr-1",
    "acc-alice",
    "'alice@example.com'",
    "'Alice Smith'",
    "nobody",
    "Unresolved",
    "High",
    "3",
    "-5",
    "'2.5'",
    "-7d",
    "4w",
    '"-1M"',
    '"2026-05-01"',
    "'2026/05/01 13:30'",
    '"bad date"',
    "start",
    "true",
    "@",
    ".",
    "*",
    '"',
    "'",
    "\\",
    "\\u0040",
    '"\\"phrase\\""',
    "now()",
    "currentUser()",
    'membersOf("okr-team")',
    "membersOf(ghosts)",
    "startOfDay()",
    'startOfDay("-3d")',
    "startOfMonth(-1)",
    'endOfMonth("+1M")',
    "startOfQuarter()",
    "endOfYear(1)",
    "startOfWeek(x)",
    "nosuch()",
    "now(1)",
]
VOCABULARY = FIELDS + KEYWORDS + VALUES


def outcome(jql: str) -> None:
    """Run a search and insist on a list of issues or a JqlError with a message."""
    try:
        result = search(ISSUES, jql, CTX)
    except JqlError as error:
        assert isinstance(error.message, str)
        assert error.message
    else:
        assert isinstance(result, list)
        assert all(isinstance(issue, Issue) for issue in result)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120))
def test_random_text_yields_a_list_or_a_jql_error(jql: str) -> None:
    outcome(jql)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(VOCABULARY), max_size=14).map(" ".join))
def test_token_soup_yields_a_list_or_a_jql_error(jql: str) -> None:
    outcome(jql)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(FIELDS),
    op=st.sampled_from(
        ["=", "!=", ">", ">=", "<", "<=", "~", "!~", "IN", "NOT IN", "IS", "IS NOT", "WAS", "WAS IN"]
    ),
    value=st.sampled_from(VALUES),
    glue=st.sampled_from(["", " AND project = SALES", " OR NOT labels = kr-1", " ORDER BY created"]),
)
def test_well_formed_clauses_yield_a_list_or_a_jql_error(field: str, op: str, value: str, glue: str) -> None:
    outcome(f"{field} {op} {value}{glue}")
