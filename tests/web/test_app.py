"""The web app as a process: the app factory, the health endpoint, and `okrbridge serve` under waitress."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from okrbridge.cli.serve import listen_address
from okrbridge.web import create_app, web_context
from okrbridge.workspace import open_workspace
from sandbox.server import SandboxServer

from .conftest import web_settings


def test_health_reports_the_last_syncs_outcome_and_age(client: FlaskClient, app: Flask) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    last = web_context(app).workspace.store.runs(limit=1)[0]
    assert body["last_sync"]["id"] == last.id
    assert body["last_sync"]["status"] == last.status.value
    assert body["status"] == ("ok" if last.status.value == "succeeded" else "degraded")
    assert last.finished_at is not None
    age = (datetime.now(UTC) - last.finished_at).total_seconds()
    assert 0 <= body["last_sync"]["age_seconds"] <= age + 1


def test_health_on_a_database_without_syncs_is_degraded_but_answers(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = web_settings(sandbox, tmp_path / "empty.db", tmp_path)
    open_workspace(settings, mode="record").close()  # the schema and catalog, as a first check-in leaves them
    app = create_app(settings)
    try:
        body = app.test_client().get("/healthz").get_json()
    finally:
        web_context(app).close()
    assert (body["status"], body["last_sync"]) == ("degraded", None)


def test_the_listen_address_comes_from_options_then_environment_then_config() -> None:
    assert listen_address("127.0.0.1", 8000, None, None, {}) == ("127.0.0.1", 8000)
    env = {"OKRBRIDGE_WEB_HOST": "0.0.0.0", "OKRBRIDGE_WEB_PORT": "9001"}
    assert listen_address("127.0.0.1", 8000, None, None, env) == ("0.0.0.0", 9001)
    assert listen_address("127.0.0.1", 8000, "::1", 9100, env) == ("::1", 9100)


def _free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_okrbridge_serve_answers_health_over_http_under_waitress(
        sandbox: SandboxServer, synced_database: Path, tmp_path: Path) -> None:
    settings = web_settings(sandbox, synced_database, tmp_path)
    assert settings.config_file is not None
    port = _free_port()
    env = {**os.environ, "OKRBRIDGE_WEB_PORT": str(port), "OKRBRIDGE_JIRA_TOKEN": "sandbox-token-okrbot"}
    command = [sys.executable, "-c", "from okrbridge.cli import main; main()",
               "--config", str(settings.config_file), "serve", "--threads", "4"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        answer = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert answer is not None, process.stderr.read() if process.stderr else "no output"
        assert answer.status_code == 200
        assert answer.headers["Server"] == "okrbridge"
        assert answer.json()["last_sync"] is not None
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("bad", ["'12x'", "0"])
def test_a_bad_port_in_the_environment_is_named(bad: str) -> None:
    from click import ClickException
    with pytest.raises(ClickException, match="OKRBRIDGE_WEB_PORT"):
        listen_address("127.0.0.1", 8000, None, None, {"OKRBRIDGE_WEB_PORT": bad.strip("'")})
