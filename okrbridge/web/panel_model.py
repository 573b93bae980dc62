"""The web answers (issue panel, dashboard, KR page, period grades) cut from the shared views.

Visibility is decided by `okrbridge.views` and nowhere here: the viewer is a `Person`, and every
answer is built from `reader_view` (all they may see, in detail), `person_view` (the audiences
open to their groups) and `personal_view` (what they own) over `workspace.view_data`. So the panel,
the pages and the API show the same numbers, statuses and "how obtained" words as the Confluence
pages, and a renderer never compares groups itself.

A panel or KR page grades each objective over its own cycle (the period of its Confluence page);
the dashboard grades the period asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from okrbridge.audiences import Person
from okrbridge.cycles import Period
from okrbridge.domain import Objective, SourceKind, Status
from okrbridge.explanation import Explanation
from okrbridge.pages import page_key, status_colour
from okrbridge.view_model import KrView, ObjectiveView, PersonView, View, plain
from okrbridge.views import ViewData, person_view, personal_view, reader_view, visible_objectives
from okrbridge.workspace import Workspace, audiences, view_data

Tab = Literal["all", "group", "personal"]
TABS: tuple[Tab, ...] = ("all", "group", "personal")


def as_tab(value: str) -> Tab | None:
    """`value` as a dashboard tab, or None when it names none."""
    for tab in TABS:
        if value == tab:
            return tab
    return None


@dataclass(frozen=True)
class Links:
    """Where answers point: a KR's page, Jira's issue search for a JQL (None without Jira), and the
    Confluence pages published so far (their browser address by page key, see `pages.page_key`)."""

    kr_url: Callable[[str], str]
    jira_url: str | None = None
    pages: Mapping[str, str] = field(default_factory=dict)

    def search(self, jql: str) -> str | None:
        """Jira's issue navigator for a JQL."""
        return f"{self.jira_url}/issues/?jql={quote(jql, safe='')}" if self.jira_url else None


def colour(status: Status, stale: bool) -> str:
    """The lozenge colour the Confluence pages give a status (grey when stale), in lower case."""
    return status_colour(status, stale).lower()


def card(kr: KrView, objective: ObjectiveView, period: str, links: Links,
         page: str | None = None) -> dict[str, Any]:
    """One KR as every renderer shows it (the panel's row, the dashboard's row, the KR page's head),
    from its view; `period` is the label of the period it was graded for, `page` the key of the
    Confluence page that shows it to the viewer (see `page_keys`)."""
    return {
        "id": kr.id, "title": kr.title, "url": links.kr_url(kr.id),
        "page_url": links.pages.get(page) if page else None,
        "objective": {"id": objective.id, "title": objective.title, "cycle": objective.cycle},
        "period": period, "owner": kr.owner, "unit": kr.unit, "measure": kr.measure.value, "goal": kr.goal,
        "value": kr.value, "value_text": kr.value_text, "score": kr.score, "status": kr.status.value,
        "colour": colour(kr.status, kr.stale), "progress": kr.score if kr.score is not None else 0.0,
        "pace": kr.pace.value, "as_of": kr.as_of.isoformat() if kr.as_of else None,
        "forecast": kr.forecast, "forecast_text": kr.forecast_text, "forecast_score": kr.forecast_score,
        "trend": [[point.at.isoformat(), point.value] for point in kr.trend],
        "stale": kr.stale, "stale_reason": kr.stale_reason, "how": kr.how,
        "queries": [{"role": q.role, "jql": q.jql, "url": links.search(q.jql)} for q in kr.queries],
    }


def page_keys(ws: Workspace, person: Person, data: ViewData, links: Links,
              shown: PersonView | None = None) -> dict[str, str]:
    """Per KR id, the key of the published Confluence page that shows it to `person`: the first page,
    in the audiences' order, of an audience open to their groups (so they may read it) listing the
    KR in detail, else the first listing its objective. `shown` is their `person_view` of `data`
    when already built. Nothing is worked out when no page has been published."""
    if not links.pages:
        return {}
    detail: dict[str, str] = {}
    summary: dict[str, str] = {}
    for view in (shown or person_view(data, person, audiences(ws))).views:
        key = page_key(view.period, view.key)
        if key not in links.pages:
            continue
        for objective in view.objectives:
            detail.update((kr.id, key) for kr in objective.krs if kr.id not in detail)
            definition = ws.catalog.objective(objective.id)
            summary.update((kr.id, key) for kr in (definition.key_results if definition else ())
                           if kr.id not in summary)
    return {**summary, **detail}


def _objective_row(objective: ObjectiveView, krs: Sequence[KrView], period: str, links: Links,
                   pages: Mapping[str, str]) -> dict[str, Any]:
    """One objective with its grade and the cards of `krs` (its own KRs, or the viewer's among them)."""
    return {"id": objective.id, "title": objective.title, "level": objective.level.value,
            "team": objective.team, "owner": objective.owner, "cycle": objective.cycle,
            "score": objective.score, "status": objective.status.value,
            "colour": colour(objective.status, objective.stale), "pace": objective.pace.value,
            "stale": objective.stale, "parent": objective.parent_id,
            "krs": [card(kr, objective, period, links, pages.get(kr.id)) for kr in krs]}


def _cycle_views(ws: Workspace, person: Person, objectives: Iterable[Objective], now: datetime,
                 links: Links) -> list[tuple[View, dict[str, str]]]:
    """`person`'s view of each of the objectives' cycles (grading only those objectives), each with
    the Confluence page key of its KRs (`page_keys`)."""
    by_cycle: dict[Period, list[str]] = {}
    for objective in objectives:
        by_cycle.setdefault(ws.loaded.calendar.parse(objective.cycle), []).append(objective.id)
    views = []
    for period, ids in by_cycle.items():
        data = view_data(ws, period, now=now, objectives=ids)
        views.append((reader_view(data, person), page_keys(ws, person, data, links)))
    return views


def panel(ws: Workspace, person: Person, *, issue_key: str, epic_key: str | None, now: datetime,
          links: Links) -> dict[str, Any]:
    """The issue panel: the KRs the issue's epic drives that the viewer may see, and how many not."""
    kr_ids = {i.kr_id for i in ws.store.initiatives_for_epic(epic_key)} if epic_key else set()
    # KRs archived since the last sync are neither shown nor counted
    known = [kr for kr in ws.catalog.key_results() if kr.id in kr_ids]
    # only objectives views let the person see are graded (and their values read); the others'
    # KRs are the hidden ones
    visible = {o.id: o for o in visible_objectives(ws.catalog, person)}
    objectives = {kr.objective_id: visible[kr.objective_id] for kr in known if kr.objective_id in visible}
    found: dict[str, dict[str, Any]] = {}
    for view, pages in _cycle_views(ws, person, objectives.values(), now, links):
        for objective in view.objectives:
            found.update((kr.id, card(kr, objective, view.period, links, pages.get(kr.id)))
                         for kr in objective.krs if kr.id in kr_ids)
    cards = [found[kr.id] for kr in known if kr.id in found]  # catalog order
    hidden = len(known) - len(cards)
    if cards:
        message = None
    elif hidden:
        message = f"{epic_key} drives key results you may not see."
    elif epic_key:
        message = f"{epic_key} drives no key result." if epic_key == issue_key else \
            f"{issue_key} belongs to {epic_key}, which drives no key result."
    else:
        message = f"{issue_key} is not an epic and belongs to none, so it drives no key result."
    return {"issue": issue_key, "epic": epic_key, "krs": cards, "hidden": hidden, "message": message}


def _tab_rows(ws: Workspace, person: Person, data: ViewData, everything: View, tab: Tab,
              links: Links) -> list[dict[str, Any]]:
    """The objective rows of one dashboard tab, cut from views.

    All: everything the person may see. Group: the objectives shown by the audience pages of their
    groups (views' `person_view`, leaving out pages open to everyone), with their KRs. Personal:
    views' `personal_view`, the objectives they own with every KR, then the KRs they own in others'
    objectives.
    """
    label = everything.period
    mine = person_view(data, person, audiences(ws)) if tab == "group" or links.pages else None
    pages = page_keys(ws, person, data, links, mine)
    if tab == "all":
        return [_objective_row(o, o.krs, label, links, pages) for o in everything.objectives]
    if tab == "group" and mine is not None:
        # the pages of the audiences named by the person's groups (not the pages open to everyone)
        group_views = [v for v in mine.views if v.audience and v.audience.groups]
        shown = {o.id for view in group_views for o in view.objectives}
        return [_objective_row(o, o.krs, label, links, pages) for o in everything.objectives if o.id in shown]
    personal = mine.personal if mine else personal_view(data, person)
    owned = {o.id for o in personal.objectives}
    krs_of: dict[str, list[KrView]] = {}
    for kr in personal.key_results:
        krs_of.setdefault(kr.objective_id, []).append(kr)
    return [_objective_row(o, o.krs if o.id in owned else krs_of[o.id], label, links, pages)
            for o in everything.objectives if o.id in owned or o.id in krs_of]


def dashboard(ws: Workspace, person: Person, *, tab: Tab, period: Period, now: datetime,
              links: Links) -> dict[str, Any]:
    """The dashboard for one tab and period: the objectives of the tab graded for it, with KR cards,
    and how many objectives and KPIs of the period the viewer may not see."""
    data = view_data(ws, period, now=now)
    everything = reader_view(data, person)
    return {"tab": tab, "period": period.label, "kind": period.kind.value, "start": period.start.isoformat(),
            "end": period.end.isoformat(), "viewer": person.name or None,
            "objectives": _tab_rows(ws, person, data, everything, tab, links),
            "left_out": plain(everything.left_out)}


def grades(ws: Workspace, person: Person, period: Period, now: datetime) -> dict[str, Any]:
    """Everything the viewer may see of the period, as views' JSON form (`View.to_dict`)."""
    return reader_view(view_data(ws, period, now=now), person).to_dict()


def kr_page(ws: Workspace, person: Person, kr_id: str, *, now: datetime,
            links: Links) -> dict[str, Any] | None:
    """A KR's page: its card, every stored value with the JQLs behind it, and its epics; None when the
    KR does not exist or the viewer may not see it (the two are told apart nowhere)."""
    kr = ws.catalog.key_result(kr_id)
    objective = ws.catalog.objective(kr.objective_id) if kr else None
    if kr is None or objective is None:
        return None
    ((view, pages),) = _cycle_views(ws, person, [objective], now, links)
    shown = next((o for o in view.objectives if o.id == objective.id), None)
    kr_view = next((k for k in shown.krs if k.id == kr_id), None) if shown else None
    if shown is None or kr_view is None:
        return None
    # A value taken from a KPI the viewer may not see keeps that KPI's queries to itself, as views do.
    kpi_hidden = kr.source.kind is SourceKind.KPI and not kr_view.queries
    history = [{"taken_at": s.taken_at.isoformat(), "value": s.value, "score": ws.score_of(s),
                "source": s.source_kind,
                "text": s.explanation.describe() if not kpi_hidden else "from a KPI not shown here",
                "jqls": [{**q, "url": links.search(q["jql"])}
                         for q in jqls(s.explanation, with_kpi=not kpi_hidden)],
                "note": s.note, "author": s.author} for s in ws.store.history(kr_id)]
    epics = [{"key": i.epic_key, "summary": i.title, "status": i.status, "done": i.done,
              "progress": i.progress, "children_done": i.children_done, "children_total": i.children_total,
              "url": i.url} for i in kr_view.initiatives]
    target = kr.measure.target if kr.measure.target is not None else kr.measure.baseline
    return {**card(kr_view, shown, view.period, links, pages.get(kr_id)), "target_value": target,
            "history": history, "epics": epics}


def jqls(explanation: Explanation | None, *, with_kpi: bool = True) -> list[dict[str, Any]]:
    """The JQLs (with their counts) a stored value's explanation says were asked, in order (a KPI's
    own, for a value taken from one, only `with_kpi`)."""
    found: list[dict[str, Any]] = []
    if explanation is None:
        return found
    if explanation.jql is not None:
        found.append({"jql": explanation.jql, "count": explanation.count})
    for part, item in (("numerator", explanation.numerator), ("denominator", explanation.denominator)):
        if item is not None:
            found.append({"jql": item.jql, "count": item.count, "part": part})
    if with_kpi:
        found.extend(jqls(explanation.kpi_explanation))
    return found
