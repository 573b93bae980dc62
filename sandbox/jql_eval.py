"""JQL evaluation for the Jira endpoints, cached so the sandbox's own work per request stays small.

A result is the ordered list of matching issue keys, cached per (jql, data_version, current user,
now rounded down to the minute): data changes invalidate it through `data_version`, relative dates
(`-7d`, `startOfWeek()`) within the minute, and `currentUser()`/time zone through the user. The
engine caches parsed queries itself. Time spent is added to `g.sandbox_eval_ms` (the request log's
`eval_ms`) and to the service's totals shown by `GET /_sandbox/stats`.

A cache miss filters only the issues of the projects the query is restricted to (nearly every KR
query has a top-level `project = X` conjunct): the service keeps them by project per
`data_version`, rebuilt on the first evaluation after a change. Results are identical to a scan of
every issue, in the same order.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context

from sandbox import jql
from sandbox.errors import JiraError
from sandbox.jira_format import ISSUE_TYPES, PRIORITIES, RESOLUTIONS, STATUS_IDS

if TYPE_CHECKING:
    from sandbox.model import Issue, User
    from sandbox.state import SandboxState

UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."


@dataclass
class JqlStats:
    """Counters for `GET /_sandbox/stats`."""

    evaluations: int = 0        # cache misses that ran the engine
    cache_hits: int = 0
    errors: int = 0
    eval_ms_total: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The counters as JSON-ready data."""
        runs = self.evaluations
        return {
            "evaluations": runs,
            "cache_hits": self.cache_hits,
            "errors": self.errors,
            "eval_ms_total": round(self.eval_ms_total, 3),
            "eval_ms_per_evaluation": round(self.eval_ms_total / runs, 3) if runs else 0.0,
        }


@dataclass(frozen=True)
class ProjectIndex:
    """A state's issues by `jql.fold_project(issue.project)`, each list in `state.issues` order.

    Valid for the `issues` dict object, its size and the `data_version` it was built from (writes
    touch the version; seeding replaces the dict). `keys` holds every issue key upper-cased, for
    the engine's check that keys named in the query exist among all issues, not only candidates.
    """

    issues: dict[str, Issue]
    size: int
    version: int
    by_project: dict[str, list[Issue]]
    position: dict[int, int]   # id(issue) -> its place in `issues`, to merge several projects
    keys: frozenset[str]

    @classmethod
    def build(cls, state: SandboxState) -> ProjectIndex:
        """Index `state`'s issues as they are now."""
        issues = state.issues
        version = state.data_version
        everything = list(issues.values())
        by_project: dict[str, list[Issue]] = {}
        for issue in everything:
            by_project.setdefault(jql.fold_project(issue.project), []).append(issue)
        return cls(
            issues=issues,
            size=len(everything),
            version=version,
            by_project=by_project,
            position={id(issue): place for place, issue in enumerate(everything)},
            keys=frozenset(issue.key.upper() for issue in everything),
        )

    def is_current(self, state: SandboxState) -> bool:
        """Whether this index still describes `state`."""
        return (
            self.issues is state.issues
            and self.version == state.data_version
            and self.size == len(state.issues)
        )

    def candidates(self, projects: Iterable[str]) -> list[Issue]:
        """The issues of `projects` (folded keys) in `state.issues` order. Treat as read-only."""
        lists = [found for project in projects if (found := self.by_project.get(project))]
        if not lists:
            return []
        if len(lists) == 1:
            return lists[0]
        position = self.position
        return sorted(chain.from_iterable(lists), key=lambda issue: position[id(issue)])


class JqlService:
    """Checks and evaluates JQL against a `SandboxState`, with a bounded LRU cache of results."""

    def __init__(self, capacity: int = 1024) -> None:
        """An empty cache holding up to `capacity` results."""
        self._capacity = capacity
        self._results: OrderedDict[tuple[Any, ...], tuple[str, ...]] = OrderedDict()
        self._known: tuple[int, dict[str, set[str]]] = (-1, {})
        self._index: ProjectIndex | None = None
        self._lock = threading.Lock()
        self.stats = JqlStats()

    def clear(self) -> None:
        """Forget cached results (the counters stay)."""
        with self._lock:
            self._results.clear()
            self._known = (-1, {})
            self._index = None

    def known_values(self, state: SandboxState) -> dict[str, set[str]]:
        """Values Jira would recognise per field, so `project = NOPE` fails as in Jira.

        Labels are left out on purpose: Jira accepts any label and simply finds nothing.
        """
        version, known = self._known
        if version == state.data_version:
            return known
        issues = list(state.issues.values())
        known = {
            "project": set(state.projects) | {i.project for i in issues},
            "issuetype": set(ISSUE_TYPES) | {i.issuetype for i in issues},
            "status": set(STATUS_IDS) | {i.status for i in issues},
            "priority": set(PRIORITIES) | {i.priority for i in issues},
            "resolution": set(RESOLUTIONS) | {i.resolution for i in issues if i.resolution},
        }
        for project in state.projects.values():
            known["issuetype"].update(project.issue_types)
        with self._lock:
            self._known = (state.data_version, known)
        return known

    def project_index(self, state: SandboxState) -> ProjectIndex:
        """`state`'s issues by project for its current data version (built under the lock if stale)."""
        index = self._index
        if index is not None and index.is_current(state):
            return index
        with self._lock:
            index = self._index
            if index is None or not index.is_current(state):
                index = ProjectIndex.build(state)
                self._index = index
            return index

    def context(self, state: SandboxState, user: User | None, now: datetime | None = None) -> Any:
        """The engine's evaluation context for `user` at `now` (default: the sandbox clock)."""
        return jql.JqlContext(
            now=now or state.now(),
            current_user=user.account_id if user else None,
            users=state.users,
            groups=state.groups,
            custom_fields=state.custom_fields,
            time_zone=user.time_zone if user else "UTC",
            known_values=self.known_values(state),
            deployment=state.deployment,
        )

    def is_bounded(self, text: str) -> bool:
        """Whether `text` restricts the search (an empty query does not); 400 on a syntax error."""
        if not text.strip():
            return False
        try:
            return bool(jql.parse(text).is_bounded)
        except jql.JqlError as error:
            self._count_error()
            raise JiraError(400, *error.messages) from error

    def search(self, state: SandboxState, text: str, user: User | None, *,
               require_bounded: bool) -> list[Issue]:
        """The issues matching `text` for `user`, in the query's order.

        Raises `JiraError(400)` for a JQL error, and for an unbounded query when `require_bounded`
        (Jira Cloud's enhanced search and approximate count refuse those).
        """
        issues = state.issues
        keys = self.keys(state, text, user, require_bounded=require_bounded)
        return [issues[k] for k in keys if k in issues]

    def count(self, state: SandboxState, text: str, user: User | None, *, require_bounded: bool) -> int:
        """How many issues match (without building the issue list: counts are the common call)."""
        return len(self.keys(state, text, user, require_bounded=require_bounded))

    def keys(self, state: SandboxState, text: str, user: User | None, *,
             require_bounded: bool) -> tuple[str, ...]:
        """The keys of the matching issues in order (cached); timed into the request's `eval_ms`."""
        started = time.perf_counter()
        try:
            return self._keys(state, text, user, require_bounded)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            with self._lock:
                self.stats.eval_ms_total += elapsed_ms
            if has_request_context():
                g.sandbox_eval_ms = g.get("sandbox_eval_ms", 0.0) + elapsed_ms

    def _keys(self, state: SandboxState, text: str, user: User | None,
              require_bounded: bool) -> tuple[str, ...]:
        """`keys` without the timing."""
        if require_bounded and not self.is_bounded(text):
            raise JiraError(400, UNBOUNDED)
        now = state.now()
        minute = now.replace(second=0, microsecond=0)
        key = (text, state.data_version, user.account_id if user else None, minute)
        with self._lock:
            keys = self._results.get(key)
            if keys is not None:
                self._results.move_to_end(key)
                self.stats.cache_hits += 1
        if keys is None:
            keys = self._evaluate(state, text, user, now)
            with self._lock:
                self._results[key] = keys
                while len(self._results) > self._capacity:
                    self._results.popitem(last=False)
                self.stats.evaluations += 1
        return keys

    def _evaluate(self, state: SandboxState, text: str, user: User | None, now: datetime) -> tuple[str, ...]:
        """Run the engine over the issues of the query's projects, or over every issue."""
        if not text.strip():
            # An empty JQL means "all issues" (Data Center), newest key first like any other search.
            everything = list(state.issues.values())
            ordered = jql.parse("ORDER BY key DESC").sort(everything, self.context(state, user, now))
            return tuple(issue.key for issue in ordered)
        try:
            projects = jql.parse(text).project_restriction()
            if projects is None:
                found = jql.search(list(state.issues.values()), text, self.context(state, user, now))
            else:
                index = self.project_index(state)
                found = jql.search(index.candidates(projects), text, self.context(state, user, now),
                                   existing_keys=index.keys)
        except jql.JqlError as error:
            self._count_error()
            raise JiraError(400, *error.messages) from error
        return tuple(issue.key for issue in found)

    def _count_error(self) -> None:
        """Count a refused query."""
        with self._lock:
            self.stats.errors += 1
