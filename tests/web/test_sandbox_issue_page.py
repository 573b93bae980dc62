"""The sandbox plays Jira hosting the Forge panel: its issue page fetches okrbridge's panel with a
freshly minted token for the signed-in user, and draws the answer without running any script."""

from __future__ import annotations

import requests

from sandbox.server import SandboxServer


def _page(sandbox: SandboxServer, key: str, login: str) -> requests.Response:
    """The sandbox's /browse/KEY as `login`."""
    credentials = (f"{login}@example.com", f"sandbox-token-{login}")
    return requests.get(f"{sandbox.url}/browse/{key}", auth=credentials, timeout=30)


def test_the_issue_page_shows_the_issue_its_web_links_and_the_panel_for_the_user(
        sandbox: SandboxServer, web_server: str) -> None:
    page = _page(sandbox, "ENG-57", "carol")
    assert page.status_code == 200
    text = page.text
    assert "ENG-57" in text and 'href="/browse/ENG-1"' in text
    assert 'data-kr="CO-1.1"' in text and 'data-kr="ENG-1.1"' not in text
    assert "1 more you may not see" in text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    epic = _page(sandbox, "ENG-1", "dave").text
    assert 'data-kr="CO-1.1"' in epic and 'data-kr="ENG-1.1"' in epic
    assert "KR CO-1.1 · " in epic  # the remote link the sync wrote on the epic
    assert "http://okr.example.test/kr/CO-1.1" in epic


def test_the_issue_page_asks_for_sign_in_and_says_when_the_panel_cannot_answer(
        sandbox: SandboxServer) -> None:
    challenge = requests.get(f"{sandbox.url}/browse/ENG-1", timeout=30)
    assert challenge.status_code == 401 and "WWW-Authenticate" in challenge.headers
    unconfigured = _page(sandbox, "ENG-1", "dave")  # no remote configured in this test
    assert unconfigured.status_code == 200
    assert "did not answer" in unconfigured.text
