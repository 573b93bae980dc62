"""Signing in outside Jira (`web.auth`): API tokens, a trusted proxy's header, or anonymous; and the
API's answers against the OpenAPI document the app serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from okrbridge.web import create_app, web_context
from sandbox.seed import account_id
from sandbox.server import SandboxServer

from .conftest import WEB_TOKENS, web_settings


@pytest.fixture
def proxy_app(sandbox: SandboxServer, synced_database: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app behind a sign-in proxy at 10.0.0.5 (only that address is trusted)."""
    app = create_app(web_settings(sandbox, synced_database, tmp_path,
                                  web='auth = "proxy"\ntrusted_proxies = ["10.0.0.5"]\n'
                                      'proxy_header = "X-Remote-User"'))
    yield app
    web_context(app).close()


def test_without_a_valid_token_pages_and_api_answer_401(client: FlaskClient) -> None:
    wrong = ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": f"Basic {WEB_TOKENS['bob']}"})
    for headers in wrong:
        api = client.get("/api/v1/objectives", headers=headers)
        assert (api.status_code, api.is_json, api.headers["WWW-Authenticate"][:6]) == (401, True, "Bearer")
        page = client.get("/", headers=headers)
        assert (page.status_code, page.mimetype) == (401, "text/html")
        assert "OKRs for" not in page.get_data(as_text=True)
    assert client.get("/", headers={"Authorization": f"Bearer {WEB_TOKENS['bob']}"}).status_code == 200


def test_a_proxy_header_counts_only_from_a_trusted_proxy(proxy_app: Flask) -> None:
    client = proxy_app.test_client()
    bob = {"X-Remote-User": account_id("bob")}
    trusted = client.get("/api/v1/objectives?period=year", headers=bob,
                         environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert trusted.status_code == 200
    assert "SALES-1" in {o["id"] for o in trusted.get_json()["objectives"]}
    forged = client.get("/api/v1/objectives", headers=bob, environ_base={"REMOTE_ADDR": "10.0.0.6"})
    assert forged.status_code == 401
    nameless = client.get("/api/v1/objectives", environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert nameless.status_code == 401
    page = client.get("/", headers=bob, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert page.status_code == 401


def test_every_api_answer_matches_the_served_openapi_document(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    spec = OpenAPI.from_dict(document)
    auth = {"Authorization": f"Bearer {WEB_TOKENS['bob']}"}
    paths = ["/api/v1/objectives?period=year", "/api/v1/krs?period=quarter&tab=all", "/api/v1/krs/CO-1.1",
             "/api/v1/krs/CO-1.1/history", "/api/v1/grades?period=2026-Q2", "/api/v1/initiatives?epic=ENG-1",
             "/api/v1/krs/NO-SUCH.1", "/api/v1/krs?period=2026-Q9"]
    statuses = []
    for path in paths:
        base = document["servers"][0]["url"].removesuffix("/api/v1")
        answer = client.get(path, headers=auth, base_url=base)
        spec.validate_response(WerkzeugOpenAPIRequest(answer.request), WerkzeugOpenAPIResponse(answer))
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 200, 200, 200, 404, 400]
    unsigned = client.get("/api/v1/krs")
    spec.validate_response(WerkzeugOpenAPIRequest(unsigned.request), WerkzeugOpenAPIResponse(unsigned))


def test_the_kr_page_shows_history_jql_links_chart_and_epics(client: FlaskClient,
                                                              sandbox: SandboxServer) -> None:
    page = client.get("/kr/CO-1.1", headers={"Authorization": f"Bearer {WEB_TOKENS['carol']}"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<svg" in text and "<script" not in text
    assert f'href="{sandbox.url}/issues/?jql=project%20%3D%20WEB%20AND%20issuetype%20%3D%20Visit' in text
    assert "open in Jira" in text
    for epic in ("ENG-1", "SALES-1", "SALES-3", "WEB-1"):  # the epics labelled kr-CO-1.1 in the seed
        assert f"{sandbox.url}/browse/{epic}" in text
