"""Parsing: precedence, quoting and escapes, case-insensitivity, boundedness, caching."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sandbox.jql import JqlError, parse
from sandbox.jql.nodes import Compare, Literal

Keys = Callable[[str], set[str]]

ALL = {"SALES-1", "SALES-2", "SALES-3", "SALES-10", "SALES-11", "WEB-1"}


def test_and_binds_tighter_than_or(key_set: Keys) -> None:
    assert key_set("project = WEB OR project = SALES AND issuetype = Bug") == {"WEB-1", "SALES-3"}


def test_parentheses_override_precedence(key_set: Keys) -> None:
    assert key_set("(project = WEB OR project = SALES) AND issuetype = Bug") == {"SALES-3"}


def test_not_binds_tighter_than_and(key_set: Keys) -> None:
    assert key_set("NOT project = WEB AND issuetype = Story") == {"SALES-1", "SALES-2", "SALES-11"}


def test_not_before_parentheses_negates_the_whole_group(key_set: Keys) -> None:
    assert key_set("NOT (project = WEB AND issuetype = Task)") == ALL - {"WEB-1"}


def test_double_negation_cancels(key_set: Keys) -> None:
    assert key_set("NOT NOT project = WEB") == {"WEB-1"}


def test_a_or_b_and_c_or_d_groups_the_and_pair_only(key_set: Keys) -> None:
    jql = "issuetype = Epic OR project = WEB AND issuetype = Bug OR priority = High"
    assert key_set(jql) == {"SALES-10", "SALES-1"}


def test_symbolic_logical_operators_mean_and_or_not(key_set: Keys) -> None:
    assert key_set("project = WEB || issuetype = Bug") == {"WEB-1", "SALES-3"}
    assert key_set("project = SALES && issuetype = Bug") == {"SALES-3"}
    assert key_set("project = SALES & issuetype = Bug | project = WEB") == {"SALES-3", "WEB-1"}
    assert key_set("!project = SALES") == {"WEB-1"}


def test_keywords_operators_and_functions_are_case_insensitive(key_set: Keys) -> None:
    assert key_set("PROJECT = sales aNd ISSUETYPE = story Or assignee iS EmPtY oRdEr By key") == {
        "SALES-1",
        "SALES-2",
        "SALES-11",
        "SALES-3",
        "WEB-1",
    }
    assert key_set("assignee = CURRENTUSER() AND created >= STARTOFMONTH()") == {"SALES-1"}
    assert key_set("status In (done) AND labels Not In (kr-2)") == {"SALES-2"}


def test_field_names_are_case_insensitive(key_set: Keys) -> None:
    assert key_set("StatusCategory = Done") == key_set("statuscategory = done") == {"SALES-2", "SALES-11"}
    assert key_set('"story points" = 3') == {"SALES-1"}


def test_values_may_use_either_quote_style(key_set: Keys) -> None:
    assert key_set('status = "In Progress"') == key_set("status = 'In Progress'") == {"SALES-3"}


def test_double_quoted_string_decodes_escaped_quotes() -> None:
    where = parse(r'summary ~ "say \"hi\" now"').where
    assert isinstance(where, Compare)
    assert where.operand == Literal('say "hi" now', quoted=True)


def test_single_quoted_string_decodes_escaped_apostrophe(key_set: Keys) -> None:
    assert key_set(r"resolution = 'Won\'t Do'") == {"SALES-11"}
    assert key_set('resolution = "Won\'t Do"') == {"SALES-11"}


def test_unicode_escapes_allow_reserved_characters_in_bare_words(key_set: Keys) -> None:
    assert key_set(r"assignee = alice\u0040example\u002ecom") == {"SALES-1"}


def test_escaped_newline_and_backslash_decode() -> None:
    where = parse(r'summary ~ "a\nb\\c"').where
    assert isinstance(where, Compare)
    assert where.operand == Literal("a\nb\\c", quoted=True)


def test_field_names_with_spaces_are_quoted(key_set: Keys) -> None:
    assert key_set('"Story Points" > 4') == {"SALES-2"}
    assert key_set("'Epic Link' = SALES-10") == {"SALES-11"}


def test_quoted_reserved_word_is_an_ordinary_value(key_set: Keys) -> None:
    assert key_set('labels = "start"') == set()


def test_queries_may_span_lines(key_set: Keys) -> None:
    assert key_set("project = SALES\n  AND labels = kr-1\nORDER BY key") == {"SALES-1", "SALES-2"}


def test_empty_query_matches_everything_and_is_unbounded(key_set: Keys) -> None:
    assert key_set("") == ALL
    assert key_set("   \n ") == ALL
    assert parse("").is_bounded is False


def test_order_by_alone_is_unbounded() -> None:
    assert parse("ORDER BY created DESC").is_bounded is False


def test_any_restriction_makes_a_query_bounded() -> None:
    assert parse("project = SALES").is_bounded is True
    assert parse("created > -30d ORDER BY key").is_bounded is True


def test_parse_is_cached_per_text() -> None:
    assert parse("project = SALES AND labels = kr-1") is parse("project = SALES AND labels = kr-1")


def test_long_or_chains_parse_without_recursion_trouble() -> None:
    jql = " OR ".join(f"labels = l{i}" for i in range(3000))
    assert parse(jql).is_bounded


def test_deep_nesting_is_a_jql_error_or_a_query_never_a_crash() -> None:
    jql = "(" * 3000 + "project = SALES" + ")" * 3000
    try:
        parse(jql)
    except JqlError as error:
        assert error.message.startswith("Error in the JQL Query:")


@pytest.mark.parametrize("jql", ["project = SALES order by key asc, created desc", "order by created"])
def test_order_by_keywords_are_case_insensitive(jql: str) -> None:
    assert parse(jql).order_by
