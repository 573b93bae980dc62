"""Which stored answers still stand: the pure half of the steady-state sync (no IO).

Every question a sync asks has a *scope*: the set of projects outside which no issue can change
its answer (from `okrbridge.jql_scope`), or the whole site when it is bounded by no project. An
epic's progress is site-wide, because an epic's children may live in other projects. Some
questions are re-asked every sync whatever the probes say: their answer moves with time or with
something that is not an issue (a relative date, `now()`, `membersOf()`, `currentUser()`, a sprint).
Calendar functions (`startOfYear()`, …) move only at midnight, so those are re-asked once a
midnight in the account's time zone has passed since they were asked.

For each scope the store keeps a *baseline*: the issue total Jira gave for it and the moment (by
Jira's clock) it was probed. A scope is unchanged when, since its baseline, no issue in it was
updated (created and moved issues are updated ones too) and its total is the same (deletions
leave no `updated` behind, but they lower the total). The answers of an unchanged scope stand.
`okrbridge.change_probe` asks Jira those two things; this module decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from okrbridge.jql_scope import jql_scope
from okrbridge.sync_plan import Question

SITE = "site"
"""The scope key of questions bounded by no project."""

ALWAYS = "always"
"""The scope key of questions re-asked every sync (no baseline is kept for them)."""

OVERLAP = timedelta(minutes=5)
"""How far before a baseline the "updated since" probe looks: cluster nodes' clocks differ a
little, and Jira indexes an edit a moment after it is made."""


@dataclass(frozen=True)
class QuestionScope:
    """What can change one question's answer.

    `key`: SITE, or "projects:" and the case-folded project keys/names/ids. `reask`: why it is asked
    every sync (None when a probe can vouch for it). `at_midnight`: re-asked once a midnight passed.
    """

    key: str
    projects: frozenset[str] = frozenset()
    reask: str | None = None
    at_midnight: bool = False

    @property
    def probe_jql(self) -> str:
        """The JQL whose count is this scope's total (bounded, as Jira Cloud requires)."""
        if self.key == SITE:
            return "created <= now()"
        quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"'
                           for p in sorted(self.projects))
        return f"project in ({quoted})"


def projects_scope(projects: Iterable[str]) -> QuestionScope:
    """The scope of questions bounded by these projects (case-folded)."""
    folded = frozenset(p.casefold() for p in projects)
    return QuestionScope("projects:" + ",".join(sorted(folded)), folded)


def key_project(key: str) -> str:
    """The project of an issue key, case-folded (ENG-12 → eng), as scopes name projects."""
    return key.rsplit("-", 1)[0].casefold()


def _key_projects(keys: Iterable[str]) -> frozenset[str]:
    """The projects of issue keys."""
    return frozenset(key_project(k) for k in keys)


def question_scope(question: Question) -> QuestionScope:
    """The scope of one question; see the module docstring."""
    if question.kind == "epic_progress":
        return QuestionScope(SITE)
    if question.kind == "issue":
        return projects_scope(_key_projects(question.keys))
    projects: frozenset[str] | None = _key_projects(question.keys) if question.keys else frozenset()
    at_midnight = False
    if question.jql.strip():
        found = jql_scope(question.jql)
        if found.volatile:
            return QuestionScope(ALWAYS, reask=found.volatile)
        at_midnight = found.changes_at_midnight
        projects = None if found.projects is None or projects is None else projects | found.projects
    if not projects:
        # Bounded by no project (or by contradictory ones, which match nothing: still asked site-wide).
        return QuestionScope(SITE, at_midnight=at_midnight)
    scope = projects_scope(projects)
    return QuestionScope(scope.key, scope.projects, at_midnight=at_midnight)


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept from an earlier sync: when (Jira's clock) it was asked, and the latest probe
    at which it was asked or stood (its scope's baseline then)."""

    value: Any
    asked_at: datetime
    confirmed_at: datetime


@dataclass(frozen=True)
class Baseline:
    """A scope's issue total and when (Jira's clock) it was probed."""

    total: int
    probed_at: datetime


def may_stand(question: Question, scope: QuestionScope, stored: StoredAnswer | None,
              baseline: Baseline | None, *, jira_now: datetime, full_sync: timedelta | None,
              midnight_passed: Callable[[datetime], bool]) -> bool:
    """Whether the stored answer can stand if its scope proves unchanged (the probes decide that).

    Never for a question to re-ask every sync; one not answered before; one not confirmed at its
    scope's baseline (say it left the catalog for a while and came back: the baseline moved on
    without it); one asked `full_sync` ago or more (None: none stands, as with `sync --full`); a
    calendar query past a midnight since it was asked; or one asked or probed in Jira's future,
    which means Jira's clock went back (the "updated since" window could not reach back to it).
    """
    if scope.reask or stored is None or baseline is None or full_sync is None:
        return False
    if stored.confirmed_at < baseline.probed_at or max(baseline.probed_at, stored.asked_at) > jira_now:
        return False
    if jira_now - stored.asked_at >= full_sync:
        return False
    return not (scope.at_midnight and midnight_passed(stored.asked_at))


def window_minutes(baselines: Iterable[Baseline], jira_now: datetime) -> int | None:
    """How many minutes back the "updated since" probe must look to cover every baseline, with the
    overlap; None when there is no baseline to cover."""
    oldest = min((b.probed_at for b in baselines), default=None)
    if oldest is None:
        return None
    span = max(jira_now - oldest, timedelta(0)) + OVERLAP
    return max(1, math.ceil(span.total_seconds() / 60))


@dataclass(frozen=True)
class Touched:
    """What the "updated since" probe saw: the updated issues' projects (keys, names and ids,
    case-folded), and whether it saw all of them (`complete`: not cut short, not failed)."""

    projects: frozenset[str]
    complete: bool

    @property
    def anything(self) -> bool:
        """Whether any issue was updated, or the probe cannot tell."""
        return bool(self.projects) or not self.complete


def scope_unchanged(scope: QuestionScope, baseline: Baseline | None, total: int | None,
                    touched: Touched) -> bool:
    """Whether nothing in `scope` can have changed since its baseline: same total, nothing updated."""
    if baseline is None or total is None or total != baseline.total or not touched.complete:
        return False
    if scope.key == SITE:
        return not touched.projects
    return not (scope.projects & touched.projects)


def settled_scopes(scopes: Mapping[Question, QuestionScope], answered: Collection[Question]) -> set[str]:
    """The scopes all of whose questions were answered (asked or stood) this run: their baselines
    may move to this run's probe. A scope with a failed question keeps its older baseline, so the
    next run still looks back far enough for the answers it kept."""
    keys = {s.key for s in scopes.values() if s.key != ALWAYS}
    failed = {s.key for q, s in scopes.items() if q not in answered}
    return keys - failed
