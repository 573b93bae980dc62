"""Shared test data for the Confluence sandbox tests: a small cast of users, the OKR space, and a
test client bound to one API prefix and one signed-in user.
"""

from __future__ import annotations

import base64
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sandbox.model import User
from sandbox.state import SandboxState

CLOUD = "/wiki/rest/api"
DC = "/rest/api"
PREFIXES = (CLOUD, DC)
STORAGE = (
    '<p>Status: <ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter>'
    '<ac:parameter ac:name="title">On track</ac:parameter></ac:structured-macro></p>'
)


def user(login: str, name: str, groups: list[str]) -> User:
    """A user with the sandbox's credential pattern."""
    return User(
        account_id=f"acc-{login}",
        email=f"{login}@example.com",
        display_name=name,
        api_token=f"token-{login}",
        personal_access_token=f"pat-{login}",
        groups=groups,
        username=login,
    )


def make_state() -> SandboxState:
    """alice (viewer, executive), bob (viewer), carol (no groups), bot (publisher); the OKR space.

    bob's membership of okr-viewers is recorded only on the group side, as a seed may do.
    """
    people = [
        user("alice", "Alice Andersen", ["okr-viewers", "okr-executives"]),
        user("bob", "Bob Berg", []),
        user("carol", "Carol Chen", []),
        user("bot", "OKR Bot", ["okr-publishers"]),
    ]
    state = SandboxState(
        users={u.account_id: u for u in people},
        groups={
            "okr-viewers": ["acc-alice", "acc-bob"],
            "okr-executives": ["acc-alice"],
            "okr-publishers": ["acc-bot"],
            "empty-group": [],
        },
    )
    state.confluence.add_space("OKR", "OKRs", description="Objectives", at=state.now())
    state.confluence.add_space("ENG", "Engineering", homepage=False, at=state.now())
    return state


def basic(person: User) -> dict[str, str]:
    """The Basic Authorization header of a user (email + API token)."""
    token = base64.b64encode(f"{person.email}:{person.api_token}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def page_body(
    title: str, value: str = "<p>hello</p>", *, space: str = "OKR", parent: str | None = None
) -> dict[str, Any]:
    """A create-page payload."""
    body: dict[str, Any] = {
        "type": "page",
        "title": title,
        "space": {"key": space},
        "body": {"storage": {"value": value, "representation": "storage"}},
    }
    if parent is not None:
        body["ancestors"] = [{"id": parent}]
    return body


class Api:
    """The Flask test client at one API prefix, signed in as one user."""

    def __init__(self, client: FlaskClient, state: SandboxState, prefix: str, login: str = "alice") -> None:
        """Bind client, prefix and user."""
        self.client, self.state, self.prefix, self.login = client, state, prefix, login

    def as_(self, login: str) -> Api:
        """The same API, signed in as someone else."""
        return Api(self.client, self.state, self.prefix, login)

    @property
    def person(self) -> User:
        """The signed-in user."""
        return self.state.users[f"acc-{self.login}"]

    def call(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        """One request under the prefix, with the user's credentials."""
        headers = {**basic(self.person), **kwargs.pop("headers", {})}
        return self.client.open(f"{self.prefix}/{path.lstrip('/')}", method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        """POST."""
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        """PUT."""
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        """DELETE."""
        return self.call("DELETE", path, **kwargs)

    def create(self, title: str, value: str = "<p>hello</p>", **kwargs: Any) -> dict[str, Any]:
        """Create a page and return its JSON (fails the test when creation fails)."""
        response = self.post("content", json=page_body(title, value, **kwargs))
        assert response.status_code == 200, response.get_json()
        data: dict[str, Any] = response.get_json()
        return data

    def restrict(
        self,
        page_id: str,
        operation: str = "read",
        *,
        users: tuple[str, ...] = (),
        groups: tuple[str, ...] = (),
    ) -> TestResponse:
        """PUT one operation's restrictions (replacing all others)."""
        body = [
            {
                "operation": operation,
                "restrictions": {
                    "user": [{"type": "known", "accountId": f"acc-{u}"} for u in users],
                    "group": [{"type": "group", "name": g} for g in groups],
                },
            }
        ]
        return self.put(f"content/{page_id}/restriction", json=body)
