"""The sandbox's whole world in memory: users, groups, issues, Confluence content, the clock.

One `SandboxState` lives in `app.extensions["okrbridge_sandbox"]`; request handlers reach it with
`current_state()`. `data_version` grows on every write so that derived results (JQL evaluations)
can be cached per query and version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from flask import current_app

from sandbox.confluence_store import ConfluenceStore
from sandbox.model import Comment, CustomField, Issue, Project, RemoteLink, User

Deployment = Literal["cloud", "datacenter"]
EXTENSION_KEY = "okrbridge_sandbox"


@dataclass
class Clock:
    """The sandbox's notion of now: real time, or a settable "today" that then moves with real time."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        """The current sandbox instant (UTC, aware)."""
        return datetime.now(UTC) + self.offset

    def set_now(self, moment: datetime) -> None:
        """Make `moment` the current sandbox instant; time keeps running from there."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        self.offset = aware - datetime.now(UTC)


@dataclass
class SandboxState:
    """Everything the sandbox knows; guarded by `lock` for writes from concurrent requests."""

    deployment: Deployment = "cloud"
    users: dict[str, User] = field(default_factory=dict)          # by account id
    groups: dict[str, list[str]] = field(default_factory=dict)    # group name -> account ids
    issues: dict[str, Issue] = field(default_factory=dict)        # by key
    custom_fields: list[CustomField] = field(default_factory=list)
    confluence: ConfluenceStore = field(default_factory=ConfluenceStore)
    clock: Clock = field(default_factory=Clock)
    data_version: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    projects: dict[str, Project] = field(default_factory=dict)    # by key
    remote_links: dict[str, list[RemoteLink]] = field(default_factory=dict)   # by issue key
    issue_properties: dict[str, dict[str, Any]] = field(default_factory=dict)  # issue key -> key -> value
    next_remote_link_id: int = 10000
    comments: dict[str, list[Comment]] = field(default_factory=dict)   # by issue key, oldest first
    next_comment_id: int = 10000
    dc_deployment_type: str = "Server"
    """What Data Center's serverInfo reports: real DC answers "Server"; set "DataCenter" to test
    clients that must accept both spellings."""
    seed_info: dict[str, Any] = field(default_factory=dict)     # what seed.populate() built, for stats
    _issue_ids: dict[str, str] = field(default_factory=dict, repr=False)
    _credentials: dict[tuple[str, str], User] = field(default_factory=dict, repr=False)
    _index_marks: tuple[int, ...] = ()

    def now(self) -> datetime:
        """The current sandbox instant."""
        return self.clock.now()

    def touch(self) -> None:
        """Record that data changed, invalidating caches keyed on `data_version`."""
        with self.lock:
            self.data_version += 1

    def _reindex(self) -> None:
        """Rebuild the id and credential lookups when issues or users were added, removed or replaced.

        The collections' identity and size are the cheap change detector: seeding replaces whole
        dicts, tests add entries, and edits to a `User` object (say `active = False`) need no
        re-index because the index holds the object itself. Changing a token in place does.
        """
        marks = (id(self.issues), len(self.issues), id(self.users), len(self.users))
        if marks == self._index_marks:
            return
        with self.lock:
            self._issue_ids = {issue.id: key for key, issue in self.issues.items()}
            credentials: dict[tuple[str, str], User] = {}
            for user in self.users.values():
                credentials[("pat", user.personal_access_token)] = user
                credentials[("email", user.email.lower())] = user
                credentials[("login", user.login.lower())] = user
            self._credentials = credentials
            self._index_marks = marks

    def find_issue(self, id_or_key: str) -> Issue | None:
        """The issue with this key (any case) or numeric id, if it exists."""
        self._reindex()
        issue = self.issues.get(id_or_key.upper())
        if issue is None and id_or_key.isdigit():
            key = self._issue_ids.get(id_or_key)
            issue = self.issues.get(key) if key else None
        return issue

    def user_for_basic(self, login: str, secret: str) -> User | None:
        """The user whose email (Cloud) or username (Data Center) and API token match, if any."""
        self._reindex()
        needle = login.lower()
        user = self._credentials.get(("email", needle)) or self._credentials.get(("login", needle))
        if user is None or not secret:
            return None
        # Data Center's Basic auth takes a password; the sandbox accepts the PAT there too so a
        # single credential per user works for both deployments.
        return user if secret in (user.api_token, user.personal_access_token) else None

    def user_for_bearer(self, token: str) -> User | None:
        """The user owning this personal access token, if any."""
        self._reindex()
        return self._credentials.get(("pat", token)) if token else None

    def user_by_login(self, login: str) -> User | None:
        """The user with this Data Center username (or email), if any."""
        self._reindex()
        needle = login.lower()
        return self._credentials.get(("login", needle)) or self._credentials.get(("email", needle))

    def add_comment(self, comment_for: Callable[[int], Comment]) -> Comment:
        """Store the comment `comment_for(new id)` makes (ids unique across issues, as in Jira)."""
        with self.lock:
            comment = comment_for(self.next_comment_id)
            self.next_comment_id += 1
            self.comments.setdefault(comment.issue_key, []).append(comment)
            return comment

    def allocate_remote_link_id(self) -> int:
        """A fresh remote-link id (unique across issues, as in Jira)."""
        with self.lock:
            link_id = self.next_remote_link_id
            self.next_remote_link_id += 1
            return link_id


def current_state() -> SandboxState:
    """The state of the sandbox app handling the current request."""
    state: SandboxState = current_app.extensions[EXTENSION_KEY]
    return state
