"""The okrbridge web app: the Forge Remote backend of the Jira issue panel, the dashboard, the KR
pages and the JSON API, over one read-only workspace per process.

    app = create_app()                     # settings from $OKRBRIDGE_CONFIG / ./okrbridge.toml
    app = create_app(settings, workspace=ws)

Blueprints: `health` (`/healthz`), `forge` (`/forge/...`, Forge Invocation Token required),
`api` (`/api/v1/...`) and `pages` (`/`, `/kr/<id>`); the last two identify viewers by `web.auth`.
`okrbridge serve` runs the app under waitress.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from okrbridge.config import Settings, load_settings
from okrbridge.web import api, forge_remote, health, pages
from okrbridge.web.context import EXTENSION_KEY, WebContext, build_context
from okrbridge.web.errors import json_error
from okrbridge.workspace import Workspace

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "web"


def create_app(settings: Settings | None = None, *, workspace: Workspace | None = None) -> Flask:
    """A web app over `settings` (loaded from the environment when None) and `workspace` (opened
    from the settings when None, and then closed with the app's `close_web()`)."""
    settings = settings if settings is not None else load_settings(None, os.environ)
    app = Flask("okrbridge.web", template_folder=str(TEMPLATES))
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep answers in their documented order
    context = build_context(settings, workspace)
    app.extensions[EXTENSION_KEY] = context
    app.register_blueprint(health.bp)
    app.register_blueprint(forge_remote.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    _json_errors_for_machines(app)
    return app


JSON_PREFIXES = ("/forge/", "/api/")
"""Paths answered by programs, which get JSON errors even for routes that do not exist."""


def _json_errors_for_machines(app: Flask) -> None:
    """404, 405 and the like as JSON on the Forge and API paths; HTML pages elsewhere."""

    @app.errorhandler(HTTPException)
    def http_failure(error: HTTPException) -> Response | HTTPException:
        """JSON for machines, werkzeug's page for people."""
        if request.path.startswith(JSON_PREFIXES):
            return json_error(error.code or 500, error.description or error.name)
        return error


def web_context(app: Flask) -> WebContext:
    """The app's per-process state (workspace, directory, verifier)."""
    context: WebContext = app.extensions[EXTENSION_KEY]
    return context
