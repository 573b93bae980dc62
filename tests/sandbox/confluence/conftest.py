"""Fixtures for the Confluence sandbox tests: a fresh state and app per test, and the API under
both prefixes (Cloud `/wiki/rest/api`, Data Center `/rest/api`)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandbox.app import create_app
from sandbox.state import SandboxState

from .support import PREFIXES, Api, make_state


@pytest.fixture
def state() -> SandboxState:
    """Four users, the OKR space (with its home page) and the ENG space (without)."""
    return make_state()


@pytest.fixture
def app(state: SandboxState) -> Flask:
    """The sandbox app serving `state`."""
    return create_app(state)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A Flask test client."""
    return app.test_client()


@pytest.fixture(params=PREFIXES, ids=["cloud", "dc"])
def api(request: pytest.FixtureRequest, client: FlaskClient, state: SandboxState) -> Api:
    """The Confluence API under each prefix, signed in as alice."""
    return Api(client, state, request.param)
