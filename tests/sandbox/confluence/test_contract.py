"""Every Confluence operation in the published contract, over real HTTP under both prefixes, with
its request and its answer validated against the OpenAPI document (tests/sandbox/contract.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer
from tests.sandbox.contract import load_spec, validate

from .support import PREFIXES, STORAGE, make_state, page_body


class Live:
    """A session signed in as alice against one prefix of a running sandbox."""

    def __init__(self, url: str, prefix: str) -> None:
        """Bind the server URL and prefix."""
        self.base = url + prefix
        self.session = requests.Session()
        self.session.auth = ("alice@example.com", "token-alice")

    def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """Send a request, check the status, validate request and answer; the decoded body."""
        response = self.session.request(method, f"{self.base}/{path}", timeout=10, **kwargs)
        assert response.status_code == status, response.text
        if status == 204:
            # The document declares these answers as `content: {}` (no body), which openapi-core reads
            # as "a body is required"; contract.validate does not yet treat that as empty.
            assert response.content == b"" and status in documented_statuses(method, path)
            return None
        if status >= 400:
            # The document lists error statuses without a media type, while Confluence answers them
            # with a JSON error body; check the status is documented and the body has that shape.
            assert status in documented_statuses(method, path)
            body = response.json()
            assert body["statusCode"] == status and isinstance(body["message"], str)
            assert set(body["data"]) >= {"authorized", "valid", "errors", "successful"}
            return body
        return validate("confluence", response)


def documented_statuses(method: str, path: str) -> set[int]:
    """The statuses the contract lists for the operation serving `path` (an API-relative path)."""
    paths = load_spec("confluence").spec / "paths"
    # Concrete paths first: `content/search` is also shaped like `content/{id}`.
    for template in sorted(paths.keys(), key=lambda t: str(t).count("{")):
        pattern = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(str(template)))
        if re.fullmatch(pattern, f"/wiki/rest/api/{path}") and method.lower() in paths / template:
            codes = list((paths / template / method.lower() / "responses").keys())  # a SchemaPath, not a dict
            return {int(str(code)) for code in codes}
    raise AssertionError(f"no operation in the contract serves {method} {path}")


@pytest.fixture(params=PREFIXES, ids=["cloud", "dc"])
def live(request: pytest.FixtureRequest) -> Iterator[Live]:
    """A running sandbox with the test cast, at each prefix."""
    with SandboxServer(make_state()) as server:
        yield Live(server.url, request.param)


def test_content_operations_match_the_contract(live: Live) -> None:
    parent = live.call("POST", "content", json=page_body("Contract parent", STORAGE))
    child = live.call("POST", "content", json=page_body("Contract child", parent=parent["id"]))
    live.call(
        "GET",
        "content",
        params={
            "spaceKey": "OKR",
            "title": "Contract child",
            "expand": "body.storage,version,ancestors,space",
        },
    )
    live.call("GET", "content", params={"spaceKey": "OKR", "limit": 1})
    live.call(
        "GET",
        f"content/{child['id']}",
        params={
            "expand": "body.storage,body.view,version,ancestors,"
            "space,history,children.page,metadata.labels,"
            "restrictions.read.restrictions.user,container"
        },
    )
    live.call(
        "PUT",
        f"content/{child['id']}",
        json={
            "type": "page",
            "title": "Contract child",
            "version": {"number": 2, "message": "m"},
            "body": {"storage": {"value": "<p>v2</p>", "representation": "storage"}},
        },
    )
    live.call("GET", f"content/{child['id']}", params={"version": 1, "expand": "version,body.storage"})
    live.call("GET", f"content/{parent['id']}/child/page", params={"expand": "version"})
    live.call("GET", f"content/{child['id']}/history", params={"expand": "previousVersion"})
    live.call("GET", "content/search", params={"cql": 'space = OKR and title = "Contract child"', "limit": 1})
    live.call("GET", "content/search", params={"cql": "type = page", "limit": 1})
    live.call("GET", "space/OKR", params={"expand": "description,homepage"})


def test_label_and_property_operations_match_the_contract(live: Live) -> None:
    page = live.call("POST", "content", json=page_body("Meta"))
    live.call("POST", f"content/{page['id']}/label", json=[{"prefix": "global", "name": "okr"}])
    live.call("POST", f"content/{page['id']}/label", json={"prefix": "global", "name": "team"})
    live.call("GET", f"content/{page['id']}/label", params={"prefix": "global"})
    live.call("DELETE", f"content/{page['id']}/label", 204, params={"name": "team"})
    live.call("POST", f"content/{page['id']}/property", json={"key": "okrbridge", "value": {"hash": "1"}})
    live.call("GET", f"content/{page['id']}/property")
    live.call("GET", f"content/{page['id']}/property/okrbridge")
    live.call(
        "PUT",
        f"content/{page['id']}/property/okrbridge",
        json={"value": {"hash": "2"}, "version": {"number": 2}},
    )
    live.call(
        "PUT",
        f"content/{page['id']}/property/okrbridge",
        409,
        json={"value": {"hash": "3"}, "version": {"number": 2}},
    )


def test_restriction_operations_match_the_contract(live: Live) -> None:
    page = live.call("POST", "content", json=page_body("Locked"))
    read_group = [
        {
            "operation": "read",
            "restrictions": {
                "group": [{"type": "group", "name": "okr-viewers"}],
                "user": [{"type": "known", "accountId": "acc-alice"}],
            },
        }
    ]
    live.call("PUT", f"content/{page['id']}/restriction", json=read_group)
    live.call(
        "POST",
        f"content/{page['id']}/restriction",
        json={
            "results": [
                {
                    "operation": "update",
                    "restrictions": {
                        "user": {
                            "results": [
                                {"type": "known", "accountId": "acc-bot"},
                                {"type": "known", "accountId": "acc-alice"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    live.call("GET", f"content/{page['id']}/restriction")
    live.call("GET", f"content/{page['id']}/restriction/byOperation")
    live.call("DELETE", f"content/{page['id']}/restriction")


def test_refusals_match_the_contract(live: Live) -> None:
    page = live.call("POST", "content", json=page_body("Refusals"))
    error = live.call("POST", "content", 400, json=page_body("Refusals"))
    assert error["message"].startswith("A page with this title already exists")
    live.call("GET", "content/987654", 404)
    live.call(
        "PUT",
        f"content/{page['id']}",
        409,
        json={"type": "page", "title": "Refusals", "version": {"number": 5}},
    )
    live.call("PUT", f"content/{page['id']}", 400, json={"type": "page", "title": "Refusals", "version": {}})
    live.call("GET", "content/search", 400, params={"cql": "creator = me"})
    live.call("GET", "space/NOPE", 404)
