"""The seeded demo world: its OKR space takes pages, and its groups decide who reads them."""

from __future__ import annotations

import base64

import pytest

from sandbox.app import create_app


def seeded_basic(login: str) -> dict[str, str]:
    """Basic auth for a seeded user (the seed's documented credential pattern)."""
    raw = f"{login}@example.com:sandbox-token-{login}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_the_bot_publishes_into_the_seeded_space_for_executives_only(deployment: str) -> None:
    app = create_app(deployment=deployment, seed=3, size=40)  # type: ignore[arg-type]
    client = app.test_client()
    space = client.get("/rest/api/space/OKR?expand=homepage", headers=seeded_basic("okrbot")).get_json()
    assert space["name"] == "OKRs" and space["homepage"]["title"] == "OKRs Home"
    body = {"type": "page", "title": "Company OKRs", "space": {"key": "OKR"},
            "ancestors": [{"id": space["homepage"]["id"]}],
            "body": {"storage": {"value": "<p>Grades</p>", "representation": "storage"}}}
    created = client.post("/wiki/rest/api/content", json=body, headers=seeded_basic("okrbot"))
    page_id = created.get_json()["id"]
    restriction = [{"operation": "read", "restrictions": {
        "group": [{"type": "group", "name": "okr-executives"}],
        "user": [{"type": "known", "username": "okrbot"}]}}]
    assert client.put(f"/rest/api/content/{page_id}/restriction", json=restriction,
                      headers=seeded_basic("okrbot")).status_code == 200
    assert client.get(f"/pages/{page_id}", headers=seeded_basic("alice")).status_code == 200
    assert client.get(f"/pages/{page_id}", headers=seeded_basic("frank")).status_code == 404
    assert client.get(f"/wiki/rest/api/content/{page_id}", headers=seeded_basic("frank")).status_code == 404
    # A deactivated account is refused by the viewer as by the API.
    assert client.get(f"/pages/{page_id}", headers=seeded_basic("grace")).status_code == 403
    assert client.get(f"/rest/api/content/{page_id}", headers=seeded_basic("grace")).status_code == 403
    assert client.get(f"/wiki/rest/api/content/{page_id}", headers=seeded_basic("okrbot")).status_code == 200
