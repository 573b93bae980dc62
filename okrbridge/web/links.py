"""What the web renderers share about a request: where links point and which period is asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from okrbridge.config import Settings
from okrbridge.cycles import CycleError, Period, PeriodKind
from okrbridge.sync_remote_links import LinkOptions
from okrbridge.web.context import WebContext
from okrbridge.web.panel_model import Links

PERIOD_WORDS = {"year": PeriodKind.YEAR, "quarter": PeriodKind.QUARTER, "month": PeriodKind.MONTH}


def kr_url(settings: Settings) -> Callable[[str], str]:
    """Where a KR's page is: under `web.base_url` as the sync's remote links point, or this
    process's own address when no base URL is set."""
    web = settings.web
    return LinkOptions(base_url=web.base_url or f"http://{web.host}:{web.port}").url_for


def links_for(web: WebContext) -> Links:
    """Links to KR pages (as the sync's remote links point) and to Jira's issue search."""
    return Links(kr_url=kr_url(web.settings), jira_url=web.settings.jira.url)


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
