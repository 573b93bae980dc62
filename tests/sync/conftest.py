"""Fixtures for syncing against the live sandbox: a server per deployment and workspaces on it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from okrbridge.demo import demo_settings
from okrbridge.workspace import Workspace, open_workspace
from sandbox.app import create_app
from sandbox.jql import search
from sandbox.jql_eval import JqlService
from sandbox.server import SandboxServer
from sandbox.state import Deployment, SandboxState

MakeWorkspace = Callable[..., Workspace]


@contextmanager
def clocked_sandbox(deployment: Deployment, now: datetime) -> Iterator[SandboxServer]:
    """The sandbox seeded with seed 1 as of `now` (its clock then moves on from there), over real HTTP."""
    state = SandboxState(deployment=deployment)
    state.clock.set_now(now)
    with SandboxServer(app=create_app(state, deployment=deployment, seed=1)) as server:
        yield server


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The seeded sandbox over real HTTP, once as Jira Cloud and once as Data Center."""
    with SandboxServer(deployment=request.param, seed=1) as server:
        yield server


@pytest.fixture
def cloud_sandbox() -> Iterator[SandboxServer]:
    """The seeded sandbox as Jira Cloud only (for tests about behaviour common to both)."""
    with SandboxServer(deployment="cloud", seed=1) as server:
        yield server


@pytest.fixture
def make_workspace(tmp_path: Path) -> Iterator[MakeWorkspace]:
    """Open workspaces on a sandbox, with the sample OKRs or an okrs.toml text given by the test."""
    opened: list[Workspace] = []

    def make(server: SandboxServer, okrs: str | None = None, base_url: str | None = None,
             **jira: object) -> Workspace:
        settings = demo_settings(server.url, tmp_path / "okrbridge.db", dict(os.environ))
        if base_url is not None:
            web = settings.web.model_copy(update={"base_url": base_url})
            settings = settings.model_copy(update={"web": web})
        if okrs is not None:
            path = tmp_path / "okrs.toml"
            path.write_text(okrs, encoding="utf-8")
            settings = settings.model_copy(update={"okrs": path})
        if jira:
            settings = settings.model_copy(update={"jira": settings.jira.model_copy(update=jira)})
        ws = open_workspace(settings, mode="record")
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def sandbox_count(server: SandboxServer, jql: str) -> int:
    """How many issues the sandbox itself finds for `jql`, evaluated in-process (no HTTP)."""
    state = server.state
    bot = next(u for u in state.users.values() if u.email == "okrbot@example.com")
    return len(search(list(state.issues.values()), jql, JqlService().context(state, bot)))
