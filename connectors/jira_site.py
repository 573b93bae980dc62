"""The plumbing under `connectors.jira.JiraConnection`: one Jira site, its transport and its errors.

`JiraSite` checks the configuration, builds the transport (a `ResilientSession` from connectors.retry,
or a retrying adapter mounted on a caller's session), settles the deployment once (probing serverInfo
for "auto"), builds the atlassian-python-api client for it, runs library calls and turns every failure
into a `JiraError` subclass carrying Jira's own messages, and resolves field names to ids. It knows no
operation: what to ask Jira lives in `connectors.jira` (and `connectors.jira_remote_links`). The two
module-level guards, `check_key` and `expect_key`, are shared by those operations.

Thread-safety: the deployment and the field list are resolved once, each under its own lock; nothing
else is mutated after construction, so one site may serve the sync's worker threads together.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import requests
from atlassian import Jira

from connectors.jira_models import Deployment, JiraAuthError, JiraError, JiraUnavailable, JqlError
from connectors.retry import (
    MalformedAnswer,
    ResilientSession,
    RetryExhausted,
    RetryingAdapter,
    RetryPolicy,
    TransportStats,
    describe_error,
    safe_url,
)

# Logged under connectors.jira, where these lines were before the split, so that logging set up for
# the Jira connector keeps covering the deployment probe.
log = logging.getLogger("connectors.jira")

T = TypeVar("T")

ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[0-9]+$")
CUSTOM_FIELD_ID = re.compile(r"^customfield_[0-9]+$")
JQL_CF = re.compile(r"^cf\[([0-9]+)\]$", re.IGNORECASE)

CONNECT_TIMEOUT = 10.0


class JiraSite:
    """One Jira site's transport, client and error translation; see the module docstring.

    The arguments are `JiraConnection`'s, minus `page_size`; they are checked here, in the order a
    caller reads them, and no request is sent until first use.
    """

    def __init__(self, url: str, deployment: str, email: str | None, token: str | None, timeout: float,
                 policy: RetryPolicy | None, session: requests.Session | None, *,
                 max_connections: int) -> None:
        """Check the configuration and build the transport."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the Jira URL must be an absolute http(s) URL")
        if parts.username or parts.password:
            # Refuse rather than echo: the URL shows up in messages, credentials must not.
            raise ValueError("put Jira credentials in email/token, not in the URL")
        if deployment not in ("auto", "cloud", "datacenter"):
            raise ValueError(f"deployment must be auto, cloud or datacenter, not {deployment!r}")
        if not token:
            raise ValueError("a Jira API token (Cloud) or personal access token (Data Center) is required")
        if not token.isprintable() or any(c.isspace() for c in token):
            # The token goes into a header; say what is wrong with it without ever showing it.
            raise ValueError("the Jira token contains whitespace or control characters "
                             "(its value is not shown)")
        if deployment == "cloud" and not email:
            raise ValueError("Jira Cloud needs the account's email with its API token")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.url = url.rstrip("/")
        self.requested = deployment
        self._email = email
        self._token = token
        self._timeout = timeout
        transport_timeout = (min(CONNECT_TIMEOUT, timeout), float(timeout))
        if session is None:
            session = ResilientSession(policy, timeout=transport_timeout, pool_maxsize=max_connections)
            self._transport = session.transport
        elif isinstance(session, ResilientSession):
            if policy is not None:
                raise ValueError("the session already has a retry policy; pass the policy to the session")
            self._transport = session.transport
        else:
            self._transport = RetryingAdapter(policy, timeout=transport_timeout, pool_maxsize=max_connections)
            session.mount(self.url + "/", self._transport)
        self._session = session
        self._lock = threading.Lock()
        self._fields_lock = threading.Lock()
        self._resolved: tuple[Deployment, Jira] | None = None
        self._fields: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        """Name the site and deployment only; credentials stay out of reprs (and so out of logs)."""
        return f"JiraSite({self.url!r}, deployment={self.requested!r})"

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    @property
    def stats(self) -> TransportStats:
        """The transport's counters."""
        return self._transport.stats

    def set_deadline(self, seconds: float | None) -> None:
        """Bound every request by a deadline `seconds` from now (None: no deadline)."""
        self._transport.set_deadline(seconds)

    @property
    def deployment(self) -> Deployment:
        """"cloud" or "datacenter": as configured, or as `serverInfo` said on first use."""
        return self.resolve()[0]

    def _make_client(self, cloud: bool) -> Jira:
        """An atlassian-python-api client on our session.

        `retry_with_header=False` and `backoff_and_retry=False` switch the library's own retries off:
        by default it sleeps through one 429 with Retry-After using the real `time.sleep`, which would
        double our retries and hide the wait from our counters. (Our transport never hands a 429 back
        anyway — it retries or raises — so this is belt and braces.) Cloud uses API v3 so that
        `approximate_issue_count` posts to /rest/api/3/search/approximate-count.
        """
        common: dict[str, Any] = {
            "session": self._session,
            "cloud": cloud,
            "api_version": "3" if cloud else "2",
            "timeout": max(1, math.ceil(self._timeout)),  # the library int()s it; never let it round to 0
            "backoff_and_retry": False,
            "retry_with_header": False,
        }
        if self._email:
            return Jira(self.url, username=self._email, password=self._token, **common)
        return Jira(self.url, token=self._token, **common)

    def resolve(self) -> tuple[Deployment, Jira]:
        """Settle the deployment once (probing serverInfo for "auto") and build the client for it."""
        resolved = self._resolved
        if resolved is not None:
            return resolved
        with self._lock:
            if self._resolved is None:
                kind = self._probe() if self.requested == "auto" else cast(Deployment, self.requested)
                if kind == "cloud" and not self._email:
                    hint = "this is Jira Cloud: give the account's email with its API token"
                    raise JiraAuthError(None, [hint], self.url, context="connecting")
                self._resolved = (kind, self._make_client(cloud=kind == "cloud"))
            return self._resolved

    def _probe(self) -> Deployment:
        """Ask GET /rest/api/2/serverInfo (served by both deployments) which deployment this is.

        The GET is retried like any idempotent read (a cut-off or malformed answer included). An
        answer that still cannot be read is an error, never a guess: guessing Data Center for a Cloud
        site would fail every KR with 410.
        """
        probe = self._make_client(cloud=False)
        what = "reading serverInfo to tell Jira Cloud from Data Center"
        hint = "set jira.deployment to cloud or datacenter to skip this question"
        try:
            info = self.call(lambda: probe.get(probe.resource_url("serverInfo")), what=what)
        except JiraAuthError:
            raise
        except JiraError as exc:
            raise JiraError(exc.status, [*exc.messages, hint], exc.url, context=what) from exc
        if not isinstance(info, dict):
            raise JiraError(None, [f"expected a JSON object, got {describe_json(info)}", hint],
                            self.url, context=what)
        kind_text = str(info.get("deploymentType", ""))
        if kind_text:
            kind: Deployment = "cloud" if kind_text.lower() == "cloud" else "datacenter"
        else:
            # Cloud always sends deploymentType; an old server may not.
            kind = "cloud" if (urlsplit(self.url).hostname or "").endswith(".atlassian.net") else "datacenter"
        log.info("Jira at %s is %s (deploymentType %r)", self.url, kind, kind_text or None)
        return kind

    def call(self, fn: Callable[[], T], *, what: str, jql: str | None = None) -> T:
        """Run one library call and turn every failure into a JiraError subclass that names the culprit."""
        try:
            return fn()
        except RetryExhausted as exc:
            raise JiraUnavailable(exc.status, [exc.reason], exc.url, context=what) from exc
        except MalformedAnswer as exc:
            sent = exc.request
            url = safe_url(str(sent.url)) if sent is not None and sent.url else self.url
            raise JiraError(exc.status, [str(exc)], url, context=what) from exc
        except requests.HTTPError as exc:
            raise self._http_error(exc, what=what, jql=jql) from exc
        except requests.RequestException as exc:
            request = getattr(exc, "request", None)
            url = safe_url(request.url) if request is not None and request.url else self.url
            raise JiraUnavailable(None, [f"could not reach Jira: {describe_error(exc)}"], url,
                                  context=what) from exc

    def _http_error(self, exc: requests.HTTPError, *, what: str, jql: str | None) -> JiraError:
        """Map an HTTP error answer to JiraAuthError, JqlError or JiraError with Jira's own messages."""
        response = exc.response
        if response is None:
            return JiraError(None, [str(exc)], self.url, context=what)
        status = response.status_code
        request_url = response.url or (response.request.url if response.request is not None else "")
        url = safe_url(request_url or self.url)
        messages = error_messages(response)
        if status in (401, 403):
            denied = response.headers.get("X-Authentication-Denied-Reason")
            if denied:
                messages.append(f"denied: {denied}")
            return JiraAuthError(status, messages, url, context=what)
        if status == 400 and jql is not None:
            return JqlError(status, messages, url, jql=jql)
        if status == 410:
            messages.append("this endpoint is gone from this Jira; for Jira Cloud, set deployment = cloud")
        return JiraError(status, messages, url, context=what)

    def path(self, resource: str) -> str:
        """A REST path under this deployment's API version (v3 on Cloud, v2 on Data Center)."""
        client = self.resolve()[1]
        return client.resource_url(resource)

    def resolve_field(self, field: str) -> str:
        """The field id for an id, a `cf[NNN]` reference or a (case-insensitive, unique) field name."""
        text = field.strip()
        if not text:
            raise ValueError("a field id or name is required")
        if CUSTOM_FIELD_ID.match(text):
            return text
        match = JQL_CF.match(text)
        if match:
            return f"customfield_{match.group(1)}"
        fields = self._all_fields()
        if any(f.get("id") == text for f in fields):
            return text
        wanted = text.casefold()
        ids = sorted({str(f.get("id")) for f in fields if str(f.get("name", "")).casefold() == wanted})
        if len(ids) == 1:
            return ids[0]
        url = f"{self.url}/{self.path('field')}"
        if not ids:
            raise JiraError(None, [f"no field is named {field!r}"], url, context="resolving a field")
        raise JiraError(None, [f"the field name {field!r} is ambiguous ({', '.join(ids)}); use the id"], url,
                        context="resolving a field")

    def _all_fields(self) -> list[dict[str, Any]]:
        """GET /field once per connection (names rarely change during a sync)."""
        client = self.resolve()[1]
        with self._fields_lock:
            if self._fields is None:
                data = self.call(client.get_all_fields, what="listing fields")
                items: list[Any] = data if isinstance(data, list) else []
                self._fields = [f for f in items if isinstance(f, dict)]
            return self._fields


def check_key(key: str) -> str:
    """An issue key (PROJ-12) or numeric id; anything else could inject JQL or path segments."""
    text = str(key).strip()
    if ISSUE_KEY.match(text) or text.isdigit():
        return text.upper() if not text.isdigit() else text
    raise ValueError(f"not an issue key: {key!r}")


def expect_key(data: Any, name: str, url: str, *, what: str) -> Any:
    """`data[name]`, or a JiraError saying what was expected and what came instead."""
    if isinstance(data, dict) and name in data:
        return data[name]
    raise JiraError(None, [f"expected a JSON object with {name!r}, got {describe_json(data)}"], url,
                    context=what)


def describe_json(data: Any) -> str:
    """A short description of a parsed answer for error messages (keys and sizes, a text's start)."""
    if data is None:
        return "an empty answer"
    if isinstance(data, dict):
        keys = ", ".join(repr(k) for k in list(data)[:8])
        return f"a JSON object with keys {keys}" if keys else "an empty JSON object"
    if isinstance(data, list):
        return f"a JSON list of {len(data)} item(s)"
    if isinstance(data, str | bytes):
        return f"text starting {data[:60]!r}"
    return f"a JSON {type(data).__name__} ({data!r:.60})"


def error_messages(response: requests.Response) -> list[str]:
    """Jira's `errorMessages`, `errors` and `warningMessages`; else the reason phrase (HTML is not shown).

    Each key may be missing: Jira sends `errors` only from some resources, and proxies send neither.
    """
    messages: list[str] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        found = body.get("errorMessages")
        if isinstance(found, str):
            messages.append(found)
        elif isinstance(found, list):
            messages.extend(str(m) for m in found if m)
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages.extend(f"{k}: {v}" for k, v in errors.items() if v)
        elif isinstance(errors, list):
            messages.extend(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
        # Jira may add warnings beside (or instead of) the errors, e.g. a value that matches no user.
        warnings = body.get("warningMessages")
        if isinstance(warnings, list):
            messages.extend(f"warning: {w}" for w in warnings if w)
        if not messages and body.get("message"):
            messages.append(str(body["message"]))
    elif (response.headers.get("Content-Type", "").startswith("text/plain") and response.text
          and len(response.text) <= 300):
        messages.append(response.text.strip())
    if not messages:
        messages.append(f"{response.status_code} {response.reason or ''}".strip())
    return messages
