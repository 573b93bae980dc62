"""Request plumbing shared by the Jira endpoints: API versions per deployment, parameters, lookups."""

from __future__ import annotations

from typing import Any

from flask import g, request

from sandbox.errors import ISSUE_NOT_FOUND, JiraError
from sandbox.jira_format import Render
from sandbox.model import Issue, User
from sandbox.state import current_state

# Jira Cloud serves REST v2 and v3; Data Center only v2 (and `latest`, an alias of it).
VERSIONS = {"cloud": ("2", "3", "latest"), "datacenter": ("2", "latest")}


def not_found_uri() -> JiraError:
    """Jira's answer for a REST path it does not serve."""
    return JiraError(404, f"null for uri: {request.url}")


def check_version(version: str) -> str:
    """The API version for links ("2" or "3"); 404 when the deployment lacks `version`."""
    if version not in VERSIONS[current_state().deployment]:
        raise not_found_uri()
    return "2" if version == "latest" else version


def require_cloud() -> None:
    """404 unless the sandbox plays Jira Cloud (for Cloud-only operations)."""
    if current_state().deployment != "cloud":
        raise not_found_uri()


def render_for(version: str) -> Render:
    """The JSON renderer for this request's base URL and API version."""
    return Render(current_state(), request.host_url.rstrip("/"), check_version(version))


def signed_in() -> User:
    """The authenticated user (auth runs before every API handler)."""
    user: User | None = g.get("sandbox_user")
    if user is None:
        raise JiraError(401, "You are not authenticated. Authentication required to perform this operation.")
    return user


def find_issue(id_or_key: str) -> Issue:
    """The issue, or Jira's 404 answer."""
    issue = current_state().find_issue(id_or_key)
    if issue is None:
        raise JiraError(404, ISSUE_NOT_FOUND)
    return issue


def json_body(*, required: bool = True) -> Any:
    """The request's JSON body; 400 when it is not JSON (or missing and `required`)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise JiraError(400, "No content to map to Object due to end of input")
        return None
    try:
        return request.get_json(force=True)
    except Exception as error:  # werkzeug raises BadRequest subclasses for malformed JSON
        raise JiraError(400, "Unexpected character in the request body: it is not valid JSON.") from error


def int_param(value: Any, name: str, default: int) -> int:
    """An integer parameter (query string or body); 400 when it is not a number."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise JiraError(400, f"The value of '{name}' must be an integer.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise JiraError(400, f"The value of '{name}' must be an integer.") from None


def split_list(values: Any) -> list[str]:
    """Comma-separated and repeated parameters (or a JSON list) as one flat list of tokens."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    tokens: list[str] = []
    for item in items:
        tokens.extend(part.strip() for part in str(item).split(",") if part.strip())
    return tokens


def query_list(name: str) -> list[str]:
    """A query parameter that may repeat and hold commas (`fields`, `expand`, `properties`)."""
    return split_list(request.args.getlist(name))
