"""Error answers in the shapes Atlassian's services use, chosen by which API a path belongs to.

Jira: `{"errorMessages": [...], "errors": {...}}`. Confluence: `{"statusCode", "data", "message"}`.
Handlers raise `JiraError` (caught by an app-wide handler) or return `jira_error(...)` directly.
"""

from __future__ import annotations

import re
from typing import Literal

from flask import Response, jsonify, request

ApiKind = Literal["jira", "confluence", "admin"]

# Jira: /rest/api/<2|3|latest>/..., /rest/agile/...; Confluence: /wiki/rest/... (Cloud) and
# /rest/api/<word>... (Data Center: content, space, search...), which never starts with a version.
_JIRA_PATH = re.compile(r"^/rest/(?:api/(?:[0-9]+|latest)/|agile/)")
_CONFLUENCE_PATH = re.compile(r"^/(?:wiki/rest/|rest/api/(?![0-9]+/|latest/))")

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def api_kind(path: str) -> ApiKind | None:
    """Which API a request path belongs to (None for paths outside every API)."""
    if path.startswith("/_sandbox/") or path == "/_sandbox":
        return "admin"
    if _JIRA_PATH.match(path):
        return "jira"
    if _CONFLUENCE_PATH.match(path):
        return "confluence"
    return None


class JiraError(Exception):
    """Raised by Jira handlers; answered as Jira's error body with `status`."""

    def __init__(self, status: int, *messages: str, errors: dict[str, str] | None = None) -> None:
        """An error answer: HTTP `status`, `errorMessages`, and per-field `errors`."""
        super().__init__(messages[0] if messages else str(errors))
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}


def jira_error(
    status: int, *messages: str, errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A Jira-shaped error response."""
    response = jsonify({"errorMessages": list(messages), "errors": errors or {}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def confluence_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A Confluence-shaped error response."""
    response = jsonify({
        "statusCode": status,
        "data": {"authorized": status not in (401, 403), "valid": True, "errors": [], "successful": False},
        "message": message,
    })
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def api_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error response shaped for the API the current request addressed."""
    if api_kind(request.path) == "confluence":
        return confluence_error(status, message, headers)
    return jira_error(status, message, headers=headers)
