"""Jira search: Cloud's enhanced search and approximate count, Data Center's offset search, the
removed Cloud search (410), and the agile epic-issues listing.

Cloud `search/jql` pages with an opaque `nextPageToken` and never reports a total; it refuses
unbounded JQL, defaults `fields` to `id` and caps `maxResults` (5000 for ids/keys only, else 100).
Data Center `search` pages with `startAt` and reports `total` (`maxResults=0` only counts).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.errors import ISSUE_NOT_FOUND, JiraError, jira_error
from sandbox.jira_common import (
    check_version,
    int_param,
    json_body,
    query_list,
    render_for,
    require_cloud,
    signed_in,
    split_list,
)
from sandbox.jira_format import Render
from sandbox.jira_issue_format import FieldSelection, field_names, issue_json
from sandbox.model import Issue
from sandbox.runtime import current_runtime
from sandbox.state import current_state

bp = Blueprint("jira_search", __name__)

SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
INVALID_TOKEN = "The provided next page token is invalid or expired."
CLOUD_MAX_IDS = 5000
CLOUD_MAX_FIELDS = 100
DC_MAX = 1000
DEFAULT_PAGE = 50


def _search(jql: str, *, bounded: bool) -> list[Issue]:
    """Matching issues for the signed-in user, through the cached JQL service."""
    return current_runtime().jql.search(current_state(), jql, signed_in(), require_bounded=bounded)


def _page(jql: str, start: int, size: int, *, bounded: bool) -> tuple[list[Issue], int]:
    """One page of matching issues and the number of matches (only the page is materialised)."""
    state = current_state()
    keys = current_runtime().jql.keys(state, jql, signed_in(), require_bounded=bounded)
    return [state.issues[k] for k in keys[start: start + size] if k in state.issues], len(keys)


def _params() -> dict[str, Any]:
    """The search parameters from the query string (GET) or the JSON body (POST)."""
    if request.method == "POST":
        body = json_body()
        if not isinstance(body, dict):
            raise JiraError(400, "The request body must be a JSON object.")
        return body
    args = request.args
    return {
        "jql": args.get("jql"), "nextPageToken": args.get("nextPageToken"),
        "startAt": args.get("startAt"), "maxResults": args.get("maxResults"),
        "fields": query_list("fields") or None, "expand": query_list("expand"),
        "properties": query_list("properties"),
    }


def _token_digest(jql: str) -> str:
    """Ties a page token to its query, so a token cannot be replayed on another JQL."""
    return hashlib.sha256(jql.encode("utf-8")).hexdigest()[:16]


def encode_token(offset: int, jql: str) -> str:
    """An opaque continuation token for the page starting at `offset`."""
    raw = json.dumps({"o": offset, "q": _token_digest(jql)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, jql: str) -> int:
    """The offset a token stands for (0 without a token); 400 when it is not ours or not this JQL's."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset = int(data["o"])
        digest = str(data["q"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise JiraError(400, INVALID_TOKEN) from None
    if offset < 0 or digest != _token_digest(jql):
        raise JiraError(400, INVALID_TOKEN)
    return offset


def _render_issues(issues: list[Issue], render: Render, selection: FieldSelection,
                   expand: set[str], properties: list[str]) -> list[dict[str, Any]]:
    """Issues as search results list them."""
    return [issue_json(issue, render, selection, expand=expand, properties=properties) for issue in issues]


@bp.route("/rest/api/<version>/search/jql", methods=["GET", "POST"])
def search_jql(version: str) -> Response:
    """Cloud enhanced search: token paging, `isLast`, no total; bounded JQL only."""
    require_cloud()
    render = render_for(version)
    params = _params()
    jql = str(params.get("jql") or "")
    selection = FieldSelection(split_list(params.get("fields")), default="id")
    cap = CLOUD_MAX_IDS if selection.ids_only else CLOUD_MAX_FIELDS
    max_results = int_param(params.get("maxResults"), "maxResults", DEFAULT_PAGE)
    if max_results < 0:
        raise JiraError(400, "The 'maxResults' parameter must not be negative.")
    max_results = min(max_results, cap)
    offset = decode_token(params.get("nextPageToken"), jql)
    expand = set(split_list(params.get("expand")))
    properties = split_list(params.get("properties"))
    page, total = _page(jql, offset, max_results, bounded=True)
    end = offset + len(page)
    items = ([{"id": issue.id} for issue in page] if selection.id_only
             else _render_issues(page, render, selection, expand, properties))
    body: dict[str, Any] = {"issues": items, "isLast": end >= total}
    if end < total:
        body["nextPageToken"] = encode_token(end, jql)
    if "names" in expand:
        names = field_names(render)
        body["names"] = {name: label for name, label in names.items() if selection.wants(name)}
    return jsonify(body)


@bp.route("/rest/api/<version>/search/approximate-count", methods=["POST"])
def approximate_count(version: str) -> Response:
    """Cloud count: `{"count": n}` for bounded JQL."""
    require_cloud()
    check_version(version)
    body = json_body()
    if not isinstance(body, dict):
        raise JiraError(400, "The request body must be a JSON object.")
    jql = str(body.get("jql") or "")
    count = current_runtime().jql.count(current_state(), jql, signed_in(), require_bounded=True)
    return jsonify({"count": count})


@bp.route("/rest/api/<version>/search", methods=["GET", "POST"])
def search(version: str) -> Response:
    """Data Center search (startAt/maxResults/total); on Cloud the removed API answers 410."""
    if current_state().deployment == "cloud":
        check_version(version)
        return jira_error(410, SEARCH_REMOVED)
    render = render_for(version)
    params = _params()
    jql = str(params.get("jql") or "")
    selection = FieldSelection(split_list(params.get("fields")), default="*navigable")
    start_at = max(0, int_param(params.get("startAt"), "startAt", 0))
    max_results = int_param(params.get("maxResults"), "maxResults", DEFAULT_PAGE)
    max_results = min(max(max_results, 0), DC_MAX)
    expand = set(split_list(params.get("expand")))
    properties = split_list(params.get("properties"))
    page, total = _page(jql, start_at, max_results, bounded=False)
    body: dict[str, Any] = {
        "expand": "schema,names", "startAt": start_at, "maxResults": max_results,
        "total": total, "issues": _render_issues(page, render, selection, expand, properties),
    }
    if "names" in expand:
        body["names"] = {name: label for name, label in field_names(render).items() if selection.wants(name)}
    return jsonify(body)


@bp.route("/rest/agile/1.0/epic/<epic_id_or_key>/issue", methods=["GET"])
def epic_issues(epic_id_or_key: str) -> Response:
    """Jira Software: the issues of an epic (Cloud: `parent`; Data Center: "Epic Link")."""
    state = current_state()
    epic = state.find_issue(epic_id_or_key)
    if epic is None:
        raise JiraError(404, ISSUE_NOT_FOUND)
    if epic.issuetype != "Epic":
        raise JiraError(400, f"Issue with id {epic.id} is not an Epic.")
    render = Render(state, request.host_url.rstrip("/"), "2")
    cloud = state.deployment == "cloud"
    children = [issue for issue in state.issues.values()
                if (issue.parent if cloud else issue.epic_link) == epic.key]
    jql = request.args.get("jql") or ""
    if jql.strip():
        allowed = {issue.key for issue in children}
        children = [issue for issue in _search(jql, bounded=False) if issue.key in allowed]
    else:
        children.sort(key=lambda issue: int(issue.id))
    start_at = max(0, int_param(request.args.get("startAt"), "startAt", 0))
    max_results = min(max(int_param(request.args.get("maxResults"), "maxResults", DEFAULT_PAGE), 0), DC_MAX)
    selection = FieldSelection(query_list("fields"), default="*navigable")
    expand = set(query_list("expand"))
    page = children[start_at: start_at + max_results]
    return jsonify({
        "expand": "schema,names", "startAt": start_at, "maxResults": max_results,
        "total": len(children), "issues": _render_issues(page, render, selection, expand, []),
    })
