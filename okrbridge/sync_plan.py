"""Planning a sync and turning its answers into values: pure, no IO.

A sync asks Jira a set of *questions* (a count for a JQL, a sum over a field, an issue's status, the
epics behind a KR). Many KRs and KPIs ask the same question — the same JQL counted by a ratio's
denominator and by another KR's count — so the plan keys questions by what they ask and asks each
once. `evaluate` then turns the answers into one value per KR/KPI, together with the `Explanation`
(the exact JQLs and counts), or into a failure that names Jira's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import Aggregate, Catalog, KeyResult, Kpi, Objective, SourceKind
from okrbridge.explanation import Explanation, JqlCount

QuestionKind = Literal["count", "aggregate", "issue", "epics", "epic_progress"]


@dataclass(frozen=True, order=True)
class Question:
    """One thing to ask Jira. Equal questions are asked once per sync."""

    kind: QuestionKind
    jql: str = ""
    field: str = ""
    agg: str = ""
    keys: tuple[str, ...] = ()

    def describe(self) -> str:
        """A one-line human description, as `sync --dry-run` lists it."""
        if self.kind == "count":
            return f"count    {self.jql}"
        if self.kind == "aggregate":
            return f"{self.agg:<8} {self.field} over {self.jql}"
        if self.kind == "issue":
            return f"status   {self.keys[0]}"
        if self.kind == "epics":
            what = " OR ".join(filter(None, [self.jql, ", ".join(self.keys)]))
            return f"epics    {what}"
        return f"progress {self.keys[0]}"


@dataclass(frozen=True)
class SubjectPlan:
    """What one KR or KPI needs: its value questions in source order, and its initiatives question."""

    subject_id: str
    subject_kind: Literal["kr", "kpi"]
    source_kind: SourceKind
    questions: tuple[Question, ...]
    initiatives: Question | None = None
    kpi: str | None = None


@dataclass(frozen=True)
class SyncPlan:
    """Every KR/KPI a sync touches and the distinct questions it asks."""

    subjects: tuple[SubjectPlan, ...]
    questions: tuple[Question, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def epic_questions(self) -> tuple[Question, ...]:
        """The questions that find initiatives (epics) for KRs."""
        return tuple(q for q in self.questions if q.kind == "epics")


def _value_questions(source_kind: SourceKind, jqls: tuple[str, ...], field: str | None,
                     agg: Aggregate, issue: str | None) -> tuple[Question, ...]:
    """The value questions of one source."""
    if source_kind in (SourceKind.JQL_COUNT, SourceKind.JQL_RATIO):
        return tuple(Question("count", jql=j) for j in jqls)
    if source_kind is SourceKind.JQL_SUM:
        return tuple(Question("aggregate", jql=j, field=field or "", agg=agg.value) for j in jqls)
    if source_kind is SourceKind.MILESTONE and issue:
        return (Question("issue", keys=(issue,)),)
    return ()


def _kr_plan(kr: KeyResult) -> SubjectPlan:
    """The plan of one key result."""
    src = kr.source
    initiatives = None
    if kr.initiatives:
        initiatives = Question("epics", jql=kr.initiatives.query or "", keys=tuple(kr.initiatives.epics))
    questions = _value_questions(src.kind, src.jqls, src.field, src.agg, src.issue)
    if src.kind is SourceKind.MILESTONE and kr.measure.partial_credit and src.issue:
        # Partial credit scores a milestone by its epic's done ratio, so the epic's progress is a
        # value question too (answered in the same pass as initiatives' progress).
        questions = (*questions, Question("epic_progress", keys=(src.issue,)))
    return SubjectPlan(kr.id, "kr", src.kind, questions, initiatives, kpi=src.kpi)


def _kpi_plan(kpi: Kpi) -> SubjectPlan:
    """The plan of one KPI."""
    src = kpi.source
    return SubjectPlan(kpi.id, "kpi", src.kind,
                       _value_questions(src.kind, src.jqls, src.field, src.agg, src.issue))


def _cycle_closed(objective: Objective, calendar: FiscalCalendar, at: datetime) -> str | None:
    """Why an objective's KRs are not synced at `at` (its cycle has not begun or is over), or None.

    A closed cycle's grade must not move, and a future cycle's KRs would only collect values that no
    grade reads (report.py ignores readings outside the objective's cycle).
    """
    cycle = calendar.parse(objective.cycle)
    if at < cycle.starts_at:
        return f"cycle {cycle.label} has not started"
    if at >= cycle.ends_at:
        return f"cycle {cycle.label} is over"
    return None


def plan_sync(catalog: Catalog, only: frozenset[str] | None = None, *, at: datetime | None = None,
              ) -> SyncPlan:
    """Plan a sync of every Jira-backed KR and KPI (or only the ids in `only`) as of `at`.

    Skipped, with the reason: manual KRs/KPIs without initiatives (their values come from
    check-ins), and, when `at` is given, the KRs of objectives whose cycle does not contain it.
    """
    calendar = catalog.calendar
    subjects: list[SubjectPlan] = []
    skipped: dict[str, str] = {}
    closed = {o.id: _cycle_closed(o, calendar, at) for o in catalog.objectives} if at else {}
    candidates: list[tuple[SubjectPlan, str | None]] = [(_kpi_plan(k), None) for k in catalog.kpis]
    candidates += [(_kr_plan(kr), closed.get(kr.objective_id)) for kr in catalog.key_results()]
    for plan, closed_because in candidates:
        if only is not None and plan.subject_id not in only:
            continue
        if closed_because:
            skipped[plan.subject_id] = closed_because
        elif plan.source_kind is SourceKind.MANUAL and plan.initiatives is None:
            skipped[plan.subject_id] = "manual: values come from check-ins"
        else:
            subjects.append(plan)
    seen: dict[Question, None] = {}
    for plan in subjects:
        for question in plan.questions:
            seen.setdefault(question)
        if plan.initiatives is not None:
            seen.setdefault(plan.initiatives)
    return SyncPlan(tuple(subjects), tuple(seen), skipped)


@dataclass(frozen=True)
class Answer:
    """Jira's answer to one question: a value, or the error message Jira gave."""

    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether Jira answered without an error."""
        return self.error is None


@dataclass(frozen=True)
class Outcome:
    """The value of one KR/KPI for this run, with what explains it — or why there is none."""

    subject_id: str
    subject_kind: Literal["kr", "kpi"]
    source_kind: SourceKind
    value: float | None = None
    explanation: Explanation = field(default_factory=Explanation)
    error: str | None = None
    no_value: str | None = None

    @property
    def done_ratio(self) -> float | None:
        """A milestone epic's done share, as its explanation records it (partial credit scores it)."""
        return self.explanation.done_ratio

    @property
    def ok(self) -> bool:
        """Whether Jira answered everything this subject asked (it may still have no value yet)."""
        return self.error is None


def _fail(plan: SubjectPlan, message: str, detail: Explanation) -> Outcome:
    """An outcome that carries an error and the explanation gathered so far."""
    return Outcome(plan.subject_id, plan.subject_kind, plan.source_kind, explanation=detail, error=message)


def _no_value(plan: SubjectPlan, reason: str, detail: Explanation) -> Outcome:
    """Jira answered, but there is nothing to measure yet (no issue to average, no denominator)."""
    return Outcome(plan.subject_id, plan.subject_kind, plan.source_kind, explanation=detail, no_value=reason)


def evaluate(plan: SubjectPlan, answers: Mapping[Question, Answer], *,
             kpi_values: Mapping[str, Outcome] | None = None,
             base_detail: Mapping[str, Any] | None = None) -> Outcome:
    """Turn the answers to a subject's questions into its value and the `Explanation` of it.

    `kpi_values` holds this run's KPI outcomes (or the KPIs' latest stored values), for KRs whose
    source is a KPI. `base_detail` (`deployment`, `jira`, `queried_at`) goes into every explanation.
    """
    detail = Explanation.from_dict({**(base_detail or {}), "source": plan.source_kind.value})
    for question in plan.questions:
        answer = answers.get(question)
        if answer is None or not answer.ok:
            reason = answer.error if answer else "not asked"
            target = question.jql or ", ".join(question.keys)
            return _fail(plan, f"{target}: {reason}", detail)
    got = [answers[q].value for q in plan.questions]
    kind = plan.source_kind
    if kind is SourceKind.JQL_COUNT:
        detail = replace(detail, jql=plan.questions[0].jql, count=got[0])
        return Outcome(plan.subject_id, plan.subject_kind, kind, float(got[0]), explanation=detail)
    if kind is SourceKind.JQL_RATIO:
        numerator, denominator = got
        detail = replace(detail, numerator=JqlCount(plan.questions[0].jql, numerator),
                         denominator=JqlCount(plan.questions[1].jql, denominator))
        if denominator == 0:
            return _no_value(plan, f"no issue matches the denominator yet: {plan.questions[1].jql}", detail)
        return Outcome(plan.subject_id, plan.subject_kind, kind, 100.0 * numerator / denominator,
                       explanation=detail)
    if kind is SourceKind.JQL_SUM:
        aggregate = got[0]
        question = plan.questions[0]
        detail = replace(detail, jql=question.jql, field=question.field, agg=question.agg,
                         issues=aggregate["count"], with_value=aggregate["with_value"])
        if aggregate["value"] is None and question.agg == "sum":
            # A sum over nothing is 0 (no story points delivered yet); an average over nothing is undefined.
            return Outcome(plan.subject_id, plan.subject_kind, kind, 0.0, explanation=detail)
        if aggregate["value"] is None:
            return _no_value(plan, f"no issue matching the JQL has a value in {question.field} yet", detail)
        return Outcome(plan.subject_id, plan.subject_kind, kind, float(aggregate["value"]),
                       explanation=detail)
    if kind is SourceKind.MILESTONE:
        state = got[0]
        detail = replace(detail, issue=state["key"], status=state["status"],
                         status_category=state["status_category"])
        if len(got) > 1:
            progress = got[1]
            detail = replace(detail, children_done=progress["done"], children_total=progress["total"])
        return Outcome(plan.subject_id, plan.subject_kind, kind, 1.0 if state["done"] else 0.0,
                       explanation=detail)
    if kind is SourceKind.KPI:
        kpi_outcome = (kpi_values or {}).get(plan.kpi or "")
        if kpi_outcome is not None and kpi_outcome.error:
            return _fail(plan, f"KPI {plan.kpi}: {kpi_outcome.error}", detail)
        if kpi_outcome is None or kpi_outcome.value is None:
            return _no_value(plan, f"KPI {plan.kpi} has no value yet", detail)
        detail = replace(detail, kpi=plan.kpi, kpi_explanation=kpi_outcome.explanation)
        return Outcome(plan.subject_id, plan.subject_kind, kind, kpi_outcome.value, explanation=detail)
    return _fail(plan, f"{kind.value} sources are not synced from Jira", detail)
