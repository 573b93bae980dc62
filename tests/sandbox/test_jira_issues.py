"""Jira issues over real HTTP: field shapes per deployment, remote links upserted by globalId, and
issue properties."""

from __future__ import annotations

import re
from typing import Any

import requests

from sandbox.errors import ISSUE_NOT_FOUND
from sandbox.server import SandboxServer

from .conftest import api_root, session_for

JIRA_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def _done_child(sandbox: SandboxServer) -> str:
    """The key of a finished story of ENG-1."""
    return next(i.key for i in sandbox.state.issues.values()
                if i.parent == "ENG-1" and i.status == "Done" and i.issuetype == "Story")


def test_issue_fields_carry_status_category_type_labels_and_jira_timestamps(
        live_sandbox: SandboxServer) -> None:
    key = _done_child(live_sandbox)
    fields = session_for().get(f"{api_root(live_sandbox)}/issue/{key}").json()["fields"]
    assert fields["status"]["name"] == "Done"
    category = fields["status"]["statusCategory"]
    assert (category["key"], category["name"], category["colorName"]) == ("done", "Done", "green")
    assert fields["issuetype"]["name"] == "Story" and fields["project"]["key"] == "ENG"
    assert fields["resolution"]["name"] == "Done"
    for name in ("created", "updated", "resolutiondate"):
        assert JIRA_TIMESTAMP.match(fields[name]), fields[name]
    assert fields["customfield_10016"] in (1, 2, 3, 5, 8, 13)
    assert fields["customfield_10050"] > 0
    if live_sandbox.state.deployment == "cloud":
        assert fields["parent"]["key"] == "ENG-1" and "customfield_10014" not in fields
        assert fields["statusCategory"]["key"] == "done"
    else:
        assert fields["customfield_10014"] == "ENG-1" and "parent" not in fields


def test_open_issue_has_no_resolution(live_sandbox: SandboxServer) -> None:
    epic = session_for().get(f"{api_root(live_sandbox)}/issue/ENG-1").json()["fields"]
    assert epic["status"]["statusCategory"]["key"] == "indeterminate"
    assert epic["resolution"] is None and epic["resolutiondate"] is None
    assert epic["labels"] == ["kr-ENG-1.1", "kr-CO-1.1"] and epic["summary"] == "Self-serve checkout"


def test_issue_is_found_by_numeric_id_and_unknown_issues_answer_404(live_sandbox: SandboxServer) -> None:
    session = session_for()
    root = api_root(live_sandbox)
    by_id = session.get(f"{root}/issue/{live_sandbox.state.issues['ENG-1'].id}").json()
    assert by_id["key"] == "ENG-1"
    missing = session.get(f"{root}/issue/ENG-99999")
    assert missing.status_code == 404
    assert missing.json() == {"errorMessages": [ISSUE_NOT_FOUND], "errors": {}}


def test_fields_parameter_selects_and_excludes_fields(cloud_sandbox: SandboxServer) -> None:
    url = f"{api_root(cloud_sandbox)}/issue/ENG-1"
    chosen = session_for().get(url, params={"fields": "summary,status"}).json()["fields"]
    assert set(chosen) == {"summary", "status"}
    without = session_for().get(url, params={"fields": "*all,-description"}).json()["fields"]
    assert "description" not in without and "summary" in without


def test_description_is_a_document_on_v3_and_text_on_v2(cloud_sandbox: SandboxServer) -> None:
    session = session_for()
    v3 = session.get(f"{cloud_sandbox.url}/rest/api/3/issue/ENG-1").json()["fields"]["description"]
    v2 = session.get(f"{cloud_sandbox.url}/rest/api/2/issue/ENG-1").json()["fields"]["description"]
    assert v3["type"] == "doc" and v3["content"][0]["content"][0]["text"] == v2
    assert v2.startswith("Initiative for ENG-1.1")


def _link(global_id: str | None, title: str) -> dict[str, Any]:
    """A remote-link body."""
    body: dict[str, Any] = {"object": {"url": f"https://okr.example.com/{title}", "title": title}}
    if global_id:
        body["globalId"] = global_id
    return body


def test_posting_an_existing_global_id_updates_that_link(live_sandbox: SandboxServer) -> None:
    session = session_for("okrbot")
    url = f"{api_root(live_sandbox)}/issue/ENG-1/remotelink"
    created = session.post(url, json=_link("okr:CO-1.1", "first"))
    updated = session.post(url, json=_link("okr:CO-1.1", "second"))
    assert (created.status_code, updated.status_code) == (201, 200)
    assert created.json()["id"] == updated.json()["id"]
    assert created.json()["self"].endswith(f"/issue/ENG-1/remotelink/{created.json()['id']}")
    links = session.get(url).json()
    assert [link["object"]["title"] for link in links] == ["second"]
    one = session.get(url, params={"globalId": "okr:CO-1.1"}).json()
    assert one["id"] == created.json()["id"] and one["globalId"] == "okr:CO-1.1"


def test_links_without_global_id_are_always_new(cloud_sandbox: SandboxServer) -> None:
    session = session_for("okrbot")
    url = f"{api_root(cloud_sandbox)}/issue/WEB-1/remotelink"
    statuses = [session.post(url, json=_link(None, "x")).status_code for _ in range(2)]
    other = session.post(url, json=_link("okr:other", "y")).status_code
    assert statuses == [201, 201] and other == 201
    assert len(session.get(url).json()) == 3


def test_remote_links_are_updated_and_deleted_by_id_or_global_id(cloud_sandbox: SandboxServer) -> None:
    session = session_for("okrbot")
    url = f"{api_root(cloud_sandbox)}/issue/ENG-2/remotelink"
    link_id = session.post(url, json=_link("okr:ENG-1.2", "a")).json()["id"]
    assert session.put(f"{url}/{link_id}", json=_link("okr:ENG-1.2", "b")).status_code == 204
    assert session.get(f"{url}/{link_id}").json()["object"]["title"] == "b"
    assert session.delete(url, params={"globalId": "okr:ENG-1.2"}).status_code == 204
    assert session.get(f"{url}/{link_id}").status_code == 404
    assert session.delete(url, params={"globalId": "okr:ENG-1.2"}).status_code == 404
    second = session.post(url, json=_link(None, "c")).json()["id"]
    assert session.delete(f"{url}/{second}").status_code == 204
    assert session.get(url).json() == []
    assert session.get(f"{api_root(cloud_sandbox)}/issue/NOPE-1/remotelink").status_code == 404


def test_remote_link_without_url_is_refused_with_field_errors(cloud_sandbox: SandboxServer) -> None:
    response = session_for().post(f"{api_root(cloud_sandbox)}/issue/ENG-1/remotelink",
                                  json={"object": {"title": "no url"}})
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [], "errors": {"url": "'url' is required."}}


def test_issue_properties_are_created_replaced_listed_and_deleted(live_sandbox: SandboxServer) -> None:
    session = session_for("okrbot")
    base = f"{api_root(live_sandbox)}/issue/ENG-1/properties"
    assert session.get(base).json() == {"keys": []}
    assert session.put(f"{base}/okr", json={"score": 0.5}).status_code == 201
    assert session.put(f"{base}/okr", json={"score": 0.7}).status_code == 200
    assert session.get(f"{base}/okr").json() == {"key": "okr", "value": {"score": 0.7}}
    listed = session.get(base).json()["keys"]
    assert [item["key"] for item in listed] == ["okr"] and listed[0]["self"].endswith("/properties/okr")
    issue = session.get(f"{api_root(live_sandbox)}/issue/ENG-1", params={"properties": "okr"}).json()
    assert issue["properties"] == {"okr": {"score": 0.7}}
    assert session.delete(f"{base}/okr").status_code == 204
    assert session.delete(f"{base}/okr").status_code == 404
    bad = session.put(f"{base}/okr", data="{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400


def test_unknown_rest_paths_answer_jira_json_404(cloud_sandbox: SandboxServer) -> None:
    response = requests.get(f"{cloud_sandbox.url}/rest/api/3/nothing/here", headers=session_for().headers)
    assert response.status_code == 404
    assert response.json()["errorMessages"] == [f"null for uri: {cloud_sandbox.url}/rest/api/3/nothing/here"]
