"""The sandbox app factory: a local Jira + Confluence stand-in speaking Atlassian's REST contracts.

Request pipeline (Flask runs before-hooks in registration order, after-hooks in reverse):
timer -> injected faults -> authentication -> handler -> fault finishing -> request log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from sandbox import admin_api, auth, confluence_api, faults, forge_host, jira_api, jira_viewer
from sandbox.errors import api_error, api_kind
from sandbox.faults import FaultConfig, FaultInjector
from sandbox.runtime import RUNTIME_KEY, LogEntry, SandboxRuntime
from sandbox.seed import DEFAULT_SIZE, populate
from sandbox.state import EXTENSION_KEY, Deployment, SandboxState

log = logging.getLogger(__name__)


def create_app(
    state: SandboxState | None = None,
    *,
    deployment: Deployment = "cloud",
    seed: int | None = None,
    size: int = DEFAULT_SIZE,
    faults: FaultConfig | Mapping[str, Any] | None = None,
) -> Flask:
    """A sandbox app serving `state` (a new, empty one for `deployment` when None).

    `deployment` only shapes a new state; a given state keeps its own. `seed` fills the state with
    the demo organisation as of its clock (`size` ~ issues planned over the year); without it the
    state is served as given. `faults` (a `FaultConfig` or its settings) starts fault injection.
    """
    if state is None:
        state = SandboxState(deployment=deployment)
    if deployment not in ("cloud", "datacenter"):
        raise ValueError(f"deployment must be 'cloud' or 'datacenter', not {deployment!r}")
    if seed is not None:
        populate(state, seed=seed, size=size)
    config = faults if isinstance(faults, FaultConfig) else FaultConfig.from_mapping(faults or {})

    app = Flask("sandbox")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep Jira's field order readable
    app.extensions[EXTENSION_KEY] = state
    runtime = SandboxRuntime(faults=FaultInjector(config))
    app.extensions[RUNTIME_KEY] = runtime

    @app.before_request
    def start_timer() -> None:
        """Note when the request arrived; JQL evaluation time accumulates from zero."""
        g.sandbox_started = time.perf_counter()
        g.sandbox_eval_ms = 0.0

    _faults_hooks(app, runtime)
    auth.install(app)
    jira_api.register(app)
    confluence_api.register(app)
    app.register_blueprint(admin_api.bp)
    forge_host.register(app)
    jira_viewer.register(app)
    _error_handlers(app)

    @app.after_request
    def log_request(response: Response) -> Response:
        """Append the request to the log (admin calls included, so tests can see them too)."""
        if request.path.startswith("/_sandbox/requests"):
            return response  # reading the log must not change it
        _record(runtime, response.status_code if g.get("sandbox_fault") != "drop" else None)
        return response

    return app


def _faults_hooks(app: Flask, runtime: SandboxRuntime) -> None:
    """Install fault injection (a separate step so its hooks sit between timer and auth)."""
    faults.install(app, runtime.faults)


def _record(runtime: SandboxRuntime, status: int | None) -> None:
    """One log entry for the current request."""
    started = g.get("sandbox_started") or time.perf_counter()
    user = g.get("sandbox_user")
    runtime.log.add(LogEntry(
        at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        method=request.method, path=request.path, query=request.query_string.decode("latin-1"),
        status=status, duration_ms=round((time.perf_counter() - started) * 1000.0, 3),
        eval_ms=round(g.get("sandbox_eval_ms", 0.0), 3),
        user=user.account_id if user else None, fault=g.get("sandbox_fault"),
    ))


def _error_handlers(app: Flask) -> None:
    """Atlassian-shaped answers for routing errors and crashes on the API paths."""

    @app.errorhandler(HTTPException)
    def http_failure(error: HTTPException) -> Response | HTTPException:
        """404/405 and friends: Jira/Confluence JSON on API paths, werkzeug's page elsewhere."""
        if api_kind(request.path) in ("jira", "confluence"):
            message = f"null for uri: {request.url}" if error.code == 404 else (error.description or "")
            return api_error(error.code or 500, message)
        return error

    @app.errorhandler(Exception)
    def crash(error: Exception) -> Response:
        """An unexpected exception: logged with its traceback, answered as a 500 error body."""
        if isinstance(error, ConnectionAbortedError):
            raise error  # the dropped-connection fault under a test client: let the caller see it
        log.exception("sandbox handler failed: %s %s", request.method, request.path)
        return api_error(500, f"Internal server error: {type(error).__name__}: {error}")
