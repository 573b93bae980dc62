"""What one web process holds for all its requests: settings, the workspace (opened once, read-only),
the viewer directory, the Forge token verifier, the sign-in mode for pages and API, and the Jira
connection the panel asks about issues.

Everything else lives in the database, so several processes can serve the same site side by side:
each keeps only short-lived caches (viewers' groups, the JWKS) of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app

from connectors.jira import JiraConnection
from okrbridge.config import Settings
from okrbridge.web.auth import WebAuth
from okrbridge.web.fit import FitVerifier, JwksCache
from okrbridge.web.viewer import ViewerDirectory
from okrbridge.workspace import Workspace, jira_connection, open_workspace

log = logging.getLogger(__name__)

EXTENSION_KEY = "okrbridge_web"


def _open_for_web(settings: Settings) -> Workspace:
    """The workspace a web process reads from.

    The web app never writes: it reads the catalog, snapshots, runs and initiatives the sync and
    check-ins stored, through a read-only open (no migration, no catalog record), once per process.
    """
    return open_workspace(settings, mode="read")


@dataclass
class WebContext:
    """The per-process state of the web app (see the module docstring)."""

    settings: Settings
    workspace: Workspace
    directory: ViewerDirectory
    verifier: FitVerifier
    auth: WebAuth
    jira: JiraConnection | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    owns_workspace: bool = True

    def close(self) -> None:
        """Release the database and Jira connections this process opened."""
        if self.jira is not None:
            self.jira.close()
        if self.owns_workspace:
            self.workspace.close()


def build_context(settings: Settings, workspace: Workspace | None = None) -> WebContext:
    """Open what the web app needs once per process; Jira is optional (no groups without it)."""
    jira: JiraConnection | None = None
    if settings.jira.url and settings.jira_token():
        jira = jira_connection(settings)
    else:
        log.warning("no Jira connection configured (jira.url and $%s): viewers get no groups and "
                    "issue panels cannot find an issue's epic", settings.jira.token_env)
    directory = ViewerDirectory(jira.user if jira else None, ttl=settings.web.group_cache_seconds)
    verifier = FitVerifier(settings.web.forge_app_id, JwksCache(settings.web.forge_jwks_url))
    ws = workspace if workspace is not None else _open_for_web(settings)
    return WebContext(settings=settings, workspace=ws, directory=directory, verifier=verifier,
                      auth=WebAuth.from_settings(settings), jira=jira, owns_workspace=workspace is None)


def current_web() -> WebContext:
    """The WebContext of the app handling the current request."""
    context: WebContext = current_app.extensions[EXTENSION_KEY]
    return context
