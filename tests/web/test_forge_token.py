"""The Forge Remote endpoints accept a call only with a valid Forge Invocation Token.

Tokens are minted by the sandbox's Forge host with its RSA key and checked by the app against the
JWKS the sandbox serves over HTTP, as Atlassian's would be. Each way a token can be wrong is
answered 401 with a JSON body, and no token ever reaches a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from flask.testing import FlaskClient

from sandbox.forge_host import ForgeHost
from sandbox.seed import account_id
from sandbox.server import SandboxServer

from .conftest import Mint

Claims = dict[str, Any]


def _b64(data: bytes) -> str:
    """base64url without padding, as JWTs encode their parts."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: Claims, signature: bytes = b"") -> str:
    """A JWT put together by hand (for algorithms a JWT library refuses to produce)."""
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{_b64(signature)}"


def _post(client: FlaskClient, token: str, body: dict[str, Any] | None = None) -> Any:
    """POST to the issue panel endpoint with the token."""
    return client.post("/forge/panel", json=body or {"issueKey": "ENG-57"},
                       headers={"Authorization": f"Bearer {token}",
                                "x-forge-oauth-user": f"user-{token[-12:]}"})


@pytest.fixture
def claims_for(forge: ForgeHost, sandbox: SandboxServer) -> Callable[[str], Claims]:
    """The claims of a valid panel token for a login, to be spoiled by a test."""
    def make(login: str) -> Claims:
        return forge.claims(sandbox.state.users[account_id(login)], site_url=sandbox.url,
                            module_key="okr-panel", issue_key="ENG-57")
    return make


def test_a_valid_token_gets_the_kr_cards_of_the_issues_epic(client: FlaskClient, fit: Mint) -> None:
    response = _post(client, fit("dave", "ENG-57"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    # ENG-57 is a story under the epic ENG-1, which drives CO-1.1 (everyone) and ENG-1.1 (engineering)
    assert (body["issue"], body["epic"]) == ("ENG-57", "ENG-1")
    assert [kr["id"] for kr in body["krs"]] == ["CO-1.1", "ENG-1.1"]
    assert body["hidden"] == 0


def _spoil(name: str, claims: Claims, forge: ForgeHost) -> str:
    """A token that is wrong in the way `name` says."""
    now = int(datetime.now(UTC).timestamp())
    if name == "bad signature":
        other = ForgeHost()
        return other.sign(claims, kid=forge.kid)  # right key id, another key
    if name == "wrong aud":
        return forge.sign({**claims, "aud": "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000"})
    if name == "wrong iss":
        return forge.sign({**claims, "iss": "forge/someone-else"})
    if name == "expired":
        return forge.sign({**claims, "iat": now - 120, "nbf": now - 120, "exp": now - 60})
    if name == "not yet valid":
        return forge.sign({**claims, "nbf": now + 120, "exp": now + 300})
    if name in ("missing jti", "missing exp", "missing iat", "missing nbf"):
        return forge.sign({k: v for k, v in claims.items() if k != name.split()[1]})
    if name == "no principal":
        return forge.sign({k: v for k, v in claims.items() if k != "principal"})
    if name == "unknown kid":
        return ForgeHost().sign(claims)  # its own fresh key id, never published
    if name == "alg none":
        return _unsigned({"alg": "none", "typ": "JWT", "kid": forge.kid}, claims)
    if name == "HS256 with the public key":
        public = forge.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        head = {"alg": "HS256", "typ": "JWT", "kid": forge.kid}
        signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(claims).encode())}".encode()
        return f"{signing_input.decode()}.{_b64(hmac.new(public, signing_input, hashlib.sha256).digest())}"
    if name == "not a JWT":
        return "not-a-jwt"
    raise AssertionError(name)


SPOILED = ["bad signature", "wrong aud", "wrong iss", "expired", "not yet valid", "missing jti",
           "missing exp", "missing iat", "missing nbf", "no principal", "unknown kid", "alg none",
           "HS256 with the public key", "not a JWT"]


def test_every_spoiled_token_is_refused_with_401_and_a_json_body(
        client: FlaskClient, forge: ForgeHost, claims_for: Callable[[str], Claims],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = {name: _spoil(name, claims_for("dave"), forge) for name in SPOILED}
    for name, token in tokens.items():
        response = _post(client, token)
        assert response.status_code == 401, name
        assert response.headers["Content-Type"] == "application/json", name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert "error" in response.get_json(), name
        assert "krs" not in response.get_json(), name
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for name, token in tokens.items():
        for part in token.split("."):
            assert not part or part not in logged, f"{name}: a token part reached the log"
        assert f"user-{token[-12:]}" not in logged, f"{name}: x-forge-oauth-user reached the log"


def test_no_token_and_a_non_bearer_header_are_refused(client: FlaskClient) -> None:
    assert client.post("/forge/panel", json={"issueKey": "ENG-57"}).status_code == 401
    response = client.post("/forge/panel", json={"issueKey": "ENG-57"},
                           headers={"Authorization": "Basic eDp5"})
    assert response.status_code == 401
    assert response.is_json


def _jwks_fetches(sandbox: SandboxServer) -> int:
    """How often the sandbox's JWKS was fetched since its request log was last cleared."""
    log = sandbox.app.extensions["okrbridge_sandbox_runtime"].log
    return sum(1 for e in log.snapshot() if e["path"] == "/_sandbox/forge/jwks.json")


def test_an_unknown_key_id_refreshes_the_keys_once_then_refuses(
        client: FlaskClient, app: Any, fit: Mint, claims_for: Callable[[str], Claims],
        sandbox: SandboxServer) -> None:
    assert _post(client, fit("dave", "ENG-57")).status_code == 200  # keys fetched once
    keys = app.extensions["okrbridge_web"].verifier.keys
    keys.min_refresh_seconds = 0.0  # allow the refresh right after the first fetch
    sandbox.app.extensions["okrbridge_sandbox_runtime"].log.clear()
    assert _post(client, ForgeHost().sign(claims_for("dave"))).status_code == 401
    assert _jwks_fetches(sandbox) == 1
    # refreshes are spaced: a burst of made-up key ids does not become a burst of downloads
    keys.min_refresh_seconds = 3600.0
    for _ in range(3):
        assert _post(client, ForgeHost().sign(claims_for("dave"))).status_code == 401
    assert _jwks_fetches(sandbox) == 1


def test_a_rotated_key_is_found_by_the_refresh(client: FlaskClient, app: Any, forge: ForgeHost, fit: Mint,
                                               claims_for: Callable[[str], Claims]) -> None:
    assert _post(client, fit("dave", "ENG-57")).status_code == 200
    keys = app.extensions["okrbridge_web"].verifier.keys
    keys.min_refresh_seconds = 0.0  # the rotation happens right after the first fetch here
    rotated = ForgeHost(app_id=forge.app_id, kid=forge.kid)
    forge._key = rotated.key  # the sandbox now signs (and publishes) with a new key under a new id
    forge.kid = "rotated-key"
    assert _post(client, forge.sign(claims_for("dave"))).status_code == 200


def test_a_malformed_body_is_400_json_not_401(client: FlaskClient, fit: Mint) -> None:
    token = fit("dave")
    response = client.post("/forge/panel", data="[1, 2]", content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.is_json) == (400, True)
    response = client.post("/forge/panel", json={"issueKey": "not a key"},
                           headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.is_json) == (400, True)
    response = client.post("/forge/nothing-here", json={}, headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.is_json) == (404, True)
