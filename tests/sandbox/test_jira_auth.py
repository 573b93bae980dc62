"""Authentication and permission: Basic and Bearer sign-in, 401 for missing or wrong credentials,
403 for deactivated users and non-administrators, and the loopback-only admin API."""

from __future__ import annotations

import base64

import requests

from sandbox.auth import ADMIN_REQUIRED, NOT_AUTHENTICATED
from sandbox.server import SandboxServer

from .conftest import api_root, basic_auth, bearer_auth, make_app


def test_requests_without_credentials_answer_401_with_a_jira_body(live_sandbox: SandboxServer) -> None:
    response = requests.get(f"{api_root(live_sandbox)}/myself")
    assert response.status_code == 401
    assert response.json() == {"errorMessages": [NOT_AUTHENTICATED], "errors": {}}
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_wrong_token_and_unknown_scheme_answer_401(live_sandbox: SandboxServer) -> None:
    url = f"{api_root(live_sandbox)}/myself"
    wrong = base64.b64encode(b"alice@example.com:not-her-token").decode()
    for header in (f"Basic {wrong}", "Bearer sandbox-token-alice", "Bearer nobody", "Digest abc",
                   "Basic ???"):
        response = requests.get(url, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"


def _basic(login: str, secret: str) -> dict[str, str]:
    """A Basic header from raw parts."""
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()}


def test_cloud_signs_in_by_email_and_api_token_only(cloud_sandbox: SandboxServer) -> None:
    url = f"{api_root(cloud_sandbox)}/myself"
    me = requests.get(url, headers=basic_auth("carol"))
    assert me.status_code == 200 and me.json()["accountId"].startswith("712020:")
    for refused in (bearer_auth("carol"), _basic("carol", "sandbox-token-carol"),
                    _basic("carol@example.com", "sandbox-pat-carol")):
        assert requests.get(url, headers=refused).status_code == 401


def test_data_center_takes_a_pat_or_username_and_password(dc_sandbox: SandboxServer) -> None:
    url = f"{api_root(dc_sandbox)}/myself"
    answers = [requests.get(url, headers=headers).json() for headers in (
        bearer_auth("dave"), _basic("dave", "sandbox-token-dave"), basic_auth("dave"))]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["name"] == "dave" and "accountId" not in answers[0]


def test_deactivated_users_are_refused_with_403(live_sandbox: SandboxServer) -> None:
    response = requests.get(f"{api_root(live_sandbox)}/myself", headers=basic_auth("grace"))
    assert response.status_code == 403
    assert response.json()["errorMessages"]


def test_group_members_need_the_administrator_permission(live_sandbox: SandboxServer) -> None:
    url = f"{api_root(live_sandbox)}/group/member"
    refused = requests.get(url, params={"groupname": "okr-sales"}, headers=basic_auth("bob"))
    assert refused.status_code == 403
    assert refused.json() == {"errorMessages": [ADMIN_REQUIRED], "errors": {}}
    allowed = requests.get(url, params={"groupname": "okr-sales"}, headers=basic_auth("okrbot"))
    assert allowed.status_code == 200
    assert "Bob Baker" in [member["displayName"] for member in allowed.json()["values"]]
    missing = requests.get(url, params={"groupname": "nope"}, headers=basic_auth("okrbot"))
    assert missing.status_code == 404


def test_inactive_members_are_listed_only_on_request(cloud_sandbox: SandboxServer) -> None:
    url = f"{api_root(cloud_sandbox)}/group/member"
    active = requests.get(url, params={"groupname": "okr-engineering"}, headers=basic_auth("alice")).json()
    every = requests.get(url, params={"groupname": "okr-engineering", "includeInactiveUsers": "true"},
                         headers=basic_auth("alice")).json()
    assert every["total"] == active["total"] + 1
    assert "Grace Gomez" in [m["displayName"] for m in every["values"]]


def test_user_groups_lists_a_users_groups(live_sandbox: SandboxServer) -> None:
    cloud = live_sandbox.state.deployment == "cloud"
    bob = next(u for u in live_sandbox.state.users.values() if u.login == "bob")
    params = {"accountId": bob.account_id} if cloud else {"username": "bob"}
    groups = requests.get(f"{api_root(live_sandbox)}/user/groups", params=params, headers=basic_auth("frank"))
    assert sorted(g["name"] for g in groups.json()) == ["okr-executives", "okr-sales", "okr-viewers"]
    assert all(("groupId" in g) == cloud for g in groups.json())
    unknown = requests.get(f"{api_root(live_sandbox)}/user/groups",
                           params={"accountId": "nobody"} if cloud else {"username": "nobody"},
                           headers=basic_auth("frank"))
    assert unknown.status_code == 404


def test_server_info_is_anonymous_but_rejects_bad_credentials(cloud_sandbox: SandboxServer) -> None:
    url = f"{api_root(cloud_sandbox)}/serverInfo"
    assert requests.get(url).status_code == 200
    assert requests.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_sandbox_admin_api_answers_loopback_clients_only() -> None:
    client = make_app("cloud").test_client()
    assert client.get("/_sandbox/stats").status_code == 200
    remote = client.get("/_sandbox/stats", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403
    ipv6 = client.get("/_sandbox/stats", environ_base={"REMOTE_ADDR": "::1"})
    assert ipv6.status_code == 200


def test_sandbox_users_lists_the_documented_credentials(cloud_sandbox: SandboxServer) -> None:
    people = {u["username"]: u for u in requests.get(f"{cloud_sandbox.url}/_sandbox/users").json()}
    alice = people["alice"]
    assert (alice["email"], alice["apiToken"], alice["pat"]) == (
        "alice@example.com", "sandbox-token-alice", "sandbox-pat-alice")
    assert "jira-administrators" in alice["groups"] and people["grace"]["active"] is False
