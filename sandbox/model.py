"""The sandbox's own data: users, groups, issues and their history.

Plain mutable dataclasses held in memory by the sandbox server. The JQL evaluator reads them; the
REST layer turns them into Atlassian's JSON shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

StatusCategory = Literal["new", "indeterminate", "done"]
"""Jira's three status categories (their keys); `done` is what "is done" means everywhere."""


@dataclass
class User:
    """A person who can sign in: Basic auth (email + API token) or a Bearer personal access token."""

    account_id: str
    email: str
    display_name: str
    api_token: str
    personal_access_token: str
    groups: list[str] = field(default_factory=list)
    active: bool = True
    time_zone: str = "UTC"
    username: str = ""
    """The Data Center login name (Basic auth user, `username=` parameters); defaults to the
    local part of the email address."""

    @property
    def login(self) -> str:
        """The Data Center username: `username` when set, else the email's local part."""
        return self.username or self.email.split("@", 1)[0]


@dataclass
class StatusChange:
    """One transition in an issue's history, read by the JQL `WAS` operator."""

    at: datetime
    from_status: str | None
    to_status: str


@dataclass
class Issue:
    """A Jira issue as the sandbox keeps it. `custom` maps `customfield_NNNNN` to a number."""

    id: str
    key: str
    project: str
    issuetype: str
    summary: str
    status: str
    status_category: StatusCategory
    created: datetime
    updated: datetime
    resolution: str | None = None
    resolved: datetime | None = None
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    reporter: str | None = None
    priority: str = "Medium"
    components: list[str] = field(default_factory=list)
    fix_versions: list[str] = field(default_factory=list)
    parent: str | None = None
    epic_link: str | None = None
    duedate: date | None = None
    custom: dict[str, float | None] = field(default_factory=dict)
    history: list[StatusChange] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class CustomField:
    """A numeric custom field: `cf[10010]` in JQL, `customfield_10010` in JSON, or its name."""

    id: str
    name: str

    @property
    def number(self) -> int:
        """The numeric part of the id (10010 for customfield_10010)."""
        return int(self.id.rsplit("_", 1)[1])


@dataclass
class Project:
    """A Jira project: its key, numeric id, name and the issue types it offers."""

    key: str
    id: str
    name: str
    lead: str | None = None                                     # account id
    issue_types: list[str] = field(default_factory=list)
    project_type: str = "software"


@dataclass
class RemoteLink:
    """A remote issue link ("web link") on an issue; `global_id` makes POST an upsert."""

    id: int
    issue_key: str
    object: dict[str, Any]
    global_id: str | None = None
    relationship: str | None = None
    application: dict[str, Any] = field(default_factory=dict)


@dataclass
class Comment:
    """A comment on an issue: the body as the client sent it (an ADF document through Cloud's v3, a
    string through v2 and Data Center) and who wrote it when."""

    id: int
    issue_key: str
    author: str                                                 # account id
    body: Any
    created: datetime
    visibility: dict[str, Any] | None = None
