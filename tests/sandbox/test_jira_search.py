"""Jira search over real HTTP: Cloud token paging and counts, Data Center offset paging, the removed
Cloud search, unbounded and invalid JQL, epic children, and the clock's effect on relative dates."""

from __future__ import annotations

from functools import cache
from typing import Any

import requests
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.jira_search import SEARCH_REMOVED
from sandbox.jql_eval import UNBOUNDED
from sandbox.server import SandboxServer

from .conftest import api_root, basic_auth, make_app, session_for


def _cloud_pages(sandbox: SandboxServer, jql: str, page_size: int, **extra: Any) -> list[dict[str, Any]]:
    """Every page of a Cloud enhanced search, following nextPageToken."""
    session = session_for()
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"jql": jql, "maxResults": page_size, **extra}
        if token:
            params["nextPageToken"] = token
        response = session.get(f"{api_root(sandbox)}/search/jql", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["isLast"]:
            assert "nextPageToken" not in page
            return pages
        token = page["nextPageToken"]


def _count(sandbox: SandboxServer, jql: str) -> int:
    """Cloud's approximate count for `jql`."""
    response = session_for().post(f"{api_root(sandbox)}/search/approximate-count", json={"jql": jql})
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


def test_following_next_page_tokens_yields_every_issue_exactly_once(cloud_sandbox: SandboxServer) -> None:
    pages = _cloud_pages(cloud_sandbox, "project = ENG ORDER BY created ASC", 37)
    ids = [issue["id"] for page in pages for issue in page["issues"]]
    assert len(ids) == len(set(ids)) == _count(cloud_sandbox, "project = ENG")
    assert len(pages) > 2 and all("total" not in page for page in pages)
    created = [cloud_sandbox.state.find_issue(i).created for i in ids]  # type: ignore[union-attr]
    assert created == sorted(created)


def test_enhanced_search_returns_only_ids_unless_fields_are_asked_for(cloud_sandbox: SandboxServer) -> None:
    bare = _cloud_pages(cloud_sandbox, "key = ENG-1", 10)[0]["issues"]
    assert bare == [{"id": cloud_sandbox.state.issues["ENG-1"].id}]
    full = _cloud_pages(cloud_sandbox, "key = ENG-1", 10, fields="summary,labels")[0]["issues"][0]
    assert full["key"] == "ENG-1"
    assert full["fields"] == {"summary": "Self-serve checkout", "labels": ["kr-ENG-1.1", "kr-CO-1.1"]}


def test_enhanced_search_caps_page_size_like_jira(cloud_sandbox: SandboxServer) -> None:
    session = session_for()
    url = f"{api_root(cloud_sandbox)}/search/jql"
    ids = session.get(url, params={"jql": "project = WEB", "maxResults": "10000"}).json()
    assert len(ids["issues"]) == min(5000, _count(cloud_sandbox, "project = WEB"))
    wide = {"jql": "project = WEB", "maxResults": "10000", "fields": "summary"}
    with_fields = session.get(url, params=wide)
    assert len(with_fields.json()["issues"]) == 100 and with_fields.json()["isLast"] is False


def test_unbounded_jql_is_refused_by_cloud_search_and_count(cloud_sandbox: SandboxServer) -> None:
    session = session_for()
    root = api_root(cloud_sandbox)
    for response in (session.get(f"{root}/search/jql", params={"jql": "ORDER BY created DESC"}),
                     session.post(f"{root}/search/jql", json={"jql": ""}),
                     session.post(f"{root}/search/approximate-count", json={"jql": "order by key"})):
        assert response.status_code == 400
        assert response.json() == {"errorMessages": [UNBOUNDED], "errors": {}}


def test_removed_search_answers_410_with_atlassians_body_on_cloud(cloud_sandbox: SandboxServer) -> None:
    session = session_for()
    for version in ("2", "3", "latest"):
        url = f"{cloud_sandbox.url}/rest/api/{version}/search"
        for response in (session.get(url, params={"jql": "project = ENG"}),
                         session.post(url, json={"jql": "project = ENG"})):
            assert response.status_code == 410
            assert response.json() == {"errorMessages": [SEARCH_REMOVED], "errors": {}}


def test_data_center_search_pages_by_offset_and_reports_the_total(dc_sandbox: SandboxServer) -> None:
    session = session_for(bearer=True)
    url = f"{api_root(dc_sandbox)}/search"
    total = session.get(url, params={"jql": "project = SALES", "maxResults": "0"}).json()
    assert total["issues"] == [] and total["maxResults"] == 0 and total["total"] > 50
    keys: list[str] = []
    start = 0
    while start < total["total"]:
        page = session.get(url, params={"jql": "project = SALES", "startAt": str(start), "maxResults": "25",
                                        "fields": "summary"}).json()
        assert page["startAt"] == start and page["total"] == total["total"]
        keys.extend(issue["key"] for issue in page["issues"])
        start += len(page["issues"])
    assert len(keys) == len(set(keys)) == total["total"]


def test_data_center_accepts_unbounded_jql_and_caps_pages_at_1000(dc_sandbox: SandboxServer) -> None:
    page = session_for().get(f"{api_root(dc_sandbox)}/search", params={"maxResults": 5000}).json()
    assert page["total"] == len(dc_sandbox.state.issues)
    assert page["maxResults"] == 1000 and len(page["issues"]) == 1000


def test_data_center_serves_neither_v3_nor_enhanced_search(dc_sandbox: SandboxServer) -> None:
    session = session_for()
    v3 = session.get(f"{dc_sandbox.url}/rest/api/3/search", params={"jql": "project = ENG"})
    assert v3.status_code == 404
    enhanced = session.get(f"{dc_sandbox.url}/rest/api/2/search/jql", params={"jql": "project = ENG"})
    assert enhanced.status_code == 404 and enhanced.json()["errorMessages"][0].startswith("null for uri")


def test_jql_errors_answer_400_with_the_engines_message(live_sandbox: SandboxServer) -> None:
    session = session_for()
    path = "search/jql" if live_sandbox.state.deployment == "cloud" else "search"
    bad_syntax = session.get(f"{api_root(live_sandbox)}/{path}", params={"jql": "project = = ENG"})
    assert bad_syntax.status_code == 400
    assert bad_syntax.json()["errorMessages"][0].startswith("Error in the JQL Query")
    unknown = session.get(f"{api_root(live_sandbox)}/{path}", params={"jql": "project = NOPE"})
    assert unknown.status_code == 400
    assert "NOPE" in unknown.json()["errorMessages"][0]


def test_page_tokens_are_tied_to_their_query(cloud_sandbox: SandboxServer) -> None:
    first = _cloud_pages(cloud_sandbox, "project = ENG", 5)[0]
    url = f"{api_root(cloud_sandbox)}/search/jql"
    other = session_for().get(url, params={"jql": "project = WEB", "nextPageToken": first["nextPageToken"]})
    garbage = session_for().get(url, params={"jql": "project = ENG", "nextPageToken": "not-a-token"})
    assert other.status_code == garbage.status_code == 400


def test_epic_children_follow_parent_on_cloud_and_epic_link_on_data_center(
        live_sandbox: SandboxServer) -> None:
    session = session_for()
    cloud = live_sandbox.state.deployment == "cloud"
    epic_url = f"{live_sandbox.url}/rest/agile/1.0/epic/ENG-1/issue"
    agile = session.get(epic_url, params={"maxResults": "500"}).json()
    jql = "parent = ENG-1" if cloud else '"Epic Link" = ENG-1'
    path = "search/jql" if cloud else "search"
    found = session.get(f"{api_root(live_sandbox)}/{path}", params={"jql": jql, "maxResults": "500"}).json()
    assert agile["total"] == len(found["issues"]) > 0
    child = agile["issues"][0]["fields"]
    if cloud:
        assert child["parent"]["key"] == "ENG-1"
    else:
        assert child["customfield_10014"] == "ENG-1" and "parent" not in child
    not_epic = session.get(f"{live_sandbox.url}/rest/agile/1.0/epic/{agile['issues'][0]['key']}/issue")
    assert not_epic.status_code == 400


def test_moving_the_clock_changes_relative_date_results(cloud_sandbox: SandboxServer) -> None:
    jql = "project = WEB AND created >= -7d"
    before = _count(cloud_sandbox, jql)
    moved = requests.put(f"{cloud_sandbox.url}/_sandbox/clock", json={"today": "2026-03-01"})
    assert moved.status_code == 200 and moved.json()["today"] == "2026-03-01"
    in_march = _count(cloud_sandbox, jql)
    later = requests.put(f"{cloud_sandbox.url}/_sandbox/clock", json={"now": "2027-03-01T00:00:00Z"})
    assert later.status_code == 200
    assert before > 0 and in_march > 0 and in_march != before
    assert _count(cloud_sandbox, jql) == 0   # nothing was created in the week before 2027-03-01


def test_repeated_queries_are_served_from_the_cache_and_timed_in_the_log(
        cloud_sandbox: SandboxServer) -> None:
    requests.delete(f"{cloud_sandbox.url}/_sandbox/requests")
    jql = "project = MKT AND statusCategory = Done"
    first, second = _count(cloud_sandbox, jql), _count(cloud_sandbox, jql)
    assert first == second
    log = requests.get(f"{cloud_sandbox.url}/_sandbox/requests").json()
    counts = [entry for entry in log["requests"] if entry["path"].endswith("approximate-count")]
    assert len(counts) == 2 and counts[0]["eval_ms"] > 0 and counts[0]["status"] == 200
    stats = requests.get(f"{cloud_sandbox.url}/_sandbox/stats").json()["jql"]
    assert stats["cache_hits"] >= 1 and stats["evaluations"] >= 1


@cache
def _shared_app() -> Flask:
    """One read-only Cloud app for the property test (hypothesis reruns the body many times)."""
    return make_app("cloud")


_QUERIES = ("project = WEB", "project = ENG ORDER BY priority DESC", "statusCategory != Done",
            "project in (SALES, MKT) ORDER BY created ASC")


@settings(max_examples=25, deadline=None)
@given(page_size=st.integers(min_value=1, max_value=250), jql=st.sampled_from(_QUERIES))
def test_any_page_size_pages_through_the_same_ordered_results(page_size: int, jql: str) -> None:
    client = _shared_app().test_client()
    everything = client.get("/rest/api/3/search/jql", query_string={"jql": jql, "maxResults": 5000},
                            headers=basic_auth("alice")).json
    assert everything is not None
    paged: list[str] = []
    token = None
    while True:
        query: dict[str, Any] = {"jql": jql, "maxResults": page_size}
        if token:
            query["nextPageToken"] = token
        page = client.get("/rest/api/3/search/jql", query_string=query, headers=basic_auth("alice")).json
        assert page is not None
        paged.extend(issue["id"] for issue in page["issues"])
        if page["isLast"]:
            break
        token = page["nextPageToken"]
    assert paged == [issue["id"] for issue in everything["issues"]]


def test_a_data_change_invalidates_cached_results(cloud_sandbox: SandboxServer) -> None:
    jql = 'labels = "fresh-label"'
    assert _count(cloud_sandbox, jql) == 0
    state = cloud_sandbox.state
    state.issues["ENG-1"].labels.append("fresh-label")
    assert _count(cloud_sandbox, jql) == 0        # same data version: the cached answer stands
    state.touch()
    assert _count(cloud_sandbox, jql) == 1
