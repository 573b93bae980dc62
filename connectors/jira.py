"""The Jira client the sync worker uses: counts, issues, sums, epics, groups and remote links.

`JiraConnection` speaks to Jira Cloud and Jira Data Center through atlassian-python-api, over a
`ResilientSession` (connectors.retry) that owns retries, timeouts and the connection pool. It takes
plain configuration and returns plain dataclasses (connectors.jira_models); it never imports okrbridge.

Where the two deployments differ:

| question      | Cloud                                     | Data Center                                  |
|---------------|-------------------------------------------|----------------------------------------------|
| count         | POST /rest/api/3/search/approximate-count | GET /rest/api/2/search?maxResults=0 → total  |
| issues        | GET /rest/api/3/search/jql, nextPageToken | GET /rest/api/2/search, startAt/total        |
| epic children | `parent = KEY`                            | `"Epic Link" = KEY`                          |
| user groups   | GET /rest/api/3/user/groups?accountId=    | GET /rest/api/2/user?username=&expand=groups |
| auth          | Basic email + API token                   | Bearer PAT (or Basic username + password)    |

Cloud's old /rest/api/{2,3}/search answers 410 Gone and is never called on Cloud.

Thread-safety: one JiraConnection may be shared by the sync's worker threads. It keeps no
per-request state; the deployment probe and the field list are resolved once under a lock; the
transport's counters are locked; and the urllib3 pool holds `max_connections` connections, so a pool
of up to that many threads never waits for (or throws away) a connection. Size `max_connections` to
at least the sync's `max_concurrency`.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

import requests
from atlassian import Jira

from connectors.jira_models import (
    DONE_CATEGORY,
    Aggregate,
    Deployment,
    Epic,
    IssueState,
    JiraAuthError,
    JiraError,
    JiraUnavailable,
    JqlError,
    Progress,
    RemoteLink,
)
from connectors.retry import (
    ResilientSession,
    RetryExhausted,
    RetryingAdapter,
    RetryPolicy,
    TransportStats,
    describe_error,
    safe_url,
)

__all__ = [
    "Aggregate",
    "Deployment",
    "Epic",
    "IssueState",
    "JiraAuthError",
    "JiraConnection",
    "JiraError",
    "JiraUnavailable",
    "JqlError",
    "Progress",
    "RemoteLink",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[0-9]+$")
CUSTOM_FIELD_ID = re.compile(r"^customfield_[0-9]+$")
JQL_CF = re.compile(r"^cf\[([0-9]+)\]$", re.IGNORECASE)
KEYS_PER_QUERY = 50
"""Epic keys per `key in (...)` query: keeps the GET URL well under proxies' 8 KB limits."""

CONNECT_TIMEOUT = 10.0


class JiraConnection:
    """A connection to one Jira site, Cloud or Data Center; see the module docstring.

    `deployment` is "cloud", "datacenter" or "auto" (ask `serverInfo` on first use). Credentials:
    Cloud takes `email` + `token` (an API token, sent as Basic); Data Center takes `token` alone (a
    personal access token, sent as Bearer) or `email` + `token` as a username and password (Basic).
    `timeout` is the read timeout in seconds. Pass `session` to reuse a `ResilientSession` (its policy
    wins, so `policy` must then be left out) or any `requests.Session` (a retrying adapter is mounted on
    it for this site's URL). atlassian-python-api puts the credentials on the session itself, so a
    session given here should not also be used for other hosts.
    """

    def __init__(self, url: str, deployment: str = "auto", email: str | None = None, token: str | None = None,
                 timeout: float = 30, policy: RetryPolicy | None = None,
                 session: requests.Session | None = None, *, max_connections: int = 16,
                 page_size: int = 100) -> None:
        """Check the configuration and build the transport; no request is sent until first use."""
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
        if deployment == "cloud" and not email:
            raise ValueError("Jira Cloud needs the account's email with its API token")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.url = url.rstrip("/")
        self.page_size = page_size
        self._requested = deployment
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
        return f"JiraConnection({self.url!r}, deployment={self._requested!r})"

    def __enter__(self) -> JiraConnection:
        """Use as a context manager to close the connection pool at the end."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the pool."""
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def stats(self) -> TransportStats:
        """Counters: `requests` sent (retries included), `retries`, `waited_seconds`, `throttled`."""
        return self._transport.stats

    @property
    def deployment(self) -> Deployment:
        """"cloud" or "datacenter": as configured, or as `serverInfo` said on first use."""
        return self._resolve()[0]

    def browse_url(self, key: str) -> str:
        """The issue's page for people."""
        return f"{self.url}/browse/{key}"

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

    def _resolve(self) -> tuple[Deployment, Jira]:
        """Settle the deployment once (probing serverInfo for "auto") and build the client for it."""
        resolved = self._resolved
        if resolved is not None:
            return resolved
        with self._lock:
            if self._resolved is None:
                kind = self._probe() if self._requested == "auto" else cast(Deployment, self._requested)
                if kind == "cloud" and not self._email:
                    hint = "this is Jira Cloud: give the account's email with its API token"
                    raise JiraAuthError(None, [hint], self.url, context="connecting")
                self._resolved = (kind, self._make_client(cloud=kind == "cloud"))
            return self._resolved

    def _probe(self) -> Deployment:
        """Ask GET /rest/api/2/serverInfo (served by both deployments) which deployment this is."""
        probe = self._make_client(cloud=False)
        info = self._call(lambda: probe.get(probe.resource_url("serverInfo")), what="reading serverInfo")
        kind_text = str(info.get("deploymentType", "")) if isinstance(info, dict) else ""
        if kind_text:
            kind: Deployment = "cloud" if kind_text.lower() == "cloud" else "datacenter"
        else:
            # Cloud always sends deploymentType; an old server may not.
            kind = "cloud" if (urlsplit(self.url).hostname or "").endswith(".atlassian.net") else "datacenter"
        log.info("Jira at %s is %s (deploymentType %r)", self.url, kind, kind_text or None)
        return kind

    def _call(self, fn: Callable[[], T], *, what: str, jql: str | None = None) -> T:
        """Run one library call and turn every failure into a JiraError subclass that names the culprit."""
        try:
            return fn()
        except RetryExhausted as exc:
            raise JiraUnavailable(exc.status, [exc.reason], exc.url, context=what) from exc
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
        messages = _error_messages(response)
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

    def _path(self, resource: str) -> str:
        """A REST path under this deployment's API version (v3 on Cloud, v2 on Data Center)."""
        client = self._resolve()[1]
        return client.resource_url(resource)

    # -- searching and counting -----------------------------------------------------------------

    def count(self, jql: str) -> int:
        """How many issues match `jql`. Cloud's count is approximate (eventually consistent)."""
        jql = _check_jql(jql)
        kind, client = self._resolve()
        if kind == "cloud":
            data = self._call(lambda: client.approximate_issue_count(jql), what="counting issues", jql=jql)
            number = _get(data, "count", self.url, what="counting issues")
        else:
            # maxResults=0 makes Data Center count without returning a single issue.
            data = self._call(lambda: client.jql(jql, fields="id", start=0, limit=0),
                              what="counting issues", jql=jql)
            number = _get(data, "total", self.url, what="counting issues")
        log.debug("count %r -> %s", jql, number)
        return int(number)

    def issues(self, jql: str, fields: Sequence[str] = ("summary", "status")) -> Iterator[dict[str, Any]]:
        """Every issue matching `jql`, page by page, as Jira's JSON (`id`, `key`, `fields`).

        Only `fields` are fetched. Errors surface while iterating, as JiraError subclasses.
        """
        jql = _check_jql(jql)
        field_list = [f for f in fields if f] or ["id"]
        kind, client = self._resolve()
        if kind == "cloud":
            yield from self._issues_cloud(client, jql, field_list)
        else:
            yield from self._issues_datacenter(client, jql, field_list)

    def _issues_cloud(self, client: Jira, jql: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        """Cloud search/jql: follow nextPageToken until isLast (the token is absent on the last page)."""
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            data = self._call(partial(client.enhanced_jql, jql, fields=fields, nextPageToken=token,
                                      limit=self.page_size),
                              what="searching issues", jql=jql)
            issues = _get(data, "issues", self.url, what="searching issues")
            yield from issues
            token = data.get("nextPageToken")
            if data.get("isLast", token is None) or not token:
                return
            if token in seen_tokens:
                # A server handing back a token it already gave would page forever.
                raise JiraError(None, ["Jira repeated a nextPageToken; stopping"], self.url,
                                context=f"searching issues for {jql!r}")
            seen_tokens.add(token)

    def _issues_datacenter(self, client: Jira, jql: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        """Data Center search: advance startAt by what came back until `total` is reached."""
        start = 0
        while True:
            data = self._call(partial(client.jql, jql, fields=fields, start=start, limit=self.page_size),
                              what="searching issues", jql=jql)
            issues = _get(data, "issues", self.url, what="searching issues")
            yield from issues
            start += len(issues)
            total = int(_get(data, "total", self.url, what="searching issues"))
            if not issues or start >= total:
                return

    def aggregate(self, jql: str, field: str, agg: Literal["sum", "avg"] | str = "sum") -> Aggregate:
        """Sum or mean of a numeric field over the issues matching `jql`, reading only that field.

        `field` is an id (`customfield_10016`, `timeoriginalestimate`), a JQL reference (`cf[10016]`) or
        a field name ("Story Points", matched case-insensitively through GET /field; an ambiguous name
        is an error that lists the candidate ids). Issues without a number in the field are counted in
        `count` but not in `with_value`; `value` is None when none has one.
        """
        if agg not in ("sum", "avg"):
            raise ValueError(f"agg must be 'sum' or 'avg', not {agg!r}")
        field_id = self.resolve_field(field)
        numbers: list[float] = []
        count = 0
        for issue in self.issues(jql, [field_id]):
            count += 1
            number = _number((issue.get("fields") or {}).get(field_id))
            if number is not None:
                numbers.append(number)
        value: float | None = None
        if numbers:
            total = math.fsum(numbers)
            value = total if agg == "sum" else total / len(numbers)
        return Aggregate(value=value, count=count, with_value=len(numbers))

    def resolve_field(self, field: str) -> str:
        """The field id for an id, a `cf[NNN]` reference or a field name; see `aggregate`."""
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
        url = f"{self.url}/{self._path('field')}"
        if not ids:
            raise JiraError(None, [f"no field is named {field!r}"], url, context="resolving a field")
        raise JiraError(None, [f"the field name {field!r} is ambiguous ({', '.join(ids)}); use the id"], url,
                        context="resolving a field")

    def _all_fields(self) -> list[dict[str, Any]]:
        """GET /field once per connection (names rarely change during a sync)."""
        client = self._resolve()[1]
        with self._fields_lock:
            if self._fields is None:
                data = self._call(client.get_all_fields, what="listing fields")
                items: list[Any] = data if isinstance(data, list) else []
                self._fields = [f for f in items if isinstance(f, dict)]
            return self._fields

    # -- issues and epics -----------------------------------------------------------------------

    def issue_state(self, key: str) -> IssueState:
        """An issue's summary, status and whether its status category is Done."""
        key = _check_key(key)
        client = self._resolve()[1]
        # update_history=False: the library otherwise adds every issue we read to the bot's history.
        data = self._call(lambda: client.get_issue(key, fields="summary,status", update_history=False),
                          what=f"reading issue {key}")
        if not isinstance(data, dict):
            raise JiraError(None, ["unexpected answer (not a JSON object)"], self.url,
                            context=f"reading issue {key}")
        summary, status, category = _status_fields(data)
        return IssueState(key=str(data.get("key") or key), summary=summary, status=status,
                          status_category=category, done=category == DONE_CATEGORY)

    def epics(self, jql: str | None = None, keys: Sequence[str] = ()) -> list[Epic]:
        """The epics matching `jql` plus the epics named in `keys` (each once, in the order found).

        Keys are asked in batches of `key in (...)`; Jira rejects the whole batch (JqlError) if one
        key does not exist.
        """
        queries: list[str] = []
        if jql and jql.strip():
            queries.append(jql.strip())
        checked = [_check_key(k) for k in keys]
        for start in range(0, len(checked), KEYS_PER_QUERY):
            queries.append(f"key in ({', '.join(checked[start:start + KEYS_PER_QUERY])})")
        found: dict[str, Epic] = {}
        for query in queries:
            for issue in self.issues(query, ["summary", "status"]):
                key = str(issue.get("key", ""))
                if not key or key in found:
                    continue
                summary, status, category = _status_fields(issue)
                found[key] = Epic(key=key, summary=summary, status=status, status_category=category,
                                  done=category == DONE_CATEGORY, url=self.browse_url(key))
        return list(found.values())

    def epic_progress(self, key: str) -> Progress:
        """How many of the epic's children are done, out of how many: two counts, no issue fetched."""
        key = _check_key(key)
        children = f"parent = {key}" if self.deployment == "cloud" else f'"Epic Link" = {key}'
        total = self.count(children)
        done = self.count(f"{children} AND statusCategory = Done")
        # Cloud counts are eventually consistent and taken at two moments; never report done > total.
        return Progress(done=min(done, total), total=total)

    # -- users ------------------------------------------------------------------------------------

    def user_groups(self, account_id: str) -> list[str]:
        """Names of the groups a user belongs to: Cloud takes an accountId, Data Center a username."""
        if not account_id:
            raise ValueError("an account id (Cloud) or username (Data Center) is required")
        kind, client = self._resolve()
        what = f"reading the groups of {account_id}"
        if kind == "cloud":
            data = self._call(lambda: client.get_user_groups(account_id), what=what)
            items = data if isinstance(data, list) else []
        else:
            # Data Center has no /user/groups; the user resource expands its groups instead.
            data = self._call(lambda: client.get(client.resource_url("user"),
                                                 params={"username": account_id, "expand": "groups"}),
                              what=what)
            groups = data.get("groups") if isinstance(data, dict) else None
            items = groups.get("items", []) if isinstance(groups, dict) else []
        return [str(g["name"]) for g in items if isinstance(g, dict) and g.get("name")]

    # -- remote links -----------------------------------------------------------------------------

    def remote_links(self, key: str, global_id_prefix: str | None = None) -> list[RemoteLink]:
        """The issue's remote links, optionally only those whose globalId starts with the prefix."""
        key = _check_key(key)
        client = self._resolve()[1]
        data = self._call(lambda: client.get_issue_remote_links(key), what=f"reading remote links of {key}")
        items = data if isinstance(data, list) else []
        links = [_remote_link(item) for item in items if isinstance(item, dict)]
        if global_id_prefix is not None:
            links = [link for link in links if (link.global_id or "").startswith(global_id_prefix)]
        return links

    def upsert_remote_link(self, key: str, global_id: str, url: str, title: str, summary: str | None = None,
                           icon_url: str | None = None, status_resolved: bool | None = None,
                           relationship: str | None = None) -> str:
        """Create or update (by `global_id`) a remote link on the issue; return the link's id.

        Jira's POST with a globalId is itself the upsert, so one request does it, and a re-sync
        updates the link in place. Not retried on 5xx: a POST that may have taken effect is not repeated.
        """
        key = _check_key(key)
        if not global_id or len(global_id) > 255:
            raise ValueError("global_id must be 1 to 255 characters (Jira's limit)")
        obj: dict[str, Any] = {"url": url, "title": title}
        if summary is not None:
            obj["summary"] = summary
        if icon_url is not None:
            obj["icon"] = {"url16x16": icon_url}
        if status_resolved is not None:
            obj["status"] = {"resolved": bool(status_resolved)}
        payload: dict[str, Any] = {"globalId": global_id, "object": obj}
        if relationship:
            payload["relationship"] = relationship
        client = self._resolve()[1]
        path = client.resource_url(f"issue/{key}/remotelink")
        data = self._call(lambda: client.post(path, data=payload), what=f"writing a remote link on {key}")
        link_id = _get(data, "id", self.url, what=f"writing a remote link on {key}")
        return str(link_id)

    def delete_remote_link(self, key: str, global_id: str) -> None:
        """Delete the issue's remote link with this globalId; a link (or issue) already gone is fine."""
        key = _check_key(key)
        if not global_id:
            raise ValueError("global_id is required")
        client = self._resolve()[1]
        path = client.resource_url(f"issue/{key}/remotelink")
        try:
            self._call(lambda: client.delete(path, params={"globalId": global_id}),
                       what=f"deleting a remote link on {key}")
        except JiraError as exc:
            if exc.status != 404 or isinstance(exc, JiraAuthError):
                raise
            log.debug("remote link %s on %s was already gone", global_id, key)


# -- helpers ------------------------------------------------------------------------------------------


def _check_jql(jql: str) -> str:
    """A JQL must be a non-empty string (Cloud also refuses unbounded ones, and says so)."""
    if not isinstance(jql, str) or not jql.strip():
        raise ValueError("a non-empty JQL is required")
    return jql.strip()


def _check_key(key: str) -> str:
    """An issue key (PROJ-12) or numeric id; anything else could inject JQL or path segments."""
    text = str(key).strip()
    if ISSUE_KEY.match(text) or text.isdigit():
        return text.upper() if not text.isdigit() else text
    raise ValueError(f"not an issue key: {key!r}")


def _get(data: Any, name: str, url: str, *, what: str) -> Any:
    """`data[name]`, or a JiraError if Jira (or a proxy in front of it) answered something else."""
    if isinstance(data, dict) and name in data:
        return data[name]
    shape = type(data).__name__
    raise JiraError(None, [f"unexpected answer: no {name!r} in a {shape}"], url, context=what)


def _number(value: Any) -> float | None:
    """A finite number from a field value; booleans, strings, objects and NaN are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _status_fields(issue: dict[str, Any]) -> tuple[str, str, str]:
    """(summary, status name, status category key) from an issue's `fields`."""
    fields = issue.get("fields") or {}
    status = fields.get("status") or {}
    category = status.get("statusCategory") or {}
    return (str(fields.get("summary") or ""), str(status.get("name") or ""),
            str(category.get("key") or "").lower())


def _remote_link(item: dict[str, Any]) -> RemoteLink:
    """A RemoteLink from Jira's RemoteIssueLink JSON."""
    obj = item.get("object") or {}
    icon = obj.get("icon") or {}
    status = obj.get("status") or {}
    resolved = status.get("resolved")
    return RemoteLink(id=str(item.get("id", "")), global_id=item.get("globalId"),
                      url=str(obj.get("url", "")), title=str(obj.get("title", "")),
                      summary=obj.get("summary"), icon_url=icon.get("url16x16"),
                      status_resolved=resolved if isinstance(resolved, bool) else None,
                      relationship=item.get("relationship"))


def _error_messages(response: requests.Response) -> list[str]:
    """Jira's `errorMessages` and `errors` values; else the reason phrase (HTML bodies are not shown)."""
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
        if not messages and body.get("message"):
            messages.append(str(body["message"]))
    elif (response.headers.get("Content-Type", "").startswith("text/plain") and response.text
          and len(response.text) <= 300):
        messages.append(response.text.strip())
    if not messages:
        messages.append(f"{response.status_code} {response.reason or ''}".strip())
    return messages
