"""Every Jira endpoint the sandbox serves answers as Atlassian's published OpenAPI document says.

Real HTTP against a live sandbox per deployment; each exchange (request and response) is validated
with `contract.validate`. Data Center's v2 paths are checked against the v3 operation of the same
shape (see contract.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from sandbox.server import SandboxServer

from . import contract
from .conftest import api_root, session_for

Validate = Callable[..., Any]


def test_search_jql_get_and_post_match_the_contract_on_cloud(
        cloud_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for()
    root = api_root(cloud_sandbox)
    first = session.get(f"{root}/search/jql", params={"jql": "project = ENG", "maxResults": "5",
                                                        "fields": "summary,status,parent,labels"})
    body = jira_contract(first)
    assert first.status_code == 200 and body["isLast"] is False and len(body["issues"]) == 5
    following = session.post(f"{root}/search/jql", json={
        "jql": "project = ENG", "maxResults": 5, "fields": ["*all"], "expand": "names",
        "nextPageToken": body["nextPageToken"]})
    assert following.status_code == 200
    jira_contract(following)
    ids_only = session.get(f"{root}/search/jql", params={"jql": "project = WEB"})
    assert jira_contract(ids_only)["issues"][0].keys() == {"id"}


def test_search_jql_errors_match_the_contract(cloud_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for()
    root = api_root(cloud_sandbox)
    unbounded = session.get(f"{root}/search/jql", params={"jql": "order by created"})
    assert unbounded.status_code == 400
    jira_contract(unbounded)
    anonymous = requests.get(f"{root}/search/jql", params={"jql": "project = ENG"})
    assert anonymous.status_code == 401
    jira_contract(anonymous)


def test_approximate_count_matches_the_contract(
        cloud_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for()
    for version in ("2", "3"):
        response = session.post(f"{cloud_sandbox.url}/rest/api/{version}/search/approximate-count",
                                json={"jql": "project = WEB AND issuetype = Visit"})
        assert response.status_code == 200
        assert jira_contract(response)["count"] > 0
    url = f"{cloud_sandbox.url}/rest/api/3/search/approximate-count"
    bad = session.post(url, json={"jql": "project = = x"})
    assert bad.status_code == 400
    jira_contract(bad)


def test_data_center_search_matches_the_search_results_shape(
        dc_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for(bearer=True)
    root = api_root(dc_sandbox)
    page = session.get(f"{root}/search", params={"jql": "project = SALES", "maxResults": "3",
                                                  "fields": "summary,status,customfield_10014"})
    body = jira_contract(page)
    assert body["total"] > 3 and len(body["issues"]) == 3
    count = session.post(f"{root}/search", json={"jql": "project = SALES", "maxResults": 0})
    assert jira_contract(count)["issues"] == []


def test_issue_matches_the_contract_in_both_deployments(
        live_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for()
    root = api_root(live_sandbox)
    for key in ("ENG-1", "ENG-40", "WEB-30", "SALES-20"):
        response = session.get(f"{root}/issue/{key}", params={"expand": "names,changelog"})
        assert response.status_code == 200, response.text
        jira_contract(response)
    missing = session.get(f"{root}/issue/NOPE-1")
    assert missing.status_code == 404
    jira_contract(missing)


def test_remote_link_operations_match_the_contract(
        live_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for("okrbot")
    base = f"{api_root(live_sandbox)}/issue/ENG-1/remotelink"
    link: dict[str, Any] = {"globalId": "okrbridge:kr:ENG-1.1", "relationship": "drives",
            "application": {"type": "okrbridge", "name": "okrbridge"},
            "object": {"url": "https://okr.example.com/kr/ENG-1.1", "title": "ENG-1.1 Checkout conversion",
                       "summary": "Score 0.6", "status": {"resolved": False},
                       "icon": {"url16x16": "https://okr.example.com/favicon.png", "title": "KR"}}}
    created = session.post(base, json=link)
    assert created.status_code == 201
    link_id = jira_contract(created)["id"]
    updated = session.post(base, json=dict(link, object=dict(link["object"], summary="Score 0.7")))
    assert updated.status_code == 200
    jira_contract(updated)
    jira_contract(session.get(base))                                   # the list (an array)
    jira_contract(session.get(base, params={"globalId": link["globalId"]}))
    jira_contract(session.get(f"{base}/{link_id}"))
    put = session.put(f"{base}/{link_id}", json=dict(link, relationship="relates to"))
    assert put.status_code == 204
    jira_contract(put)
    invalid = session.post(base, json={"object": {"url": "https://x"}})   # no title: refused
    assert invalid.status_code == 400
    assert jira_contract(invalid, check_request=False)["errors"] == {"title": "'title' is required."}
    by_id = session.delete(f"{base}/{link_id}")
    assert by_id.status_code == 204
    jira_contract(by_id)
    session.post(base, json=link)
    by_global = session.delete(base, params={"globalId": link["globalId"]})
    assert by_global.status_code == 204
    jira_contract(by_global)


def test_comment_operations_match_the_contract(live_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for("okrbot")
    base = f"{api_root(live_sandbox)}/issue/ENG-1/comment"
    cloud = live_sandbox.state.deployment == "cloud"
    text = "ENG-1.1 has had no fresh value since 2026-03-17."
    body: Any = ({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}]} if cloud else text)
    created = session.post(base, json={"body": body})
    assert created.status_code == 201
    comment = jira_contract(created)
    assert comment["body"] == body and comment["author"]["displayName"]
    listed = jira_contract(session.get(base, params={"maxResults": "10", "orderBy": "-created"}))
    assert listed["total"] == 1 and listed["comments"][0]["id"] == comment["id"]
    # v3 takes a document, v2 a string: each refuses the other kind
    other_kind: Any = text if cloud else {"type": "doc", "version": 1, "content": []}
    wrong_kind = session.post(base, json={"body": other_kind})
    assert wrong_kind.status_code == 400
    jira_contract(wrong_kind)
    empty = session.post(base, json={"body": ""})
    assert empty.status_code == 400
    assert jira_contract(empty)["errors"] == {"comment": "Comment body can not be empty!"}
    missing = session.post(f"{api_root(live_sandbox)}/issue/NOPE-404/comment", json={"body": body})
    assert missing.status_code == 404
    jira_contract(missing)


def test_issue_property_operations_match_the_contract(
        live_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for("okrbot")
    url = f"{api_root(live_sandbox)}/issue/ENG-1/properties/okrbridge.krs"
    created = session.put(url, json={"krs": ["ENG-1.1"]})
    assert created.status_code == 201
    jira_contract(created)
    replaced = session.put(url, json={"krs": ["ENG-1.1", "CO-1.1"]})
    assert replaced.status_code == 200
    jira_contract(replaced)
    read = session.get(url)
    assert jira_contract(read) == {"key": "okrbridge.krs", "value": {"krs": ["ENG-1.1", "CO-1.1"]}}
    deleted = session.delete(url)
    assert deleted.status_code == 204
    jira_contract(deleted)
    gone = session.get(url)
    assert gone.status_code == 404
    jira_contract(gone)


def test_user_and_group_operations_match_the_contract(
        live_sandbox: SandboxServer, jira_contract: Validate) -> None:
    session = session_for()
    root = api_root(live_sandbox)
    me = jira_contract(session.get(f"{root}/myself", params={"expand": "groups"}))
    assert "okr-executives" in [g["name"] for g in me["groups"]["items"]]
    cloud = live_sandbox.state.deployment == "cloud"
    who = {"accountId": me["accountId"]} if cloud else {"username": "bob"}
    groups = session.get(f"{root}/user/groups", params=who)
    assert groups.status_code == 200
    # Data Center names users with `username=`, which Cloud's document does not know: answer only.
    assert jira_contract(groups, check_request=cloud)
    members = session.get(f"{root}/group/member", params={"groupname": "okr-executives", "maxResults": "1"})
    page = jira_contract(members)
    assert page["total"] == 2 and page["isLast"] is False and "nextPage" in page
    forbidden = session_for("frank").get(f"{root}/group/member", params={"groupname": "okr-executives"})
    assert forbidden.status_code == 403
    jira_contract(forbidden)


def test_server_info_matches_the_contract_anonymously(
        live_sandbox: SandboxServer, jira_contract: Validate) -> None:
    response = requests.get(f"{api_root(live_sandbox)}/serverInfo")
    info = jira_contract(response)
    expected = "Cloud" if live_sandbox.state.deployment == "cloud" else "Server"
    assert info["deploymentType"] == expected


def test_the_field_list_matches_the_contract_in_both_deployments(
        live_sandbox: SandboxServer, jira_contract: Validate) -> None:
    fields = jira_contract(session_for().get(f"{api_root(live_sandbox)}/field"))
    by_name = {f["name"]: f for f in fields}
    points = by_name["Story Points"]
    assert points["id"] == "customfield_10016" and points["custom"] is True
    assert points["clauseNames"] == ["cf[10016]", "Story Points"] and points["schema"]["type"] == "number"
    assert by_name["Summary"]["schema"] == {"type": "string", "system": "summary"}
    # Cloud lists each field's key (its id); Data Center has no such property.
    cloud = live_sandbox.state.deployment == "cloud"
    assert all(("key" in f) == cloud for f in fields)
    assert len({f["id"] for f in fields}) == len(fields)


@responses.activate
def test_the_contract_check_rejects_answers_that_break_the_document() -> None:
    contract.load_spec("jira")
    url = "http://jira.test/rest/api/3/search/jql"
    responses.get(url, json={"issues": [], "isLast": "no", "total": 3})
    with pytest.raises(contract.ContractViolation, match="isLast"):
        contract.validate("jira", requests.get(url, params={"jql": "project = X"}, auth=("a@b.c", "t")))
    responses.get("http://jira.test/rest/api/3/myself", json={"accountId": "x", "shoeSize": 44})
    with pytest.raises(contract.ContractViolation, match="shoeSize"):
        contract.validate("jira", requests.get("http://jira.test/rest/api/3/myself", auth=("a@b.c", "t")))


def test_the_contract_check_accepts_jira_timestamps_but_not_other_date_formats() -> None:
    assert contract._is_timestamp("2026-05-01T12:00:00.000+0000")
    assert contract._is_timestamp("2026-05-01T12:00:00Z")
    assert not contract._is_timestamp("01/05/2026 12:00")
