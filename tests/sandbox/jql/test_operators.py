"""Every operator on every kind of field, with Jira's rules for empty and multi-valued fields."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sandbox.jql import JqlContext, JqlError, parse, search
from sandbox.model import Issue

from .conftest import make_context, make_issue

Keys = Callable[[str], set[str]]

ALL = {"SALES-1", "SALES-2", "SALES-3", "SALES-10", "SALES-11", "WEB-1"}


# --- = and != -------------------------------------------------------------------------------------


def test_equals_compares_project_case_insensitively(key_set: Keys) -> None:
    assert key_set("project = web") == {"WEB-1"}


def test_equals_compares_status_and_type_case_insensitively(key_set: Keys) -> None:
    assert key_set("status = 'in review'") == {"WEB-1"}
    assert key_set("type = EPIC") == key_set("issuetype = epic") == {"SALES-10"}


def test_not_equals_never_matches_an_empty_field(key_set: Keys) -> None:
    # SALES-3, SALES-11 and WEB-1 have no assignee: Jira's != leaves them out.
    assert key_set("assignee != acc-bob") == {"SALES-1", "SALES-10"}


def test_not_clause_equals_the_negated_operator(key_set: Keys) -> None:
    assert key_set("NOT assignee = acc-bob") == key_set("assignee != acc-bob")
    assert key_set("NOT (assignee = acc-bob OR priority = High)") == {"SALES-10"}


def test_equals_empty_is_is_empty(key_set: Keys) -> None:
    assert key_set("assignee = EMPTY") == key_set("assignee is EMPTY") == {"SALES-3", "SALES-11", "WEB-1"}
    assert (
        key_set("assignee != NULL") == key_set("assignee is not null") == {"SALES-1", "SALES-2", "SALES-10"}
    )


# --- ordering operators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ('"Story Points" > 3', {"SALES-2"}),
        ('"Story Points" >= 3', {"SALES-1", "SALES-2"}),
        ('"Story Points" < 5', {"SALES-1"}),
        ('"Story Points" <= 5', {"SALES-1", "SALES-2"}),
        ("created > '2026-05-01 09:00'", {"SALES-11", "WEB-1"}),
        ("created >= '2026-05-01 09:00'", {"SALES-1", "SALES-11", "WEB-1"}),
        ("created < '2026-03-15'", {"SALES-10"}),
        ("created <= '2026-03-15'", {"SALES-10", "SALES-3"}),
    ],
)
def test_ordering_operators_on_numbers_and_dates(key_set: Keys, jql: str, expected: set[str]) -> None:
    assert key_set(jql) == expected


def test_priority_compares_by_rank_not_name(key_set: Keys) -> None:
    assert key_set("priority > Medium") == {"SALES-1", "SALES-3"}
    assert key_set("priority <= low") == {"SALES-10", "WEB-1"}


def test_key_ranges_stay_within_the_project_and_compare_numerically(key_set: Keys) -> None:
    assert key_set("key > SALES-2") == {"SALES-3", "SALES-10", "SALES-11"}
    assert key_set("issuekey <= SALES-3") == {"SALES-1", "SALES-2", "SALES-3"}


def test_ordering_operators_never_match_an_empty_field(key_set: Keys) -> None:
    assert key_set("resolved < now()") == {"SALES-2", "SALES-11"}
    assert key_set("NOT resolved < now()") == set()


# --- IN / NOT IN -----------------------------------------------------------------------------------


def test_in_matches_any_listed_value(key_set: Keys) -> None:
    assert key_set('status in ("To Do", Done)') == {"SALES-1", "SALES-2", "SALES-10", "SALES-11"}


def test_not_in_matches_other_values_and_skips_empty_fields(key_set: Keys) -> None:
    assert key_set("assignee not in ('alice@example.com')") == {"SALES-2", "SALES-10"}


def test_in_list_may_hold_empty_and_functions(key_set: Keys) -> None:
    assert key_set("assignee in (EMPTY, currentUser())") == {"SALES-1", "SALES-3", "SALES-11", "WEB-1"}
    assert key_set("assignee not in (EMPTY, currentUser())") == {"SALES-2", "SALES-10"}


# --- multi-valued fields ---------------------------------------------------------------------------


def test_equals_on_labels_means_contains(key_set: Keys) -> None:
    assert key_set("labels = kr-1") == {"SALES-1", "SALES-2"}


def test_not_equals_on_labels_means_has_labels_and_none_is_this_one(key_set: Keys) -> None:
    # SALES-3 has no labels at all, so it is excluded like any empty field.
    assert key_set("labels != kr-1") == {"SALES-10", "SALES-11", "WEB-1"}
    assert key_set("NOT labels = kr-1") == key_set("labels != kr-1")


def test_label_values_match_case_insensitively(key_set: Keys) -> None:
    assert key_set("labels = converted") == {"WEB-1"}
    assert key_set("labels in (q2, KR-2)") == {"SALES-2", "SALES-10", "SALES-11"}


def test_not_in_on_labels_excludes_issues_holding_any_listed_label(key_set: Keys) -> None:
    assert key_set("labels not in (kr-1, kr-2)") == {"WEB-1"}


def test_labels_is_empty_finds_issues_without_labels(key_set: Keys) -> None:
    assert key_set("labels is EMPTY") == {"SALES-3"}


def test_component_and_fix_version_behave_as_multi_valued(key_set: Keys) -> None:
    assert key_set("component = backend") == {"SALES-1", "SALES-3"}
    assert key_set("component != Backend") == set()
    assert key_set('fixVersion = "2026.2"') == {"SALES-1"}
    assert key_set('fixVersion in ("2026.2", "2026.3")') == {"SALES-1", "SALES-10"}
    assert key_set("fixversion is empty") == ALL - {"SALES-1", "SALES-10"}


# --- users -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["acc-alice", '"alice@example.com"', "'ALICE@EXAMPLE.COM'", "'Alice Smith'", '"alice smith"']
)
def test_users_match_by_account_id_email_or_display_name(key_set: Keys, value: str) -> None:
    assert key_set(f"assignee = {value}") == {"SALES-1"}


def test_reporter_is_a_user_field(key_set: Keys) -> None:
    assert key_set("reporter = currentUser()") == {"SALES-2", "WEB-1"}


def test_members_of_expands_a_group(key_set: Keys) -> None:
    assert key_set('assignee in membersOf("okr-team")') == {"SALES-1", "SALES-10"}
    assert key_set("assignee not in membersOf(OKR-TEAM)") == {"SALES-2"}


def test_current_user_matches_nothing_when_anonymous(issues: list[Issue]) -> None:
    anonymous = make_context(current_user=None)
    assert search(issues, "assignee = currentUser()", anonymous) == []


# --- status category and resolution ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Done", "done", "'Done'", "3"])
def test_status_category_accepts_names_keys_and_ids(key_set: Keys, value: str) -> None:
    assert key_set(f"statusCategory = {value}") == {"SALES-2", "SALES-11"}


def test_status_category_in_progress_by_name_or_key(key_set: Keys) -> None:
    assert (
        key_set('statusCategory = "In Progress"')
        == key_set("statusCategory = indeterminate")
        == {
            "SALES-3",
            "WEB-1",
        }
    )
    assert key_set('statusCategory != "To Do"') == {"SALES-2", "SALES-3", "SALES-11", "WEB-1"}


def test_resolution_unresolved_means_empty(key_set: Keys) -> None:
    assert (
        key_set("resolution = Unresolved")
        == key_set("resolution is EMPTY")
        == {
            "SALES-1",
            "SALES-3",
            "SALES-10",
            "WEB-1",
        }
    )
    assert key_set("resolution != Unresolved") == {"SALES-2", "SALES-11"}
    assert key_set("resolution in (Unresolved, Done)") == {
        "SALES-1",
        "SALES-2",
        "SALES-3",
        "SALES-10",
        "WEB-1",
    }


# --- keys and links ----------------------------------------------------------------------------------


def test_key_issuekey_and_id_find_issues_by_key_or_numeric_id(key_set: Keys) -> None:
    assert key_set("key = sales-1") == {"SALES-1"}
    assert key_set("issuekey in (SALES-1, WEB-1)") == {"SALES-1", "WEB-1"}
    assert key_set("id = 10002") == key_set("key = 10002") == {"SALES-2"}
    assert key_set("key != SALES-1 AND project = SALES") == {"SALES-2", "SALES-3", "SALES-10", "SALES-11"}


def test_parent_and_epic_link_match_the_linked_key(key_set: Keys) -> None:
    assert key_set("parent = SALES-10") == key_set('"Epic Link" = sales-10') == {"SALES-11"}
    assert key_set("parent is empty") == ALL - {"SALES-11"}


# --- numbers -----------------------------------------------------------------------------------------


def test_custom_fields_are_reachable_by_cf_number_id_or_name(key_set: Keys) -> None:
    assert (
        key_set("cf[10016] = 3")
        == key_set("customfield_10016 = 3")
        == key_set('"Story Points" = "3.0"')
        == {
            "SALES-1",
        }
    )


def test_decimals_must_be_quoted_because_dot_is_reserved(key_set: Keys) -> None:
    with pytest.raises(JqlError, match=r"The character '\.' is a reserved JQL character"):
        key_set('"Story Points" > 2.5')
    assert key_set('"Story Points" > "2.5"') == {"SALES-1", "SALES-2"}


def test_a_custom_field_set_to_none_or_missing_is_empty(key_set: Keys) -> None:
    assert key_set("cf[10016] is EMPTY") == {"SALES-3", "SALES-10", "SALES-11", "WEB-1"}
    assert key_set("Revenue is not empty") == {"SALES-1"}


def test_number_in_list_and_not_equals(key_set: Keys) -> None:
    assert key_set("cf[10016] in (3, 5)") == {"SALES-1", "SALES-2"}
    assert key_set("cf[10016] != 3") == {"SALES-2"}


def test_negative_numbers_are_bare_words(issues: list[Issue], ctx: JqlContext) -> None:
    issues.append(make_issue("WEB-2", 20002, custom={"customfield_10020": -5.0}))
    assert [i.key for i in search(issues, "Revenue < -1", ctx)] == ["WEB-2"]


# --- text ----------------------------------------------------------------------------------------------


def test_contains_matches_whole_words_case_insensitively(key_set: Keys) -> None:
    assert key_set("summary ~ LOGIN") == {"SALES-3"}
    assert key_set("summary ~ log") == set()  # a word, not a substring


def test_contains_requires_every_term_in_any_order(key_set: Keys) -> None:
    assert key_set('summary ~ "bug login"') == {"SALES-3"}
    assert key_set('summary ~ "bug deal"') == set()


def test_contains_with_inner_quotes_is_an_exact_phrase(key_set: Keys) -> None:
    assert key_set(r'summary ~ "\"login page\""') == {"SALES-3"}
    assert key_set(r'summary ~ "\"page login\""') == set()


def test_contains_supports_wildcards(key_set: Keys) -> None:
    assert key_set("summary ~ 'log*'") == {"SALES-3"}
    assert key_set("summary ~ 'l?nding'") == {"WEB-1"}


def test_contains_supports_or_and_exclusion(key_set: Keys) -> None:
    assert key_set("summary ~ 'acme OR emea'") == {"SALES-1", "SALES-10", "SALES-11"}
    assert key_set("summary ~ 'emea -partner'") == {"SALES-10"}


def test_text_searches_summary_and_description(key_set: Keys) -> None:
    assert key_set("text ~ cannot") == {"SALES-3"}
    assert key_set("description ~ reset") == {"SALES-3"}
    assert key_set("summary ~ reset") == set()


def test_does_not_contain_skips_empty_text(key_set: Keys) -> None:
    assert key_set("summary !~ login") == ALL - {"SALES-3"}
    assert key_set("description !~ cannot") == set()  # only SALES-3 has a description
    assert key_set("description is empty") == ALL - {"SALES-3"}


def test_matches_and_validate_work_without_search(issues: list[Issue], ctx: JqlContext) -> None:
    query = parse("project = SALES AND labels = kr-1")
    query.validate(ctx)
    assert [issue.key for issue in issues if query.matches(issue, ctx)] == ["SALES-1", "SALES-2"]


def test_known_values_reject_unknown_projects_only_when_supplied(issues: list[Issue]) -> None:
    strict = make_context(known_values={"project": ["SALES", "WEB"], "Status": ["To Do", "Done"]})
    assert search(issues, "project = web", strict)[0].key == "WEB-1"
    assert search(issues, "status = 'to do'", strict)
    assert search(issues, "issuetype = Spike", strict) == []  # not listed, so not checked
