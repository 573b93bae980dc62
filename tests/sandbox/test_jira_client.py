"""The sandbox through atlassian-python-api itself: the client okrbridge's connectors use.

Cloud: `Jira(url, username=email, password=token, cloud=True)`; Data Center: `Jira(url, token=PAT)`.
"""

from __future__ import annotations

from typing import Any

import pytest
from atlassian import Jira
from requests import HTTPError

from sandbox.server import SandboxServer

from .conftest import session_for

VISITS = "project = WEB AND issuetype = Visit"
CONVERTED = "project = WEB AND issuetype = Visit AND labels = converted"


def _cloud(sandbox: SandboxServer, login: str = "alice") -> Jira:
    """A Cloud client signed in with email + API token."""
    return Jira(sandbox.url, username=f"{login}@example.com", password=f"sandbox-token-{login}", cloud=True)


def _dc(sandbox: SandboxServer, login: str = "alice") -> Jira:
    """A Data Center client signed in with a personal access token."""
    return Jira(sandbox.url, token=f"sandbox-pat-{login}")


def test_cloud_counts_with_approximate_issue_count(cloud_sandbox: SandboxServer) -> None:
    jira = _cloud(cloud_sandbox)
    visits = jira.approximate_issue_count(VISITS)["count"]
    converted = jira.approximate_issue_count(CONVERTED)["count"]
    assert visits > 0 and 0.015 < converted / visits < 0.03


def test_cloud_reads_issues_with_enhanced_jql_and_jql(cloud_sandbox: SandboxServer) -> None:
    jira = _cloud(cloud_sandbox)
    # Jira reserves "." in unquoted JQL values, so KR labels must be quoted.
    page = jira.enhanced_jql('issuetype = Epic AND labels = "kr-CO-1.1"', fields="summary,labels", limit=10)
    assert "total" not in page and page["isLast"] is True
    summaries = {issue["key"]: issue["fields"]["summary"] for issue in page["issues"]}
    assert summaries["ENG-1"] == "Self-serve checkout" and len(summaries) == 4
    # `jql` on Cloud delegates to enhanced_jql when start == 0 (and fetches "*all" fields).
    everything: Any = jira.jql("key = ENG-1")
    assert everything["issues"][0]["fields"]["status"]["statusCategory"]["key"] == "indeterminate"


def test_cloud_refuses_unbounded_jql_through_the_client(cloud_sandbox: SandboxServer) -> None:
    with pytest.raises(HTTPError) as caught:
        _cloud(cloud_sandbox).enhanced_jql("order by created")
    assert "Unbounded JQL" in str(caught.value)


def test_data_center_counts_with_jql_limit_zero(dc_sandbox: SandboxServer) -> None:
    jira = _dc(dc_sandbox)
    counted: Any = jira.jql(VISITS, limit=0)
    assert counted["issues"] == [] and counted["total"] == sum(
        1 for i in dc_sandbox.state.issues.values() if i.project == "WEB" and i.issuetype == "Visit")
    second_page: Any = jira.jql(VISITS, start=50, limit=50, fields="summary")
    assert second_page["startAt"] == 50 and len(second_page["issues"]) == 50


def test_remote_links_are_upserted_through_the_client(live_sandbox: SandboxServer) -> None:
    cloud = live_sandbox.state.deployment == "cloud"
    jira = _cloud(live_sandbox, "okrbot") if cloud else _dc(live_sandbox, "okrbot")
    for score in ("0.4", "0.6"):
        jira.create_or_update_issue_remote_links(
            "ENG-1", "https://okr.example.com/kr/ENG-1.1", f"ENG-1.1 (score {score})",
            global_id="okrbridge:ENG-1.1", relationship="drives KR")
    links = jira.get_issue_remote_links("ENG-1")
    assert [link["object"]["title"] for link in links] == ["ENG-1.1 (score 0.6)"]
    one = jira.get_issue_remote_links("ENG-1", global_id="okrbridge:ENG-1.1")
    assert one["relationship"] == "drives KR"
    jira.delete_issue_remote_link_by_id("ENG-1", one["id"])
    assert jira.get_issue_remote_links("ENG-1") == []


def test_epic_issues_user_groups_and_server_info_through_the_client(live_sandbox: SandboxServer) -> None:
    cloud = live_sandbox.state.deployment == "cloud"
    jira = _cloud(live_sandbox, "okrbot") if cloud else _dc(live_sandbox, "okrbot")
    children = jira.epic_issues("ENG-1")
    assert children["total"] > 0
    info: Any = jira.get_server_info()
    assert info["deploymentType"] == ("Cloud" if cloud else "Server")
    members = jira.get_all_users_from_group("okr-executives")
    assert sorted(m["displayName"] for m in members["values"]) == ["Alice Andersen", "Bob Baker"]
    me = jira.myself()
    assert me["emailAddress"] == "okrbot@example.com"
    if cloud:
        groups = jira.get_user_groups(account_id=me["accountId"])
        assert [g["name"] for g in groups] == ["jira-administrators"]


def test_client_survives_one_429_by_honouring_retry_after(cloud_sandbox: SandboxServer) -> None:
    session_for().put(f"{cloud_sandbox.url}/_sandbox/faults", json={"script": ["429"]})
    count = _cloud(cloud_sandbox).approximate_issue_count(VISITS)["count"]
    assert count > 0
    log = session_for().get(f"{cloud_sandbox.url}/_sandbox/requests").json()["requests"]
    assert [entry["status"] for entry in log if "approximate-count" in entry["path"]] == [429, 200]
