"""The sandbox's whole world in memory: users, groups, issues, Confluence content, the clock.

One `SandboxState` lives in `app.extensions["okrbridge_sandbox"]`; request handlers reach it with
`current_state()`. `data_version` grows on every write so that derived results (JQL evaluations)
can be cached per query and version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from flask import current_app

from connectors.sandbox.confluence_store import ConfluenceStore
from connectors.sandbox.model import CustomField, Issue, User

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

    def now(self) -> datetime:
        """The current sandbox instant."""
        return self.clock.now()

    def touch(self) -> None:
        """Record that data changed, invalidating caches keyed on `data_version`."""
        with self.lock:
            self.data_version += 1


def current_state() -> SandboxState:
    """The state of the sandbox app handling the current request."""
    state: SandboxState = current_app.extensions[EXTENSION_KEY]
    return state
