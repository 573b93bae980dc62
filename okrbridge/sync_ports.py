"""The narrow Jira interface the sync worker depends on: exactly the reads and link writes it uses.

`connectors.jira.JiraConnection` implements it over HTTP; tests of the sync's pure parts pass a small
in-memory implementation instead. Keeping the sync to this interface means a new Jira call has to
be added here first, where a reviewer sees what the sync asks of Jira.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from connectors.jira_changes import UpdatedProjects
from connectors.jira_models import Aggregate, Deployment, EpicsFound, IssueState, Progress, RemoteLink


class RequestCounts(Protocol):
    """The transport's running totals, read before and after a run to count that run's share."""

    @property
    def requests(self) -> int:
        """Requests sent so far, retries included."""
        ...

    @property
    def retries(self) -> int:
        """Retries so far."""
        ...


class SyncJira(Protocol):
    """What a sync reads from Jira and the remote links it writes; errors are `JiraError` subclasses."""

    @property
    def url(self) -> str:
        """The site's base URL (stored with each value to say where it came from)."""
        ...

    @property
    def deployment(self) -> Deployment:
        """"cloud" or "datacenter"."""
        ...

    @property
    def stats(self) -> RequestCounts:
        """Running request and retry totals."""
        ...

    def set_deadline(self, seconds: float | None) -> None:
        """Give up every request `seconds` from now (None: no deadline)."""
        ...

    def count(self, jql: str) -> int:
        """How many issues match `jql`."""
        ...

    def aggregate(self, jql: str, field: str, agg: str = "sum") -> Aggregate:
        """Sum or mean of a numeric field (id or name) over the issues matching `jql`."""
        ...

    def issue_state(self, key: str) -> IssueState:
        """An issue's status and whether it is done."""
        ...

    def epics(self, jql: str | None = None, keys: Sequence[str] = ()) -> EpicsFound:
        """The epics matching `jql` plus those named in `keys`, and the named keys Jira does not know."""
        ...

    def epic_progress(self, key: str) -> Progress:
        """How many of an epic's children are done, out of how many."""
        ...

    def server_time(self) -> datetime:
        """Jira's current time (the steady-state sync measures change by Jira's clock, not ours)."""
        ...

    def time_zone(self) -> str:
        """The signed-in account's time zone, in which calendar JQL functions are evaluated."""
        ...

    def updated_projects(self, minutes: int, limit: int = 1000) -> UpdatedProjects:
        """The projects of the issues updated in the last `minutes` by Jira's clock."""
        ...

    def remote_links(self, key: str, global_id_prefix: str | None = None) -> list[RemoteLink]:
        """An issue's remote links whose globalId starts with the prefix."""
        ...

    def upsert_remote_link(self, key: str, global_id: str, url: str, title: str, summary: str | None = None,
                           icon_url: str | None = None, status_resolved: bool | None = None,
                           relationship: str | None = None) -> str:
        """Create or update (by globalId) a remote link; returns its id."""
        ...

    def delete_remote_link(self, key: str, global_id: str) -> None:
        """Delete the remote link with this globalId (already gone is fine)."""
        ...
