"""The HTML pages: the dashboard (`/`, All / Group / Personal tabs, year / quarter / month) and a KR's
page (`/kr/<id>`, which the remote links on epics point at). Rendered on the server, SVG charts
included; no script runs, and the Content-Security-Policy says so."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, render_template, request

from okrbridge.web import panel_model
from okrbridge.web.auth import AuthRefused
from okrbridge.web.charts import history_chart, sparkline
from okrbridge.web.context import current_web
from okrbridge.web.links import PERIOD_WORDS, links_for, parse_period
from okrbridge.web.viewer import DirectoryUnavailable, Viewer

log = logging.getLogger(__name__)
bp = Blueprint("pages", __name__)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'"
TAB_LABELS = (("all", "All"), ("group", "Group"), ("personal", "Personal"))


@bp.after_request
def harden(response: Response) -> Response:
    """No scripts, frames or sniffing on any page."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _message(status: int, heading: str, text: str, scheme: str | None = None) -> Response:
    """A short HTML answer for errors and sign-in."""
    html = render_template("message.html", heading=heading, text=text, viewer_name="")
    response = Response(html, status=status, mimetype="text/html")
    if scheme:
        response.headers["WWW-Authenticate"] = f'{scheme} realm="okrbridge"'
    return response


def _viewer() -> Viewer | Response:
    """The signed-in viewer, or the page to answer instead."""
    web = current_web()
    try:
        return web.auth.viewer(request, web.directory)
    except AuthRefused as error:
        return _message(401, "Sign in", str(error), web.auth.scheme)
    except DirectoryUnavailable as error:
        log.warning("page %s: %s", request.path, error)
        return _message(503, "Jira is not answering", "Your groups cannot be read from Jira right now.")


@bp.get("/")
def dashboard() -> Response:
    """The dashboard for one tab and period."""
    web = current_web()
    viewer = _viewer()
    if isinstance(viewer, Response):
        return viewer
    tab = panel_model.as_tab(request.args.get("tab", "all")) or "all"
    word = request.args.get("period", "quarter")
    period = parse_period(web, word)
    if isinstance(period, str):
        return _message(400, "Unknown period", period)
    board = panel_model.dashboard(web.workspace, viewer, tab=tab, period=period, now=web.now(),
                                  links=links_for(web))
    html = render_template("dashboard.html", board=board, tabs=TAB_LABELS, periods=list(PERIOD_WORDS),
                           period_word=word, sparkline=sparkline, viewer_name=viewer.display_name)
    return Response(html, mimetype="text/html")


@bp.get("/kr/<kr_id>")
def kr_page(kr_id: str) -> Response:
    """One KR: value, chart, history with the JQL behind each value, epics."""
    web = current_web()
    viewer = _viewer()
    if isinstance(viewer, Response):
        return viewer
    kr = panel_model.kr_page(web.workspace, viewer, kr_id, now=web.now(), links=links_for(web))
    if kr is None:
        return _message(404, "Not found", f"There is no key result {kr_id} you may see.")
    points = [[h["taken_at"], h["value"]] for h in kr["history"] if h["value"] is not None]
    chart = history_chart(points, target=kr["target_value"], label=f"{kr['id']} history")
    html = render_template("kr.html", kr=kr, chart=chart, viewer_name=viewer.display_name)
    return Response(html, mimetype="text/html")
