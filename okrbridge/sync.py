"""The sync worker: ask Jira, compute values and scores, store one snapshot per KR/KPI per run.

`run_sync` is what the CLI's `okrbridge sync` and the scheduler's sync job both call. It plans the
distinct questions (see sync_plan), asks them concurrently through a bounded pool, evaluates every
KR/KPI, and writes the run — snapshots, stale marks, initiatives — in one transaction. A question
Jira refuses (a bad JQL, a dead server after retries) fails only the KRs that asked it: they keep
their last good snapshot and are marked stale with Jira's message. A refused credential (401/403)
is different: it would fail every KR the same way, so it aborts the run (`SyncAborted`) and every
snapshot stays as it was. Remote links on the epics are brought in line before the run is stored,
showing the scores being stored, so the run's request figure counts their traffic too.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from queue import SimpleQueue
from typing import Any, NoReturn

from connectors.jira_models import JiraAuthError, JiraError
from okrbridge.change_probe import ChangeDetection, Probe, link_digests, links_in_place, probe_changes, settle
from okrbridge.config import DEFAULT_SYNC_DEADLINE_SECONDS
from okrbridge.domain import Catalog, SourceKind
from okrbridge.grading import Bands, score_of
from okrbridge.run_owner import close_abandoned_runs, this_process
from okrbridge.store import Failure, Initiative, InitiativeRecord, NewSnapshot, Store, SubjectKind
from okrbridge.sync_links import link_owner
from okrbridge.sync_plan import Answer, Outcome, Question, SyncPlan, evaluate, plan_sync
from okrbridge.sync_ports import SyncJira
from okrbridge.sync_remote_links import BASE_URL_MISSING, LinkOptions, update_links, wanted_links

Progress = Callable[[int, int], None]
"""Called with (questions answered, questions in all) as answers arrive."""


class SyncAborted(Exception):
    """Jira refused the credentials: the run stopped, was recorded failed, and stored nothing."""


class LeadershipLost(RuntimeError):
    """The daemon running this sync lost its leader lease before writing; another daemon leads now."""


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
    warnings: dict[str, str] = field(default_factory=dict)
    uncounted_epics: list[str] = field(default_factory=list)
    abandoned_runs: list[int] = field(default_factory=list)
    initiatives: int = 0
    links_skipped: str | None = None
    links_written: int = 0
    links_removed: int = 0
    link_errors: dict[str, str] = field(default_factory=dict)
    questions: int = 0
    answers_stood: int = 0
    change_note: str | None = None
    links_in_place: int = 0
    requests: int = 0
    retries: int = 0

    @property
    def status(self) -> str:
        """succeeded, partial (some KRs failed, or some epic progress could not be counted) or failed
        (none synced)."""
        if not self.failed and not self.uncounted_epics:
            return "succeeded"
        return "partial" if self.synced else "failed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        data = dataclasses.asdict(self)
        data.update(status=self.status, duration_seconds=round(self.duration_seconds, 3),
                    started_at=self.started_at.isoformat(),
                    finished_at=self.finished_at.isoformat() if self.finished_at else None)
        return data


def _ask(jira: SyncJira, question: Question) -> Answer:
    """Ask Jira one question; Jira's refusal becomes the answer's error, not an exception.

    A refused credential or permission (JiraAuthError) is raised instead: it is no KR's fault.
    """
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
    except JiraAuthError:
        raise
    except JiraError as exc:
        return Answer(error=str(exc))


_LONGEST_FIRST = {"aggregate": 0, "epics": 1, "epic_progress": 2, "issue": 3, "count": 4}
"""The order questions enter the pool: a sum pages through issues and an epic list is followed by
its epics' progress, so starting those first keeps them from being the run's tail."""

FollowUp = Callable[[Question, Answer], Iterable[Question]]


def ask_all(jira: SyncJira, questions: Iterable[Question], *, max_concurrency: int,
            progress: Progress | None = None, follow_up: FollowUp | None = None,
            ) -> dict[Question, Answer]:
    """Ask every question through a pool of at most `max_concurrency` requests in flight, longest
    first. `follow_up` names, for each answer as it arrives, more questions to ask in the same
    pool (the progress of the epics an initiatives question found), so no batch waits for another.

    A JiraAuthError from any question cancels the questions not yet started and is raised.
    """
    pending = sorted(questions, key=lambda q: _LONGEST_FIRST[q.kind])
    answers: dict[Question, Answer] = {}
    if not pending:
        return answers
    total = len(pending)
    # Finished futures arrive on a queue (one callback each): waiting on the whole set of pending
    # futures for every answer would cost time in the square of the number of questions.
    finished: SimpleQueue[Future[Answer]] = SimpleQueue()
    with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="sync") as pool:
        futures: dict[Future[Answer], Question] = {}

        def submit(question: Question) -> None:
            future = pool.submit(_ask, jira, question)
            futures[future] = question
            future.add_done_callback(finished.put)

        try:
            for question in pending:
                submit(question)
            while len(answers) < total:
                future = finished.get()
                question = futures.pop(future)
                answers[question] = future.result()
                for more in (follow_up(question, answers[question]) if follow_up else ()):
                    submit(more)
                    total += 1
                if progress:
                    progress(len(answers), total)
        except JiraAuthError:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM): drop the questions not yet asked and do not wait for the
            # ones in flight, so the run is marked failed now rather than after every pending request.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return answers


def _progress_asker(plan: SyncPlan, probe: Probe | None, report: SyncReport,
                    stood_extra: dict[Question, Answer]) -> FollowUp:
    """The follow-up that asks the progress of every epic an initiatives answer names, once per
    run (a milestone's own progress question is in the plan already); progress that stands on an
    earlier answer goes into `stood_extra` instead of being asked."""
    seen = set(plan.questions)

    def follow_up(question: Question, answer: Answer) -> list[Question]:
        if question.kind != "epics" or not answer.ok:
            return []
        progress = (Question("epic_progress", keys=(epic.key,)) for epic in answer.value.epics)
        new = [q for q in progress if q not in seen]
        seen.update(new)
        report.questions += len(new)
        standing = probe.standing(new) if probe else {}
        stood_extra.update(standing)
        return [q for q in new if q not in standing]

    return follow_up


def _score(catalog: Catalog, outcome: Outcome) -> float | None:
    """The score of a fresh value (`grading.score_of`), kept with the snapshot as a record of it."""
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


def _initiatives(plan: SyncPlan, answers: Mapping[Question, Answer], progress: Mapping[str, Answer],
                 stored: Callable[[str], Sequence[Initiative]], report: SyncReport,
                 ) -> tuple[list[InitiativeRecord], set[str]]:
    """Initiative records for every (epic, KR) pair found, and the KRs whose epics could be read.

    A progress count that failed is never a zero: the epic keeps the progress an earlier run stored
    (an epic with none stored yet is left out, with its KR's whole epic list, so nothing is removed on
    the strength of a partial answer), and the report names the epic, which makes the run partial.
    """
    records: list[InitiativeRecord] = []
    resolved: set[str] = set()
    for subject in plan.subjects:
        if subject.initiatives is None:
            continue
        answer = answers.get(subject.initiatives)
        if answer is None or not answer.ok:
            continue
        kept: dict[str, Initiative] | None = None
        complete = True
        for epic in answer.value.epics:
            counts = progress.get(epic.key)
            if counts is not None and counts.ok:
                done, total = counts.value["done"], counts.value["total"]
            else:
                error = counts.error if counts is not None else "not asked"
                if epic.key not in report.uncounted_epics:
                    report.uncounted_epics.append(epic.key)
                report.warnings.setdefault(subject.subject_id, (
                    f"initiatives: progress of epic {epic.key} not counted ({error}); "
                    "the last counted progress is kept"))
                if kept is None:
                    kept = {i.epic_key: i for i in stored(subject.subject_id)}
                previous = kept.get(epic.key)
                if previous is None:
                    complete = False
                    continue
                done, total = previous.children_done, previous.children_total
            records.append(InitiativeRecord(
                epic_key=epic.key, kr_id=subject.subject_id, summary=epic.summary, status=epic.status,
                status_category=epic.status_category, done=epic.done,
                children_done=done, children_total=total, url=epic.url))
        if complete:
            resolved.add(subject.subject_id)
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


def _initiative_outcomes(plan: SyncPlan, answers: Mapping[Question, Answer], resolved: set[str],
                         report: SyncReport) -> None:
    """Note in the report what the initiatives questions said beside the values.

    An epic key Jira does not know is a warning (the other epics are kept). An initiatives query
    Jira refused fails a KR only when no value of it was stored this run: a KR that appears as
    synced is never also counted failed; its links and stored epics are then left as they were.
    """
    for subject in plan.subjects:
        if subject.initiatives is None:
            continue
        answer = answers[subject.initiatives]
        if subject.subject_id not in resolved and answer.ok:
            continue  # its epics were read but a progress count failed: noted by _initiatives
        if subject.subject_id in resolved:
            missing = answer.value.missing
            if missing:
                report.warnings[subject.subject_id] = (
                    f"initiatives: no epic {', '.join(missing)} in Jira (deleted, moved, or not visible to "
                    f"okrbridge's account); the other epics are kept — remove the key from okrs.toml")
        elif subject.subject_id in report.synced:
            report.warnings[subject.subject_id] = f"initiatives not updated: {answer.error}"
        else:
            report.failed.setdefault(subject.subject_id, f"initiatives: {answer.error}")


def _links_known(digests: Mapping[str, list[list[Any]]], in_place: set[str],
                 errors: Mapping[str, str]) -> dict[str, list[list[Any]]]:
    """The epics whose links are known to be as wanted after the link pass: those left in place,
    and those read and brought in line without an error."""
    if "(all)" in errors:
        return {k: v for k, v in digests.items() if k in in_place}
    failed = {where.split(" ", 1)[0] for where in errors}
    return {k: v for k, v in digests.items() if k not in failed}


def _settle(store: Store, probe: Probe, answers: Mapping[Question, Answer],
            link_state: Mapping[str, list[list[Any]]], in_place: set[str], report: SyncReport) -> None:
    """Store the run's answers for the next steady-state sync. The run is stored already, so a
    failure here costs only re-asking next time: it is a warning, not a failed run."""
    try:
        settle(store, probe, answers, links=link_state, links_stood=in_place)
    except Exception as exc:  # a cache write must never fail a stored run
        report.warnings["(answers)"] = f"answers not kept for the next sync, which will ask everything: {exc}"


def _abort(store: Store, run_id: int, exc: JiraAuthError, auth_hint: str,
           now: Callable[[], datetime]) -> NoReturn:
    """Record the run failed with one message naming what to fix, and raise it as SyncAborted."""
    message = f"sync aborted, nothing stored: Jira refused okrbridge's credentials: {exc}; {auth_hint}"
    store.finish_run(run_id, status="failed", finished_at=now(), counts={},
                     errors=[{"subject": None, "error": message}])
    raise SyncAborted(message) from exc


def run_sync(catalog: Catalog, store: Store, jira: SyncJira, *, max_concurrency: int = 8,
             bands: Bands | None = None, links: LinkOptions | None = None,
             only: frozenset[str] | None = None, progress: Progress | None = None,
             auth_hint: str = "check the Jira credentials in the config and the environment",
             now: Callable[[], datetime] = lambda: datetime.now(UTC),
             still_leader: Callable[[], bool] | None = None,
             deadline_seconds: float = DEFAULT_SYNC_DEADLINE_SECONDS,
             change_detection: ChangeDetection | None = None) -> SyncReport:
    """Sync every Jira-backed KR and KPI of `catalog` into `store`; see the module docstring.

    Raises SyncAborted (its text: Jira's refusal and `auth_hint`, never a secret) on a 401 or 403.
    `still_leader` (the daemon's lease check) is asked right before the first write (the remote
    links) and again before the store write; when it says no, nothing more of the run is written
    (the run itself is closed as failed) and LeadershipLost is raised. Past `deadline_seconds`
    nothing more is asked of Jira: what was answered is stored, the rest fails "deadline reached".
    Runs whose process died are closed as abandoned first (see run_owner).
    With `change_detection`, Jira is first asked what changed, and stored answers of unchanged
    scopes stand instead of being asked again (okrbridge.change_probe); without it, everything is
    asked.
    """
    bands = bands or Bands()
    links = links or LinkOptions()
    started = now()
    plan = plan_sync(catalog, only, at=started)
    # Wall time and request counts are measured, not derived from `now` (which a replay may fix)
    # or from the connection's totals (which a long-lived connection keeps across runs).
    wall = time.monotonic()
    requests_before, retries_before = jira.stats.requests, jira.stats.retries
    # Past the deadline nothing more is asked of Jira (see the docstring); it is lifted on the way out.
    jira.set_deadline(deadline_seconds)
    owner = this_process()
    abandoned = close_abandoned_runs(store, owner, now=started, deadline_seconds=deadline_seconds)
    try:
        deployment = jira.deployment  # may probe serverInfo, which a bad credential is refused too
    except JiraAuthError as exc:
        jira.set_deadline(None)
        unknown_run = store.start_run(deployment=None, dry_run=False, started_at=started,
                                      host=owner.host, pid=owner.pid)
        _abort(store, unknown_run, exc, auth_hint, now)
    except BaseException:
        jira.set_deadline(None)  # no run was started: serverInfo could not be read
        raise
    run_id = store.start_run(deployment=deployment, dry_run=False, started_at=started,
                             host=owner.host, pid=owner.pid)
    report = SyncReport(run_id=run_id, dry_run=False, deployment=deployment, started_at=started,
                        planned=[q.describe() for q in plan.questions], skipped=dict(plan.skipped),
                        questions=len(plan.questions), abandoned_runs=abandoned)
    written = False
    probe: Probe | None = None
    link_state: dict[str, list[list[Any]]] = {}
    in_place: set[str] = set()
    try:
        if change_detection is not None:
            probe = probe_changes(jira, store, plan.questions,
                                  lambda qs: ask_all(jira, qs, max_concurrency=max_concurrency),
                                  detection=change_detection)
            report.change_note = probe.note
        stood = dict(probe.stood) if probe else {}
        stood_extra: dict[Question, Answer] = {}
        follow_up = _progress_asker(plan, probe, report, stood_extra)
        first = [q for q in plan.questions if q not in stood]
        first += [q for known, answer in stood.items() for q in follow_up(known, answer)]
        # The scopes' totals not needed to decide (all of them on a first sync) ride along.
        asking = set(first)
        totals = [q for q in probe.pending_totals if q not in asking] if probe else []
        asked = ask_all(jira, [*first, *totals], max_concurrency=max_concurrency, progress=progress,
                        follow_up=follow_up)
        if probe:
            probe.record_totals(asked)
        planned = set(plan.questions)
        answers = {q: a for q, a in {**asked, **stood}.items() if q in planned}
        more = {q: a for q, a in {**asked, **stood_extra}.items()
                if q.kind == "epic_progress" and q not in planned}
        report.answers_stood = len(stood) + len(stood_extra)
        asked_progress = {q.keys[0]: a for q, a in {**answers, **more}.items() if q.kind == "epic_progress"}

        taken_at = now()
        base_detail = {"deployment": deployment, "jira": jira.url, "queried_at": taken_at.isoformat()}
        outcomes = _evaluate_all(plan, answers, store, base_detail)
        initiatives, resolved_krs = _initiatives(plan, answers, asked_progress, store.initiatives_for,
                                                 report)
        snapshots, failures = _records(catalog, outcomes, taken_at, report)
        _initiative_outcomes(plan, answers, resolved_krs, report)
        report.initiatives = len(initiatives)
        owned = link_owner(catalog, resolved_krs, only)
        # Epics stored as driving a KR whose epics this run knows: a link of ours may still be on them.
        known = [i for i in store.all_initiatives() if owned(i.kr_id)]
        if still_leader is not None and not still_leader():
            raise LeadershipLost("lost the leader lease before writing: another daemon leads now")
        if links.enabled and not links.base_url:
            report.links_skipped = BASE_URL_MISSING
        elif links.enabled:
            fresh = {s.subject_id: s.score for s in snapshots if s.subject_kind is SubjectKind.KR}
            wanted = wanted_links(catalog, store, links, initiatives, fresh, report.failed, bands)
            scanned = {i.epic_key for i in known}
            digests = link_digests(wanted, scanned)
            in_place = links_in_place(probe, digests) if probe else set()
            done = update_links(jira, wanted, scanned, owned, in_place, max_concurrency=max_concurrency)
            report.links_written, report.links_removed = done.written, done.removed
            report.links_in_place = len(in_place)
            report.link_errors.update(done.errors)
            link_state = _links_known(digests, in_place, done.errors)
        report.requests = jira.stats.requests - requests_before
        report.retries = jira.stats.retries - retries_before
        report.finished_at = now()
        report.duration_seconds = time.monotonic() - wall
        if still_leader is not None and not still_leader():
            raise LeadershipLost("lost the leader lease before writing: another daemon leads now")
        no_initiatives = {kr.id for kr in catalog.key_results() if not kr.initiatives and owned(kr.id)}
        initiative_krs = sorted(resolved_krs | no_initiatives | {i.kr_id for i in known})
        written = True  # from here on the store marks the run failed itself if the write fails
        store.write_run_results(
            run_id, snapshots=snapshots, failures=failures, initiatives=initiatives,
            initiative_krs=initiative_krs, finished_at=report.finished_at, status=report.status,
            counts={"synced": len(report.synced), "failed": len(report.failed),
                    "questions": report.questions, "requests": report.requests,
                    "retries": report.retries, "initiatives": report.initiatives,
                    "links_written": report.links_written, "links_removed": report.links_removed},
            errors=[{"subject": k, "error": v} for k, v in report.failed.items()])
        if probe is not None:
            _settle(store, probe, {**answers, **more}, link_state, in_place, report)
    except JiraAuthError as exc:
        _abort(store, run_id, exc, auth_hint, now)
    except BaseException as exc:
        if written:
            raise
        store.finish_run(run_id, status="failed", finished_at=now(), counts={},
                         errors=[{"subject": None, "error": f"{type(exc).__name__}: {exc}"}])
        raise
    finally:
        jira.set_deadline(None)
    report.stale = [s for s in report.failed if store.latest_snapshot(s) is not None]
    report.duration_seconds = time.monotonic() - wall  # the real wall time, to the very end
    return report


def dry_run(catalog: Catalog, only: frozenset[str] | None = None, *, at: datetime | None = None,
            ) -> SyncReport:
    """What a sync at `at` (default now) would ask, without touching Jira or the store."""
    started = at or datetime.now(UTC)
    plan = plan_sync(catalog, only, at=started)
    return SyncReport(run_id=None, dry_run=True, deployment="(not contacted)", started_at=started,
                      planned=[q.describe() for q in plan.questions], skipped=dict(plan.skipped),
                      questions=len(plan.questions))
