"""`/api/v1/...`: the JSON API, filtered for the viewer exactly as the pages are (the same
`panel_model` answers), and described by the OpenAPI document at `/api/v1/openapi.json`.

| path | answers |
|---|---|
| `GET /api/v1/objectives?period=` | the visible objectives overlapping the period, graded, without KR cards |
| `GET /api/v1/krs?period=&tab=` | the KR cards of the visible objectives |
| `GET /api/v1/krs/<id>` | one KR's page: card, history, epics (404 when missing or not visible) |
| `GET /api/v1/krs/<id>/history` | that KR's stored values with the JQLs behind them |
| `GET /api/v1/grades?period=` | the period report (objectives and KPIs) |
| `GET /api/v1/initiatives?epic=` | epic-drives-KR links of visible KRs (optionally of one epic) |

`period` is year, quarter (the default), month, or a label such as 2026-Q2.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from okrbridge.cycles import Period
from okrbridge.web import panel_model
from okrbridge.web.auth import AuthRefused
from okrbridge.web.context import current_web
from okrbridge.web.errors import json_error, unauthorized
from okrbridge.web.links import links_for, parse_period
from okrbridge.web.openapi import openapi_document
from okrbridge.web.viewer import DirectoryUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def sign_in() -> Response | None:
    """Identify the viewer (401 when refused); the OpenAPI document is public."""
    if request.endpoint == "api.openapi":
        return None
    web = current_web()
    try:
        g.viewer = web.auth.viewer(request, web.directory)
    except AuthRefused as error:
        return unauthorized(str(error), web.auth.scheme)
    except DirectoryUnavailable as error:
        log.warning("api %s: %s", request.path, error)
        return json_error(503, "Jira could not say who you are right now; try again")
    return None


@bp.errorhandler(Exception)
def crash(error: Exception) -> Response:
    """JSON for HTTP errors and for anything unexpected (logged without headers)."""
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException):
        return json_error(error.code or 500, error.description or error.name)
    log.exception("api %s failed", request.path)
    return json_error(500, f"okrbridge failed to answer: {type(error).__name__}")


def _period() -> Period | Response:
    """The `period` query parameter, or a 400 naming it."""
    period = parse_period(current_web(), request.args.get("period"))
    return json_error(400, period) if isinstance(period, str) else period


def _board(tab: str = "all") -> dict[str, Any] | Response:
    """The dashboard answer for the request's period."""
    web = current_web()
    period = _period()
    if isinstance(period, Response):
        return period
    chosen = panel_model.as_tab(tab)
    if chosen is None:
        return json_error(400, f"tab must be one of {', '.join(panel_model.TABS)}, not {tab!r}")
    return panel_model.dashboard(web.workspace, g.viewer, tab=chosen, period=period,
                                 now=web.now(), links=links_for(web))


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi_document(request.host_url.rstrip("/")))


@bp.get("/objectives")
def objectives() -> Response:
    """The visible objectives with their grades for the period."""
    board = _board()
    if isinstance(board, Response):
        return board
    rows = [{k: v for k, v in o.items() if k != "krs"} | {"krs": [kr["id"] for kr in o["krs"]]}
            for o in board["objectives"]]
    return jsonify({"period": board["period"], "objectives": rows})


@bp.get("/krs")
def krs() -> Response:
    """The KR cards of the visible objectives for the period (and tab)."""
    board = _board(request.args.get("tab", "all"))
    if isinstance(board, Response):
        return board
    return jsonify({"period": board["period"], "krs": [kr for o in board["objectives"] for kr in o["krs"]]})


def _kr(kr_id: str) -> dict[str, Any] | Response:
    """One visible KR's page answer, or 404."""
    web = current_web()
    page = panel_model.kr_page(web.workspace, g.viewer, kr_id, now=web.now(), links=links_for(web))
    return json_error(404, f"there is no key result {kr_id} you may see") if page is None else page


@bp.get("/krs/<kr_id>")
def kr(kr_id: str) -> Response:
    """One KR: card, history, epics."""
    page = _kr(kr_id)
    return page if isinstance(page, Response) else jsonify(page)


@bp.get("/krs/<kr_id>/history")
def history(kr_id: str) -> Response:
    """One KR's stored values."""
    page = _kr(kr_id)
    return page if isinstance(page, Response) else jsonify({"id": page["id"], "history": page["history"]})


@bp.get("/grades")
def grades() -> Response:
    """The period report for the viewer."""
    web = current_web()
    period = _period()
    if isinstance(period, Response):
        return period
    return jsonify(panel_model.grades(web.workspace, g.viewer, period, web.now()))


@bp.get("/initiatives")
def initiatives() -> Response:
    """Which epics drive which visible KRs (of one epic with `?epic=KEY`)."""
    web = current_web()
    epic = request.args.get("epic")
    store = web.workspace.store
    visible = panel_model.visible_krs(web.workspace.catalog, g.viewer)
    found = (store.initiatives_for_epic(epic) if epic
             else [item for kr_item in visible.krs for item in store.initiatives_for(kr_item.id)])
    shown = {kr_item.id for kr_item in visible.krs}
    rows = [{"epic_key": i.epic_key, "kr_id": i.kr_id, "summary": i.summary, "status": i.status,
             "done": i.done, "progress": i.progress, "url": i.url} for i in found if i.kr_id in shown]
    return jsonify({"initiatives": rows})
