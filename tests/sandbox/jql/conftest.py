"""A small fixed world for JQL tests: a clock, users, groups, custom fields and six issues.

The clock is Thursday 2026-05-14 10:00 UTC, so the week began on Sunday 2026-05-10, the month on
May 1 and the quarter on April 1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from sandbox.jql import JqlContext, search
from sandbox.model import CustomField, Issue, StatusChange, User

NOW = datetime(2026, 5, 14, 10, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A 2026 instant in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def make_issue(key: str, number_id: int, **fields: Any) -> Issue:
    """An issue with harmless defaults for whatever the test does not care about."""
    values: dict[str, Any] = {
        "id": str(number_id),
        "key": key,
        "project": key.rsplit("-", 1)[0],
        "issuetype": "Story",
        "summary": key,
        "status": "To Do",
        "status_category": "new",
        "created": at(5, 1),
        "updated": at(5, 1),
    }
    values.update(fields)
    return Issue(**values)


USERS = {
    "acc-alice": User("acc-alice", "alice@example.com", "Alice Smith", "tok", "pat", groups=["okr-team"]),
    "acc-bob": User("acc-bob", "bob@example.com", "Bob Jones", "tok", "pat"),
    "acc-carol": User("acc-carol", "carol@example.com", "Carol Smith", "tok", "pat"),
}
GROUPS = {"okr-team": ["acc-alice", "acc-carol"], "leads": ["acc-bob"]}
CUSTOM_FIELDS = [
    CustomField("customfield_10016", "Story Points"),
    CustomField("customfield_10020", "Revenue"),
]


def world() -> list[Issue]:
    """The six issues most tests search."""
    return [
        make_issue(
            "SALES-1",
            10001,
            summary="Close enterprise deal with ACME",
            labels=["kr-1"],
            assignee="acc-alice",
            reporter="acc-bob",
            priority="High",
            components=["Backend"],
            fix_versions=["2026.2"],
            created=at(5, 1, 9, 0),
            updated=at(5, 2),
            custom={"customfield_10016": 3.0, "customfield_10020": 1000.0},
        ),
        make_issue(
            "SALES-2",
            10002,
            summary="Renew contracts",
            status="Done",
            status_category="done",
            resolution="Done",
            resolved=at(5, 12, 15, 30),
            labels=["kr-1", "Q2"],
            assignee="acc-bob",
            reporter="acc-alice",
            priority="Medium",
            created=at(4, 20, 8, 0),
            updated=at(5, 12, 15, 30),
            custom={"customfield_10016": 5.0},
            history=[
                StatusChange(at(5, 3), "To Do", "In Progress"),
                StatusChange(at(5, 12, 15, 30), "In Progress", "Done"),
            ],
        ),
        make_issue(
            "SALES-3",
            10003,
            issuetype="Bug",
            summary="Fix the login page bug",
            description="Users cannot log in after the reset",
            status="In Progress",
            status_category="indeterminate",
            created=at(3, 15),
            updated=at(5, 13, 11, 0),
            duedate=date(2026, 5, 13),
            priority="Highest",
            components=["Frontend", "Backend"],
            history=[StatusChange(at(5, 13, 11, 0), "To Do", "In Progress")],
        ),
        make_issue(
            "SALES-10",
            10010,
            issuetype="Epic",
            summary="Expand into EMEA",
            labels=["kr-2"],
            assignee="acc-carol",
            priority="Low",
            fix_versions=["2026.3"],
            created=at(1, 5),
            updated=at(4, 1),
        ),
        make_issue(
            "SALES-11",
            10011,
            summary="EMEA partner onboarding",
            parent="SALES-10",
            epic_link="SALES-10",
            status="Done",
            status_category="done",
            resolution="Won't Do",
            resolved=at(5, 14, 9, 59),
            labels=["kr-2"],
            priority="Medium",
            created=at(5, 10, 0, 30),
            updated=at(5, 14, 9, 59),
            custom={"customfield_10016": None},
        ),
        make_issue(
            "WEB-1",
            20001,
            issuetype="Task",
            summary="Landing page revamp",
            status="In Review",
            status_category="indeterminate",
            labels=["Converted"],
            reporter="acc-alice",
            priority="Lowest",
            created=at(5, 14, 9, 0),
            updated=at(5, 14, 9, 30),
            duedate=date(2026, 5, 20),
            history=[
                StatusChange(at(5, 14, 9, 0), None, "To Do"),  # the creation itself
                StatusChange(at(5, 14, 9, 30), "To Do", "In Review"),
            ],
        ),
    ]


def make_context(**overrides: Any) -> JqlContext:
    """The standard context (Alice searching at NOW in UTC), with any field replaced."""
    values: dict[str, Any] = {
        "now": NOW,
        "current_user": "acc-alice",
        "users": USERS,
        "groups": GROUPS,
        "custom_fields": CUSTOM_FIELDS,
    }
    values.update(overrides)
    return JqlContext(**values)


@pytest.fixture
def issues() -> list[Issue]:
    """A fresh copy of the six issues."""
    return world()


@pytest.fixture
def ctx() -> JqlContext:
    """The standard context."""
    return make_context()


@pytest.fixture
def keys(issues: list[Issue], ctx: JqlContext) -> Callable[[str], list[str]]:
    """Run a search over the world and return the keys found, in result order."""

    def run(jql: str) -> list[str]:
        """Keys of `search(issues, jql, ctx)`."""
        return [issue.key for issue in search(issues, jql, ctx)]

    return run


@pytest.fixture
def key_set(keys: Callable[[str], list[str]]) -> Callable[[str], set[str]]:
    """Like `keys`, as a set, for tests that do not care about order."""
    return lambda jql: set(keys(jql))
