"""The sandbox plays Forge's part: it signs Forge Invocation Tokens (FITs) with its own RSA key,
publishes that key as a JWKS, and calls an app's remote the way Forge's `invokeRemote` does.

| path | does |
|---|---|
| `GET /_sandbox/forge/jwks.json` | the public signing key (point the app's JWKS setting here) |
| `GET/PUT /_sandbox/forge` | the app id and the remote's base URL (`{"appId": ..., "remote": ...}`) |
| `POST /_sandbox/forge/token` | a fresh FIT for `{"user": login or accountId, "issueKey": ...}` |

Tokens carry the claims Forge documents: `iss` `forge/invocation-token`, `aud` the app id, `exp`
(25 s), `iat`, `nbf`, `jti`, `principal` (the user's accountId), `app` (id, installationId,
apiBaseUrl, environment, module) and `context` (cloudId, siteUrl, moduleKey, localId, extension).
Like the rest of `/_sandbox/*`, these answer loopback clients only.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Flask, Response, current_app, jsonify, request

from sandbox.model import User
from sandbox.state import current_state

FORGE_KEY = "okrbridge_sandbox_forge"
ISSUER = "forge/invocation-token"
APP_ID = "ari:cloud:ecosystem::app/6f6b7262-7269-4467-a5e0-73616e64626f"
"""The app id the sandbox's Forge host signs for by default (configure the app with the same)."""
TOKEN_LIFETIME = timedelta(seconds=25)  # as Forge's own tokens
CLOUD_ID = "6f6b7262-0000-4000-8000-73616e64626f"
REMOTE_TIMEOUT = 25.0  # Forge gives a remote 25 s to answer


@dataclass
class RemoteAnswer:
    """What `invokeRemote` hands the frontend: status, headers and body (JSON when it is JSON)."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class ForgeHost:
    """The signing key, the app it signs for, and where that app's remote answers."""

    app_id: str = APP_ID
    remote: str | None = None
    kid: str = field(default_factory=lambda: f"sandbox-{uuid.uuid4().hex[:12]}")
    installation_id: str = "ari:cloud:ecosystem::installation/6f6b7262-1111-4000-8000-73616e64626f"
    lock: threading.Lock = field(default_factory=threading.Lock)
    _key: rsa.RSAPrivateKey | None = None

    @property
    def key(self) -> rsa.RSAPrivateKey:
        """The signing key, made on first use (most sandboxes never sign a token)."""
        with self.lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def jwks(self) -> dict[str, Any]:
        """The public key as a JSON Web Key Set."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def claims(self, user: User, *, site_url: str, module_key: str, issue_key: str | None = None,
               now: datetime | None = None) -> dict[str, Any]:
        """The claims of a FIT for `user` calling from `module_key` (on `issue_key`, for a panel)."""
        moment = now or datetime.now(UTC)
        extension: dict[str, Any] = {"type": "jira:issuePanel" if issue_key else "jira:globalPage"}
        if issue_key:
            extension["issue"] = {"key": issue_key, "type": "Epic"}
            extension["project"] = {"key": issue_key.split("-", 1)[0]}
        return {
            "iss": ISSUER, "aud": self.app_id, "principal": user.account_id, "jti": uuid.uuid4().hex,
            "iat": int(moment.timestamp()), "nbf": int(moment.timestamp()),
            "exp": int((moment + TOKEN_LIFETIME).timestamp()),
            "app": {"id": self.app_id, "installationId": self.installation_id,
                    "apiBaseUrl": f"{site_url}", "environment": {"type": "DEVELOPMENT", "id": "sandbox"},
                    "module": {"type": extension["type"], "key": module_key}},
            "context": {"cloudId": CLOUD_ID, "siteUrl": site_url, "moduleKey": module_key,
                        "localId": f"{module_key}-{uuid.uuid4().hex[:8]}", "extension": extension},
        }

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        """`claims` signed with the host's key (RS256, header `kid`)."""
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def mint(self, user: User, *, site_url: str, module_key: str = "okr-panel", issue_key: str | None = None,
             now: datetime | None = None) -> str:
        """A fresh FIT for `user` (see `claims`)."""
        return self.sign(self.claims(user, site_url=site_url, module_key=module_key, issue_key=issue_key,
                                     now=now))

    def invoke(self, user: User, path: str, body: dict[str, Any], *, site_url: str, module_key: str,
               issue_key: str | None = None) -> RemoteAnswer:
        """POST `body` to `path` on the remote with a fresh FIT, as `invokeRemote` does (no redirects)."""
        if not self.remote:
            return RemoteAnswer(0, {}, {"error": "no remote is configured (PUT /_sandbox/forge)"})
        token = self.mint(user, site_url=site_url, module_key=module_key, issue_key=issue_key)
        try:
            response = requests.post(f"{self.remote.rstrip('/')}{path}", json=body, timeout=REMOTE_TIMEOUT,
                                     allow_redirects=False,
                                     headers={"Authorization": f"Bearer {token}",
                                              "x-b3-traceid": uuid.uuid4().hex[:16],
                                              "x-b3-spanid": uuid.uuid4().hex[:16]})
        except requests.RequestException as error:
            return RemoteAnswer(0, {}, {"error": f"the remote could not be reached: {type(error).__name__}"})
        try:
            parsed: Any = response.json()
        except ValueError:
            parsed = response.text
        return RemoteAnswer(response.status_code, dict(response.headers), parsed)


def forge_host(app: Flask | None = None) -> ForgeHost:
    """The Forge host of `app` (default: the app handling the current request)."""
    host: ForgeHost = (app or current_app).extensions[FORGE_KEY]
    return host


def _find_user(name: str) -> User | None:
    """A user by login, email or accountId."""
    state = current_state()
    return state.users.get(name) or state.user_by_login(name)


def register(app: Flask, host: ForgeHost | None = None) -> None:
    """Mount the Forge host's admin endpoints on `app`."""
    app.extensions[FORGE_KEY] = host or ForgeHost()
    bp = Blueprint("sandbox_forge", __name__, url_prefix="/_sandbox/forge")

    @bp.get("/jwks.json")
    def jwks() -> Response:
        """The public signing key."""
        return jsonify(forge_host().jwks())

    @bp.get("")
    def get_config() -> Response:
        """The app id and remote in use."""
        found = forge_host()
        return jsonify({"appId": found.app_id, "remote": found.remote, "kid": found.kid})

    @bp.put("")
    def put_config() -> Response:
        """Set the app id and/or the remote's base URL."""
        body = request.get_json(force=True, silent=True)
        found = forge_host()
        if not isinstance(body, dict):
            return _bad('give {"remote": "http://..."} and/or {"appId": "ari:cloud:ecosystem::app/..."}')
        if "remote" in body:
            found.remote = str(body["remote"]) if body["remote"] else None
        if "appId" in body:
            found.app_id = str(body["appId"])
        return get_config()

    @bp.post("/token")
    def token() -> Response:
        """A fresh FIT for a user, optionally in an issue panel's context."""
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("user"), str):
            return _bad('give {"user": "<login, email or accountId>", "issueKey": "KEY-1" (optional)}')
        user = _find_user(body["user"])
        if user is None:
            return _bad(f"no user {body['user']!r}")
        issue_key = body.get("issueKey") if isinstance(body.get("issueKey"), str) else None
        minted = forge_host().mint(user, site_url=request.host_url.rstrip("/"), issue_key=issue_key,
                                   module_key="okr-panel" if issue_key else "okr-dashboard")
        return jsonify({"token": minted, "principal": user.account_id})

    app.register_blueprint(bp)


def _bad(message: str) -> Response:
    """400 with a plain message."""
    response = jsonify({"error": message})
    response.status_code = 400
    return response
