"""Fixtures for the sandbox tests: seeded worlds at a fixed clock, apps, and live HTTP servers.

The clock is pinned (FIXED_NOW) before seeding so data and relative-date results do not depend on
the day the tests run. `live_sandbox` runs a real threaded server on a free port for each
deployment; `sandbox_factory` builds servers with custom options (faults) and stops them after.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from flask import Flask

from sandbox.app import create_app
from sandbox.server import SandboxServer
from sandbox.state import Deployment, SandboxState

from . import contract

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SEED = 7
SIZE = 2500
DEPLOYMENTS: tuple[Deployment, ...] = ("cloud", "datacenter")


def clocked_state(deployment: Deployment = "cloud", now: datetime = FIXED_NOW) -> SandboxState:
    """An empty state for `deployment` whose clock reads `now` (seeding then dates data by it)."""
    state = SandboxState(deployment=deployment)
    state.clock.set_now(now)
    return state


def make_app(deployment: Deployment = "cloud", **options: Any) -> Flask:
    """A seeded app at FIXED_NOW (options go to `create_app`)."""
    options.setdefault("seed", SEED)
    options.setdefault("size", SIZE)
    return create_app(clocked_state(deployment), deployment=deployment, **options)


def basic_auth(login: str) -> dict[str, str]:
    """Basic Authorization header for a seeded user (email + API token)."""
    raw = f"{login}@example.com:sandbox-token-{login}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def bearer_auth(login: str) -> dict[str, str]:
    """Bearer Authorization header for a seeded user (personal access token)."""
    return {"Authorization": f"Bearer sandbox-pat-{login}"}


def session_for(login: str = "alice", *, bearer: bool = False) -> requests.Session:
    """A requests session signed in as a seeded user."""
    session = requests.Session()
    session.headers.update(bearer_auth(login) if bearer else basic_auth(login))
    return session


def api_root(sandbox: SandboxServer) -> str:
    """The Jira REST root for the sandbox's deployment (v3 on Cloud, v2 on Data Center)."""
    version = "3" if sandbox.state.deployment == "cloud" else "2"
    return f"{sandbox.url}/rest/api/{version}"


@pytest.fixture(params=DEPLOYMENTS)
def deployment(request: pytest.FixtureRequest) -> Deployment:
    """Each deployment in turn."""
    value: Deployment = request.param
    return value


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with custom options; all are stopped at teardown."""
    started: list[SandboxServer] = []

    def start(deployment: Deployment = "cloud", **options: Any) -> SandboxServer:
        """A running, seeded sandbox (options go to `create_app`)."""
        server = SandboxServer(app=make_app(deployment, **options)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_sandbox(deployment: Deployment, sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A seeded sandbox on a free port, once per deployment."""
    return sandbox_factory(deployment)


@pytest.fixture
def cloud_sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A seeded Jira Cloud sandbox on a free port."""
    return sandbox_factory("cloud")


@pytest.fixture
def dc_sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A seeded Jira Data Center sandbox on a free port."""
    return sandbox_factory("datacenter")


@pytest.fixture
def jira_contract() -> Callable[..., Any]:
    """`contract.validate` bound to the Jira document (skips when the documents are missing)."""
    contract.load_spec("jira")
    return lambda response, **options: contract.validate("jira", response, **options)
