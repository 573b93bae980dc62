"""ORDER BY: directions, defaults, empties, ties, several keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sandbox.jql import JqlContext, JqlError, parse
from sandbox.model import Issue

KeyList = Callable[[str], list[str]]


def test_without_order_by_results_come_newest_key_first_numerically(keys: KeyList) -> None:
    # Numerically SALES-11 > SALES-10 > SALES-3; a text sort would put SALES-3 first.
    assert keys("") == ["WEB-1", "SALES-11", "SALES-10", "SALES-3", "SALES-2", "SALES-1"]


def test_order_by_key_ascending(keys: KeyList) -> None:
    assert keys("project = SALES ORDER BY key ASC") == [
        "SALES-1",
        "SALES-2",
        "SALES-3",
        "SALES-10",
        "SALES-11",
    ]


def test_dates_sort_newest_first_unless_told_otherwise(keys: KeyList) -> None:
    assert keys("ORDER BY created") == ["WEB-1", "SALES-11", "SALES-1", "SALES-2", "SALES-3", "SALES-10"]
    assert keys("ORDER BY created ASC") == ["SALES-10", "SALES-3", "SALES-2", "SALES-1", "SALES-11", "WEB-1"]


def test_priority_sorts_by_rank_and_ties_fall_back_to_key_descending(keys: KeyList) -> None:
    assert keys("ORDER BY priority DESC") == [
        "SALES-3",
        "SALES-1",
        "SALES-11",
        "SALES-2",
        "SALES-10",
        "WEB-1",
    ]


def test_empty_values_sort_last_ascending_and_first_descending(keys: KeyList) -> None:
    assert keys("ORDER BY assignee ASC") == ["SALES-1", "SALES-2", "SALES-10", "WEB-1", "SALES-11", "SALES-3"]
    assert keys("ORDER BY duedate DESC") == ["SALES-11", "SALES-10", "SALES-2", "SALES-1", "WEB-1", "SALES-3"]


def test_users_sort_by_display_name(keys: KeyList) -> None:
    assert keys("assignee is not empty ORDER BY assignee DESC") == ["SALES-10", "SALES-2", "SALES-1"]


def test_several_sort_keys_with_mixed_directions(keys: KeyList) -> None:
    assert keys("ORDER BY project DESC, created ASC") == [
        "WEB-1",
        "SALES-10",
        "SALES-3",
        "SALES-2",
        "SALES-1",
        "SALES-11",
    ]


def test_custom_number_fields_sort(keys: KeyList) -> None:
    assert keys('"Story Points" is not empty ORDER BY "Story Points" DESC') == ["SALES-2", "SALES-1"]


def test_status_category_sorts_in_workflow_order(keys: KeyList) -> None:
    assert keys("ORDER BY statusCategory ASC, key ASC") == [
        "SALES-1",
        "SALES-10",
        "SALES-3",
        "WEB-1",
        "SALES-2",
        "SALES-11",
    ]


def test_sort_returns_a_new_list_and_leaves_the_input_alone(issues: list[Issue], ctx: JqlContext) -> None:
    before = [issue.key for issue in issues]
    ordered = parse("ORDER BY key ASC").sort(issues, ctx)
    assert [issue.key for issue in issues] == before
    assert ordered is not issues
    assert ordered[0].key == "SALES-1"


@pytest.mark.parametrize("field", ["text", "description"])
def test_text_fields_cannot_be_sorted(keys: KeyList, field: str) -> None:
    with pytest.raises(JqlError) as caught:
        keys(f"ORDER BY {field}")
    assert caught.value.message == f"Not able to sort using field '{field}'."


def test_unknown_sort_field_is_reported(keys: KeyList) -> None:
    with pytest.raises(JqlError) as caught:
        keys("project = SALES ORDER BY rank")
    assert caught.value.message == "Field 'rank' does not exist or you do not have permission to view it."
