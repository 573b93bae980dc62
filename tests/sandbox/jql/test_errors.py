"""Every error shape, with Jira's wording, raised before any issue is evaluated."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sandbox.jql import JqlContext, JqlError, parse, search
from sandbox.model import Issue

from .conftest import make_context

Keys = Callable[[str], set[str]]
VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)


def message_of(jql: str) -> str:
    """The JqlError message for a query that must not parse."""
    with pytest.raises(JqlError) as caught:
        parse(jql)
    return caught.value.message


# --- syntax ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("invalid query", f"Expecting operator but got 'query'. {VALID_OPERATORS} (line 1, character 9)"),
        (
            "project",
            f"Expecting operator before the end of the query. {VALID_OPERATORS} (line 1, character 8)",
        ),
        ("key in (SALES-1 AND", "Expecting ')' but got 'AND'. (line 1, character 17)"),
        ("(project = SALES", "Expecting ')' before the end of the query. (line 1, character 17)"),
        ("project = SALES foo", "Expecting either 'OR' or 'AND' but got 'foo'. (line 1, character 17)"),
        ("project = SALES )", "Expecting either 'OR' or 'AND' but got ')'. (line 1, character 17)"),
        (
            "project = ",
            "Expecting either a value, list or function before the end of the query. (line 1, character 11)",
        ),
        (
            "status = OR",
            "Expecting either a value, list or function but got 'OR'. "
            "You must surround 'OR' in quotation marks to use it as a value. (line 1, character 10)",
        ),
        (
            "project = SALES AND = x",
            "Expecting a field name but got '='. "
            "You must surround '=' in quotation marks to use it as a field name. (line 1, character 21)",
        ),
        ("project = SALES AND", "Expecting a field name before the end of the query. (line 1, character 20)"),
        ("project = SALES ORDER created", "Expecting 'BY' but got 'created'. (line 1, character 23)"),
        (
            "ORDER BY created sideways",
            "Expecting either 'ASC', 'DESC' or ',' but got 'sideways'. (line 1, character 18)",
        ),
        (
            'summary ~ "never closed',
            "The quoted string 'never closed' has not been completed. (line 1, character 11)",
        ),
        (
            "assignee = alice@example.com",
            "The character '@' is a reserved JQL character. You must enclose it in a string or use the "
            "escape '\\u0040' instead. (line 1, character 17)",
        ),
        (
            "status = start",
            "'start' is a reserved JQL word. You must surround it in quotation marks to use it in a query. "
            "(line 1, character 10)",
        ),
        (r'summary ~ "bad \q escape"', "The escape sequence '\\q' is illegal. (line 1, character 11)"),
        (
            "project = SALES\nAND status =",
            "Expecting either a value, list or function before the end of the query. (line 2, character 13)",
        ),
    ],
)
def test_syntax_errors_use_jiras_wording_and_position(jql: str, message: str) -> None:
    assert message_of(jql) == f"Error in the JQL Query: {message}"


def test_jql_error_is_a_value_error_carrying_the_message() -> None:
    with pytest.raises(ValueError, match="Error in the JQL Query") as caught:
        parse("project =")
    assert isinstance(caught.value, JqlError)
    assert str(caught.value) == caught.value.message


# --- meaning ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("foo = 1", "Field 'foo' does not exist or you do not have permission to view it."),
        (
            '"Story Pointz" > 1',
            "Field 'Story Pointz' does not exist or you do not have permission to view it.",
        ),
        ("cf[99999] = 1", "Field 'cf[99999]' does not exist or you do not have permission to view it."),
        ("created > nextWeek()", "Unable to find JQL function 'nextWeek()'."),
        ("issue in linkedIssues(SALES-1)", "Unable to find JQL function 'linkedIssues()'."),
        ("assignee = nobody", "The value 'nobody' does not exist for the field 'assignee'."),
        (
            "reporter in (acc-alice, 'Zed Zero')",
            "The value 'Zed Zero' does not exist for the field 'reporter'.",
        ),
        (
            'assignee in membersOf("ghosts")',
            "Function 'membersOf' can not generate a list of usernames for group 'ghosts'; "
            "the group does not exist.",
        ),
        ("statusCategory = Blocked", "The value 'Blocked' does not exist for the field 'statusCategory'."),
        ("priority > Urgent", "The value 'Urgent' does not exist for the field 'priority'."),
        ("key = banana", "The issue key 'banana' for field 'key' is invalid."),
        ("parent = banana", "The issue key 'banana' for field 'parent' is invalid."),
        ("key = SALES-99", "An issue with key 'SALES-99' does not exist for field 'key'."),
        ("summary = ACME", "The operator '=' is not supported by the 'summary' field."),
        ("project ~ SALES", "The operator '~' is not supported by the 'project' field."),
        ("labels > kr-1", "The operator '>' is not supported by the 'labels' field."),
        (
            '"Story Points" = lots',
            "The value 'lots' for field 'Story Points' is invalid - please specify a number.",
        ),
        ("status in Done", "Operator 'in' does not support the non-list value 'Done' for field 'status'."),
        (
            "status = (Done, 'To Do')",
            "Operator '=' does not support the list value '(Done, To Do)' for field 'status'.",
        ),
        ("assignee is acc-alice", "The operator 'is' only supports searching for EMPTY or NULL values."),
        ("created > EMPTY", "The operator '>' does not support searching for EMPTY values."),
        ("summary ~ '!!'", "The field 'summary' does not support searching for an empty string."),
        ("assignee = currentUser(me)", "Function 'currentUser' expected '0' arguments but got '1'."),
        ("assignee in membersOf()", "Function 'membersOf' expected '1' arguments but got '0'."),
        ("project = membersOf(x)", "Function 'membersOf' is not supported by the field 'project'."),
    ],
)
def test_semantic_errors_use_jiras_wording(key_set: Keys, jql: str, message: str) -> None:
    with pytest.raises(JqlError) as caught:
        key_set(jql)
    assert caught.value.message == message


def test_unknown_values_are_refused_when_known_values_are_supplied(issues: list[Issue]) -> None:
    strict = make_context(known_values={"project": ["SALES", "WEB"], "status": ["To Do", "Done"]})
    with pytest.raises(JqlError) as caught:
        search(issues, "project = NOPE", strict)
    assert caught.value.message == "The value 'NOPE' does not exist for the field 'project'."
    with pytest.raises(JqlError, match="The value 'Resolved' does not exist for the field 'status'"):
        search(issues, "status was Resolved", strict)


def test_errors_are_raised_before_any_issue_is_read(ctx: JqlContext) -> None:
    def exploding() -> Iterator[Issue]:
        """An issue source that must never be consumed."""
        raise AssertionError("issues were read before the query was validated")
        yield  # pragma: no cover

    for jql in ("foo = 1", "assignee = nobody", "created > nope()", "project = SALES ORDER BY nope"):
        with pytest.raises(JqlError):
            search(exploding(), jql, ctx)


def test_validate_reports_problems_in_the_where_clause_and_order_by(ctx: JqlContext) -> None:
    parse("project = SALES ORDER BY created").validate(ctx)
    with pytest.raises(JqlError, match="Field 'nope'"):
        parse("project = SALES ORDER BY nope").validate(ctx)
    with pytest.raises(JqlError, match="membersOf"):
        parse("assignee in membersOf(ghosts)").validate(ctx)


def test_matches_raises_the_same_errors_as_validate(issues: list[Issue], ctx: JqlContext) -> None:
    with pytest.raises(JqlError, match="Field 'foo'"):
        parse("foo = bar").matches(issues[0], ctx)


def test_a_new_context_is_honoured_by_a_cached_query(issues: list[Issue]) -> None:
    query = parse("assignee = currentUser()")
    as_alice = make_context(current_user="acc-alice")
    as_bob = make_context(current_user="acc-bob")
    assert [i.key for i in issues if query.matches(i, as_alice)] == ["SALES-1"]
    assert [i.key for i in issues if query.matches(i, as_bob)] == ["SALES-2"]
