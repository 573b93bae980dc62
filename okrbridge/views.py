"""Views: what one audience or one person may see of a period's grades. Pure, no IO.

This is the only place that decides visibility. An objective whose `visible_to` excludes the
reader never appears, and nothing derived from it does either: not a parent link or an aligned
child, not a count or a chart, not a KPI id in an explanation. A view says how many items of its
scope it leaves out, nothing more. Objective scores are of their own KRs only (see report), so a
visible objective's score holds nothing of a hidden one.

    data = ViewData(catalog, report, readings, initiatives=..., states=...)
    view = audience_view(data, audience)        # one page's content
    mine = person_view(data, person, audiences)  # the web app's reader: group views + Personal
    everything = reader_view(data, person)      # all the person may see, in detail (web All tab)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from okrbridge.audiences import Audience, DetailLevel, Person
from okrbridge.cycles import Period
from okrbridge.domain import (
    Catalog,
    Direction,
    KeyResult,
    Kpi,
    MeasureKind,
    Objective,
    Reading,
    Source,
    SourceKind,
)
from okrbridge.report import KpiGrade, KrGrade, ObjectiveGrade, PeriodReport, trend_points
from okrbridge.series import Series
from okrbridge.store.records import Initiative, SubjectState
from okrbridge.textout import format_value
from okrbridge.view_model import (
    InitiativeView,
    KpiView,
    KrView,
    LeftOut,
    ObjectiveView,
    PersonView,
    Query,
    TrendPoint,
    View,
)


class Reader(Protocol):
    """Anyone a view is built for: an `Audience` or a `Person`."""

    def can_see(self, visible_to: Sequence[str]) -> bool:
        """Whether the reader may see something visible to `visible_to`."""
        ...


@dataclass(frozen=True)
class ViewData:
    """Everything views are built from, for one period.

    `report` is `grade_period` of that period; `readings` the same readings (or compact series) it
    was graded from (the trends come from them); `initiatives` the store's epics per KR id;
    `states` the store's sync state per KR/KPI id (for staleness). The catalog's calendar parses
    the objectives' cycles.
    """

    catalog: Catalog
    report: PeriodReport
    readings: Mapping[str, Sequence[Reading] | Series] = field(default_factory=dict)
    initiatives: Mapping[str, Sequence[Initiative]] = field(default_factory=dict)
    states: Mapping[str, SubjectState] = field(default_factory=dict)

    @property
    def period(self) -> Period:
        """The period the report grades."""
        return Period(self.report.start, self.report.end, self.report.kind, self.report.period)

    def cycle(self, objective: Objective) -> Period:
        """The objective's own cycle."""
        return self.catalog.calendar.parse(objective.cycle)


def how_obtained(grade: KrGrade) -> str:
    """How a KR's value was obtained, in words: the one place views read a grade's explanation."""
    return grade.explanation.describe() if grade.explanation is not None else "no value yet"


def _goal(kr: KeyResult) -> str:
    """What the KR aims at, in words: `2 → 2.5 %`, `between $40 and $60`, `at least 4 /5`, `done`."""
    m, unit = kr.measure, kr.unit
    if m.kind in (MeasureKind.INCREASE, MeasureKind.DECREASE):
        return f"{format_value(m.start, unit)} → {format_value(m.target, unit)}"
    if m.kind is MeasureKind.THRESHOLD:
        if m.low is not None and m.high is not None:
            return f"between {format_value(m.low, unit)} and {format_value(m.high, unit)}"
        return f"at least {format_value(m.low, unit)}" if m.low is not None else \
            f"at most {format_value(m.high, unit)}"
    if m.kind is MeasureKind.BASELINE:
        word = "at least" if m.better is Direction.INCREASE else "at most"
        return f"{word} {format_value(m.baseline, unit)}"
    return "done"


def _value_text(kr: KeyResult, grade: KrGrade) -> str:
    """A KR's value in words: a milestone's 1/0 reads "done" / "not done" (with its epic's done share
    when the explanation records one); any other value is a number with its unit."""
    if kr.measure.kind is not MeasureKind.MILESTONE or grade.value is None:
        return format_value(grade.value, kr.unit)
    if grade.value >= 1:
        return "done"
    ratio = grade.explanation.done_ratio if grade.explanation is not None else None
    return f"not done ({ratio:.0%} of its issues done)" if ratio is not None else "not done"


def _queries(source: Source, catalog: Catalog, reader: Reader) -> tuple[Query, ...]:
    """The exact JQLs behind a source's value; a KPI source's are shown only if the KPI is visible."""
    if source.kind is SourceKind.JQL_RATIO:
        return tuple(Query(role, jql) for role, jql in zip(("numerator", "denominator"), source.jqls,
                                                             strict=True))
    if source.kind is SourceKind.MILESTONE and source.issue:
        return (Query("issue", f"key = {source.issue}"),)
    if source.kind is SourceKind.KPI and source.kpi:
        kpi = catalog.kpi(source.kpi)
        visible = kpi is not None and reader.can_see(kpi.visible_to)
        return _queries(kpi.source, catalog, reader) if visible and kpi is not None else ()
    return tuple(Query("value", jql) for jql in source.jqls)


def _epics_jql(kr: KeyResult) -> str | None:
    """One JQL for the epics that drive the KR (its query, its listed epics, or both)."""
    parts = [kr.initiatives.query] if kr.initiatives.query else []
    if kr.initiatives.epics:
        parts.append(f"key in ({', '.join(kr.initiatives.epics)})")
    return parts[0] if len(parts) == 1 else " OR ".join(f"({p})" for p in parts) or None


def _initiatives(records: Sequence[Initiative]) -> tuple[InitiativeView, ...]:
    """The epics currently driving a KR, by key."""
    current = sorted((r for r in records if r.removed_at is None), key=lambda r: r.epic_key)
    return tuple(InitiativeView(r.epic_key, r.summary, r.status, r.done, r.children_done, r.children_total,
                                r.progress, r.url) for r in current)


def _kr_view(data: ViewData, objective: Objective, kr: KeyResult, grade: KrGrade, reader: Reader) -> KrView:
    """A key result in full, as `reader` may see it."""
    state = data.states.get(kr.id)
    how = how_obtained(grade)
    if kr.source.kind is SourceKind.KPI and kr.source.kpi:
        kpi = data.catalog.kpi(kr.source.kpi)
        if kpi is None or not reader.can_see(kpi.visible_to):
            how = "from a KPI not shown here"  # its id and its own evidence stay hidden
    points = trend_points(data.readings.get(kr.id, ()), data.cycle(objective), data.period, data.report.as_of)
    stale = bool(state and state.stale)
    return KrView(
        id=kr.id, title=kr.title, objective_id=objective.id, owner=kr.owner, unit=kr.unit,
        measure=kr.measure.kind, weight=kr.weight, value=grade.value,
        value_text=_value_text(kr, grade), goal=_goal(kr), score=grade.score,
        status=grade.status, pace=grade.pace, as_of=grade.as_of, forecast=grade.forecast,
        forecast_text=format_value(grade.forecast, kr.unit), forecast_score=grade.forecast_score,
        stale=stale, stale_reason=state.error if stale and state else None, how=how,
        queries=_queries(kr.source, data.catalog, reader), epics_jql=_epics_jql(kr),
        trend=tuple(TrendPoint(at, value) for at, value in points),
        initiatives=_initiatives(data.initiatives.get(kr.id, ())))


def _objective_view(data: ViewData, objective: Objective, grade: ObjectiveGrade, reader: Reader, *,
                    detail: bool) -> ObjectiveView:
    """An objective as `reader` may see it; with its KRs when `detail`."""
    krs = tuple(_kr_view(data, objective, kr, kr_grade, reader)
                for kr, kr_grade in zip(objective.key_results, grade.krs, strict=True))
    parent = data.catalog.objective(objective.parent) if objective.parent else None
    if parent is not None and not reader.can_see(parent.visible_to):
        parent = None
    graded = {o.id for o in data.report.objectives}
    aligned = tuple((o.id, o.title) for o in data.catalog.objectives
                    if o.parent == objective.id and o.id in graded and reader.can_see(o.visible_to))
    return ObjectiveView(
        id=objective.id, title=objective.title, level=objective.level, team=objective.team,
        owner=objective.owner, cycle=objective.cycle, score=grade.score, status=grade.status,
        pace=grade.pace, kr_count=len(krs), stale=any(kr.stale for kr in krs),
        parent_id=parent.id if parent else None, parent_title=parent.title if parent else None,
        aligned=aligned, krs=krs if detail else ())


def _kpi_view(data: ViewData, kpi: Kpi, grade: KpiGrade, reader: Reader) -> KpiView:
    """A KPI as `reader` may see it."""
    state = data.states.get(kpi.id)
    stale = bool(state and state.stale)
    return KpiView(
        id=kpi.id, name=kpi.name, team=kpi.team, owner=kpi.owner, unit=kpi.unit, value=grade.value,
        value_text=format_value(grade.value, kpi.unit), baseline_text=format_value(kpi.baseline, kpi.unit),
        target_text=format_value(kpi.target, kpi.unit), score=grade.score, status=grade.status,
        as_of=grade.as_of, stale=stale, stale_reason=state.error if stale and state else None,
        queries=_queries(kpi.source, data.catalog, reader))


def _graded(data: ViewData) -> list[tuple[Objective, ObjectiveGrade]]:
    """The report's objectives paired with their definitions, in catalog order."""
    pairs = []
    for grade in data.report.objectives:
        objective = data.catalog.objective(grade.id)
        if objective is not None:
            pairs.append((objective, grade))
    return pairs


def _kpis(data: ViewData) -> list[tuple[Kpi, KpiGrade]]:
    """The report's KPIs paired with their definitions."""
    return [(kpi, grade) for grade in data.report.kpis if (kpi := data.catalog.kpi(grade.id)) is not None]


def _latest_value_at(grades: Sequence[ObjectiveGrade], krs: Sequence[KrView],
                     kpis: Sequence[KpiView]) -> datetime | None:
    """The time of the latest value among what a view shows (its objectives' KRs, KRs, KPIs)."""
    times = [kr.as_of for g in grades for kr in g.krs] + [kr.as_of for kr in krs] + [k.as_of for k in kpis]
    present = [t for t in times if t is not None]
    return max(present) if present else None


def _view(data: ViewData, key: str, title: str, detail: bool, *, objectives: Sequence[tuple[Objective,
          ObjectiveGrade]], reader: Reader, key_results: tuple[KrView, ...] = (),
          kpis: tuple[KpiView, ...] = (), left_out: LeftOut, audience: Audience | None = None) -> View:
    """A view of the data's period showing `objectives` (with their KRs when `detail`) and the rest."""
    report = data.report
    shown = tuple(_objective_view(data, o, g, reader, detail=detail) for o, g in objectives)
    return View(key=key, title=title, detail=detail, period=report.period, start=report.start,
                end=report.end, as_of=report.as_of, objectives=shown, key_results=key_results, kpis=kpis,
                left_out=left_out, audience=audience,
                data_as_of=_latest_value_at([g for _, g in objectives], key_results, kpis))


def audience_view(data: ViewData, audience: Audience) -> View:
    """What `audience` sees of the period: the objectives and KPIs in its scope that every one of
    its groups may see, at its detail level, and how many in its scope it leaves out."""
    detail = audience.detail is DetailLevel.DETAIL
    in_scope = [(o, g) for o, g in _graded(data) if audience.covers(o)]
    shown = [(o, g) for o, g in in_scope if audience.can_see(o.visible_to)]
    kpis_in_scope = [(k, g) for k, g in _kpis(data) if audience.covers_team(k.team)]
    kpis_shown = [(k, g) for k, g in kpis_in_scope if audience.can_see(k.visible_to)]
    return _view(
        data, audience.name, audience.title, detail, objectives=shown, reader=audience,
        kpis=tuple(_kpi_view(data, k, g, audience) for k, g in kpis_shown),
        left_out=LeftOut(len(in_scope) - len(shown), len(kpis_in_scope) - len(kpis_shown)),
        audience=audience)


def personal_view(data: ViewData, person: Person) -> View:
    """Personal: the objectives, key results and KPIs `person` owns and may see, in detail.

    `objectives` are those they own; `key_results` those they own in objectives owned by others.
    Owned items the person may not see are only counted.
    """
    owned = [(o, g) for o, g in _graded(data)
             if person.owns(o.owner) or any(person.owns(kr.owner) for kr in o.key_results)]
    visible = [(o, g) for o, g in owned if person.can_see(o.visible_to)]
    objectives = [(o, g) for o, g in visible if person.owns(o.owner)]
    key_results = tuple(kr for o, g in visible if not person.owns(o.owner)
                        for kr in _objective_view(data, o, g, person, detail=True).krs
                        if person.owns(kr.owner))
    kpis_owned = [(k, g) for k, g in _kpis(data) if person.owns(k.owner)]
    kpis = tuple(_kpi_view(data, k, g, person) for k, g in kpis_owned if person.can_see(k.visible_to))
    return _view(data, "personal", "Personal", True, objectives=objectives, reader=person,
                 key_results=key_results, kpis=kpis,
                 left_out=LeftOut(len(owned) - len(visible), len(kpis_owned) - len(kpis)))


def reader_view(data: ViewData, person: Person) -> View:
    """Everything `person` may see of the period, in detail: every graded objective and KPI open to
    one of their groups (or to everyone). The web app's All tab, issue panel and KR pages are cut
    from it; what the person may not see is only counted."""
    graded = _graded(data)
    shown = [(o, g) for o, g in graded if person.can_see(o.visible_to)]
    kpis = _kpis(data)
    kpis_shown = tuple(_kpi_view(data, k, g, person) for k, g in kpis if person.can_see(k.visible_to))
    return _view(data, "all", "All", True, objectives=shown, reader=person, kpis=kpis_shown,
                 left_out=LeftOut(len(graded) - len(shown), len(kpis) - len(kpis_shown)))


def visible_objectives(catalog: Catalog, reader: Reader) -> tuple[Objective, ...]:
    """The catalog's objectives `reader` may see, in catalog order, for answers about no period
    (which epics drive which KRs): the same rule as every view."""
    return tuple(o for o in catalog.objectives if reader.can_see(o.visible_to))


def person_view(data: ViewData, person: Person, audiences: Sequence[Audience]) -> PersonView:
    """What `person` sees: the views of the audiences open to their groups, then Personal."""
    views = tuple(audience_view(data, a) for a in audiences if a.open_to(person.groups))
    return PersonView(person.name, tuple(sorted(person.groups)), views, personal_view(data, person))
