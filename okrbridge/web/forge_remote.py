"""`/forge/*`: the Forge Remote endpoints the Forge app's frontends call with `invokeRemote`.

Every request must carry a valid Forge Invocation Token (see fit.py); the viewer is its
`principal`, whose groups come from Jira. Answers are JSON (`Content-Type: application/json`)
whatever happens: 401 only when the token is refused, 400 for a bad body, 503 when Jira or the
JWKS cannot be reached, 500 with a JSON body for anything unexpected.

| path | body | answers |
|---|---|---|
| `POST /forge/panel` | `{"issueKey": "ENG-15"}` (or the token's issue) | the KRs the issue's epic drives |
| `POST /forge/dashboard` | `{"tab": "all", "period": "quarter"}` | the dashboard (tabs, periods) |

No request header is logged: the token, `x-forge-oauth-user` and `x-forge-oauth-system` are bearer
credentials.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from connectors.jira import JiraError, JiraUnavailable
from okrbridge.web import panel_model
from okrbridge.web.context import WebContext, current_web
from okrbridge.web.errors import json_error, unauthorized
from okrbridge.web.fit import FitError, Invocation, JwksUnavailable
from okrbridge.web.links import links_for, parse_period
from okrbridge.web.viewer import DirectoryUnavailable, Viewer

log = logging.getLogger(__name__)
bp = Blueprint("forge", __name__, url_prefix="/forge")
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")


@bp.before_request
def verify_token() -> Response | None:
    """Refuse any request without a valid FIT (401), before a handler runs."""
    web = current_web()
    try:
        g.invocation = web.verifier.verify_header(request.headers.get("Authorization"))
    except JwksUnavailable as error:
        log.error("Forge token not checked: %s", error)
        return json_error(503, "the Forge signing keys cannot be fetched right now; try again")
    except FitError as error:
        log.info("Forge token refused: %s", error)
        return unauthorized(f"invalid Forge Invocation Token: {error}")
    return None


@bp.errorhandler(Exception)
def crash(error: Exception) -> Response:
    """Anything unexpected: logged (without headers), answered 500 with a JSON body (HTTP errors such
    as 405 keep their own status)."""
    if isinstance(error, HTTPException):
        return json_error(error.code or 500, error.description or error.name)
    log.exception("Forge remote %s failed", request.path)
    return json_error(500, f"okrbridge failed to answer: {type(error).__name__}")


def _body() -> dict[str, Any] | None:
    """The JSON object body ({} when there is none), or None when it is not an object."""
    if not request.get_data():
        return {}
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else None


def _viewer(web: WebContext, invocation: Invocation) -> Viewer:
    """The token's principal as a viewer (groups from Jira)."""
    return web.directory.viewer(invocation.principal)


def _epic_of(web: WebContext, issue_key: str) -> str | None:
    """The epic an issue is or belongs to, asked of Jira; without Jira the key itself (it may be one)."""
    if web.jira is None:
        return issue_key
    try:
        return web.jira.epic_key(issue_key)
    except JiraUnavailable:
        raise
    except JiraError as error:
        if error.status in (400, 404):
            return None  # an issue the bot cannot see drives nothing it could show
        raise


@bp.post("/panel")
def issue_panel() -> Response:
    """The KRs the issue's epic drives, for the token's user."""
    web = current_web()
    invocation: Invocation = g.invocation
    body = _body()
    if body is None:
        return json_error(400, 'the body must be a JSON object such as {"issueKey": "ENG-15"}')
    issue_key = invocation.issue_key or body.get("issueKey")
    if not isinstance(issue_key, str) or not ISSUE_KEY.match(issue_key.strip().upper()):
        return json_error(400, 'no issue key: give {"issueKey": "ENG-15"} or open the panel on an issue')
    issue_key = issue_key.strip().upper()
    try:
        viewer = _viewer(web, invocation)
        epic = _epic_of(web, issue_key)
    except (DirectoryUnavailable, JiraError) as error:
        log.warning("issue panel for %s: %s", issue_key, error)
        return json_error(503, "Jira could not be asked about this issue or user right now; try again")
    answer = panel_model.panel(web.workspace, viewer, issue_key=issue_key, epic_key=epic, now=web.now(),
                               links=links_for(web))
    return jsonify(answer)


@bp.post("/dashboard")
def dashboard() -> Response:
    """The dashboard for the token's user."""
    web = current_web()
    body = _body()
    if body is None:
        return json_error(400, 'the body must be a JSON object such as {"tab": "all", "period": "quarter"}')
    tab = panel_model.as_tab(str(body.get("tab", "all")))
    if tab is None:
        return json_error(400, f"tab must be one of {', '.join(panel_model.TABS)}, not {body.get('tab')!r}")
    period = parse_period(web, body.get("period"))
    if isinstance(period, str):
        return json_error(400, period)
    try:
        viewer = _viewer(web, g.invocation)
    except DirectoryUnavailable as error:
        log.warning("dashboard: %s", error)
        return json_error(503, "Jira could not say who you are right now; try again")
    return jsonify(panel_model.dashboard(web.workspace, viewer, tab=tab, period=period, now=web.now(),
                                         links=links_for(web)))
