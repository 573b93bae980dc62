"""The Confluence client the publisher uses: pages, versions, labels, restrictions, properties.

`ConfluenceConnection` speaks Confluence's v1 REST API on Cloud (`<site>/wiki/rest/api`) and Data
Center (`<base>/rest/api`) through atlassian-python-api, over a `ResilientSession` (connectors.retry)
that owns retries, timeouts and the connection pool; errors follow the Jira connector's rules (they
name the page, space or URL and never carry a secret). It returns plain dataclasses
(connectors.confluence_models) and never imports okrbridge.

The library hands a `*.atlassian.net` URL to a Cloud class that has no page-writing methods, so this
connector always drives its Server class, based at the right root (`https://<site>.atlassian.net/wiki`
on Cloud), and calls the library's generic get/post/put/delete on v1 paths: Cloud still serves the
whole v1 content, label, property and restriction API under `/wiki/rest/api` (v2 has no
restrictions).

| what              | Cloud                         | Data Center                         |
|-------------------|-------------------------------|-------------------------------------|
| API root          | `<site>/wiki/rest/api`        | `<base>/rest/api`                   |
| people in restrictions | `accountId`              | `username`                          |
| auth              | Basic email + API token       | Bearer PAT (or Basic user+password) |
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import requests
from atlassian.confluence import ConfluenceServer

from connectors.confluence_models import (
    ConfluenceAuthError,
    ConfluenceError,
    ConfluenceUnavailable,
    Deployment,
    Page,
    Person,
    RestrictionError,
    Restrictions,
    Space,
    VersionConflict,
)
from connectors.jira_site import error_messages
from connectors.retry import (
    ResilientSession,
    RetryExhausted,
    RetryPolicy,
    TransportStats,
    describe_error,
    safe_url,
)

__all__ = [
    "ConfluenceAuthError",
    "ConfluenceConnection",
    "ConfluenceError",
    "ConfluenceUnavailable",
    "Deployment",
    "Page",
    "Person",
    "RestrictionError",
    "Restrictions",
    "Space",
    "VersionConflict",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
PAGE_EXPAND = "version,ancestors,space"


class _NotFound(Exception):
    """A 404 inside `_call`: the page (or property) is missing or hidden from us."""


class ConfluenceConnection:
    """A connection to one Confluence site, Cloud or Data Center; see the module docstring.

    `url` is the site (`https://acme.atlassian.net`, with or without `/wiki`) or the Data Center
    base URL. `deployment` is "cloud", "datacenter" or "auto" (Cloud for `*.atlassian.net` hosts).
    Cloud takes `email` + `token` (an API token, sent as Basic); Data Center takes `token` alone (a
    personal access token, sent as Bearer) or `email` + `token` as a username and password.
    No request is sent until first use.
    """

    def __init__(self, url: str, deployment: str = "auto", email: str | None = None, token: str | None = None,
                 timeout: float = 30, policy: RetryPolicy | None = None,
                 session: ResilientSession | None = None) -> None:
        """Check the configuration and build the transport and the library client."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the Confluence URL must be an absolute http(s) URL")
        if parts.username or parts.password:
            raise ValueError("put Confluence credentials in email/token, not in the URL")
        if deployment not in ("auto", "cloud", "datacenter"):
            raise ValueError(f"deployment must be auto, cloud or datacenter, not {deployment!r}")
        if not token:
            raise ValueError("a Confluence API token (Cloud) or personal access token (Data Center) "
                             "is required")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        site = url.rstrip("/")
        if deployment == "auto":
            deployment = "cloud" if (parts.hostname or "").endswith(".atlassian.net") else "datacenter"
        if deployment == "cloud" and not email:
            raise ValueError("Confluence Cloud needs the account's email with its API token")
        self.deployment: Deployment = cast(Deployment, deployment)
        if self.deployment == "cloud" and not site.endswith("/wiki"):
            site += "/wiki"
        self.url = site
        if session is None:
            session = ResilientSession(policy, timeout=(min(CONNECT_TIMEOUT, timeout), float(timeout)),
                                       pool_maxsize=4)
        elif policy is not None:
            raise ValueError("the session already has a retry policy; pass the policy to the session")
        self._session = session
        common: dict[str, Any] = {
            "session": session, "cloud": False, "timeout": max(1, math.ceil(timeout)),
            # Our transport retries; the library's own retry would sleep through 429s a second time.
            "backoff_and_retry": False, "retry_with_header": False,
        }
        if email:
            self._client = ConfluenceServer(site, username=email, password=token, **common)
        else:
            self._client = ConfluenceServer(site, token=token, **common)
        self._me: Person | None = None

    def __repr__(self) -> str:
        """Name the site and deployment only; credentials stay out of reprs (and so out of logs)."""
        return f"ConfluenceConnection({self.url!r}, deployment={self.deployment!r})"

    def __enter__(self) -> ConfluenceConnection:
        """Use as a context manager to close the connection pool at the end."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the pool."""
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    @property
    def stats(self) -> TransportStats:
        """The transport's counters (requests sent, retries, waits)."""
        return self._session.stats

    def page_url(self, page: Page) -> str:
        """Where a person opens `page` in a browser."""
        return page.url or f"{self.url}/pages/viewpage.action?pageId={page.id}"

    # -- people and spaces ----------------------------------------------------------------------

    def current_user(self) -> Person:
        """Who this connection signs in as (asked once): restrictions keep update rights for it."""
        if self._me is None:
            data = self._call(lambda: self._client.get("user/current"), what="reading the signed-in user",
                              path="user/current")
            self._me = self._person(data)
            if self._me is None:
                raise ConfluenceError(None, ["the answer names no user"], self._url("user/current"),
                                      context="reading the signed-in user")
        return self._me

    def space(self, key: str) -> Space:
        """The space with this key (ConfluenceError naming it when it is missing or hidden)."""
        path = f"space/{key}"
        what = f"reading space {key}"
        try:
            data = self._call(lambda: self._client.get(path, params={"expand": "homepage"}), what=what,
                              path=path, missing_ok=True)
        except _NotFound:
            raise ConfluenceError(404, [f"no space with key {key} (or no permission to see it)"],
                                  self._url(path), context=what) from None
        home = data.get("homepage") if isinstance(data.get("homepage"), dict) else None
        return Space(str(data.get("key", key)), int(data.get("id") or 0), str(data.get("name", "")),
                     str(home["id"]) if home and home.get("id") else None)

    # -- pages ----------------------------------------------------------------------------------

    def find_page(self, space_key: str, title: str) -> Page | None:
        """The current page titled `title` in the space, or None (titles are unique in a space)."""
        params = {"type": "page", "spaceKey": space_key, "title": title, "expand": PAGE_EXPAND}
        data = self._call(lambda: self._client.get("content", params=params),
                          what=f"looking for page {title!r} in space {space_key}", path="content")
        results = data.get("results") if isinstance(data, dict) else None
        return self._page(results[0]) if results else None

    def get_page(self, page_id: str, *, body: bool = False) -> Page | None:
        """The page with this id (with its storage body when asked), or None when gone or hidden."""
        path = f"content/{_check_id(page_id)}"
        expand = PAGE_EXPAND + (",body.storage" if body else "")
        try:
            data = self._call(lambda: self._client.get(path, params={"expand": expand}),
                              what=f"reading page {page_id}", path=path, missing_ok=True)
        except _NotFound:
            return None
        return self._page(data)

    def create_page(self, space_key: str, title: str, body: str, *, parent_id: str | None = None,
                    message: str = "") -> Page:
        """Create a page (version 1) under `parent_id`; 400 for a title already taken in the space."""
        payload: dict[str, Any] = {"type": "page", "title": title, "space": {"key": space_key},
                                   "body": _storage(body)}
        if parent_id is not None:
            payload["ancestors"] = [{"id": _check_id(parent_id)}]
        if message:
            payload["version"] = {"number": 1, "message": message}
        data = self._call(lambda: self._client.post("content", data=payload),
                          what=f"creating page {title!r} in space {space_key}", path="content")
        return _with_parent(self._page(data), parent_id)

    def update_page(self, page_id: str, *, title: str, body: str, version: int,
                    parent_id: str | None = None, message: str = "", minor_edit: bool = True) -> Page:
        """Save `version` (the current number + 1) of a page; VersionConflict when it moved on.

        A PUT is retried after a dropped answer; when the retry meets our own first attempt (409,
        and the page is at `version` with our message), the update is taken as done.
        """
        path = f"content/{_check_id(page_id)}"
        payload: dict[str, Any] = {"type": "page", "title": title, "body": _storage(body),
                                   "version": {"number": version, "message": message,
                                               "minorEdit": minor_edit}}
        if parent_id is not None:
            payload["ancestors"] = [{"id": _check_id(parent_id)}]
        what = f"updating page {title!r} (id {page_id}) to version {version}"
        try:
            page = self._page(self._call(lambda: self._client.put(path, data=payload), what=what, path=path))
            return _with_parent(page, parent_id)
        except VersionConflict:
            live = self.get_page(page_id)
            if live is not None and live.version == version and live.message == message and message:
                return live
            raise

    # -- labels -------------------------------------------------------------------------------

    def labels(self, page_id: str) -> list[str]:
        """The names of the page's global labels."""
        path = f"content/{_check_id(page_id)}/label"
        data = self._call(lambda: self._client.get(path, params={"prefix": "global", "limit": 200}),
                          what=f"reading the labels of page {page_id}", path=path)
        return [str(item["name"]) for item in data.get("results", []) if isinstance(item, dict)]

    def add_labels(self, page_id: str, names: Sequence[str]) -> None:
        """Add global labels (adding one the page has already is harmless)."""
        if not names:
            return
        path = f"content/{_check_id(page_id)}/label"
        payload = [{"prefix": "global", "name": name} for name in names]
        self._call(lambda: self._client.post(path, data=cast(Any, payload)),
                   what=f"labelling page {page_id} with {', '.join(names)}", path=path)

    def remove_label(self, page_id: str, name: str) -> None:
        """Remove one label from the page."""
        path = f"content/{_check_id(page_id)}/label"
        self._call(lambda: self._client.delete(path, params={"name": name}),
                   what=f"removing label {name} from page {page_id}", path=path)

    # -- restrictions -------------------------------------------------------------------------

    def restrictions(self, page_id: str) -> Restrictions:
        """The page's own read and update restrictions (inherited ones are not listed)."""
        path = f"content/{_check_id(page_id)}/restriction"
        params = {"expand": "restrictions.user,restrictions.group"}
        data = self._call(lambda: self._client.get(path, params=params),
                          what=f"reading the restrictions of page {page_id}", path=path)
        return self._restrictions(data)

    def set_restrictions(self, page_id: str, wanted: Restrictions) -> Restrictions:
        """Replace every restriction of the page with `wanted` (PUT replaces all; none → DELETE).

        Raises RestrictionError when Confluence refuses, or answers with other restrictions than
        the ones asked for: a publisher must not go on believing a page is closed when it is not.
        """
        path = f"content/{_check_id(page_id)}/restriction"
        what = f"setting the restrictions of page {page_id}"
        payload = [self._operation(op, users, groups) for op, users, groups in (
            ("read", wanted.read_users, wanted.read_groups),
            ("update", wanted.update_users, wanted.update_groups)) if users or groups]
        try:
            if payload:
                data = self._call(lambda: self._client.put(path, data=cast(Any, payload)), what=what,
                                  path=path)
            else:
                data = self._call(lambda: self._client.delete(path), what=what, path=path)
        except ConfluenceError as exc:
            raise RestrictionError(exc.status, exc.messages, exc.url, context=what) from exc
        got = self._restrictions(data) if isinstance(data, dict) and data.get("results") is not None \
            else self.restrictions(page_id)
        if got.normalised() != wanted.normalised():
            kept = f"asked for {wanted.normalised()}, Confluence kept {got.normalised()}"
            raise RestrictionError(None, [kept], self._url(path), context=what)
        return got

    # -- content properties ---------------------------------------------------------------------

    def get_property(self, page_id: str, key: str) -> tuple[Any, int] | None:
        """A content property's value and version number, or None when the page has none by that key."""
        path = f"content/{_check_id(page_id)}/property/{_check_key(key)}"
        try:
            data = self._call(lambda: self._client.get(path), path=path, missing_ok=True,
                              what=f"reading property {key} of page {page_id}")
        except _NotFound:
            return None
        return data.get("value"), int((data.get("version") or {}).get("number") or 1)

    def set_property(self, page_id: str, key: str, value: Any) -> int:
        """Create or replace a content property (version+1); returns its new version number."""
        current = self.get_property(page_id, key)
        what = f"writing property {key} of page {page_id}"
        if current is None:
            path = f"content/{_check_id(page_id)}/property"
            created = {"key": key, "value": value}
            self._call(lambda: self._client.post(path, data=created), what=what, path=path)
            return 1
        path = f"content/{_check_id(page_id)}/property/{_check_key(key)}"
        number = current[1] + 1
        payload = {"value": value, "version": {"number": number, "minorEdit": True}}
        self._call(lambda: self._client.put(path, data=cast(Any, payload)), what=what, path=path)
        return number

    # -- plumbing -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        """The absolute URL of an API path (for messages)."""
        return f"{self.url}/rest/api/{path}"

    def _call(self, fn: Callable[[], T], *, what: str, path: str, missing_ok: bool = False) -> Any:
        """Run one library call; every failure becomes a ConfluenceError naming `what` and the URL."""
        try:
            return fn()
        except RetryExhausted as exc:
            raise ConfluenceUnavailable(exc.status, [exc.reason], exc.url, context=what) from exc
        except requests.HTTPError as exc:
            response = exc.response
            if response is None:
                raise ConfluenceError(None, [describe_error(exc)], self._url(path), context=what) from exc
            if response.status_code == 404 and missing_ok:
                raise _NotFound from exc
            url = safe_url(response.url or self._url(path))
            messages = error_messages(response)
            kind: type[ConfluenceError] = ConfluenceError
            if response.status_code in (401, 403):
                kind = ConfluenceAuthError
            elif response.status_code == 409:
                kind = VersionConflict
            raise kind(response.status_code, messages, url, context=what) from exc
        except requests.RequestException as exc:
            raise ConfluenceUnavailable(None, [f"could not reach Confluence: {describe_error(exc)}"],
                                        self._url(path), context=what) from exc

    def _person(self, data: Any) -> Person | None:
        """A user object as restrictions name it (accountId on Cloud, username on Data Center)."""
        if not isinstance(data, dict):
            return None
        keys = ("accountId",) if self.deployment == "cloud" else ("username", "userKey")
        ref = next((str(data[k]) for k in keys if data.get(k)), None)
        return Person(ref, str(data.get("displayName") or ref)) if ref else None

    def _operation(self, operation: str, users: Sequence[str], groups: Sequence[str]) -> dict[str, Any]:
        """One `ContentRestrictionUpdate`; lists that are empty are left out, as the API asks."""
        subjects: dict[str, Any] = {}
        if users:
            field = "accountId" if self.deployment == "cloud" else "username"
            subjects["user"] = [{"type": "known", field: ref} for ref in sorted(set(users))]
        if groups:
            subjects["group"] = [{"type": "group", "name": name} for name in sorted(set(groups))]
        return {"operation": operation, "restrictions": subjects}

    def _restrictions(self, data: Any) -> Restrictions:
        """Restrictions from a `ContentRestrictionArray`."""
        found: dict[str, tuple[list[str], list[str]]] = {"read": ([], []), "update": ([], [])}
        for item in (data.get("results") or []) if isinstance(data, dict) else []:
            operation = item.get("operation") if isinstance(item, dict) else None
            if operation not in found:
                continue
            subjects = item.get("restrictions") or {}
            users, groups = found[operation]
            for user in _results(subjects.get("user")):
                person = self._person(user)
                if person is not None:
                    users.append(person.ref)
            groups.extend(str(g["name"]) for g in _results(subjects.get("group")) if g.get("name"))
        return Restrictions(tuple(found["read"][0]), tuple(found["read"][1]),
                            tuple(found["update"][0]), tuple(found["update"][1]))

    def _page(self, data: Any) -> Page:
        """A `Page` from a content object."""
        if not isinstance(data, dict) or "id" not in data:
            raise ConfluenceError(None, ["unexpected answer: no page in it"], self.url,
                                  context="reading a page")
        version = data.get("version") or {}
        ancestors = data.get("ancestors") or []
        space = data.get("space") or {}
        body = ((data.get("body") or {}).get("storage") or {}).get("value")
        links = data.get("_links") or {}
        base = str(links.get("base") or self.url)
        return Page(id=str(data["id"]), title=str(data.get("title", "")), space_key=str(space.get("key", "")),
                    version=int(version.get("number") or 0), message=str(version.get("message") or ""),
                    by=self._person(version.get("by")),
                    parent_id=str(ancestors[-1]["id"]) if ancestors else None,
                    body=str(body) if body is not None else None,
                    url=base + str(links["webui"]) if links.get("webui") else "")


def _with_parent(page: Page, parent_id: str | None) -> Page:
    """`page` with the parent we just gave it (write answers do not expand ancestors)."""
    return dataclasses.replace(page, parent_id=parent_id) if page.parent_id is None and parent_id else page


def _results(value: Any) -> list[dict[str, Any]]:
    """The items of a restriction's user or group list (`{"results": [...]}` or a plain list)."""
    if isinstance(value, dict):
        value = value.get("results")
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _storage(body: str) -> dict[str, Any]:
    """A `body` field carrying storage-format XHTML."""
    return {"storage": {"value": body, "representation": "storage"}}


def _check_key(key: str) -> str:
    """A content property key: letters, digits, dots, dashes and underscores (it sits in the path)."""
    if not key or len(key) > 255 or not all(c.isalnum() or c in "._-" for c in key):
        raise ValueError(f"not a content property key: {key!r}")
    return key


def _check_id(page_id: str) -> str:
    """A content id is digits; anything else could inject a path segment."""
    text = str(page_id).strip()
    if not text.isdigit():
        raise ValueError(f"not a Confluence content id: {page_id!r}")
    return text
