"""Fixtures for the web app: a seeded sandbox (Jira and the Forge host) over real HTTP, a database
synced from it once per module, and the Flask `app`, its test `client` and CLI `runner` on top.

The app trusts the sandbox's Forge host: its JWKS URL is the sandbox's `/_sandbox/forge/jwks.json`
and its app id the one the sandbox signs for, so `fit(login)` mints a real RS256 token.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from okrbridge.catalog import bundled_sample, load_checkins
from okrbridge.config import Settings, load_settings
from okrbridge.demo import BOT_EMAIL, BOT_TOKEN, demo_settings
from okrbridge.web import create_app, web_context
from okrbridge.workspace import import_checkins, jira_connection, open_workspace, sync
from sandbox.forge_host import APP_ID, ForgeHost, forge_host
from sandbox.seed import account_id
from sandbox.server import SandboxServer

Mint = Callable[..., str]
LOGINS = ("alice", "bob", "carol", "dave", "erin", "frank")
WEB_TOKENS = {login: f"web-token-{login}" for login in LOGINS}
BASE_URL = "http://okr.example.test"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """The seeded sandbox (Cloud, seed 1) over real HTTP, one per test module."""
    with SandboxServer(seed=1, deployment="cloud") as server:
        yield server


def sync_sample(sandbox: SandboxServer, database: Path) -> Path:
    """Fill `database` with the sample OKRs, their check-ins and one real sync from the sandbox."""
    settings = demo_settings(sandbox.url, database, dict(os.environ))
    # remote links are written only when the sync knows where the KR pages are
    settings = settings.model_copy(update={"web": settings.web.model_copy(update={"base_url": BASE_URL})})
    ws = open_workspace(settings, mode="record")
    try:
        import_checkins(ws, load_checkins(bundled_sample("checkins.toml"), ws.catalog))
        with jira_connection(settings) as jira:
            sync(ws, jira)
    finally:
        ws.close()
    return database


@pytest.fixture(scope="module")
def synced_database(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database holding the sample OKRs, their check-ins and one real sync from the sandbox."""
    return sync_sample(sandbox, tmp_path_factory.mktemp("web") / "okrbridge.db")


def web_settings(sandbox: SandboxServer, database: Path, folder: Path,
                 web: str = 'auth = "token"') -> Settings:
    """Settings read from a real config file: Jira on the sandbox, the Forge host's app id and keys,
    an API token per login (from the environment), and the extra `[web]` lines in `web`."""
    tokens = ", ".join(f'"{account_id(login)}" = "WEB_TOKEN_{login.upper()}"' for login in LOGINS)
    path = folder / "okrbridge.toml"
    path.write_text(
        f'database_url = "sqlite:///{database}"\n'
        f'[jira]\nurl = "{sandbox.url}"\nemail = "{BOT_EMAIL}"\ndeployment = "cloud"\n'
        f'[web]\nbase_url = "{BASE_URL}"\nforge_app_id = "{APP_ID}"\n'
        f'forge_jwks_url = "{sandbox.url}/_sandbox/forge/jwks.json"\n'
        f'token_accounts = {{ {tokens} }}\n{web}\n',
        encoding="utf-8")
    env = {"OKRBRIDGE_JIRA_TOKEN": BOT_TOKEN,
           **{f"WEB_TOKEN_{login.upper()}": token for login, token in WEB_TOKENS.items()}}
    return load_settings(path, env)


@pytest.fixture
def settings(sandbox: SandboxServer, synced_database: Path, tmp_path: Path) -> Settings:
    """The web app's settings (auth by API token)."""
    return web_settings(sandbox, synced_database, tmp_path)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The web app over the synced database, trusting the sandbox's Forge host."""
    application = create_app(settings)
    application.testing = True
    yield application
    web_context(application).close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """The app's CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def forge(sandbox: SandboxServer) -> ForgeHost:
    """The sandbox's Forge host (signing key, JWKS, app id)."""
    return forge_host(sandbox.app)


@pytest.fixture
def fit(forge: ForgeHost, sandbox: SandboxServer) -> Mint:
    """Mint a valid FIT for a sandbox login, optionally in an issue panel's context."""

    def mint(login: str, issue_key: str | None = None) -> str:
        user = sandbox.state.users[account_id(login)]
        return forge.mint(user, site_url=sandbox.url, issue_key=issue_key,
                          module_key="okr-panel" if issue_key else "okr-dashboard")

    return mint


@pytest.fixture
def web_server(app: Flask, forge: ForgeHost) -> Iterator[str]:
    """The app over real HTTP on a free loopback port, set as the sandbox Forge host's remote."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    forge.remote = url
    try:
        yield url
    finally:
        forge.remote = None
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
