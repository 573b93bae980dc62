"""The Jira client the sync worker uses: counts, issues, sums, epics, groups and remote links.

`JiraConnection` speaks to Jira Cloud and Jira Data Center through atlassian-python-api, over a
`ResilientSession` (connectors.retry) that owns retries, timeouts and the connection pool. It takes
plain configuration and returns plain dataclasses (connectors.jira_models); it never imports okrbridge.
This module holds the operations; the plumbing under them — transport, client construction, the
deployment probe, error translation and field resolution — is `JiraSite` (connectors.jira_site).

Where the two deployments differ:

| question      | Cloud                                     | Data Center                                  |
|---------------|-------------------------------------------|----------------------------------------------|
| count         | POST /rest/api/3/search/approximate-count | GET /rest/api/2/search?maxResults=0 → total  |
| issues        | GET /rest/api/3/search/jql, nextPageToken | GET /rest/api/2/search, startAt/total        |
| epic children | `parent = KEY`                            | `"Epic Link" = KEY`                          |
| user groups   | GET /rest/api/3/user/groups?accountId=    | GET /rest/api/2/user?username=&expand=groups |
| add a comment | POST /rest/api/3/issue/KEY/comment, ADF   | POST /rest/api/2/issue/KEY/comment, wiki text |
| a user        | GET /rest/api/3/user?accountId=&expand=…  | GET /rest/api/2/user?username=&expand=groups |
| issue's epic  | `parent` (and the parent's parent)        | the "Epic Link" field                         |
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
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Literal

import requests
from atlassian import Jira

from connectors import jira_changes, jira_comments, jira_remote_links
from connectors.jira_changes import UpdatedProjects
from connectors.jira_models import (
    DONE_CATEGORY,
    Aggregate,
    Deployment,
    Epic,
    EpicsFound,
    IssueState,
    JiraAuthError,
    JiraError,
    JiraUnavailable,
    JiraUser,
    JqlError,
    Progress,
    RemoteLink,
)
from connectors.jira_site import CONNECT_TIMEOUT as CONNECT_TIMEOUT
from connectors.jira_site import CUSTOM_FIELD_ID as CUSTOM_FIELD_ID
from connectors.jira_site import ISSUE_KEY as ISSUE_KEY
from connectors.jira_site import JQL_CF as JQL_CF
from connectors.jira_site import JiraSite, check_key, expect_key
from connectors.retry import RetryPolicy, TransportStats

__all__ = [
    "Aggregate",
    "Deployment",
    "Epic",
    "EpicsFound",
    "IssueState",
    "JiraAuthError",
    "JiraConnection",
    "JiraError",
    "JiraUnavailable",
    "JiraUser",
    "JqlError",
    "Progress",
    "RemoteLink",
    "UpdatedProjects",
]

log = logging.getLogger(__name__)

KEYS_PER_QUERY = 50
"""Epic keys per `key in (...)` query: keeps the GET URL well under proxies' 8 KB limits."""


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
        # The site checks its arguments first, so a bad URL or token is reported before a bad page size.
        self._site = JiraSite(url, deployment, email, token, timeout, policy, session,
                              max_connections=max_connections)
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.url = self._site.url
        self.page_size = page_size

    def __repr__(self) -> str:
        """Name the site and deployment only; credentials stay out of reprs (and so out of logs)."""
        return f"JiraConnection({self.url!r}, deployment={self._site.requested!r})"

    def __enter__(self) -> JiraConnection:
        """Use as a context manager to close the connection pool at the end."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the pool."""
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._site.close()

    @property
    def stats(self) -> TransportStats:
        """Counters: `requests` sent (retries included), `retries`, `waited_seconds`, `throttled`."""
        return self._site.stats

    def set_deadline(self, seconds: float | None) -> None:
        """Give up every request `seconds` from now: none is sent, and no timeout or retry wait reaches
        past that instant (the failure names the deadline). None lifts it."""
        self._site.set_deadline(seconds)

    @property
    def deployment(self) -> Deployment:
        """"cloud" or "datacenter": as configured, or as `serverInfo` said on first use."""
        return self._site.deployment

    def browse_url(self, key: str) -> str:
        """The issue's page for people."""
        return f"{self.url}/browse/{key}"

    # -- searching and counting -----------------------------------------------------------------

    def count(self, jql: str) -> int:
        """How many issues match `jql`. Cloud's count is approximate (eventually consistent)."""
        jql = _check_jql(jql)
        kind, client = self._site.resolve()
        if kind == "cloud":
            data = self._site.call(lambda: client.approximate_issue_count(jql), what="counting issues",
                                   jql=jql)
            number = expect_key(data, "count", self.url, what="counting issues")
        else:
            # maxResults=0 makes Data Center count without returning a single issue.
            data = self._site.call(lambda: client.jql(jql, fields="id", start=0, limit=0),
                                   what="counting issues", jql=jql)
            number = expect_key(data, "total", self.url, what="counting issues")
        log.debug("count %r -> %s", jql, number)
        return int(number)

    def issues(self, jql: str, fields: Sequence[str] = ("summary", "status")) -> Iterator[dict[str, Any]]:
        """Every issue matching `jql`, page by page, as Jira's JSON (`id`, `key`, `fields`).

        Only `fields` are fetched. Errors surface while iterating, as JiraError subclasses.
        """
        jql = _check_jql(jql)
        field_list = [f for f in fields if f] or ["id"]
        kind, client = self._site.resolve()
        if kind == "cloud":
            yield from self._issues_cloud(client, jql, field_list)
        else:
            yield from self._issues_datacenter(client, jql, field_list)

    def _issues_cloud(self, client: Jira, jql: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        """Cloud search/jql: follow nextPageToken until isLast (the token is absent on the last page)."""
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            data = self._site.call(partial(client.enhanced_jql, jql, fields=fields, nextPageToken=token,
                                           limit=self.page_size),
                                   what="searching issues", jql=jql)
            issues = expect_key(data, "issues", self.url, what="searching issues")
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
            data = self._site.call(partial(client.jql, jql, fields=fields, start=start, limit=self.page_size),
                                   what="searching issues", jql=jql)
            issues = expect_key(data, "issues", self.url, what="searching issues")
            yield from issues
            start += len(issues)
            total = int(expect_key(data, "total", self.url, what="searching issues"))
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
        return self._site.resolve_field(field)

    # -- issues and epics -----------------------------------------------------------------------

    def issue_state(self, key: str) -> IssueState:
        """An issue's summary, status and whether its status category is Done."""
        key = check_key(key)
        client = self._site.resolve()[1]
        # update_history=False: the library otherwise adds every issue we read to the bot's history.
        data = self._site.call(lambda: client.get_issue(key, fields="summary,status", update_history=False),
                               what=f"reading issue {key}")
        if not isinstance(data, dict):
            raise JiraError(None, ["unexpected answer (not a JSON object)"], self.url,
                            context=f"reading issue {key}")
        summary, status, category = _status_fields(data)
        return IssueState(key=str(data.get("key") or key), summary=summary, status=status,
                          status_category=category, done=category == DONE_CATEGORY)

    def epics(self, jql: str | None = None, keys: Sequence[str] = ()) -> EpicsFound:
        """The epics matching `jql` plus the epics named in `keys` (each once, in the order found).

        Keys are asked in batches of `key in (...)`. Jira refuses a whole batch when one key does not
        exist; the keys its messages name are then left out and the rest asked again, so one deleted
        epic neither hides the others nor fails the KR: it comes back in `missing`.
        """
        found: dict[str, Epic] = {}
        if jql and jql.strip():
            self._collect_epics(jql.strip(), found)
        checked = list(dict.fromkeys(check_key(k) for k in keys))
        missing: list[str] = []
        for start in range(0, len(checked), KEYS_PER_QUERY):
            batch = checked[start:start + KEYS_PER_QUERY]
            while batch:
                try:
                    self._collect_epics(f"key in ({', '.join(batch)})", found)
                    break
                except JqlError as exc:
                    unknown = _keys_refused(exc, batch)
                    if not unknown:
                        raise
                    missing += unknown
                    batch = [k for k in batch if k not in unknown]
        return EpicsFound(epics=tuple(found.values()), missing=tuple(missing))

    def _collect_epics(self, query: str, found: dict[str, Epic]) -> None:
        """Add the issues matching `query` to `found` (first one found per key wins)."""
        for issue in self.issues(query, ["summary", "status"]):
            key = str(issue.get("key", ""))
            if not key or key in found:
                continue
            summary, status, category = _status_fields(issue)
            found[key] = Epic(key=key, summary=summary, status=status, status_category=category,
                              done=category == DONE_CATEGORY, url=self.browse_url(key))

    def epic_progress(self, key: str) -> Progress:
        """How many of the epic's children are done, out of how many: two counts, no issue fetched."""
        key = check_key(key)
        children = f"parent = {key}" if self.deployment == "cloud" else f'"Epic Link" = {key}'
        total = self.count(children)
        done = self.count(f"{children} AND statusCategory = Done")
        # Cloud counts are eventually consistent and taken at two moments; never report done > total.
        return Progress(done=min(done, total), total=total)

    def epic_key(self, key: str) -> str | None:
        """The epic an issue is or belongs to: the key itself for an epic; else its parent epic (Cloud:
        `parent`, looking one level further up for a sub-task; Data Center: the "Epic Link" field, or a
        sub-task's parent's); None when it belongs to no epic."""
        current = check_key(key)
        for _ in range(3):  # the issue, its parent, the parent's parent: epics sit at most two levels up
            fields = self._hierarchy_fields(current)
            if str((fields.get("issuetype") or {}).get("name") or "").lower() == "epic":
                return current
            if isinstance(fields.get("Epic Link"), str) and fields["Epic Link"]:
                return str(fields["Epic Link"])
            parent = fields.get("parent") or {}
            if not isinstance(parent, dict) or not parent.get("key"):
                return None
            current = str(parent["key"])
        return None

    def _hierarchy_fields(self, key: str) -> dict[str, Any]:
        """An issue's `issuetype` and `parent`, and on Data Center its "Epic Link" (found by name through
        `expand=names`, since its custom field id differs per site), as Jira's JSON."""
        client = self._site.resolve()[1]
        cloud = self.deployment == "cloud"
        what = f"reading issue {key}"
        fields_wanted = "issuetype,parent" if cloud else "*navigable"
        data = self._site.call(lambda: client.get_issue(key, fields=fields_wanted, update_history=False,
                                                        expand=None if cloud else "names"), what=what)
        fields = data.get("fields") if isinstance(data, dict) else None
        if not isinstance(fields, dict):
            raise JiraError(None, ["unexpected answer (no fields)"], self.url, context=what)
        names = data.get("names") if isinstance(data.get("names"), dict) else {}
        link_id = next((fid for fid, name in names.items() if str(name).casefold() == "epic link"), None)
        found = {"issuetype": fields.get("issuetype"), "parent": fields.get("parent")}
        if link_id is not None:
            found["Epic Link"] = fields.get(link_id)
        return found

    # -- users ------------------------------------------------------------------------------------

    def user(self, account_id: str) -> JiraUser:
        """A user and their groups, in one request: Cloud takes an accountId, Data Center a username."""
        if not account_id:
            raise ValueError("an account id (Cloud) or username (Data Center) is required")
        kind, client = self._site.resolve()
        params = {"accountId" if kind == "cloud" else "username": account_id, "expand": "groups"}
        data = self._site.call(lambda: client.get(client.resource_url("user"), params=params),
                               what=f"reading the user {account_id}")
        if not isinstance(data, dict):
            raise JiraError(None, ["unexpected answer (not a JSON object)"], self.url,
                            context=f"reading the user {account_id}")
        groups = data.get("groups") if isinstance(data.get("groups"), dict) else {}
        items = groups.get("items", []) if isinstance(groups, dict) else []
        return JiraUser(account_id=account_id, name=str(data.get("name") or ""),
                        email=str(data.get("emailAddress") or ""),
                        display_name=str(data.get("displayName") or ""),
                        active=bool(data.get("active", True)),
                        groups=tuple(str(g["name"]) for g in items if isinstance(g, dict) and g.get("name")))

    def user_groups(self, account_id: str) -> list[str]:
        """Names of the groups a user belongs to: Cloud takes an accountId, Data Center a username."""
        if not account_id:
            raise ValueError("an account id (Cloud) or username (Data Center) is required")
        kind, client = self._site.resolve()
        what = f"reading the groups of {account_id}"
        if kind == "cloud":
            data = self._site.call(lambda: client.get_user_groups(account_id), what=what)
            items = data if isinstance(data, list) else []
        else:
            # Data Center has no /user/groups; the user resource expands its groups instead.
            data = self._site.call(lambda: client.get(client.resource_url("user"),
                                                      params={"username": account_id, "expand": "groups"}),
                                   what=what)
            groups = data.get("groups") if isinstance(data, dict) else None
            items = groups.get("items", []) if isinstance(groups, dict) else []
        return [str(g["name"]) for g in items if isinstance(g, dict) and g.get("name")]

    # -- change probes (connectors.jira_changes) ---------------------------------------------------

    def server_time(self) -> datetime:
        """Jira's current time, from serverInfo."""
        return jira_changes.server_time(self._site)

    def time_zone(self) -> str:
        """The signed-in account's time zone, in which calendar JQL functions are evaluated."""
        return jira_changes.time_zone(self._site)

    def updated_projects(self, minutes: int, limit: int = 1000) -> UpdatedProjects:
        """The projects of the issues updated in the last `minutes` by Jira's clock (at most `limit`
        issues read; `complete` says whether that was all of them)."""
        return jira_changes.updated_projects(lambda jql, fields: self.issues(jql, tuple(fields)),
                                             minutes, limit)

    # -- remote links -----------------------------------------------------------------------------

    def remote_links(self, key: str, global_id_prefix: str | None = None) -> list[RemoteLink]:
        """The issue's remote links, optionally only those whose globalId starts with the prefix."""
        return jira_remote_links.remote_links(self._site, key, global_id_prefix)

    def upsert_remote_link(self, key: str, global_id: str, url: str, title: str, summary: str | None = None,
                           icon_url: str | None = None, status_resolved: bool | None = None,
                           relationship: str | None = None) -> str:
        """Create or update (by `global_id`) a remote link on the issue; return the link's id.

        Jira's POST with a globalId is itself the upsert, so one request does it, and a re-sync
        updates the link in place. Being an upsert, it is retried like an idempotent write.
        """
        return jira_remote_links.upsert_remote_link(self._site, key, global_id, url, title, summary=summary,
                                                    icon_url=icon_url, status_resolved=status_resolved,
                                                    relationship=relationship)

    def delete_remote_link(self, key: str, global_id: str) -> None:
        """Delete the issue's remote link with this globalId; a link (or issue) already gone is fine."""
        jira_remote_links.delete_remote_link(self._site, key, global_id)

    # -- comments ---------------------------------------------------------------------------------

    def add_comment(self, key: str, paragraphs: Sequence[str]) -> str:
        """Add a comment of plain-text paragraphs to the issue (ADF on Cloud, wiki text on Data
        Center); the new comment's id. Never repeated after a 5xx or timeout: it could post twice."""
        return jira_comments.add_comment(self._site, key, paragraphs)


# -- helpers ------------------------------------------------------------------------------------------


def _check_jql(jql: str) -> str:
    """A JQL must be a non-empty string (Cloud also refuses unbounded ones, and says so)."""
    if not isinstance(jql, str) or not jql.strip():
        raise ValueError("a non-empty JQL is required")
    return jql.strip()


_REFUSED_KEY = re.compile(r"key '([^']+)'", re.IGNORECASE)


def _keys_refused(error: JqlError, batch: Sequence[str]) -> list[str]:
    """The keys of `batch` that Jira's messages name as unknown ("An issue with key 'X' does not exist")."""
    named = {m.upper() for message in error.messages for m in _REFUSED_KEY.findall(message)}
    return [key for key in batch if key.upper() in named]


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

