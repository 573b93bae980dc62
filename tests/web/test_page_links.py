"""Each KR on the panel and its KR page links to the published Confluence page that shows it to the
viewer: the address comes from `confluence.url` and the page id the publish record keeps, and only a
page of an audience open to the viewer's groups is linked (detail pages first, then summary ones).
Which audiences show what is worked out by hand from the sample's `visible_to` and teams."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from okrbridge.store import PublishRecord, Store
from okrbridge.web import create_app, web_context
from okrbridge.web.links import published_pages
from sandbox.server import SandboxServer

from .conftest import WEB_TOKENS, Mint, web_settings

WIKI = "https://acme.atlassian.net"
PAGES = {"period:2026/audience:company": "1001", "period:2026/audience:leadership": "1002",
         "period:2026/audience:team-sales": "1003"}  # no team-engineering page published


def _address(page_id: str) -> str:
    """A Cloud page's browser address, as Confluence Cloud serves it."""
    return f"{WIKI}/wiki/pages/viewpage.action?pageId={page_id}"


@pytest.fixture(scope="module")
def linked_app(sandbox: SandboxServer, synced_database: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app whose store records three published pages of 2026."""
    settings = web_settings(sandbox, synced_database, tmp_path_factory.mktemp("links"),
                            web=f'auth = "token"\n[confluence]\nurl = "{WIKI}"\nemail = "bot@example.com"')
    store = Store(settings.database_url)
    try:
        for key, page_id in PAGES.items():
            store.save_publish_record(PublishRecord(key, page_id, key, None, 1, "hash",
                                                    datetime(2026, 3, 1, tzinfo=UTC)))
    finally:
        store.close()
    app = create_app(settings)
    yield app
    web_context(app).close()


def _panel(app: Flask, fit: Mint, login: str, issue: str) -> dict[str, Any]:
    """KR id → card of the panel `login` sees on `issue`."""
    answer = app.test_client().post("/forge/panel", json={},
                                    headers={"Authorization": f"Bearer {fit(login, issue)}"})
    assert answer.status_code == 200
    return {kr["id"]: kr for kr in answer.get_json()["krs"]}


def test_a_published_page_address_is_the_sites_page_for_the_recorded_id() -> None:
    record = PublishRecord("period:2026", "42", "OKRs 2026", None, 3, "h", datetime(2026, 1, 1, tzinfo=UTC))
    assert published_pages({"period:2026": record}, WIKI, "auto") == {"period:2026": _address("42")}
    assert published_pages({"period:2026": record}, "https://wiki.example.com/confluence/", "datacenter") == {
        "period:2026": "https://wiki.example.com/confluence/pages/viewpage.action?pageId=42"}
    assert published_pages({"period:2026": record}, None, "auto") == {}


def test_a_kr_links_to_the_detail_page_its_viewer_may_read(linked_app: Flask, fit: Mint) -> None:
    # SALES-1 drives CO-1.1 (leadership team, everyone) and SALES-1.1 (sales team: sales, executives)
    bob = _panel(linked_app, fit, "bob", "SALES-1")  # executives + sales
    assert bob["SALES-1.1"]["page_url"] == _address(PAGES["period:2026/audience:team-sales"])
    # CO-1 is on no published detail page; bob reads the company page first (the audiences' order)
    assert bob["CO-1.1"]["page_url"] == _address(PAGES["period:2026/audience:company"])


def test_no_kr_links_to_a_page_its_viewer_may_not_read(linked_app: Flask, fit: Mint) -> None:
    # ENG-1 drives CO-1.1 and ENG-1.1; the engineering team page is not published, and the
    # leadership page (executives only) shows ENG-1 in summary
    alice = _panel(linked_app, fit, "alice", "ENG-1")
    assert alice["ENG-1.1"]["page_url"] == _address(PAGES["period:2026/audience:leadership"])
    dave = _panel(linked_app, fit, "dave", "ENG-1")  # engineering, not an executive
    assert dave["ENG-1.1"]["page_url"] is None
    assert dave["CO-1.1"]["page_url"] == _address(PAGES["period:2026/audience:company"])


def test_the_kr_page_links_to_its_confluence_page(linked_app: Flask) -> None:
    client = linked_app.test_client()
    auth = {"Authorization": f"Bearer {WEB_TOKENS['bob']}"}
    page = client.get("/kr/SALES-1.1", headers=auth).get_data(as_text=True)
    assert f'href="{_address(PAGES["period:2026/audience:team-sales"])}"' in page.replace("&amp;", "&")
    api = client.get("/api/v1/krs/SALES-1.1", headers=auth).get_json()
    assert api["page_url"] == _address(PAGES["period:2026/audience:team-sales"])
