"""Who is viewing the dashboard, the KR pages and the API outside Jira, by `web.auth`:

- `token`: `Authorization: Bearer <token>`; each account's token comes from the environment
  variable `web.token_accounts` names for it. Only SHA-256 digests are kept, compared in constant
  time, so neither a token nor its length shows in memory dumps, logs or timings.
- `proxy`: a single-sign-on reverse proxy names the account in `web.proxy_header`. The header is
  believed only when the request comes from one of `web.trusted_proxies`; from anywhere else it is
  refused, since anyone can send a header.
- `anonymous`: nobody signs in; the viewer has no groups and sees what is visible to everyone.

The account (Cloud accountId, Data Center username) is then looked up in Jira for its groups.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from flask import Request

from okrbridge.config import Settings
from okrbridge.web.viewer import ANONYMOUS, Viewer, ViewerDirectory


class AuthRefused(Exception):
    """The request does not identify a viewer the configured mode accepts (answered 401)."""


def _digest(token: str) -> bytes:
    """The SHA-256 digest tokens are compared by."""
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class WebAuth:
    """The configured way of identifying viewers outside Jira (see the module docstring)."""

    mode: str
    token_digests: tuple[tuple[bytes, str], ...] = ()
    proxy_header: str = "X-Forwarded-User"
    proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> WebAuth:
        """The `[web]` auth settings, with the tokens read from the environment at load time."""
        web = settings.web
        digests = tuple((_digest(token), account) for account, token in settings.web_tokens().items())
        networks = tuple(ipaddress.ip_network(item, strict=False) for item in web.trusted_proxies)
        return cls(web.auth, digests, web.proxy_header, networks)

    @property
    def scheme(self) -> str:
        """The WWW-Authenticate scheme a refused request is told to use."""
        return "Bearer" if self.mode == "token" else "Proxy"

    def account(self, request: Request) -> str | None:
        """The account the request is made for (None when anonymous); AuthRefused when refused."""
        if self.mode == "anonymous":
            return None
        if self.mode == "proxy":
            return self._from_proxy(request)
        return self._from_token(request.headers.get("Authorization", ""))

    def viewer(self, request: Request, directory: ViewerDirectory) -> Viewer:
        """The viewer making the request; AuthRefused, or DirectoryUnavailable when Jira is down."""
        account = self.account(request)
        return ANONYMOUS if account is None else directory.viewer(account)

    def _from_token(self, header: str) -> str:
        """The account whose token the Bearer header carries."""
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthRefused("sign in with an API token: Authorization: Bearer <token>")
        given = _digest(token.strip())
        found = None
        for digest, account in self.token_digests:  # no early exit: every digest is compared
            if hmac.compare_digest(given, digest):
                found = account
        if found is None:
            raise AuthRefused("the API token is not valid")
        return found

    def _from_proxy(self, request: Request) -> str:
        """The account a trusted proxy names."""
        try:
            address = ipaddress.ip_address((request.remote_addr or "").split("%", 1)[0])
        except ValueError as error:
            raise AuthRefused("the request's address is unknown, so no proxy can vouch for it") from error
        if not any(address in network for network in self.proxies):
            raise AuthRefused("requests must come through the sign-in proxy")
        account = request.headers.get(self.proxy_header, "").strip()
        if not account:
            raise AuthRefused(f"the sign-in proxy named no user ({self.proxy_header} is missing)")
        return account
