"""What the web renderers share about a request: where links point and which period is asked for."""

from __future__ import annotations

from typing import Any

from okrbridge.cycles import CycleError, Period, PeriodKind
from okrbridge.web.context import WebContext
from okrbridge.web.panel_model import Links
from okrbridge.workspace import kr_url

PERIOD_WORDS = {"year": PeriodKind.YEAR, "quarter": PeriodKind.QUARTER, "month": PeriodKind.MONTH}


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
