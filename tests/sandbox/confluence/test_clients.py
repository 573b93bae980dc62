"""Real clients against a running sandbox: atlassian-python-api's Confluence (Server class) on the
Data Center prefix, and raw `requests` on the Cloud prefix (the Cloud class cannot create or
update pages)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from atlassian import Confluence
from requests import HTTPError

from sandbox.server import SandboxServer

from .support import STORAGE, make_state, page_body


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A running sandbox with the test cast."""
    with SandboxServer(make_state()) as running:
        yield running


@pytest.fixture
def confluence(server: SandboxServer) -> Confluence:
    """atlassian-python-api signed in with a Data Center username and token."""
    client = Confluence(url=server.url, username="alice", password="token-alice")
    assert type(client._impl).__name__ == "Server"
    return client


def test_server_client_creates_finds_and_updates_a_page(confluence: Confluence) -> None:
    created = confluence.create_page("OKR", "Company OKRs 2026", STORAGE)
    page_id = created["id"]
    found = confluence.get_page_by_title("OKR", "Company OKRs 2026")
    assert [page["id"] for page in found["results"]] == [page_id]
    assert confluence.page_exists("OKR", "Company OKRs 2026")
    assert not confluence.page_exists("OKR", "Nothing like it")
    assert confluence.get_page_id("OKR", "Company OKRs 2026") == page_id

    updated = confluence.update_page(
        page_id, "Company OKRs 2026", "<p>Grades are in.</p>", version_comment="nightly publish"
    )
    assert updated["version"]["number"] == 2
    page = confluence.get_page_by_id(page_id, expand="body.storage,version")
    assert page["body"]["storage"]["value"] == "<p>Grades are in.</p>"
    assert page["version"]["message"] == "nightly publish"


def test_update_page_skips_the_put_when_the_body_is_unchanged(confluence: Confluence) -> None:
    page_id = confluence.create_page("OKR", "Stable", "<p>Same</p>")["id"]
    confluence.update_page(page_id, "Stable", "<p>Same</p>")
    assert confluence.history(page_id)["lastUpdated"]["number"] == 1
    confluence.update_page(page_id, "Stable", "<p>Same</p>", always_update=True)
    assert confluence.history(page_id)["lastUpdated"]["number"] == 2


def test_server_client_refuses_a_duplicate_title_with_confluences_message(confluence: Confluence) -> None:
    confluence.create_page("OKR", "Twice", "<p>1</p>")
    with pytest.raises(
        HTTPError,
        match="A page with this title already exists: A page already exists with the "
        "title Twice in the space with key OKR",
    ):
        confluence.create_page("OKR", "Twice", "<p>2</p>")


def test_server_client_labels_children_properties_and_restrictions(confluence: Confluence) -> None:
    parent = confluence.create_page("OKR", "Teams", "<p>teams</p>")["id"]
    children = [
        confluence.create_page("OKR", f"Team {n}", "<p>t</p>", parent_id=parent)["id"] for n in range(3)
    ]
    confluence.set_page_label(children[0], "okr")
    confluence.set_page_label(children[0], "team-sales")
    labels = confluence.get_page_labels(children[0])
    assert [label["name"] for label in labels["results"]] == ["okr", "team-sales"]
    confluence.remove_page_label(children[0], "team-sales")
    assert [label["name"] for label in confluence.get_page_labels(children[0])["results"]] == ["okr"]

    assert [child["id"] for child in confluence.get_page_child_by_type(parent)] == children
    assert [c["id"] for c in confluence.get_page_child_by_type(parent, start=0, limit=2)] == children[:2]
    every = list(confluence.get_all_pages_from_space_as_generator("OKR", limit=2))
    assert {parent, *children} <= {page["id"] for page in every}

    confluence.set_page_property(parent, {"key": "okrbridge", "value": {"hash": "abc"}})
    assert confluence.get_page_property(parent, "okrbridge")["value"] == {"hash": "abc"}
    assert [prop["key"] for prop in confluence.get_page_properties(parent)] == ["okrbridge"]

    confluence.set_restrictions_for_content(
        parent,
        [
            {
                "operation": "read",
                "restrictions": {
                    "group": [{"type": "group", "name": "okr-executives"}],
                    "user": [{"type": "known", "username": "bot"}],
                },
            }
        ],
    )
    by_operation = confluence.get_all_restrictions_for_content(parent)
    assert [g["name"] for g in by_operation["read"]["restrictions"]["group"]["results"]] == ["okr-executives"]
    outsider = Confluence(url=confluence.url, username="carol", password="token-carol")
    assert not outsider.page_exists("OKR", "Team 0")


def test_cloud_prefix_serves_the_same_flow_to_raw_requests(server: SandboxServer) -> None:
    session = requests.Session()
    session.auth = ("alice@example.com", "token-alice")
    api = f"{server.url}/wiki/rest/api"
    created = session.post(f"{api}/content", json=page_body("Cloud page", STORAGE), timeout=10)
    assert created.status_code == 200
    page = created.json()
    assert page["_links"]["base"] == f"{server.url}/wiki"
    viewed = session.get(page["_links"]["base"] + page["_links"]["webui"], timeout=10)
    assert viewed.status_code == 200 and "ON TRACK" in viewed.text

    found = session.get(
        f"{api}/content", params={"spaceKey": "OKR", "title": "Cloud page", "expand": "version"}, timeout=10
    ).json()["results"][0]
    update: dict[str, Any] = {
        "type": "page",
        "title": "Cloud page",
        "version": {"number": found["version"]["number"] + 1},
        "body": {"storage": {"value": "<p>v2</p>", "representation": "storage"}},
    }
    assert (
        session.put(f"{api}/content/{page['id']}", json=update, timeout=10).json()["version"]["number"] == 2
    )
    assert session.put(f"{api}/content/{page['id']}", json=update, timeout=10).status_code == 409
    session.post(f"{api}/content/{page['id']}/label", json=[{"prefix": "global", "name": "okr"}], timeout=10)
    search = session.get(f"{api}/content/search", params={"cql": 'space = OKR and label = "okr"'}, timeout=10)
    assert [result["id"] for result in search.json()["results"]] == [page["id"]]
