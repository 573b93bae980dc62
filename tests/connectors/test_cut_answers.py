"""A body cut short on the wire is retried for idempotent requests, as the retry policy's table says.

Over real HTTP against the sandbox: only a real socket can close halfway through a body.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.jira import JiraConnection, JiraUnavailable
from connectors.retry import RetryPolicy
from okrbridge.demo import BOT_EMAIL, BOT_TOKEN
from sandbox.server import SandboxServer
from tests.faults.support import set_faults

JQL = "project = ENG"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The seeded sandbox as Jira Cloud."""
    with SandboxServer(deployment="cloud", seed=1) as server:
        yield server


def _jira(server: SandboxServer, attempts: int = 3) -> JiraConnection:
    """A Cloud connection to the sandbox with no wait between attempts."""
    return JiraConnection(server.url, deployment="cloud", email=BOT_EMAIL, token=BOT_TOKEN,
                          policy=RetryPolicy(max_attempts=attempts, base_backoff=0))


def _script(server: SandboxServer, *outcomes: str) -> None:
    """The next requests' outcomes, in order."""
    set_faults(server.url, {"script": list(outcomes)})


def test_a_count_whose_body_is_cut_short_is_asked_again(sandbox: SandboxServer) -> None:
    with _jira(sandbox) as jira:
        expected = jira.count(JQL)
        _script(sandbox, "cut")
        assert jira.count(JQL) == expected
        assert jira.stats.retries == 1


def test_a_search_page_cut_short_is_fetched_again(sandbox: SandboxServer) -> None:
    with _jira(sandbox) as jira:
        expected = [i["key"] for i in jira.issues("project = ENG AND issuetype = Epic")]
        _script(sandbox, "cut", "cut")
        assert [i["key"] for i in jira.issues("project = ENG AND issuetype = Epic")] == expected


def test_bodies_cut_short_on_every_attempt_fail_naming_the_cut(sandbox: SandboxServer) -> None:
    with _jira(sandbox, attempts=2) as jira:
        jira.count(JQL)
        _script(sandbox, "cut", "cut")
        with pytest.raises(JiraUnavailable, match="gave up after 2 attempts") as info:
            jira.count(JQL)
    assert "IncompleteRead" in str(info.value)
