"""The issue panel and the dashboard as a person sees them, in a real headless Chromium.

The sandbox's issue page (/browse/ENG-57, a story under the epic ENG-1) is opened as dave with
Basic credentials; the panel there was fetched from okrbridge with a Forge Invocation Token minted
for him. Then okrbridge's dashboard is opened with dave's API token, and each of its three tabs is
checked in the rendered DOM.

Set OKRBRIDGE_WEB_SCREENSHOTS to a folder to keep full-page screenshots of both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from okrbridge.web import create_app, web_context
from sandbox.forge_host import forge_host
from sandbox.server import SandboxServer

from .support import missing_browser

_REASON = missing_browser()
if _REASON:
    pytest.skip(f"browser tests need headless Chromium: {_REASON}", allow_module_level=True)

from playwright.sync_api import Browser, expect  # noqa: E402

from tests.web.conftest import WEB_TOKENS, sync_sample, web_settings  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def okrbridge_url(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """okrbridge's web app over real HTTP on a database synced from the sandbox, trusted by and
    configured as the sandbox's Forge remote."""
    import threading

    folder = tmp_path_factory.mktemp("browser")
    app: Flask = create_app(web_settings(sandbox, sync_sample(sandbox, folder / "okrbridge.db"), folder))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    forge_host(sandbox.app).remote = url
    yield url
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
    web_context(app).close()


def _shot(page: object, name: str) -> None:
    """Keep a screenshot when asked to."""
    folder = os.environ.get("OKRBRIDGE_WEB_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_the_issue_page_shows_the_panel_and_the_dashboard_its_three_tabs(
        browser: Browser, sandbox: SandboxServer, okrbridge_url: str) -> None:
    dave = {"username": "dave@example.com", "password": "sandbox-token-dave"}
    jira = browser.new_context(base_url=sandbox.url, viewport={"width": 1100, "height": 800},
                               http_credentials=dave)
    board = browser.new_context(base_url=okrbridge_url, viewport={"width": 1100, "height": 900},
                                extra_http_headers={"Authorization": f"Bearer {WEB_TOKENS['dave']}"})
    try:
        page = jira.new_page()
        page.goto("/browse/ENG-57")
        panel = page.locator("#okr-panel")
        expect(panel.locator(".kr")).to_have_count(2)
        expect(panel.locator('[data-kr="ENG-1.1"] a')).to_have_attribute("href",
                                                                       "http://okr.example.test/kr/ENG-1.1")
        expect(panel.locator('[data-kr="CO-1.1"] .status-lozenge').first).to_be_visible()
        expect(page.locator("h1")).to_contain_text("ENG-57")
        _shot(page, "issue-panel")

        dash = board.new_page()
        dash.goto("/?tab=all&period=year")
        objectives = dash.locator("section.objective")
        # dave (engineering) sees the company objectives and the engineering ones, nothing else
        ids = set(objectives.evaluate_all("nodes => nodes.map(n => n.dataset.objective)"))
        assert ids == {"CO-1", "CO-2", "ENG-1", "ENG-2"}
        expect(dash.locator('section[data-objective="ENG-1"] svg.sparkline').first).to_be_attached()
        dash.locator('nav.tabs a[data-tab="group"]').click()
        group = set(dash.locator("section.objective").evaluate_all("n => n.map(x => x.dataset.objective)"))
        assert group == {"ENG-1", "ENG-2"}  # shown to his group by name
        dash.locator('nav.tabs a[data-tab="personal"]').click()
        mine = set(dash.locator("section.objective").evaluate_all("n => n.map(x => x.dataset.objective)"))
        assert mine == {"ENG-1", "ENG-2"}  # the objectives he owns (his handle dave, from his email)
        expect(dash.locator("nav.tabs a.on")).to_have_text("Personal")
        _shot(dash, "dashboard-personal")
        link = dash.locator('tr.kr[data-kr="ENG-1.1"] a').first
        expect(link).to_have_attribute("href", "http://okr.example.test/kr/ENG-1.1")  # web.base_url
        dash.goto("/kr/ENG-1.1")  # the same page on this test's loopback address
        expect(dash.locator("h1")).to_contain_text("ENG-1.1")
        expect(dash.locator("figure svg.chart")).to_be_visible()
    finally:
        jira.close()
        board.close()
