"""Who is looking: a `Viewer` (account, groups, the names they go by) and the `ViewerDirectory` that
builds one from Jira, remembering each answer for a short while.

Groups decide what a viewer may see, so they come from Jira (the source of truth for membership),
never from the request. One Jira request per viewer per `ttl` seconds: the panel is opened far more
often than group membership changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from connectors.jira import JiraError, JiraUser

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Viewer:
    """A person viewing OKRs. `account_id` is None for an anonymous viewer; `handles` are the names
    an `owner` in okrs.toml may use for them (account id, username, email, the email's local part)."""

    account_id: str | None
    groups: frozenset[str] = frozenset()
    handles: frozenset[str] = frozenset()
    display_name: str = ""

    @property
    def anonymous(self) -> bool:
        """True for a viewer nobody signed in as."""
        return self.account_id is None


ANONYMOUS = Viewer(account_id=None, display_name="anonymous")
"""The viewer of a site configured with `web.auth = "anonymous"`: no groups, so only what is
visible to everyone."""


class DirectoryUnavailable(Exception):
    """Jira could not say who a viewer is (unreachable, or refused the bot's credentials)."""


def viewer_from(user: JiraUser) -> Viewer:
    """A Viewer from Jira's answer about a user."""
    handles = {user.account_id, user.name, user.email, user.email.split("@", 1)[0] if user.email else ""}
    return Viewer(account_id=user.account_id, groups=frozenset(user.groups),
                  handles=frozenset(h for h in handles if h),
                  display_name=user.display_name or user.account_id)


class ViewerDirectory:
    """Viewers by account, asked of Jira through `lookup` and cached for `ttl` seconds.

    Without a lookup (no Jira configured) a viewer has no groups and sees only what is visible to
    everyone; that is said once in the log. A user Jira does not know (404) or a deactivated one is
    a viewer with no groups too. Thread-safe: the web server answers on several threads.
    """

    def __init__(self, lookup: Callable[[str], JiraUser] | None, *, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Remember answers for `ttl` seconds by `clock`."""
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, Viewer]] = {}
        self._lock = threading.Lock()
        self._warned = False

    def viewer(self, account_id: str) -> Viewer:
        """The viewer with this account (Cloud accountId, Data Center username); DirectoryUnavailable
        when Jira cannot answer."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(account_id)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        viewer = self._ask(account_id)
        with self._lock:
            self._cache[account_id] = (now, viewer)
            if len(self._cache) > 10_000:  # bounded: drop the oldest answers first
                for key, _ in sorted(self._cache.items(), key=lambda item: item[1][0])[:1_000]:
                    del self._cache[key]
        return viewer

    def _ask(self, account_id: str) -> Viewer:
        """Ask Jira about one account."""
        if self._lookup is None:
            if not self._warned:
                log.warning("jira.url or its token is not set: viewers' groups are unknown, so only "
                            "objectives visible to everyone are shown")
                self._warned = True
            return Viewer(account_id=account_id, handles=frozenset({account_id}), display_name=account_id)
        try:
            user = self._lookup(account_id)
        except JiraError as error:
            if error.status == 404:
                return Viewer(account_id=account_id, handles=frozenset({account_id}), display_name=account_id)
            raise DirectoryUnavailable(f"Jira could not say who {account_id} is: {error}") from error
        if not user.active:
            return Viewer(account_id=account_id, handles=frozenset({account_id}), display_name=account_id)
        return viewer_from(user)
