"""A restricted objective shows up in no answer to a user outside its groups: not in any issue
panel, dashboard tab or period, KR page, or API answer, in HTML or JSON. Each user is also shown
to see what they may (so an answer that shows nothing cannot pass)."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from okrbridge.web import create_app, web_context
from sandbox.seed import account_id
from sandbox.server import SandboxServer

from .conftest import WEB_TOKENS, Mint, web_settings
from .visibility import allowed_objectives, forbidden_texts, sample

USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
EPICS = ["ENG-1", "ENG-2", "ENG-4", "SALES-1", "SALES-2", "MKT-1", "MKT-2", "PEOPLE-1", "PEOPLE-2", "WEB-1",
         "WEB-2"]


def _assert_hides(text: str, login: str | None, where: str) -> None:
    """No forbidden string in `text` (HTML-unescaped too)."""
    plain = html.unescape(text)
    for forbidden in forbidden_texts(login):
        assert forbidden not in plain, f"{where} shows {forbidden!r} to {login}"


@pytest.fixture(scope="module")
def leak_app(sandbox: SandboxServer, synced_database: object,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the whole module (auth by API token)."""
    app = create_app(web_settings(sandbox, synced_database, tmp_path_factory.mktemp("leaks")))  # type: ignore[arg-type]
    yield app
    web_context(app).close()


@pytest.mark.parametrize("login", USERS)
def test_no_panel_shows_a_restricted_kr(leak_app: Flask, fit: Mint, login: str) -> None:
    client = leak_app.test_client()
    shown: set[str] = set()
    for epic in EPICS:
        answer = client.post("/forge/panel", json={}, headers={"Authorization": f"Bearer {fit(login, epic)}"})
        assert answer.status_code == 200
        _assert_hides(answer.get_data(as_text=True), login, f"the panel of {epic}")
        shown |= {kr["objective"]["id"] for kr in answer.get_json()["krs"]}
    assert shown and shown <= allowed_objectives(login)


@pytest.mark.parametrize("login", USERS)
def test_no_dashboard_tab_or_period_shows_a_restricted_objective(leak_app: Flask, login: str) -> None:
    client = leak_app.test_client()
    auth = {"Authorization": f"Bearer {WEB_TOKENS[login]}"}
    seen: set[str] = set()
    for tab in ("all", "group", "personal"):
        for period in ("year", "quarter", "month"):
            page = client.get(f"/?tab={tab}&period={period}", headers=auth)
            assert page.status_code == 200
            _assert_hides(page.get_data(as_text=True), login, f"the {tab}/{period} dashboard")
        year = client.get(f"/?tab={tab}&period=year", headers=auth).get_data(as_text=True)
        seen |= {o.id for o in sample().objectives if f'data-objective="{o.id}"' in year}
    assert seen == allowed_objectives(login)  # every visible objective of the year is on a tab


@pytest.mark.parametrize("login", USERS)
def test_kr_pages_and_the_api_hide_restricted_krs(leak_app: Flask, login: str) -> None:
    client = leak_app.test_client()
    auth = {"Authorization": f"Bearer {WEB_TOKENS[login]}"}
    allowed = allowed_objectives(login)
    for objective in sample().objectives:
        for kr in objective.key_results:
            page = client.get(f"/kr/{kr.id}", headers=auth)
            api = client.get(f"/api/v1/krs/{kr.id}", headers=auth)
            expected = 200 if objective.id in allowed else 404
            assert (page.status_code, api.status_code) == (expected, expected), kr.id
            for answer, where in ((page, "KR page"), (api, "API KR")):
                _assert_hides(answer.get_data(as_text=True), login, f"the {where} of {kr.id}")
            if expected == 404:
                assert client.get(f"/api/v1/krs/{kr.id}/history", headers=auth).status_code == 404
    for path in ("/api/v1/objectives?period=year", "/api/v1/krs?period=year", "/api/v1/grades?period=year",
                 "/api/v1/initiatives", "/api/v1/krs?period=quarter&tab=group"):
        answer = client.get(path, headers=auth)
        assert answer.status_code == 200, path
        _assert_hides(answer.get_data(as_text=True), login, path)
    objectives = client.get("/api/v1/objectives?period=year", headers=auth).get_json()["objectives"]
    listed = {o["id"] for o in objectives}
    assert listed == allowed


def test_an_anonymous_viewer_sees_only_objectives_for_everyone(
        sandbox: SandboxServer, synced_database: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    app = create_app(web_settings(sandbox, synced_database, tmp_path_factory.mktemp("anon"),  # type: ignore[arg-type]
                                  web='auth = "anonymous"'))
    try:
        client: FlaskClient = app.test_client()
        page = client.get("/?period=year").get_data(as_text=True)
        _assert_hides(page, None, "the anonymous dashboard")
        listed = {o["id"] for o in client.get("/api/v1/objectives?period=year").get_json()["objectives"]}
        assert listed == allowed_objectives(None) == {"CO-1", "CO-2"}
    finally:
        web_context(app).close()


def test_the_personal_tab_holds_what_the_viewer_owns(leak_app: Flask) -> None:
    client = leak_app.test_client()
    answer = client.get("/api/v1/krs?period=year&tab=personal",
                        headers={"Authorization": f"Bearer {WEB_TOKENS['carol']}"}).get_json()
    owners = {(kr["objective"]["id"], kr["owner"]) for kr in answer["krs"]}
    # carol owns MKT-1 and its KRs, and CO-1.1 inside CO-1 (everyone), so CO-1 is on her tab too
    assert {"CO-1", "MKT-1"} <= {objective for objective, _ in owners}
    assert account_id("carol")  # the token maps to her Cloud account id
