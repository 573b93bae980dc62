"""The one seam between the web renderers and what a viewer may see: visibility and the answers
(issue panel, dashboard, KR page) every renderer — Forge JSON, HTML pages, the API — is built from.

Visibility is decided here and nowhere else: `visible_krs`, `visible_objectives` and
`visible_kpis` compare an objective's (or KPI's) `visible_to` with the viewer's groups as Jira
reports them now; `everyone` lets every viewer in. A KR is visible exactly when its objective is.
Renderers never look at `visible_to` themselves, so replacing this module's visibility by the
shared view model changes every page, panel and API answer at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from okrbridge.cycles import Period, as_utc
from okrbridge.domain import EVERYONE, Catalog, KeyResult, Kpi, MeasureKind, Objective, Reading, Status
from okrbridge.explanation import Explanation
from okrbridge.report import KrGrade, ObjectiveGrade, PeriodReport, grade_period
from okrbridge.store import SubjectState
from okrbridge.web.viewer import Viewer
from okrbridge.workspace import Workspace

Tab = Literal["all", "group", "personal"]
TABS: tuple[Tab, ...] = ("all", "group", "personal")
COLOURS = {Status.ON_TRACK: "green", Status.AT_RISK: "yellow", Status.OFF_TRACK: "red",
           Status.NO_DATA: "grey"}
"""Status colours, named as Jira's and Confluence's lozenges name them."""


@dataclass(frozen=True)
class Visible:
    """The KRs a viewer may see, in catalog order, and how many asked-for KRs were left out."""

    krs: tuple[KeyResult, ...]
    hidden: int


def may_see(visible_to: Sequence[str], viewer: Viewer) -> bool:
    """Whether an audience list lets the viewer in: `everyone`, or a group the viewer is in."""
    return EVERYONE in visible_to or not viewer.groups.isdisjoint(visible_to)


def visible_krs(catalog: Catalog, viewer: Viewer, kr_ids: Iterable[str] | None = None) -> Visible:
    """The KRs (every one, or those in `kr_ids`) the viewer may see, and how many were refused.

    Ids the catalog does not know (a KR archived since the last sync) are neither shown nor counted.
    """
    wanted = None if kr_ids is None else set(kr_ids)
    shown: list[KeyResult] = []
    hidden = 0
    for objective in catalog.objectives:
        for kr in objective.key_results:
            if wanted is not None and kr.id not in wanted:
                continue
            if may_see(objective.visible_to, viewer):
                shown.append(kr)
            else:
                hidden += 1
    return Visible(tuple(shown), hidden)


def visible_objectives(catalog: Catalog, viewer: Viewer) -> tuple[Objective, ...]:
    """The objectives the viewer may see, in catalog order."""
    return tuple(o for o in catalog.objectives if may_see(o.visible_to, viewer))


def visible_kpis(catalog: Catalog, viewer: Viewer) -> tuple[Kpi, ...]:
    """The KPIs the viewer may see, in catalog order."""
    return tuple(k for k in catalog.kpis if may_see(k.visible_to, viewer))


def as_tab(value: str) -> Tab | None:
    """`value` as a dashboard tab, or None when it names none."""
    for tab in TABS:
        if value == tab:
            return tab
    return None


def in_tab(objective: Objective, viewer: Viewer, tab: Tab) -> bool:
    """Whether a visible objective belongs on a dashboard tab: `all` of them; `group`, those shown
    to one of the viewer's groups by name; `personal`, those the viewer owns or owns a KR of."""
    if tab == "group":
        return not viewer.groups.isdisjoint(objective.visible_to)
    if tab == "personal":
        owners = {objective.owner, *(kr.owner for kr in objective.key_results)}
        return not viewer.handles.isdisjoint(o for o in owners if o)
    return True


@dataclass(frozen=True)
class Links:
    """Where answers point: a KR's page, and Jira's issue search for a JQL (None without Jira)."""

    kr_url: Callable[[str], str]
    jira_url: str | None = None

    def search(self, jql: str) -> str | None:
        """Jira's issue navigator for a JQL."""
        return f"{self.jira_url}/issues/?jql={quote(jql, safe='')}" if self.jira_url else None


@dataclass(frozen=True)
class _Graded:
    """Grades of some objectives for one period, with the readings and sync states behind them."""

    objectives: dict[str, ObjectiveGrade]
    krs: dict[str, KrGrade]
    cycles: dict[str, Period]
    period_end: dict[str, datetime]
    readings: Mapping[str, list[Reading]]
    states: Mapping[str, SubjectState]


def _grade(ws: Workspace, objectives: Sequence[Objective], period: Period | None, now: datetime) -> _Graded:
    """Grade `objectives` as of the end of `period` (None: each as of its own cycle) from the store."""
    calendar = ws.loaded.calendar
    ids = [kr.id for o in objectives for kr in o.key_results]
    readings = ws.store.readings(ids, until=period.ends_at if period else None) if ids else {}
    states = ws.store.subject_states(ids) if ids else {}
    graded = _Graded({}, {}, {}, {}, readings, states)
    by_period: dict[Period, list[Objective]] = {}
    for objective in objectives:
        cycle = calendar.parse(objective.cycle)
        graded.cycles[objective.id] = cycle
        by_period.setdefault(period or cycle, []).append(objective)
    for target, group in by_period.items():
        report: PeriodReport = grade_period(replace(ws.catalog, objectives=tuple(group), kpis=()), readings,
                                            target, now=now, bands=ws.bands,
                                            pace_tolerance=ws.settings.grading.pace_tolerance)
        for grade in report.objectives:
            graded.objectives[grade.id] = grade
            graded.period_end[grade.id] = min(target.ends_at, report.as_of)
            graded.krs.update((kr.id, kr) for kr in grade.krs)
    return graded


def _target(kr: KeyResult) -> str:
    """What the KR aims for, in words."""
    m = kr.measure
    unit = kr.unit
    if m.kind is MeasureKind.THRESHOLD:
        return f"{'' if m.low is None else m.low:g}..{'' if m.high is None else m.high:g} {unit}".strip()
    if m.kind is MeasureKind.BASELINE:
        return f"{m.better.value} to {m.baseline:g} {unit}".strip() if m.baseline is not None else ""
    if m.kind is MeasureKind.MILESTONE:
        return "done"
    return f"{m.target:g} {unit}".strip() if m.target is not None else ""


def jqls(explanation: Explanation | None) -> list[dict[str, Any]]:
    """The JQLs (with their counts) a stored value's explanation says were asked, in order."""
    found: list[dict[str, Any]] = []
    if explanation is None:
        return found
    if explanation.jql is not None:
        found.append({"jql": explanation.jql, "count": explanation.count})
    for part, item in (("numerator", explanation.numerator), ("denominator", explanation.denominator)):
        if item is not None:
            found.append({"jql": item.jql, "count": item.count, "part": part})
    found.extend(jqls(explanation.kpi_explanation))
    return found


def _card(kr: KeyResult, objective: Objective, graded: _Graded, links: Links) -> dict[str, Any]:
    """One KR as every renderer shows it (the panel's row, the dashboard's row, the KR page's head)."""
    grade = graded.krs.get(kr.id)
    cycle = graded.cycles[objective.id]
    end = graded.period_end.get(objective.id, cycle.ends_at)
    trend = [[as_utc(r.taken_at).isoformat(), r.value] for r in graded.readings.get(kr.id, [])
             if r.value is not None and cycle.starts_at <= as_utc(r.taken_at) < end]
    state = graded.states.get(kr.id)
    status = grade.status if grade else Status.NO_DATA
    explanation = grade.explanation if grade else None
    return {
        "id": kr.id, "title": kr.title, "url": links.kr_url(kr.id),
        "objective": {"id": objective.id, "title": objective.title, "cycle": objective.cycle},
        "owner": kr.owner, "unit": kr.unit, "measure": kr.measure.kind.value, "target": _target(kr),
        "target_value": kr.measure.target if kr.measure.target is not None else kr.measure.baseline,
        "value": grade.value if grade else None, "score": grade.score if grade else None,
        "status": status.value, "colour": COLOURS[status],
        "progress": grade.score if grade and grade.score is not None else 0.0,
        "pace": grade.pace.value if grade else "not started",
        "forecast": grade.forecast if grade else None,
        "forecast_score": grade.forecast_score if grade else None,
        "trend": trend,
        "stale": bool(state and state.stale),
        "stale_reason": state.error if state and state.stale else None,
        "how": {"source": kr.source.kind.value,
                "as_of": grade.as_of.isoformat() if grade and grade.as_of else None,
                "jqls": [{**q, "url": links.search(q["jql"])} for q in jqls(explanation)],
                "detail": explanation.to_dict() if explanation else {},
                "text": explanation.describe() if explanation else "no value yet"},
    }


def panel(ws: Workspace, viewer: Viewer, *, issue_key: str, epic_key: str | None, now: datetime,
          links: Links) -> dict[str, Any]:
    """The issue panel: the KRs the issue's epic drives that the viewer may see, and how many not."""
    kr_ids = [i.kr_id for i in ws.store.initiatives_for_epic(epic_key)] if epic_key else []
    shown = visible_krs(ws.catalog, viewer, kr_ids)
    objectives = {kr.objective_id: ws.catalog.objective(kr.objective_id) for kr in shown.krs}
    graded = _grade(ws, [o for o in objectives.values() if o is not None], None, now)
    cards = [_card(kr, o, graded, links) for kr in shown.krs if (o := objectives.get(kr.objective_id))]
    if cards:
        message = None
    elif shown.hidden:
        message = f"{epic_key} drives key results you may not see."
    elif epic_key:
        message = f"{epic_key} drives no key result." if epic_key == issue_key else \
            f"{issue_key} belongs to {epic_key}, which drives no key result."
    else:
        message = f"{issue_key} is not an epic and belongs to none, so it drives no key result."
    return {"issue": issue_key, "epic": epic_key, "krs": cards, "hidden": shown.hidden, "message": message}


def _objective_row(grade: ObjectiveGrade, objective: Objective, graded: _Graded,
                   links: Links) -> dict[str, Any]:
    """One objective with its grade and its KRs' cards."""
    return {"id": grade.id, "title": grade.title, "level": grade.level.value, "team": grade.team,
            "owner": grade.owner, "cycle": grade.cycle, "score": grade.score, "status": grade.status.value,
            "colour": COLOURS[grade.status], "pace": grade.pace.value,
            "krs": [_card(kr, objective, graded, links) for kr in objective.key_results]}


def dashboard(ws: Workspace, viewer: Viewer, *, tab: Tab, period: Period, now: datetime,
              links: Links) -> dict[str, Any]:
    """The dashboard for one tab and period: visible objectives overlapping it, graded, with KR cards."""
    objectives = [o for o in visible_objectives(ws.catalog, viewer) if in_tab(o, viewer, tab)]
    graded = _grade(ws, objectives, period, now)
    rows = [_objective_row(graded.objectives[o.id], o, graded, links)
            for o in objectives if o.id in graded.objectives]
    return {"tab": tab, "period": period.label, "kind": period.kind.value, "start": period.start.isoformat(),
            "end": period.end.isoformat(), "viewer": viewer.display_name or None, "objectives": rows}


def grades(ws: Workspace, viewer: Viewer, period: Period, now: datetime) -> dict[str, Any]:
    """The period report (objectives and KPIs) limited to what the viewer may see."""
    catalog = replace(ws.catalog, objectives=visible_objectives(ws.catalog, viewer),
                      kpis=visible_kpis(ws.catalog, viewer))
    ids = [kr.id for kr in catalog.key_results()] + [k.id for k in catalog.kpis]
    readings = ws.store.readings(ids, until=period.ends_at) if ids else {}
    return grade_period(catalog, readings, period, now=now, bands=ws.bands,
                        pace_tolerance=ws.settings.grading.pace_tolerance).to_dict()


def kr_page(ws: Workspace, viewer: Viewer, kr_id: str, *, now: datetime,
            links: Links) -> dict[str, Any] | None:
    """A KR's page: its card, every stored value with the JQLs behind it, and its epics; None when the
    KR does not exist or the viewer may not see it (the two are told apart nowhere)."""
    shown = visible_krs(ws.catalog, viewer, [kr_id])
    if not shown.krs:
        return None
    kr = shown.krs[0]
    objective = ws.catalog.objective(kr.objective_id)
    if objective is None:
        return None
    card = _card(kr, objective, _grade(ws, [objective], None, now), links)
    history = [{"taken_at": s.taken_at.isoformat(), "value": s.value, "score": ws.score_of(s),
                "source": s.source_kind, "text": s.explanation.describe(),
                "jqls": [{**q, "url": links.search(q["jql"])} for q in jqls(s.explanation)],
                "note": s.note, "author": s.author} for s in ws.store.history(kr.id)]
    epics = [{"key": i.epic_key, "summary": i.summary, "status": i.status, "done": i.done,
              "progress": i.progress, "children_done": i.children_done, "children_total": i.children_total,
              "url": i.url} for i in ws.store.initiatives_for(kr.id)]
    return {**card, "history": history, "epics": epics}
