"""Plain data returned by `connectors.jira.JiraConnection`, and the errors it raises.

Nothing here knows HTTP or atlassian-python-api: the sync and the web app depend on these shapes only.
Status categories are Jira's stable keys (`new`, `indeterminate`, `done`), not the localised names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from connectors.service_error import ServiceError

Deployment = Literal["cloud", "datacenter"]
DONE_CATEGORY = "done"


@dataclass(frozen=True)
class Aggregate:
    """A sum or mean over a numeric field: `value` is None when no matching issue has a value.

    `count` is how many issues matched the JQL, `with_value` how many of them had a number in the field.
    """

    value: float | None
    count: int
    with_value: int


@dataclass(frozen=True)
class IssueState:
    """Where one issue stands: `done` is true when its status category is Done."""

    key: str
    summary: str
    status: str
    status_category: str
    done: bool


@dataclass(frozen=True)
class Epic:
    """An epic that drives a KR (an initiative), with a browser URL for people."""

    key: str
    summary: str
    status: str
    status_category: str
    done: bool
    url: str


@dataclass(frozen=True)
class EpicsFound:
    """The epics behind a KR's initiatives, and the keys it names that Jira does not know.

    `missing` holds the named keys Jira refused as nonexistent (deleted, moved, or not visible to
    the bot); the epics that do exist are still found.
    """

    epics: tuple[Epic, ...]
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    """Children of an epic: how many are in the Done category out of how many in all."""

    done: int
    total: int


@dataclass(frozen=True)
class JiraUser:
    """A Jira user with their groups. `account_id` is the Cloud accountId or the Data Center username
    asked for; `name` is the Data Center username (empty on Cloud); `email` may be empty (privacy)."""

    account_id: str
    name: str
    email: str
    display_name: str
    active: bool
    groups: tuple[str, ...]


@dataclass(frozen=True)
class RemoteLink:
    """A remote link on an issue (Jira's RemoteIssueLink), reduced to what okrbridge reads back."""

    id: str
    global_id: str | None
    url: str
    title: str
    summary: str | None = None
    icon_url: str | None = None
    status_resolved: bool | None = None
    relationship: str | None = None


class JiraError(ServiceError):
    """Jira refused or failed a request. `messages` are Jira's own words; `url` has no query or secret.

    `context` says what was being done (e.g. the JQL) so the message names the culprit on its own.
    """

    service = "Jira"


class JqlError(JiraError):
    """Jira rejected a JQL (HTTP 400 on a search or count); `jql` is the query it rejected."""

    def __init__(self, status: int | None, messages: Sequence[str], url: str, *, jql: str) -> None:
        """Name the JQL in the message: the KR that asked it fails alone, with this text."""
        self.jql = jql
        super().__init__(status, messages, url, context=f"Jira rejected the JQL {jql!r}")


class JiraAuthError(JiraError):
    """Jira refused the credentials (401) or the permission (403)."""


class JiraUnavailable(JiraError):
    """Jira could not be reached, or kept failing until the retries ran out."""
