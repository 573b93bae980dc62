"""JQL as each Jira takes it, over real HTTP: how users are named per deployment, and every error at once."""

from __future__ import annotations

import requests

from sandbox.server import SandboxServer

from .conftest import api_root, session_for


def _ask(sandbox: SandboxServer, jql: str) -> requests.Response:
    """Count `jql` the way each deployment counts (Cloud approximate-count, DC search maxResults=0)."""
    session = session_for()
    if sandbox.state.deployment == "cloud":
        return session.post(f"{api_root(sandbox)}/search/approximate-count", json={"jql": jql})
    return session.get(f"{api_root(sandbox)}/search", params={"jql": jql, "maxResults": 0})


def _counted(response: requests.Response) -> int:
    """The number a successful count answer carries."""
    assert response.status_code == 200, response.text
    body = response.json()
    return int(body["count"] if "count" in body else body["total"])


def _someone_with_eng_issues(sandbox: SandboxServer) -> tuple[str, str, int]:
    """(accountId, DC user name, how many ENG issues are assigned to them), from the seeded data."""
    state = sandbox.state
    assignee = next(i.assignee for i in state.issues.values() if i.project == "ENG" and i.assignee)
    assert assignee is not None
    mine = [i for i in state.issues.values() if i.project == "ENG" and i.assignee == assignee]
    return assignee, state.users[assignee].login, len(mine)


def test_data_center_takes_user_names_and_refuses_cloud_account_ids(dc_sandbox: SandboxServer) -> None:
    account_id, login, expected = _someone_with_eng_issues(dc_sandbox)
    assert account_id.lower() != login.lower()
    assert _counted(_ask(dc_sandbox, f"project = ENG AND assignee = {login}")) == expected
    refused = _ask(dc_sandbox, f'project = ENG AND assignee = "{account_id}"')
    assert refused.status_code == 400
    assert refused.json()["errorMessages"] == [
        f"The value '{account_id}' does not exist for the field 'assignee'."]


def test_cloud_takes_account_ids_and_refuses_data_center_user_names(cloud_sandbox: SandboxServer) -> None:
    account_id, login, expected = _someone_with_eng_issues(cloud_sandbox)
    assert _counted(_ask(cloud_sandbox, f'project = ENG AND assignee = "{account_id}"')) == expected
    refused = _ask(cloud_sandbox, f"project = ENG AND assignee = {login}")
    assert refused.status_code == 400
    assert refused.json() == {
        "errorMessages": [f"The value '{login}' does not exist for the field 'assignee'."], "errors": {}}


def test_a_jql_with_several_errors_answers_all_of_them(live_sandbox: SandboxServer) -> None:
    response = _ask(live_sandbox, "project = ENG AND labelz = x AND (fooz = 1 OR status = Done)")
    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        "Field 'labelz' does not exist or you do not have permission to view it.",
        "Field 'fooz' does not exist or you do not have permission to view it.",
    ]


def test_every_missing_issue_key_is_named(live_sandbox: SandboxServer) -> None:
    response = _ask(live_sandbox, "key in (ENG-1, ENG-99998, ENG-99999)")
    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        "An issue with key 'ENG-99998' does not exist for field 'key'.",
        "An issue with key 'ENG-99999' does not exist for field 'key'.",
    ]
