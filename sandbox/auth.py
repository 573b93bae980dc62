"""Who is calling: Basic and Bearer authentication, as each deployment accepts them.

Cloud takes Basic auth with the account's email and an API token (personal access tokens do not
exist there). Data Center takes a personal access token as Bearer, or Basic with the username (or
email) and a password, for which the sandbox accepts the API token or the PAT. Jira follows the
state's deployment; Confluence follows the prefix (`/wiki/rest/...` is Cloud, `/rest/api/...` is
Data Center), as its answers do.

Every Jira and Confluence API request must authenticate, except the operations Atlassian serves
anonymously (`serverInfo`). A missing or wrong credential answers 401; a deactivated account 403.
The signed-in user is `flask.g.sandbox_user` (a `model.User`) for the rest of the request.
`/_sandbox/*` needs no Atlassian credential but answers loopback clients only.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re

from flask import Flask, Response, g, request

from sandbox.errors import JiraError, api_error, api_kind, jira_error
from sandbox.model import User
from sandbox.state import SandboxState, current_state

ADMIN_GROUP = "jira-administrators"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
DEACTIVATED = "Your account has been deactivated. Ask an administrator to reactivate it."
ADMIN_REQUIRED = "You are not authorized to perform this action. Administrator privileges are required."

# Served without credentials by Jira too ("This operation can be accessed anonymously").
_ANONYMOUS = re.compile(r"^/rest/api/(?:[0-9]+|latest)/serverInfo$")


def groups_of(state: SandboxState, user: User) -> list[str]:
    """Every group `user` belongs to, by the user's own list or the group's member list."""
    names = set(user.groups)
    names.update(name for name, members in state.groups.items() if user.account_id in members)
    return sorted(names)


def is_admin(state: SandboxState, user: User) -> bool:
    """Whether `user` holds Jira's Administer permission (member of jira-administrators)."""
    return ADMIN_GROUP in groups_of(state, user)


def require_admin() -> None:
    """Abort the request with 403 unless the signed-in user is a Jira administrator."""
    user: User | None = g.get("sandbox_user")
    if user is None or not is_admin(current_state(), user):
        raise JiraError(403, ADMIN_REQUIRED)


def cloud_rules(state: SandboxState, path: str) -> bool:
    """Whether a request to `path` signs in the Cloud way (else the Data Center way)."""
    if api_kind(path) == "confluence":
        return path.startswith("/wiki/")
    return state.deployment == "cloud"


def credentials_user(state: SandboxState, header: str, *, cloud: bool | None = None) -> User | None:
    """The user an Authorization header identifies, if any.

    `cloud=True`/`False` applies Cloud or Data Center rules; None (the HTML page viewer) accepts
    whatever either would.
    """
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        login, sep, secret = decoded.partition(":")
        if not sep or (cloud and "@" not in login):
            return None  # Cloud signs in by email only
        user = state.user_for_basic(login, secret)
        if user is not None and cloud and secret != user.api_token:
            return None  # a PAT is no API token
        return user
    if scheme.lower() == "bearer" and cloud is not True:
        return state.user_for_bearer(value)
    return None


def _is_loopback(address: str | None) -> bool:
    """Whether the client address is this machine."""
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _unauthorized(reason: str) -> Response:
    """401 with the challenge header and Jira's login-reason header."""
    response = api_error(401, NOT_AUTHENTICATED)
    response.headers["WWW-Authenticate"] = 'Basic realm="okrbridge-sandbox"'
    response.headers["X-Seraph-LoginReason"] = reason
    return response


def install(app: Flask) -> None:
    """Register the authentication hook on `app`."""

    @app.before_request
    def authenticate() -> Response | None:
        """Set `g.sandbox_user`, or answer 401/403 before any handler runs."""
        g.sandbox_user = None
        kind = api_kind(request.path)
        if kind == "admin":
            if not _is_loopback(request.remote_addr):
                return jira_error(403, "The sandbox admin API answers loopback clients only.")
            return None
        if kind is None:
            return None
        header = request.headers.get("Authorization")
        if not header:
            if _ANONYMOUS.match(request.path):
                return None
            return _unauthorized("AUTHENTICATION_DENIED")
        state = current_state()
        user = credentials_user(state, header, cloud=cloud_rules(state, request.path))
        if user is None:
            return _unauthorized("AUTHENTICATED_FAILED")
        if not user.active:
            return api_error(403, DEACTIVATED)
        g.sandbox_user = user
        return None
