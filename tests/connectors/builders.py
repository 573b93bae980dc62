"""Request and response builders for Jira tests, shaped like Atlassian's documented payloads.

Response bodies start from the JSON fixtures in `fixtures/` (cut from the examples in
jira-cloud-platform-v3.subset.json) and are varied through small builder functions. `JiraApi`
registers the endpoints a `JiraConnection` calls on a `responses.RequestsMock`, with matchers on the
query string or JSON body, so a test states exactly which request it expects.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import responses
from responses import matchers

from connectors.jira import JiraConnection
from connectors.retry import ResilientSession, RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures"

CLOUD_URL = "https://your-domain.atlassian.net"
DC_URL = "https://jira.example.com"
EMAIL = "bot@example.com"
API_TOKEN = "ATATT3xFfGF0-cloud-token-s3cr3t-9f8e7d"
PAT = "NjQ4OTk1ODk3NDYxOpat-s3cr3t-a1b2c3d4e5"
NOW = 1_775_000_000.0
"""A fixed epoch instant (2026-03-31T23:33:20Z) for the fake clock."""

CATEGORIES = {
    "new": (2, "blue-gray", "To Do"),
    "indeterminate": (4, "yellow", "In Progress"),
    "done": (3, "green", "Done"),
}


def fixture(name: str) -> Any:
    """A fresh copy of `fixtures/<name>.json`."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def basic_auth(user: str, secret: str) -> str:
    """The Authorization header value requests sends for Basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


# -- response bodies ---------------------------------------------------------------------------------


def status_json(name: str, category: str, base: str = CLOUD_URL) -> dict[str, Any]:
    """A StatusDetails object with its statusCategory, as an issue's `fields.status` carries it."""
    cat_id, colour, cat_name = CATEGORIES[category]
    return {
        "self": f"{base}/rest/api/3/status/{cat_id}",
        "description": "",
        "iconUrl": f"{base}/images/icons/statuses/generic.png",
        "name": name,
        "id": str(cat_id),
        "statusCategory": {"self": f"{base}/rest/api/3/statuscategory/{cat_id}", "id": cat_id,
                           "key": category, "colorName": colour, "name": cat_name},
    }


def issue_json(key: str, summary: str = "An issue", status: str = "In Progress",
               category: str = "indeterminate", *, issue_id: str | None = None, base: str = CLOUD_URL,
               **fields: Any) -> dict[str, Any]:
    """An IssueBean like search results carry: id, key, self and the requested `fields`."""
    body = fixture("issue")
    number = issue_id or str(10000 + int(key.rsplit("-", 1)[1]))
    body.update(id=number, key=key, self=f"{base}/rest/api/3/issue/{number}")
    body["fields"] = {"summary": summary, "status": status_json(status, category, base), **fields}
    return body


def numeric_issue(key: str, field_id: str, value: Any) -> dict[str, Any]:
    """An issue as search returns it when only one field was asked for (a missing value is null)."""
    return {"expand": "", "id": str(20000 + int(key.rsplit("-", 1)[1])), "key": key,
            "self": f"{CLOUD_URL}/rest/api/3/issue/{key}", "fields": {field_id: value}}


def search_jql_page(issues: Sequence[Mapping[str, Any]],
                    next_page_token: str | None = None) -> dict[str, Any]:
    """A Cloud search/jql page: `isLast` and, except on the last page, `nextPageToken`; no total."""
    body: dict[str, Any] = {"issues": list(issues), "isLast": next_page_token is None}
    if next_page_token is not None:
        body["nextPageToken"] = next_page_token
    return body


def dc_search_page(issues: Sequence[Mapping[str, Any]], *, start_at: int, total: int,
                   max_results: int = 50) -> dict[str, Any]:
    """A Data Center /rest/api/2/search page with startAt, maxResults and total."""
    body = fixture("search_datacenter")
    body.update(startAt=start_at, maxResults=max_results, total=total, issues=list(issues))
    return body


def server_info(deployment: str) -> dict[str, Any]:
    """serverInfo as Cloud ("Cloud") or Data Center ("Server") answers it."""
    return fixture("server_info_cloud" if deployment == "cloud" else "server_info_datacenter")


def jira_errors(*messages: str, **field_errors: str) -> dict[str, Any]:
    """Jira's ErrorCollection body."""
    return {"errorMessages": list(messages), "errors": dict(field_errors)}


def remote_link_json(link_id: int, global_id: str, url: str, title: str, *, summary: str | None = None,
                     resolved: bool | None = None, key: str = "MKY-1") -> dict[str, Any]:
    """A RemoteIssueLink as GET /issue/{key}/remotelink lists it."""
    obj: dict[str, Any] = {"url": url, "title": title}
    if summary is not None:
        obj["summary"] = summary
    if resolved is not None:
        obj["status"] = {"resolved": resolved}
    return {"id": link_id, "globalId": global_id, "object": obj, "application": {},
            "self": f"{CLOUD_URL}/rest/api/issue/{key}/remotelink/{link_id}"}


def throttle_headers(retry_after: str | None = "5", reset: str | None = None,
                     reason: str = "jira-burst-based") -> dict[str, str]:
    """Headers of a Jira Cloud 429: Retry-After and the X-RateLimit family."""
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-NearLimit": "true",
               "RateLimit-Reason": reason}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if reset is not None:
        headers["X-RateLimit-Reset"] = reset
    return headers


def http_date(epoch: float) -> str:
    """An RFC 9110 HTTP-date for an epoch instant."""
    return formatdate(epoch, usegmt=True)


# -- the fake clock and sleep ------------------------------------------------------------------------


@dataclass
class FakeTime:
    """A clock that only moves when slept on, recording every sleep: no test really waits."""

    now: float = NOW
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        """The current fake instant."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance the clock by it."""
        self.sleeps.append(seconds)
        self.now += seconds


def exact_policy(**overrides: Any) -> RetryPolicy:
    """A policy whose jitter draws 0, so waits are exact."""
    settings: dict[str, Any] = {"random": lambda: 0.0}
    settings.update(overrides)
    return RetryPolicy(**settings)


def connection(deployment: str = "cloud", *, fake: FakeTime | None = None, policy: RetryPolicy | None = None,
               requested: str | None = None, **kwargs: Any) -> JiraConnection:
    """A JiraConnection to the test site of `deployment`, on a session with fake time.

    `requested` overrides what the connection is told (e.g. "auto"); credentials follow the deployment:
    email + API token for Cloud, a PAT for Data Center.
    """
    fake = fake or FakeTime()
    session = ResilientSession(policy or exact_policy(), sleep=fake.sleep, clock=fake.clock)
    url = CLOUD_URL if deployment == "cloud" else DC_URL
    creds: dict[str, Any] = {"email": EMAIL, "token": API_TOKEN} if deployment == "cloud" else {"token": PAT}
    creds.update(kwargs)
    return JiraConnection(url, deployment=requested or deployment, session=session, **creds)


# -- request side: endpoint registration -------------------------------------------------------------


class JiraApi:
    """Registers Jira endpoints on a RequestsMock for one deployment; each method returns the mock response.

    The returned object's `call_count` tells how often it was hit; `mock.calls` has the requests.
    """

    def __init__(self, mock: responses.RequestsMock, deployment: str = "cloud") -> None:
        """Bind to a mock and a deployment (which fixes base URL and API version)."""
        self.mock = mock
        self.deployment = deployment
        self.base = CLOUD_URL if deployment == "cloud" else DC_URL
        self.api = f"{self.base}/rest/api/{'3' if deployment == 'cloud' else '2'}"

    def _add(self, method: str, url: str, *, status: int = 200, body: Any = None,
             headers: Mapping[str, str] | None = None,
             match: Iterable[Callable[..., Any]] = ()) -> responses.BaseResponse:
        """Register one response (JSON body unless `body` is an exception to raise)."""
        if isinstance(body, BaseException):
            return self.mock.add(method, url, body=body, match=list(match))
        return self.mock.add(method, url, status=status, json=body, headers=dict(headers or {}),
                             match=list(match))

    def server_info(self, kind: str | None = None, **kw: Any) -> responses.BaseResponse:
        """GET /rest/api/2/serverInfo (the probe always asks v2: both deployments serve it)."""
        kw.setdefault("body", server_info(kind or self.deployment))
        return self._add("GET", f"{self.base}/rest/api/2/serverInfo", **kw)

    def count(self, jql: str, number: int | None = None, **kw: Any) -> responses.BaseResponse:
        """Cloud: POST search/approximate-count {"jql"}; Data Center: GET search?maxResults=0 → total."""
        if self.deployment == "cloud":
            kw.setdefault("body", {"count": number})
            return self._add("POST", f"{self.api}/search/approximate-count",
                             match=[matchers.json_params_matcher({"jql": jql})], **kw)
        kw.setdefault("body", dc_search_page([], start_at=0, total=number or 0, max_results=0))
        return self._add("GET", f"{self.api}/search",
                         match=[matchers.query_param_matcher({"jql": jql, "maxResults": "0", "startAt": "0",
                                                              "fields": "id"})], **kw)

    def search_jql(self, jql: str, body: Any, *, fields: str = "summary,status", token: str | None = None,
                   max_results: int = 100, **kw: Any) -> responses.BaseResponse:
        """Cloud GET search/jql for one page (the first when `token` is None)."""
        params = {"jql": jql, "fields": fields, "maxResults": str(max_results)}
        if token is not None:
            params["nextPageToken"] = token
        return self._add("GET", f"{self.base}/rest/api/3/search/jql", body=body,
                         match=[matchers.query_param_matcher(params)], **kw)

    def dc_search(self, jql: str, body: Any, *, start_at: int = 0, fields: str = "summary,status",
                  max_results: int = 100, **kw: Any) -> responses.BaseResponse:
        """Data Center GET /rest/api/2/search for one page."""
        params = {"jql": jql, "fields": fields, "maxResults": str(max_results), "startAt": str(start_at)}
        return self._add("GET", f"{self.base}/rest/api/2/search", body=body,
                         match=[matchers.query_param_matcher(params)], **kw)

    def search(self, jql: str, body: Any, **kw: Any) -> responses.BaseResponse:
        """One page of issues on this deployment's search endpoint."""
        if self.deployment == "cloud":
            return self.search_jql(jql, body, **kw)
        return self.dc_search(jql, body, **kw)

    def gone_search(self) -> list[responses.BaseResponse]:
        """Cloud's removed GET/POST /rest/api/{2,3}/search answering 410, to prove nobody calls them."""
        body = fixture("error_search_gone")
        return [self._add(method, f"{self.base}/rest/api/{v}/search", status=410, body=body)
                for v in ("2", "3") for method in ("GET", "POST")]

    def issue(self, key: str, body: Any, **kw: Any) -> responses.BaseResponse:
        """GET /issue/{key} asking only summary and status, without touching the user's history."""
        return self._add("GET", f"{self.api}/issue/{key}", body=body,
                         match=[matchers.query_param_matcher({"fields": "summary,status",
                                                              "updateHistory": "false"})], **kw)

    def fields(self, body: Any = None, **kw: Any) -> responses.BaseResponse:
        """GET /field."""
        return self._add("GET", f"{self.api}/field", body=fixture("fields") if body is None else body, **kw)

    def remote_links(self, key: str, body: Any, **kw: Any) -> responses.BaseResponse:
        """GET /issue/{key}/remotelink."""
        return self._add("GET", f"{self.api}/issue/{key}/remotelink", body=body, **kw)

    def upsert_remote_link(self, key: str, payload: Mapping[str, Any] | None = None, *, link_id: int = 10000,
                           **kw: Any) -> responses.BaseResponse:
        """POST /issue/{key}/remotelink, matching the exact JSON payload when given."""
        created = {"id": link_id, "self": f"{CLOUD_URL}/rest/api/issue/{key}/remotelink/{link_id}"}
        kw.setdefault("body", created)
        match = [matchers.json_params_matcher(dict(payload))] if payload is not None else []
        return self._add("POST", f"{self.api}/issue/{key}/remotelink", match=match, **kw)

    def delete_remote_link(self, key: str, global_id: str, *, status: int = 204,
                           **kw: Any) -> responses.BaseResponse:
        """DELETE /issue/{key}/remotelink?globalId=…"""
        return self._add("DELETE", f"{self.api}/issue/{key}/remotelink", status=status,
                         match=[matchers.query_param_matcher({"globalId": global_id})], **kw)

    def user_groups(self, who: str, body: Any = None, **kw: Any) -> responses.BaseResponse:
        """Cloud GET /user/groups?accountId=; Data Center GET /user?username=&expand=groups."""
        if self.deployment == "cloud":
            return self._add("GET", f"{self.api}/user/groups",
                             body=fixture("user_groups_cloud") if body is None else body,
                             match=[matchers.query_param_matcher({"accountId": who})], **kw)
        return self._add("GET", f"{self.api}/user", body=fixture("user_datacenter") if body is None else body,
                         match=[matchers.query_param_matcher({"username": who, "expand": "groups"})], **kw)

    def paths_called(self) -> list[str]:
        """`METHOD path` of every request made so far, in order."""
        out = []
        for call in self.mock.calls:
            url = call.request.url or ""
            path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
            out.append(f"{call.request.method} /{path}")
        return out
