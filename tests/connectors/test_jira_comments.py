"""`JiraConnection.add_comment` over HTTP against the sandbox: ADF on Cloud, wiki text on Data Center."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from connectors.jira import JiraConnection, JiraError
from connectors.jira_comments import adf_document, wiki_text
from sandbox.server import SandboxServer

PARAGRAPHS = ["KR ENG-1.1 \"Cut [p95] latency\" has had no fresh value since 2026-03-17 11:59 UTC.",
              "Owner: dave_k"]


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The seeded sandbox as each deployment."""
    with SandboxServer(deployment=request.param, seed=1) as server:
        yield server


def _connect(sandbox: SandboxServer) -> JiraConnection:
    """The bot's connection: email + API token on Cloud, a personal access token on Data Center."""
    if sandbox.state.deployment == "cloud":
        return JiraConnection(sandbox.url, "cloud", email="okrbot@example.com", token="sandbox-token-okrbot")
    return JiraConnection(sandbox.url, "datacenter", token="sandbox-pat-okrbot")


def test_a_comment_is_added_in_the_body_format_of_the_deployment(sandbox: SandboxServer) -> None:
    with _connect(sandbox) as jira:
        comment_id = jira.add_comment("ENG-1", PARAGRAPHS)
    [stored] = sandbox.state.comments["ENG-1"]
    assert str(stored.id) == comment_id
    assert sandbox.state.users[stored.author].email == "okrbot@example.com"
    if sandbox.state.deployment == "cloud":
        assert stored.body == {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": PARAGRAPHS[0]}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "Owner: dave_k"}]}]}
    else:  # wiki markup: brackets and underscores escaped, so they show as written
        assert stored.body == ('KR ENG-1.1 "Cut \\[p95\\] latency" has had no fresh value since 2026-03-17 '
                               "11:59 UTC.\n\nOwner: dave\\_k")


def test_commenting_on_an_issue_jira_does_not_know_names_the_issue_and_the_status(
        sandbox: SandboxServer) -> None:
    with _connect(sandbox) as jira, pytest.raises(JiraError) as info:
        jira.add_comment("NOPE-404", PARAGRAPHS)
    assert info.value.status == 404 and "commenting on NOPE-404" in str(info.value)


def test_a_comment_refused_with_a_server_error_is_not_sent_again(sandbox: SandboxServer) -> None:
    requests.put(f"{sandbox.url}/_sandbox/faults", json={"script": ["500"]}, timeout=5)
    requests.delete(f"{sandbox.url}/_sandbox/requests", timeout=5)
    with _connect(sandbox) as jira, pytest.raises(JiraError) as info:  # deployment given: no probe
        jira.add_comment("ENG-1", PARAGRAPHS)
    posts = [e for e in requests.get(f"{sandbox.url}/_sandbox/requests", timeout=5).json()["requests"]
             if e["method"] == "POST" and e["path"].endswith("/issue/ENG-1/comment")]
    assert info.value.status == 500 and len(posts) == 1
    assert sandbox.state.comments.get("ENG-1", []) == []


def test_bodies_are_built_from_plain_paragraphs() -> None:
    assert adf_document(["a", ""]) == {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "a"}]},
        {"type": "paragraph", "content": []}]}
    assert wiki_text(["*bold?*", "{code} | ~x^ !img! \\"]) == (
        "\\*bold?\\*\n\n\\{code\\} \\| \\~x\\^ \\!img\\! \\\\")
