"""Fixtures for publishing against the live sandbox: a server per deployment and a workspace on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.confluence import ConfluenceConnection
from okrbridge.config import default_settings
from okrbridge.workspace import Workspace, confluence_connection, open_workspace
from sandbox.server import SandboxServer
from tests.publish.support import BOT_EMAIL, SANDBOX_SIZE, confluence_env


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The seeded sandbox over real HTTP, its Confluence addressed as Cloud and as Data Center."""
    with SandboxServer(deployment=request.param, seed=1, size=SANDBOX_SIZE) as server:
        yield server


@pytest.fixture
def workspace(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Workspace]:
    """A workspace on the sample OKRs whose Confluence is the sandbox (space OKR)."""
    deployment = sandbox.state.deployment
    settings = default_settings(confluence_env(deployment))
    confluence = settings.confluence.model_copy(update={
        "url": sandbox.url, "deployment": deployment, "email": BOT_EMAIL if deployment == "cloud" else None})
    settings = settings.model_copy(update={"confluence": confluence,
                                           "database_url": f"sqlite:///{tmp_path / 'okrbridge.db'}"})
    ws = open_workspace(settings, mode="record")
    yield ws
    ws.close()


@pytest.fixture
def confluence(workspace: Workspace) -> Iterator[ConfluenceConnection]:
    """The workspace's Confluence connection, as the CLI builds it."""
    with confluence_connection(workspace.settings) as connection:
        yield connection
