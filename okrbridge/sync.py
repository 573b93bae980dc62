"""The sync worker: ask Jira, compute values and scores, store one snapshot per KR/KPI per run.

`run_sync` is what `okrbridge sync` and the daemon's sync job call through `workspace.sync`. It plans the
distinct questions (see sync_plan), asks them concurrently through a bounded pool, evaluates every
KR/KPI, and writes the run — snapshots, stale marks, initiatives — in one transaction. A question
Jira refuses (a bad JQL, a dead server after retries) fails only the KRs that asked it: they keep
their last good snapshot and are marked stale with Jira's message. Remote links on the epics are
written afterwards, so they show the values that were stored, scored by `grading.score_of` as
every other renderer scores them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.jira import JiraConnection, JiraError
from okrbridge.domain import Catalog, KeyResult, SourceKind
from okrbridge.grading import Bands, score_of
from okrbridge.store import Failure, InitiativeRecord, NewSnapshot, Store, SubjectKind
from okrbridge.sync_plan import Answer, Outcome, Question, SyncPlan, evaluate, plan_sync

Progress = Callable[[int, int], None]
"""Called with (questions answered, questions in all) as answers arrive."""


class LeadershipLost(RuntimeError):
    """The daemon running this sync lost its leader lease before writing; another daemon leads now."""


@dataclass(frozen=True)
class LinkOptions:
    """Remote links written on epics: on by default, pointing at the KR's page or dashboard."""

    enabled: bool = True
    url_for: Callable[[str], str] = lambda kr_id: f"okrbridge:kr/{kr_id}"


@dataclass
class SyncReport:
    """What one sync did, for the terminal, `--json` and the run record."""

    run_id: int | None
    dry_run: bool
    deployment: str
    started_at: datetime
    finished_at: datetime | None = None
    duration_seconds: float = 0.0
    planned: list[str] = field(default_factory=list)
    synced: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    initiatives: int = 0
    links_written: int = 0
    links_removed: int = 0
    link_errors: dict[str, str] = field(default_factory=dict)
    questions: int = 0
    requests: int = 0
    retries: int = 0

    @property
    def status(self) -> str:
        """succeeded, partial (some KRs failed) or failed (none synced)."""
        if not self.failed:
            return "succeeded"
        return "partial" if self.synced else "failed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        data = dataclasses.asdict(self)
        data.update(status=self.status, duration_seconds=round(self.duration_seconds, 3),
                    started_at=self.started_at.isoformat(),
                    finished_at=self.finished_at.isoformat() if self.finished_at else None)
        return data


def _ask(jira: JiraConnection, question: Question) -> Answer:
    """Ask Jira one question; Jira's refusal becomes the answer's error, not an exception."""
    try:
        if question.kind == "count":
            return Answer(jira.count(question.jql))
        if question.kind == "aggregate":
            return Answer(dataclasses.asdict(jira.aggregate(question.jql, question.field, question.agg)))
        if question.kind == "issue":
            return Answer(dataclasses.asdict(jira.issue_state(question.keys[0])))
        if question.kind == "epics":
            return Answer(jira.epics(jql=question.jql or None, keys=question.keys))
        return Answer(dataclasses.asdict(jira.epic_progress(question.keys[0])))
    except JiraError as exc:
        return Answer(error=str(exc))


def ask_all(jira: JiraConnection, questions: Iterable[Question], *, max_concurrency: int,
            progress: Progress | None = None, done_before: int = 0, total: int | None = None,
            ) -> dict[Question, Answer]:
    """Ask every question through a pool of at most `max_concurrency` requests in flight."""
    pending = list(questions)
    answers: dict[Question, Answer] = {}
    if not pending:
        return answers
    total = total if total is not None else len(pending)
    with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="sync") as pool:
        futures = {pool.submit(_ask, jira, q): q for q in pending}
        for number, future in enumerate(as_completed(futures), start=done_before + 1):
            answers[futures[future]] = future.result()
            if progress:
                progress(number, total)
    return answers


def _score(catalog: Catalog, outcome: Outcome) -> float | None:
    """The score of a fresh value, kept with the snapshot as a record of what it scored when written."""
    subject = catalog.kpi(outcome.subject_id) if outcome.subject_kind == "kpi" \
        else catalog.key_result(outcome.subject_id)
    return score_of(subject, outcome.value, outcome.explanation) if subject else None


def _evaluate_all(plan: SyncPlan, answers: Mapping[Question, Answer], store: Store,
                  base_detail: Mapping[str, Any]) -> list[Outcome]:
    """The outcome of every Jira-backed subject, KPIs first.

    A KR sourced from a KPI the sync asks Jira about takes that KPI's outcome of this very run
    (its value, or its failure). A KR sourced from a manual KPI takes the KPI's latest check-in.
    """
    kpi_outcomes: dict[str, Outcome] = {}
    outcomes: list[Outcome] = []
    for subject in sorted(plan.subjects, key=lambda s: s.subject_kind != "kpi"):
        if subject.source_kind is SourceKind.MANUAL:
            continue  # a manual KR planned for its initiatives only
        if subject.source_kind is SourceKind.KPI and subject.kpi and subject.kpi not in kpi_outcomes:
            latest = store.latest_snapshot(subject.kpi)
            if latest is not None and latest.value is not None:
                kpi_outcomes[subject.kpi] = Outcome(
                    subject.kpi, "kpi", SourceKind(latest.source_kind), latest.value,
                    explanation=dataclasses.replace(latest.explanation, snapshot_id=latest.id,
                                                    taken_at=latest.taken_at.isoformat()))
        outcome = evaluate(subject, answers, kpi_values=kpi_outcomes, base_detail=base_detail)
        if subject.subject_kind == "kpi":
            kpi_outcomes[subject.subject_id] = outcome
        outcomes.append(outcome)
    return outcomes


def _initiatives(plan: SyncPlan, answers: Mapping[Question, Answer],
                 progress: Mapping[str, Answer]) -> tuple[list[InitiativeRecord], set[str]]:
    """Initiative records for every (epic, KR) pair found, and the KRs whose epics could be read."""
    records: list[InitiativeRecord] = []
    resolved: set[str] = set()
    for subject in plan.subjects:
        if subject.initiatives is None:
            continue
        answer = answers.get(subject.initiatives)
        if answer is None or not answer.ok:
            continue
        resolved.add(subject.subject_id)
        for epic in answer.value:
            counts = progress.get(epic.key)
            done = total = 0
            if counts is not None and counts.ok:
                done, total = counts.value["done"], counts.value["total"]
            records.append(InitiativeRecord(
                epic_key=epic.key, kr_id=subject.subject_id, summary=epic.summary, status=epic.status,
                status_category=epic.status_category, done=epic.done,
                children_done=done, children_total=total, url=epic.url))
    return records, resolved


def _records(catalog: Catalog, outcomes: Sequence[Outcome], taken_at: datetime,
             report: SyncReport) -> tuple[list[NewSnapshot], list[Failure]]:
    """A snapshot for every outcome with a value, a failure for every error; all noted in the report.

    An outcome with nothing to measure yet (no issue to average) writes neither: it is skipped.
    """
    snapshots: list[NewSnapshot] = []
    failures: list[Failure] = []
    for outcome in outcomes:
        kind = SubjectKind(outcome.subject_kind)
        if outcome.no_value:
            report.skipped[outcome.subject_id] = outcome.no_value
        elif outcome.ok:
            snapshots.append(NewSnapshot(
                subject_id=outcome.subject_id, subject_kind=kind, taken_at=taken_at, value=outcome.value,
                score=_score(catalog, outcome), source_kind=outcome.source_kind.value,
                explanation=outcome.explanation))
            report.synced.append(outcome.subject_id)
        else:
            error = outcome.error or "unknown error"
            failures.append(Failure(subject_id=outcome.subject_id, subject_kind=kind, error=error,
                                    at=taken_at))
            report.failed[outcome.subject_id] = error
    return snapshots, failures


def link_title(kr: KeyResult, score: float | None, status: str) -> str:
    """The remote link's title: `KR CO-1.1 · Increase web conversion rate · 0.62 at risk`."""
    grade = "no value yet" if score is None else f"{score:.2f} {status}"
    return f"KR {kr.id} · {kr.title} · {grade}"


def global_link_id(kr_id: str) -> str:
    """The remote link's globalId: one per KR on each epic, so a re-sync updates it in place."""
    return f"okrbridge:kr={kr_id}"


def run_sync(catalog: Catalog, store: Store, jira: JiraConnection, *, max_concurrency: int = 8,
             bands: Bands | None = None, links: LinkOptions | None = None,
             only: frozenset[str] | None = None, progress: Progress | None = None,
             now: Callable[[], datetime] = lambda: datetime.now(UTC),
             still_leader: Callable[[], bool] | None = None) -> SyncReport:
    """Sync every Jira-backed KR and KPI of `catalog` into `store`; see the module docstring.

    `still_leader` (the daemon's lease check) is asked right before the write phase; when it
    says no, nothing of the run is written (the run itself is closed as failed) and
    LeadershipLost is raised.
    """
    bands = bands or Bands()
    links = links or LinkOptions()
    started = now()
    plan = plan_sync(catalog, only, at=started)
    # Wall time and request counts are measured, not derived from `now` (which a replay may fix)
    # or from the connection's totals (which a long-lived connection keeps across runs).
    wall = time.monotonic()
    requests_before, retries_before = jira.stats.requests, jira.stats.retries
    deployment = jira.deployment
    run_id = store.start_run(deployment=deployment, dry_run=False, started_at=started)
    report = SyncReport(run_id=run_id, dry_run=False, deployment=deployment, started_at=started,
                        planned=[q.describe() for q in plan.questions], skipped=dict(plan.skipped),
                        questions=len(plan.questions))
    written = False
    try:
        answers = ask_all(jira, plan.questions, max_concurrency=max_concurrency, progress=progress)
        epic_keys = sorted({e.key for q in plan.epic_questions if answers[q].ok for e in answers[q].value})
        asked_progress = {q.keys[0]: a for q, a in answers.items() if q.kind == "epic_progress"}
        extra = [Question("epic_progress", keys=(k,)) for k in epic_keys if k not in asked_progress]
        report.questions += len(extra)
        more = ask_all(jira, extra, max_concurrency=max_concurrency, progress=progress,
                       done_before=len(plan.questions), total=report.questions)
        asked_progress.update({q.keys[0]: a for q, a in more.items()})

        taken_at = now()
        base_detail = {"deployment": deployment, "jira": jira.url, "queried_at": taken_at.isoformat()}
        outcomes = _evaluate_all(plan, answers, store, base_detail)
        initiatives, resolved_krs = _initiatives(plan, answers, asked_progress)
        snapshots, failures = _records(catalog, outcomes, taken_at, report)
        for subject in plan.subjects:
            if subject.initiatives is not None and subject.subject_id not in resolved_krs:
                answer = answers[subject.initiatives]
                report.failed.setdefault(subject.subject_id, f"initiatives: {answer.error}")
        report.initiatives = len(initiatives)
        previous_links = {kr: {i.epic_key for i in store.initiatives_for(kr)} for kr in resolved_krs}
        report.requests = jira.stats.requests - requests_before
        report.retries = jira.stats.retries - retries_before
        report.finished_at = now()
        report.duration_seconds = time.monotonic() - wall
        if still_leader is not None and not still_leader():
            raise LeadershipLost("lost the leader lease before writing: another daemon leads now")
        written = True  # from here on the store marks the run failed itself if the write fails
        store.write_run_results(
            run_id, snapshots=snapshots, failures=failures, initiatives=initiatives,
            initiative_krs=sorted(resolved_krs), finished_at=report.finished_at, status=report.status,
            counts={"synced": len(report.synced), "failed": len(report.failed),
                    "questions": report.questions, "requests": report.requests,
                    "retries": report.retries, "initiatives": report.initiatives},
            errors=[{"subject": k, "error": v} for k, v in report.failed.items()])
    except BaseException as exc:
        if written:
            raise
        store.finish_run(run_id, status="failed", finished_at=now(), counts={},
                         errors=[{"subject": None, "error": f"{type(exc).__name__}: {exc}"}])
        raise
    report.stale = [s for s in report.failed if store.latest_snapshot(s) is not None]
    if links.enabled:
        _write_links(catalog, store, jira, links, initiatives, previous_links, bands, report)
    return report


def _write_links(catalog: Catalog, store: Store, jira: JiraConnection, links: LinkOptions,
                 initiatives: Sequence[InitiativeRecord], previous: Mapping[str, set[str]], bands: Bands,
                 report: SyncReport) -> None:
    """Upsert one remote link per (epic, KR) and remove links from epics that no longer drive a KR.

    A link shows the KR's latest stored score: this run's, a manual KR's last check-in, or a failed
    KR's last good value, then marked stale.
    """
    current: dict[str, set[str]] = {}
    titles: dict[str, tuple[str, bool]] = {}  # per KR: one snapshot read however many epics drive it
    for record in initiatives:
        kr = catalog.key_result(record.kr_id)
        if kr is None:
            continue
        current.setdefault(kr.id, set()).add(record.epic_key)
        if kr.id not in titles:
            latest = store.latest_snapshot(kr.id)
            # Scored now, from the stored value and the current measure, as grades and history are.
            score = score_of(kr, latest.value, latest.explanation) if latest else None
            status = bands.status(score).value + (" (stale)" if kr.id in report.failed and latest else "")
            titles[kr.id] = (link_title(kr, score, status), score is not None and score >= 1)
        title, resolved = titles[kr.id]
        try:
            jira.upsert_remote_link(record.epic_key, global_link_id(kr.id), links.url_for(kr.id), title,
                                    summary=f"Key result {kr.id}", status_resolved=resolved)
            report.links_written += 1
        except JiraError as exc:
            report.link_errors[f"{record.epic_key} {kr.id}"] = str(exc)
    for kr_id, epics in previous.items():
        for epic_key in sorted(epics - current.get(kr_id, set())):
            try:
                jira.delete_remote_link(epic_key, global_link_id(kr_id))
                report.links_removed += 1
            except JiraError as exc:
                report.link_errors[f"{epic_key} {kr_id}"] = str(exc)


def dry_run(catalog: Catalog, only: frozenset[str] | None = None, *, at: datetime | None = None,
            ) -> SyncReport:
    """What a sync at `at` (default now) would ask, without touching Jira or the store."""
    started = at or datetime.now(UTC)
    plan = plan_sync(catalog, only, at=started)
    return SyncReport(run_id=None, dry_run=True, deployment="(not contacted)", started_at=started,
                      planned=[q.describe() for q in plan.questions], skipped=dict(plan.skipped),
                      questions=len(plan.questions))
