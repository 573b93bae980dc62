"""Who is looking: an `okrbridge.audiences.Person` (groups, the names they go by as owner), which
views cut what they may see for, and the `ViewerDirectory` that builds one from Jira, remembering
each answer for a short while.

Groups decide what a viewer may see, so they come from Jira (the source of truth for membership),
never from the request. One Jira request per viewer per `ttl` seconds: the panel is opened far more
often than group membership changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from connectors.jira import JiraError, JiraUser
from okrbridge.audiences import Person

log = logging.getLogger(__name__)


ANONYMOUS = Person("anonymous")
"""The viewer of a site configured with `web.auth = "anonymous"`: no groups, so only what is
visible to everyone."""


def _nobody_known(account_id: str) -> Person:
    """A viewer Jira says nothing about: no groups, known as owner by the account only."""
    return Person(account_id, owner_names=frozenset({account_id}))


class DirectoryUnavailable(Exception):
    """Jira could not say who a viewer is (unreachable, or refused the bot's credentials)."""


def viewer_from(user: JiraUser) -> Person:
    """A viewer from Jira's answer about a user: their groups, and as owner names the account id,
    username, email and the email's local part (whatever an `owner` in okrs.toml may use)."""
    handles = {user.account_id, user.name, user.email, user.email.split("@", 1)[0] if user.email else ""}
    return Person(user.display_name or user.account_id, groups=frozenset(user.groups),
                  owner_names=frozenset(h for h in handles if h))


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
        self._cache: dict[str, tuple[float, Person]] = {}
        self._lock = threading.Lock()
        self._warned = False

    def viewer(self, account_id: str) -> Person:
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

    def _ask(self, account_id: str) -> Person:
        """Ask Jira about one account."""
        if self._lookup is None:
            if not self._warned:
                log.warning("jira.url or its token is not set: viewers' groups are unknown, so only "
                            "objectives visible to everyone are shown")
                self._warned = True
            return _nobody_known(account_id)
        try:
            user = self._lookup(account_id)
        except JiraError as error:
            if error.status == 404:
                return _nobody_known(account_id)
            raise DirectoryUnavailable(f"Jira could not say who {account_id} is: {error}") from error
        if not user.active:
            return _nobody_known(account_id)
        return viewer_from(user)
