"""What the web renderers share about a request: where links point (KR pages, Jira searches, the
Confluence pages published) and which period is asked for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.confluence import page_link, site_root
from okrbridge.config import Settings
from okrbridge.cycles import CycleError, Period, PeriodKind
from okrbridge.store import PublishRecord
from okrbridge.sync_remote_links import LinkOptions
from okrbridge.web.context import WebContext
from okrbridge.web.panel_model import Links

PERIOD_WORDS = {"year": PeriodKind.YEAR, "quarter": PeriodKind.QUARTER, "month": PeriodKind.MONTH}


def kr_url(settings: Settings) -> Callable[[str], str]:
    """Where a KR's page is: under `web.base_url` as the sync's remote links point, or this
    process's own address when no base URL is set."""
    web = settings.web
    return LinkOptions(base_url=web.base_url or f"http://{web.host}:{web.port}").url_for


def published_pages(records: Mapping[str, PublishRecord], confluence_url: str | None,
                    deployment: str) -> dict[str, str]:
    """Where each published Confluence page opens in a browser, by page key (none without a
    `confluence.url`): the site's page address for the id the publish record keeps."""
    if not confluence_url:
        return {}
    root = site_root(confluence_url, deployment)
    return {key: page_link(root, record.page_id) for key, record in records.items()}


def links_for(web: WebContext) -> Links:
    """Links to KR pages (as the sync's remote links point), to Jira's issue search, and to the
    Confluence pages published so far (read from the store's publish records on each request)."""
    confluence = web.settings.confluence
    pages = published_pages(web.workspace.store.publish_records(), confluence.url, confluence.deployment)
    return Links(kr_url=kr_url(web.settings), jira_url=web.settings.jira.url, pages=pages)


def parse_period(web: WebContext, value: Any) -> Period | str:
    """The period asked for: "year", "quarter", "month" (the one containing now, the default being
    the quarter) or a label such as 2026-Q2; a message naming the value when it is neither."""
    calendar = web.workspace.loaded.calendar
    if value is None or value == "":
        return calendar.period_of(PeriodKind.QUARTER, web.now())
    if not isinstance(value, str):
        return f"period must be year, quarter, month or a label such as 2026-Q2, not {value!r}"
    if value in PERIOD_WORDS:
        return calendar.period_of(PERIOD_WORDS[value], web.now())
    try:
        return calendar.parse(value)
    except CycleError as error:
        return f"period {value!r}: {error}"
