"""The CQL subset finds pages by space, title, label, ancestry and type, and refuses the rest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.confluence_cql import CqlError, Facts, parse

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def facts(
    page_id: str,
    title: str,
    *,
    space: str = "OKR",
    labels: tuple[str, ...] = (),
    ancestors: tuple[str, ...] = (),
    day: int = 1,
) -> Facts:
    """Facts for one page; the last ancestor is the parent."""
    return Facts(
        page_id,
        "page",
        space,
        title,
        frozenset(labels),
        frozenset(ancestors),
        ancestors[-1] if ancestors else None,
        T0.replace(day=day),
        T0.replace(day=day),
    )


PAGES = [
    facts("1", "Company OKRs 2026", labels=("okr",), day=1),
    facts("2", "Sales team", labels=("okr", "team"), ancestors=("1",), day=2),
    facts("3", "Sales pipeline", ancestors=("1", "2"), day=3),
    facts("4", "Runbook", space="ENG", day=4),
]


def ids(cql: str) -> list[str]:
    """Ids of the matching pages, in the query's order."""
    query = parse(cql)
    return [f.id for f in query.sort([f for f in PAGES if query.matches(f)])]


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ('space = OKR and title = "Sales team"', ["2"]),
        ('space = "OKR" AND title = "sales TEAM"', ["2"]),
        ('label = "okr"', ["1", "2"]),
        ("ancestor = 1", ["2", "3"]),
        ("parent = 2", ["3"]),
        ("type = page and space = ENG", ["4"]),
        ("type = blogpost", []),
        ('title ~ "sales"', ["2", "3"]),
        ('title !~ "sales" and space != ENG', ["1"]),
        ("label in (team, missing)", ["2"]),
        ("space not in (OKR)", ["4"]),
        ("not (label = okr or space = ENG)", ["3"]),
        ("id = 3 or content = 4", ["3", "4"]),
        ("space = OKR order by title desc", ["2", "3", "1"]),
        ("order by created desc", ["4", "3", "2", "1"]),
    ],
)
def test_supported_queries_find_the_right_pages(cql: str, expected: list[str]) -> None:
    assert ids(cql) == expected


@pytest.mark.parametrize(
    "cql",
    [
        "",
        "creator = bob",
        "title ==",
        "space = OKR and",
        "(space = OKR",
        'label ~ "x"',
        "space = OKR order by colour",
        "space = OKR garbage",
    ],
)
def test_unsupported_or_broken_queries_are_refused(cql: str) -> None:
    with pytest.raises(CqlError):
        parse(cql)


def test_the_refusal_names_the_query_like_confluence() -> None:
    with pytest.raises(CqlError, match=r"^Could not parse cql : creator = bob"):
        parse("creator = bob")


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40))
def test_any_title_can_be_found_exactly_when_quoted(title: str) -> None:
    escaped = title.replace("\\", "\\\\").replace('"', '\\"')
    query = parse(f'title = "{escaped}"')
    assert query.matches(facts("9", title))
    assert not query.matches(facts("9", title + "x"))
