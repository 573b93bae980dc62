"""An in-memory Jira implementing `okrbridge.sync_ports.SyncJira`, for unit tests of the sync's logic.

It is a fake, not a stand-in for Jira's behaviour: counts and epics are whatever the test sets, and
every call is recorded. Tests of Jira's behaviour use the sandbox over HTTP instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connectors.jira_changes import UpdatedProjects
from connectors.jira_models import (
    Aggregate,
    Deployment,
    Epic,
    EpicsFound,
    IssueState,
    JiraError,
    Progress,
    RemoteLink,
)


@dataclass
class FakeCounts:
    """Request counters: one per call."""

    requests: int = 0
    retries: int = 0


@dataclass
class FakeJira:
    """Counts by JQL, epics by query, links by epic; `refuse` maps a JQL to the error it raises."""

    counts: dict[str, int] = field(default_factory=dict)
    epics_by_query: dict[str, list[str]] = field(default_factory=dict)
    missing_keys: set[str] = field(default_factory=set)
    refuse: dict[str, JiraError] = field(default_factory=dict)
    links: dict[str, list[RemoteLink]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    url: str = "https://jira.invalid"
    deployment: Deployment = "cloud"
    stats: FakeCounts = field(default_factory=FakeCounts)
    deadlines: list[float | None] = field(default_factory=list)

    def set_deadline(self, seconds: float | None) -> None:
        """Record the deadline the sync set (and lifted)."""
        self.deadlines.append(seconds)

    def _call(self, what: str) -> None:
        """Record a call; raise what the test set up for it."""
        self.calls.append(what)
        self.stats.requests += 1
        for jql, error in self.refuse.items():
            if jql in what:
                raise error

    def count(self, jql: str) -> int:
        """The count the test set."""
        self._call(f"count {jql}")
        return self.counts[jql]

    def aggregate(self, jql: str, field: str, agg: str = "sum") -> Aggregate:
        """Not used by these tests."""
        raise NotImplementedError

    def issue_state(self, key: str) -> IssueState:
        """Not used by these tests."""
        raise NotImplementedError

    def epics(self, jql: str | None = None, keys: Sequence[str] = ()) -> EpicsFound:
        """The epics the test listed for `jql`, plus the named keys not in `missing_keys`."""
        self._call(f"epics {jql or ''} {','.join(keys)}")
        found = [*self.epics_by_query.get(jql or "", []), *(k for k in keys if k not in self.missing_keys)]
        return EpicsFound(tuple(Epic(k, k, "In Progress", "indeterminate", False, f"{self.url}/browse/{k}")
                                for k in dict.fromkeys(found)),
                          tuple(k for k in keys if k in self.missing_keys))

    def epic_progress(self, key: str) -> Progress:
        """No children."""
        self._call(f"progress {key}")
        return Progress(0, 0)

    def server_time(self) -> datetime:
        """Not used by these tests (they sync without change detection)."""
        raise NotImplementedError

    def time_zone(self) -> str:
        """Not used by these tests."""
        raise NotImplementedError

    def updated_projects(self, minutes: int, limit: int = 1000) -> UpdatedProjects:
        """Not used by these tests."""
        raise NotImplementedError

    def remote_links(self, key: str, global_id_prefix: str | None = None) -> list[RemoteLink]:
        """The links on `key` whose globalId starts with the prefix."""
        self._call(f"links {key}")
        return [link for link in self.links.get(key, [])
                if (link.global_id or "").startswith(global_id_prefix or "")]

    def upsert_remote_link(self, key: str, global_id: str, url: str, title: str, summary: str | None = None,
                           icon_url: str | None = None, status_resolved: bool | None = None,
                           relationship: str | None = None) -> str:
        """Replace or add the link with this globalId."""
        self._call(f"upsert {key} {global_id}")
        kept = [link for link in self.links.get(key, []) if link.global_id != global_id]
        self.links[key] = [*kept, RemoteLink(str(len(self.calls)), global_id, url, title, summary,
                                             status_resolved=status_resolved)]
        return str(len(self.calls))

    def delete_remote_link(self, key: str, global_id: str) -> None:
        """Drop the link with this globalId."""
        self._call(f"delete {key} {global_id}")
        self.links[key] = [link for link in self.links.get(key, []) if link.global_id != global_id]
