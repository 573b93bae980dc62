"""The steady-state sync's IO: ask Jira what changed, decide which stored answers stand, and store
this run's answers and baselines afterwards. The decisions are `okrbridge.change_scope`'s.

A probe costs, whatever the catalog's size: Jira's clock (serverInfo), the account's time zone
(only when a calendar query could stand), one search for the issues updated since the oldest
baseline (one page when little changed), and one count per distinct scope. When nothing changed,
that is the whole sync's Jira traffic besides the queries that must be re-asked every time.

Any doubt makes answers be asked again, never stand: a probe Jira refuses, an updated-issue list
longer than `UPDATED_LIMIT`, a scope whose total moved.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.jira_models import Epic, EpicsFound, JiraAuthError, JiraError
from okrbridge.change_scope import (
    ALWAYS,
    SITE,
    Baseline,
    QuestionScope,
    Touched,
    key_project,
    may_stand,
    question_scope,
    scope_unchanged,
    settled_scopes,
    window_minutes,
)
from okrbridge.store import Store
from okrbridge.store.answer_cache import CacheState, read_cache, write_cache
from okrbridge.sync_links import WantedLink
from okrbridge.sync_plan import Answer, Question
from okrbridge.sync_ports import SyncJira

log = logging.getLogger(__name__)

UPDATED_LIMIT = 1000
"""Updated issues read at most per probe; past that so much changed that everything is re-asked."""

AskAll = Callable[[Sequence[Question]], Mapping[Question, Answer]]


def question_key(question: Question) -> str:
    """The question's canonical JSON, its key in the answer store."""
    return json.dumps([question.kind, question.jql, question.field, question.agg, list(question.keys)])


def encode(question: Question, value: Any) -> Any:
    """An answer's value as JSON-ready data (dataclasses become objects)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def decode(question: Question, value: Any) -> Any:
    """A stored answer's value in the shape a fresh one has (see sync._ask)."""
    if question.kind == "epics":
        return EpicsFound(epics=tuple(Epic(**e) for e in value["epics"]), missing=tuple(value["missing"]))
    return value


@dataclass(frozen=True)
class ChangeDetection:
    """How the steady-state sync runs: `full` re-asks everything (and sets new baselines);
    `full_sync_hours` is the longest an answer stands without being asked again."""

    full: bool = False
    full_sync_hours: float = 24.0


@dataclass
class Probe:
    """What the probes found and which answers stand; `settle` stores the run's outcome.

    `jira_now` is None when Jira's clock could not be read: then nothing stands and nothing is
    stored. `note` says in one line why answers were re-asked wholesale, if they were.
    """

    jira_now: datetime | None
    cache: CacheState
    scopes: dict[Question, QuestionScope] = field(default_factory=dict)
    stood: dict[Question, Answer] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    unchanged: set[str] = field(default_factory=set)
    touched: Touched = field(default_factory=lambda: Touched(frozenset(), complete=False))
    full_sync: timedelta | None = None
    midnight_passed: Callable[[datetime], bool] = lambda _asked: True
    note: str | None = None
    scope_totals: dict[str, Question] = field(default_factory=dict)

    @property
    def pending_totals(self) -> list[Question]:
        """The scope totals not asked yet: the sync asks them beside its questions, then passes the
        answers to `record_totals`, so the next sync has a baseline for every scope."""
        return [q for key, q in self.scope_totals.items() if key not in self.totals]

    def record_totals(self, answers: Mapping[Question, Answer]) -> None:
        """Keep the scope totals found among `answers`."""
        for key, question in self.scope_totals.items():
            answer = answers.get(question)
            if answer is not None and answer.ok:
                self.totals.setdefault(key, int(answer.value))

    def standing(self, questions: Iterable[Question]) -> dict[Question, Answer]:
        """The stored answers that stand among `questions` (asked after the probe, say the
        progress of epics found this run), added to `stood`."""
        found: dict[Question, Answer] = {}
        for question in questions:
            scope = self.scopes.setdefault(question, question_scope(question))
            if question in self.stood or self.jira_now is None or scope.key not in self.unchanged:
                continue
            stored = self.cache.answers.get(question_key(question))
            if may_stand(question, scope, stored, self.cache.baselines.get(scope.key),
                         jira_now=self.jira_now, full_sync=self.full_sync,
                         midnight_passed=self.midnight_passed) and stored is not None:
                found[question] = Answer(decode(question, stored.value))
        self.stood.update(found)
        return found


def _midnight_check(jira: SyncJira, jira_now: datetime) -> Callable[[datetime], bool]:
    """Whether a midnight in the account's time zone passed between an instant and `jira_now`;
    "always" when the time zone cannot be read or is unknown here."""
    try:
        zone = ZoneInfo(jira.time_zone())
    except (JiraError, ZoneInfoNotFoundError, ValueError) as exc:
        if isinstance(exc, JiraAuthError):
            raise
        log.warning("calendar queries are re-asked: the account's time zone is unknown (%s)", exc)
        return lambda _asked: True
    today = jira_now.astimezone(zone).date()
    return lambda asked: asked.astimezone(zone).date() != today


def _touched(jira: SyncJira, minutes: int) -> tuple[Touched, str | None]:
    """What the updated-issue search saw in the last `minutes`, and why it cannot vouch, if so."""
    try:
        updated = jira.updated_projects(minutes, UPDATED_LIMIT)
    except JiraAuthError:
        raise
    except JiraError as exc:
        return Touched(frozenset(), complete=False), \
            f"everything re-asked: Jira did not say which issues were updated ({exc})"
    note = None if updated.complete else f"everything re-asked: more than {UPDATED_LIMIT} issues were updated"
    return Touched(updated.projects, updated.complete), note


def probe_changes(jira: SyncJira, store: Store, questions: Sequence[Question], ask: AskAll, *,
                  detection: ChangeDetection) -> Probe:
    """Probe Jira for change and find which stored answers to `questions` stand.

    `ask` asks count questions through the sync's pool (the scopes' totals). A refused credential
    (JiraAuthError) is raised, as the sync's own questions would raise it.
    """
    cache = read_cache(store)
    try:
        jira_now = jira.server_time()
    except JiraAuthError:
        raise
    except JiraError as exc:
        return Probe(None, cache, note=f"everything re-asked: Jira's clock could not be read ({exc})")
    scopes = {q: question_scope(q) for q in questions}
    full_sync = None if detection.full or detection.full_sync_hours <= 0 \
        else timedelta(hours=detection.full_sync_hours)
    probe = Probe(jira_now, cache, scopes=scopes, full_sync=full_sync)
    if full_sync is None:
        probe.note = "full sync: every answer asked again"
    candidates = [q for q, s in scopes.items()
                  if may_stand(q, s, cache.answers.get(question_key(q)), cache.baselines.get(s.key),
                               jira_now=jira_now, full_sync=full_sync, midnight_passed=lambda _a: False)]
    by_key = {s.key: s for s in scopes.values() if s.key != ALWAYS}
    if any(q.kind == "epics" for q in questions):
        by_key.setdefault(SITE, QuestionScope(SITE))  # the progress of the epics found is site-wide
    probe.scope_totals = {key: Question("count", jql=s.probe_jql) for key, s in by_key.items()}
    # Only the scopes with an answer that may stand need their total before deciding; the others'
    # totals (all of them on a first sync) are asked with the sync's questions (`pending_totals`).
    deciding = {scopes[q].key for q in candidates}
    if SITE in by_key and SITE in cache.baselines and full_sync is not None:
        deciding.add(SITE)  # the epics' progress, asked once their lists arrive, may stand on it
    minutes = window_minutes((cache.baselines[key] for key in deciding), jira_now)
    # The time zone, the updated issues and the totals are independent: asked side by side.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="probe") as side:
        zone = side.submit(_midnight_check, jira, jira_now) \
            if any(scopes[q].at_midnight for q in candidates) else None
        touched = side.submit(_touched, jira, minutes) if minutes is not None else None
        probe.record_totals(ask([q for key, q in probe.scope_totals.items() if key in deciding]))
        if zone is not None:
            probe.midnight_passed = zone.result()
        if touched is not None:
            probe.touched, note = touched.result()
            probe.note = probe.note or note
    probe.unchanged = {key for key in deciding
                       if scope_unchanged(by_key[key], cache.baselines.get(key), probe.totals.get(key),
                                          probe.touched)}
    probe.standing(questions)
    return probe


def _links_key(epic_key: str) -> str:
    """The answer-store key of the links okrbridge last saw in place on an epic."""
    return json.dumps(["links", epic_key])


def link_digests(wanted: Iterable[WantedLink], epics: Iterable[str]) -> dict[str, list[list[Any]]]:
    """Per epic, the links of ours it should carry, in a stable order (empty for an epic to clear)."""
    digests: dict[str, list[list[Any]]] = {key: [] for key in epics}
    for link in wanted:
        digests.setdefault(link.epic_key, []).append([link.kr_id, link.url, link.title, link.summary,
                                                      link.resolved])
    return {key: sorted(links) for key, links in digests.items()}


def links_in_place(probe: Probe, digests: Mapping[str, list[list[Any]]]) -> set[str]:
    """The epics whose links need not be read: a run found exactly these links in place (or put
    them there), no issue of the epic's project was updated since, and that was less than the
    full-sync period ago. Epics whose wanted links changed are read and brought in line."""
    if probe.jira_now is None or probe.full_sync is None or not probe.touched.complete:
        return set()
    in_place: set[str] = set()
    for epic_key, digest in digests.items():
        stored = probe.cache.answers.get(_links_key(epic_key))
        if stored is None or stored.value != digest or key_project(epic_key) in probe.touched.projects:
            continue
        if probe.jira_now - stored.asked_at < probe.full_sync:
            in_place.add(epic_key)
    return in_place


def settle(store: Store, probe: Probe, answers: Mapping[Question, Answer], *,
           links: Mapping[str, list[list[Any]]] | None = None, links_stood: Iterable[str] = ()) -> None:
    """Store this run's fresh answers, confirm the ones that stood, and move the baselines of the
    scopes all of whose questions were answered (okrbridge.change_scope.settled_scopes).

    `links`: the epics whose links are now known in place (read and brought in line this run, or
    `links_stood` in place already), with their digests (`link_digests`).
    """
    if probe.jira_now is None:
        return
    scopes = {q: probe.scopes.get(q) or question_scope(q) for q in answers}
    asked = {question_key(q): encode(q, a.value) for q, a in answers.items()
             if a.ok and q not in probe.stood and scopes[q].key != ALWAYS}
    confirmed = {question_key(q): probe.jira_now for q in probe.stood}
    stood_links = set(links_stood)
    for epic_key, digest in (links or {}).items():
        if epic_key in stood_links:
            confirmed[_links_key(epic_key)] = probe.jira_now
        else:
            asked[_links_key(epic_key)] = digest
    settled = settled_scopes(scopes, {q for q, a in answers.items() if a.ok})
    baselines = {key: Baseline(probe.totals[key], probe.jira_now) for key in settled if key in probe.totals}
    write_cache(store, asked=asked, confirmed=confirmed, baselines=baselines, at=probe.jira_now)
