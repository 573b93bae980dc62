"""Forge Invocation Tokens: the proof that a Forge Remote call comes from our Forge app, for a user.

Every call from the Forge app carries `Authorization: Bearer <FIT>`, a JWT signed by Atlassian with
RS256. It is accepted only when all of these hold:

- the header names RS256 and a key id (`kid`) found in the JWKS (Atlassian's Forge JWKS by default,
  `web.forge_jwks_url`); the algorithm is pinned, so `alg: none` and an HS256 token "signed" with
  the public key are refused before any key is used;
- the signature verifies with that key; `aud` is our app id (`web.forge_app_id`), `iss` is
  `forge/invocation-token`; `exp`, `iat`, `nbf` and `jti` are present and the times hold (with a
  few seconds' leeway for clock skew);
- `principal` names the user the call is made for.

Keys are cached. An unknown `kid` refreshes the JWKS once (Atlassian rotates keys), and if the key
is still unknown the token is refused; refreshes are spaced by `min_refresh_seconds` so a stream of
made-up key ids cannot turn into a stream of JWKS downloads. Nothing here logs a token: failures
are logged by reason only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

log = logging.getLogger(__name__)

ISSUER = "forge/invocation-token"
ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "jti", "iss", "aud")


class FitError(Exception):
    """A token that must be refused (answered 401); the text says why without quoting the token."""


class JwksUnavailable(FitError):
    """The JWKS could not be fetched or read, so no token can be checked."""


@dataclass(frozen=True)
class Invocation:
    """What a verified token says: who calls (`principal`, an accountId), from which installation
    and site, and the module context (`context.extension.issue.key` for an issue panel)."""

    principal: str
    app_id: str
    installation_id: str
    api_base_url: str
    environment: str
    context: Mapping[str, Any] = field(default_factory=dict)
    jti: str = ""

    @property
    def issue_key(self) -> str | None:
        """The issue an issue panel was opened on, from the signed context."""
        issue = ((self.context.get("extension") or {}).get("issue") or {})
        key = issue.get("key") if isinstance(issue, Mapping) else None
        return str(key) if isinstance(key, str) and key else None


class JwksCache:
    """The signing keys of a JWKS URL by key id, fetched on first use and refreshed on an unknown id."""

    def __init__(self, url: str, *, max_age: float = 3600.0, min_refresh_seconds: float = 10.0,
                 timeout: float = 5.0, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Keys are kept `max_age` seconds; unknown ids refresh at most every `min_refresh_seconds`."""
        self.url = url
        self._max_age = max_age
        self.min_refresh_seconds = min_refresh_seconds
        self._timeout = timeout
        self._session = session or requests.Session()
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> jwt.PyJWK:
        """The key with this id; FitError when it is unknown even after one refresh."""
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self._max_age:
                self._fetch(now)
            if kid not in self._keys and now - (self._fetched_at or 0.0) >= self.min_refresh_seconds:
                self._fetch(now)  # a rotated key: look once more, then refuse
            found = self._keys.get(kid)
        if found is None:
            raise FitError(f"the token's key id {kid!r} is not in the JWKS")
        return found

    def _fetch(self, now: float) -> None:
        """Download and parse the JWKS (RS256 signing keys only); JwksUnavailable on failure."""
        self.fetches += 1
        try:
            response = self._session.get(self.url, timeout=self._timeout, allow_redirects=False)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise JwksUnavailable(f"the JWKS at {self.url} could not be read: {error}") from error
        keys: dict[str, jwt.PyJWK] = {}
        for item in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(item, dict) or item.get("kty") != "RSA" or not item.get("kid"):
                continue
            if item.get("use", "sig") != "sig" or item.get("alg", ALGORITHM) != ALGORITHM:
                continue
            try:
                keys[str(item["kid"])] = jwt.PyJWK.from_json(json.dumps(item), algorithm=ALGORITHM)
            except jwt.PyJWTError as error:
                log.warning("skipping an unreadable key %r in the JWKS at %s: %s", item.get("kid"), self.url,
                            error)
        self._keys = keys
        self._fetched_at = now


class FitVerifier:
    """Checks Forge Invocation Tokens for one app id against one JWKS (see the module docstring)."""

    def __init__(self, app_id: str | None, keys: JwksCache, *, leeway: float = 5.0) -> None:
        """Tokens must be addressed to `app_id`; with None (not configured) every token is refused."""
        self.app_id = app_id
        self.keys = keys
        self.leeway = leeway

    def verify_header(self, authorization: str | None) -> Invocation:
        """The invocation an `Authorization: Bearer <FIT>` header proves; FitError otherwise."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise FitError("no Forge Invocation Token (Authorization: Bearer) on the request")
        return self.verify(token.strip())

    def verify(self, token: str) -> Invocation:
        """The invocation a FIT proves; FitError (never naming the token) when it must be refused."""
        if not self.app_id:
            raise FitError("web.forge_app_id is not configured, so no Forge app is trusted")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise FitError(f"the token is not a JWT: {error}") from error
        if header.get("alg") != ALGORITHM:
            raise FitError(f"the token is signed with {header.get('alg')!r}; only {ALGORITHM} is accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise FitError("the token's header names no key id (kid)")
        key = self.keys.key(kid)
        try:
            claims = jwt.decode(token, key=key, algorithms=[ALGORITHM], audience=self.app_id, issuer=ISSUER,
                                leeway=self.leeway, options={"require": list(REQUIRED_CLAIMS)})
        except jwt.PyJWTError as error:
            raise FitError(f"the token was refused: {error}") from error
        return _invocation(claims)


def _invocation(claims: Mapping[str, Any]) -> Invocation:
    """The parts of verified claims the web app uses; FitError when no user is named."""
    principal = claims.get("principal")
    if not isinstance(principal, str) or not principal:
        raise FitError("the token names no user (principal)")
    app = _mapping(claims.get("app"))
    context = _mapping(claims.get("context"))
    environment = app.get("environment")
    return Invocation(
        principal=principal, app_id=str(app.get("id") or claims.get("aud") or ""),
        installation_id=str(app.get("installationId") or ""), api_base_url=str(app.get("apiBaseUrl") or ""),
        environment=str(environment.get("type") if isinstance(environment, Mapping) else environment or ""),
        context=dict(context), jti=str(claims.get("jti") or ""))


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}
