"""Run the sandbox over real HTTP: `build_server` (the `okrbridge sandbox` command serves it until
Ctrl-C) or `SandboxServer` on a background thread (for tests, benchmarks and the demo).

werkzeug's threaded server answers each connection on its own thread, so slow or dropped answers
(see faults.py) never hold up other clients.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.admin_api import ADMIN_HOSTS_KEY
from sandbox.app import create_app
from sandbox.faults import FaultConfig
from sandbox.seed import DEFAULT_SIZE
from sandbox.state import Deployment, SandboxState


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its per-request access log (the sandbox keeps its own)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip werkzeug's access line; `GET /_sandbox/requests` has the details."""


def build_server(app: Flask, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded werkzeug server for `app` bound to host:port (0 picks a free port)."""
    # werkzeug logs every connection error at INFO; injected drops would flood the console.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if host not in ("", "0.0.0.0", "::"):
        # The admin API accepts the name it is served under, besides loopback ones (see admin_api).
        app.config[ADMIN_HOSTS_KEY] = (*app.config.get(ADMIN_HOSTS_KEY, ()), host)
    return make_server(host, port, app, threaded=True, request_handler=_QuietHandler)


class SandboxServer:
    """The sandbox on a background thread: `with SandboxServer(seed=1) as sandbox: sandbox.url`.

    Takes the same options as `create_app`; `port=0` (the default) picks a free port.
    """

    def __init__(
        self,
        state: SandboxState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        deployment: Deployment = "cloud",
        seed: int | None = None,
        size: int = DEFAULT_SIZE,
        faults: FaultConfig | Mapping[str, Any] | None = None,
        app: Flask | None = None,
    ) -> None:
        """Build the app (or use `app`) and bind the port; `start()` begins serving."""
        self.app = app or create_app(state, deployment=deployment, seed=seed, size=size, faults=faults)
        self._server = build_server(self.app, host, port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """`http://host:port` of the running server (no trailing slash)."""
        return f"http://{self._server.host}:{self._server.port}"

    @property
    def state(self) -> SandboxState:
        """The state the server answers from."""
        state: SandboxState = self.app.extensions["okrbridge_sandbox"]
        return state

    def start(self) -> SandboxServer:
        """Serve on a daemon thread (returns at once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"sandbox-{self._server.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        """Start serving."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """Stop serving."""
        self.stop()

