"""The issue panel answered to Forge: the KRs an issue's epic drives, what each card says, and the
empty states. Who sees what is worked out by hand from the sample okrs.toml's `visible_to` and the
seeded groups (carol: marketing; dave: engineering; alice and bob: executives)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from okrbridge.pages import status_colour
from okrbridge.views import audience_view
from okrbridge.web import web_context
from okrbridge.workspace import audiences, view_data
from sandbox.server import SandboxServer

from .conftest import Mint


def _panel(client: FlaskClient, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The panel's JSON answer (asserting it is a 200)."""
    response = client.post("/forge/panel", json=body if body is not None else {},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer: dict[str, Any] = response.get_json()
    return answer


@pytest.mark.parametrize(("login", "issue", "shown", "hidden"), [
    # ENG-1 (and its story ENG-57) drives CO-1.1 (everyone) and ENG-1.1 (engineering, executives)
    ("dave", "ENG-57", ["CO-1.1", "ENG-1.1"], 0),
    ("alice", "ENG-1", ["CO-1.1", "ENG-1.1"], 0),
    ("carol", "ENG-57", ["CO-1.1"], 1),
    ("frank", "ENG-1", ["CO-1.1"], 1),
    # SALES-1 drives CO-1.1 and SALES-1.1 (sales, executives)
    ("bob", "SALES-1", ["CO-1.1", "SALES-1.1"], 0),
    ("dave", "SALES-1", ["CO-1.1"], 1),
])
def test_the_panel_shows_the_visible_krs_of_the_issues_epic_and_counts_the_others(
        client: FlaskClient, fit: Mint, login: str, issue: str, shown: list[str], hidden: int) -> None:
    answer = _panel(client, fit(login, issue))
    assert [kr["id"] for kr in answer["krs"]] == shown
    assert answer["hidden"] == hidden


def test_a_kr_card_says_what_the_value_is_and_how_it_was_obtained(
        client: FlaskClient, fit: Mint, sandbox: SandboxServer) -> None:
    card = next(kr for kr in _panel(client, fit("carol", "ENG-1"))["krs"] if kr["id"] == "CO-1.1")
    # CO-1.1 is the share of WEB visits labelled converted, counted here straight from the seed
    visits = [i for i in sandbox.state.issues.values() if i.project == "WEB" and i.issuetype == "Visit"]
    converted = [i for i in visits if "converted" in i.labels]
    expected = 100 * len(converted) / len(visits)
    assert card["value"] == pytest.approx(expected, rel=1e-6)
    assert card["score"] == pytest.approx(min(1.0, max(0.0, (expected - 2.0) / 0.5)), abs=1e-9)
    assert card["objective"] == {"id": "CO-1", "title": "Increase sales revenue", "cycle": "2026"}
    assert (card["owner"], card["unit"], card["period"]) == ("carol", "%", "2026")
    assert card["goal"] == "2 % → 2.5 %"
    assert card["url"] == "http://okr.example.test/kr/CO-1.1"
    assert card["colour"] == {"on track": "green", "at risk": "yellow", "off track": "red"}[card["status"]]
    assert card["progress"] == card["score"]
    numerator = "project = WEB AND issuetype = Visit AND labels = converted"
    assert card["how"].startswith(f"{len(converted):,} / {len(visits):,}: [{numerator}] / [")
    assert [q["role"] for q in card["queries"]] == ["numerator", "denominator"]
    assert card["queries"][0]["jql"] == numerator
    assert card["queries"][0]["url"].startswith(f"{sandbox.url}/issues/?jql=project%20%3D%20WEB")
    assert card["trend"] and card["trend"][-1][1] == card["value"]
    assert card["stale"] is False and card["stale_reason"] is None


def test_the_tokens_issue_context_wins_over_the_body(client: FlaskClient, fit: Mint) -> None:
    answer = _panel(client, fit("dave", "ENG-57"), {"issueKey": "SALES-1"})
    assert (answer["issue"], answer["epic"]) == ("ENG-57", "ENG-1")


@pytest.mark.parametrize(("issue", "epic", "words"), [
    ("WEB-4", None, "belongs to none"),       # a task under no epic
    ("ENG-5", "ENG-5", "drives no key result"),  # an epic no KR names
])
def test_issues_that_drive_nothing_get_a_clear_empty_state(
        client: FlaskClient, fit: Mint, issue: str, epic: str | None, words: str) -> None:
    answer = _panel(client, fit("alice"), {"issueKey": issue})
    assert (answer["epic"], answer["krs"], answer["hidden"]) == (epic, [], 0)
    assert words in answer["message"]


def test_an_epic_whose_krs_are_all_hidden_says_only_that(client: FlaskClient, fit: Mint) -> None:
    answer = _panel(client, fit("carol"), {"issueKey": "PEOPLE-1"})  # drives PEOPLE-1.1 only
    assert (answer["krs"], answer["hidden"]) == ([], 1)
    assert "PEOPLE-1.1" not in str(answer)


def test_a_panel_card_says_what_the_confluence_team_page_says(
        client: FlaskClient, fit: Mint, app: Flask) -> None:
    ws = web_context(app).workspace
    card = next(kr for kr in _panel(client, fit("dave", "ENG-1"))["krs"] if kr["id"] == "ENG-1.1")
    year = ws.loaded.calendar.parse("2026")
    team = next(a for a in audiences(ws) if a.name == "team-engineering")
    page = audience_view(view_data(ws, year, now=web_context(app).now()), team)
    (kr,) = [k for o in page.objectives for k in o.krs if k.id == "ENG-1.1"]
    assert (card["value_text"], card["goal"], card["score"], card["status"], card["pace"], card["how"]) == (
        kr.value_text, kr.goal, kr.score, kr.status.value, kr.pace.value, kr.how)
    assert card["colour"] == status_colour(kr.status, kr.stale).lower()
