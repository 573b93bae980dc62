"""Confluence status pages from views: a root page, a page per period, under each a page per audience.

Views in, `PageSpec`s out (storage-format XHTML from the templates in `templates/confluence`, the
only files it reads).
Publishing (plan, apply, restrictions) takes the specs from here. A page shows only what its view
holds, and views decide visibility, so nothing here filters. Bodies depend only on the data: no
"now" is printed, only the time of the latest value, so an unchanged input renders byte-identical
pages and publishing can skip them by hash.

    pages = render_pages([period_views(data_2026, audiences), period_views(data_q4, audiences)],
                         jira_url=settings.jira.url)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from okrbridge.audiences import Audience
from okrbridge.cycles import FiscalCalendar, Period, PeriodKind
from okrbridge.domain import Catalog, Status
from okrbridge.page_spec import PageSpec
from okrbridge.templating import confluence_environment
from okrbridge.view_model import LeftOut, Query, View
from okrbridge.views import ViewData, audience_view

ROOT_KEY = "root"
_COLOURS = {Status.ON_TRACK: "Green", Status.AT_RISK: "Yellow", Status.OFF_TRACK: "Red",
            Status.NO_DATA: "Grey"}


@dataclass(frozen=True)
class PeriodViews:
    """One period's audience views, in the order their pages are listed (each view has its audience)."""

    period: str
    start: date
    end: date
    views: tuple[View, ...]


def period_views(data: ViewData, audiences: Sequence[Audience]) -> PeriodViews:
    """The views of one period's data for every audience."""
    report = data.report
    return PeriodViews(report.period, report.start, report.end,
                       tuple(audience_view(data, audience) for audience in audiences))


def publish_periods(catalog: Catalog, calendar: FiscalCalendar, now: datetime) -> list[Period]:
    """The periods that get pages: every fiscal year an objective's cycle falls in, and each of its
    quarters that has started by `now`, in time order (years before their quarters)."""
    years = sorted({calendar.period_of(PeriodKind.YEAR, calendar.parse(o.cycle).start)
                    for o in catalog.objectives})
    periods: list[Period] = []
    for year in years:
        periods.append(year)
        periods.extend(q for q in calendar.periods(PeriodKind.QUARTER, year) if q.starts_at <= now)
    return periods


def status_colour(status: Status, stale: bool = False) -> str:
    """The lozenge colour of a status: Green, Yellow, Red; Grey for no data or a stale value."""
    return "Grey" if stale else _COLOURS[status]


def _left_out_text(left_out: LeftOut) -> str:
    """`2 objectives and 1 KPI are not shown on this page.`"""
    parts = [f"{n} {word}{'' if n == 1 else 's'}"
             for n, word in ((left_out.objectives, "objective"), (left_out.kpis, "KPI")) if n]
    verb = "is" if len(parts) == 1 and (left_out.objectives + left_out.kpis) == 1 else "are"
    return f"{' and '.join(parts)} {verb} not shown on this page."


def _score(score: float | None) -> str:
    """A score to two places, or `—`."""
    return "—" if score is None else f"{score:.2f}"


def _day(moment: datetime | None) -> str:
    """The UTC day of an instant, or `—`."""
    return "—" if moment is None else moment.date().isoformat()


def _number(value: float) -> str:
    """A chart cell: the plain number, without unit or thousands separator."""
    return format(value, ".10g")


def _percent(share: float) -> str:
    """A share of 1 as a whole percentage."""
    return f"{round(share * 100)} %"


def _label(text: str) -> str:
    """A Confluence label: lower case, no spaces or punctuation Confluence refuses."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower())


def render_pages(periods: Sequence[PeriodViews], *, jira_url: str | None = None,
                 root_title: str = "OKRs") -> list[PageSpec]:
    """The page tree for `periods`: the root, then each period's page followed by its audience pages.

    `jira_url` (the Jira site, e.g. `settings.jira.url`) makes "open in Jira" links to the issue
    navigator with each value's exact JQL; without it the JQL is shown as text. Titles are
    `root_title`, `"<root_title> <period>"` and `"<audience title> (<period>)"`; a title that would
    repeat raises ValueError naming it. An audience page is read-restricted to its audience's
    groups; the root and period pages (which name no objective) are open.
    """
    env = confluence_environment()
    base = (jira_url or "").rstrip("/")
    helpers: dict[str, Any] = {
        "colour": status_colour, "score": _score, "day": _day, "number": _number, "percent": _percent,
        "left_out_text": _left_out_text, "jira_url": base or None, "root_title": root_title,
        "jql_url": lambda jql: f"{base}/issues/?jql={quote(jql, safe='')}",
        "epic_query": lambda jql: Query("value", jql),
    }
    env.globals.update(helpers)
    contexts = [_period_context(p, root_title) for p in periods]
    pages = [PageSpec(ROOT_KEY, root_title, None, env.get_template("root.xml.j2").render(periods=contexts),
                      labels=("okr",))]
    for period, context in zip(periods, contexts, strict=True):
        period_key = f"period:{period.period}"
        period_label = f"okr-{_label(period.period)}"
        pages.append(PageSpec(period_key, context["title"], ROOT_KEY,
                              env.get_template("period.xml.j2").render(period=context),
                              labels=("okr", period_label)))
        audience_template = env.get_template("audience.xml.j2")
        for page in context["audiences"]:
            view: View = page["view"]
            groups = tuple(sorted(view.audience.groups)) if view.audience else ()
            pages.append(PageSpec(f"{period_key}/audience:{view.key}", page["title"], period_key,
                                  audience_template.render(period=context, view=view), groups,
                                  ("okr", period_label, f"okr-{_label(view.key)}")))
    _check_unique_titles(pages)
    return pages


def _period_context(period: PeriodViews, root_title: str) -> dict[str, Any]:
    """What the period and audience templates say about a period and its pages."""
    return {
        "label": period.period, "title": f"{root_title} {period.period}", "start": period.start.isoformat(),
        "last_day": (period.end - timedelta(days=1)).isoformat(),
        "audiences": [{"title": f"{view.title} ({period.period})", "view": view,
                       "restricted": bool(view.audience and view.audience.groups)} for view in period.views],
    }


def _check_unique_titles(pages: Sequence[PageSpec]) -> None:
    """Confluence refuses a second page of the same title in a space: say which before publishing."""
    seen: dict[str, str] = {}
    for page in pages:
        if page.title in seen:
            raise ValueError(f"page title {page.title!r} is used by both {seen[page.title]} and {page.key}: "
                             "give the audiences different titles")
        seen[page.title] = page.key
