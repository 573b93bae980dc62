"""WAS / WAS IN / WAS NOT / WAS NOT IN and CHANGED over `Issue.history`.

Timelines in the world: SALES-2 To Do -> In Progress (05-03) -> Done (05-12 15:30); SALES-3
To Do -> In Progress (05-13 11:00); WEB-1 created To Do (05-14 09:00) -> In Review (09:30); the others
never moved.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sandbox.jql import JqlError
from sandbox.jql.evaluate import status_periods

from .conftest import at, make_issue

Keys = Callable[[str], set[str]]


def test_was_matches_past_and_current_statuses(key_set: Keys) -> None:
    assert key_set('status WAS "In Progress"') == {"SALES-2", "SALES-3"}
    assert key_set("status was 'to do'") == {"SALES-1", "SALES-2", "SALES-3", "SALES-10", "WEB-1"}


def test_was_in_matches_any_listed_status(key_set: Keys) -> None:
    assert key_set('status WAS IN ("In Review", Done)') == {"SALES-2", "SALES-11", "WEB-1"}


def test_was_not_means_never_had_the_status(key_set: Keys) -> None:
    assert key_set('status WAS NOT "To Do"') == {"SALES-11"}
    assert key_set('NOT status WAS "To Do"') == {"SALES-11"}


def test_was_not_in_means_never_had_any_listed_status(key_set: Keys) -> None:
    assert key_set('status WAS NOT IN (Done, "In Review")') == {"SALES-1", "SALES-3", "SALES-10"}


def test_was_before_looks_at_periods_starting_before_the_date(key_set: Keys) -> None:
    assert key_set('status WAS "In Progress" BEFORE "2026-05-04"') == {"SALES-2"}


def test_was_after_looks_at_periods_ending_after_the_date(key_set: Keys) -> None:
    assert key_set('status WAS "In Progress" AFTER "2026-05-12 16:00"') == {"SALES-3"}


def test_was_on_looks_at_one_calendar_day(key_set: Keys) -> None:
    assert key_set('status WAS "In Progress" ON "2026-05-12"') == {"SALES-2"}
    assert key_set('status WAS "In Progress" ON "2026-05-13"') == {"SALES-3"}


def test_was_during_looks_at_an_interval(key_set: Keys) -> None:
    assert key_set('status WAS Done DURING ("2026-05-01", "2026-05-11")') == {"SALES-11"}
    assert key_set("status WAS Done DURING (startOfWeek(), now())") == {"SALES-2", "SALES-11"}


def test_several_predicates_must_all_hold(key_set: Keys) -> None:
    assert key_set('status WAS "In Progress" AFTER "2026-05-01" BEFORE "2026-05-05"') == {"SALES-2"}


def test_changed_finds_issues_with_any_recorded_transition(key_set: Keys) -> None:
    # WEB-1's creation entry (from_status None) is not a change; its move to In Review is.
    assert key_set("status CHANGED") == {"SALES-2", "SALES-3", "WEB-1"}


def test_changed_from_to_and_time_predicates(key_set: Keys) -> None:
    assert key_set('status CHANGED FROM "In Progress" TO Done') == {"SALES-2"}
    assert key_set('status CHANGED TO "In Progress" AFTER "2026-05-10"') == {"SALES-3"}
    assert key_set("status CHANGED AFTER startOfDay()") == {"WEB-1"}
    assert key_set('status CHANGED DURING ("2026-05-01", "2026-05-05")') == {"SALES-2"}
    assert key_set("NOT status CHANGED") == {"SALES-1", "SALES-10", "SALES-11"}


def test_status_periods_start_at_creation_and_end_at_each_change() -> None:
    issue = make_issue(
        "SALES-7",
        7,
        status="Done",
        created=at(5, 1),
        history=[],
    )
    assert status_periods(issue) == [("Done", at(5, 1), None)]


def test_current_status_is_trusted_when_history_disagrees() -> None:
    from sandbox.model import StatusChange

    issue = make_issue(
        "SALES-8", 8, status="Blocked", created=at(5, 1), history=[StatusChange(at(5, 2), "To Do", "Doing")]
    )
    statuses = [status for status, _start, _end in status_periods(issue)]
    assert statuses == ["To Do", "Doing", "Blocked"]


@pytest.mark.parametrize("jql", ["labels WAS kr-1", "summary WAS x", "created CHANGED"])
def test_was_and_changed_are_refused_on_fields_without_history_in_jira(key_set: Keys, jql: str) -> None:
    with pytest.raises(JqlError, match=r"The operator '(was|changed)' is not supported by the '\w+' field\."):
        key_set(jql)


def test_was_on_assignee_is_refused_because_the_sandbox_keeps_no_such_history(key_set: Keys) -> None:
    with pytest.raises(JqlError, match="records no history for the 'assignee' field"):
        key_set("assignee WAS acc-alice")


def test_was_by_is_refused_because_changes_have_no_author(key_set: Keys) -> None:
    with pytest.raises(JqlError, match="'BY' cannot be evaluated"):
        key_set("status WAS Done BY acc-alice")


def test_was_needs_a_single_value_and_was_in_a_list(key_set: Keys) -> None:
    with pytest.raises(JqlError, match="Operator 'was' does not support the list value"):
        key_set("status WAS (Done, 'To Do')")
    with pytest.raises(JqlError, match="Operator 'was in' does not support the non-list value 'Done'"):
        key_set("status WAS IN Done")


def test_during_needs_exactly_two_dates(key_set: Keys) -> None:
    with pytest.raises(JqlError, match="requires two dates"):
        key_set('status WAS Done DURING ("2026-05-01")')
