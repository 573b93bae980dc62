"""The resilience layer for Atlassian REST calls: the transport that applies the retry policy.

The policy — which failures to retry, and after how long — is pure and lives in connectors.retry_policy
(its table is in that module's docstring); every name it defines is re-exported here, so callers import
the whole layer from connectors.retry. `RetryingAdapter` is a `requests` transport adapter that asks the
policy after every attempt, sleeps through an injectable `sleep`, applies a default (connect, read)
timeout and counts what it did. `ResilientSession` is a `requests.Session` with that adapter mounted for
every http(s) URL.

When attempts run out on a retryable failure the adapter raises `RetryExhausted`, naming the method,
URL and status — callers never see the last 429, so a library above us cannot retry it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response

from connectors.retry_policy import (
    IDEMPOTENT_METHODS,
    NEVER_RETRIED_5XX,
    READ_ONLY_POSTS,
    THROTTLE_STATUSES,
    Decision,
    RetryPolicy,
    describe_error,
    parse_rate_limit_reset,
    parse_retry_after,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "NEVER_RETRIED_5XX",
    "READ_ONLY_POSTS",
    "THROTTLE_STATUSES",
    "Decision",
    "ResilientSession",
    "RetryExhausted",
    "RetryPolicy",
    "RetryingAdapter",
    "Timeout",
    "TransportStats",
    "describe_error",
    "parse_rate_limit_reset",
    "parse_retry_after",
    "safe_url",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)
"""(connect, read) seconds applied to any request sent without a timeout of its own."""


def safe_url(url: str) -> str:
    """A URL fit for messages and logs: no user-info and no query string.

    Credentials never travel in our URLs, but a URL given by a user might carry `user:token@`; and a
    query string is where any other secret would sit (and where a long JQL makes messages unreadable).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RetryExhausted(requests.exceptions.RetryError):
    """A retryable failure that outlived every attempt; names the request and what came back last."""

    def __init__(self, method: str, url: str, attempts: int, reason: str, status: int | None = None,
                 response: Response | None = None, request: PreparedRequest | None = None) -> None:
        """Build the message from the request and the last failure; the URL is made safe first."""
        self.method = method
        self.url = safe_url(url)
        self.attempts = attempts
        self.status = status
        self.reason = reason
        what = f"HTTP {status}" if status is not None else reason
        message = f"{method} {self.url} still failing after {attempts} attempts: {what}"
        super().__init__(message, response=response, request=request)


@dataclass(frozen=True)
class TransportStats:
    """What the transport did so far: sends (first tries and retries), retries, seconds slept, 429/503s."""

    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    throttled: int = 0


Timeout = float | tuple[float | None, float | None] | None


class RetryingAdapter(HTTPAdapter):
    """A transport adapter that applies a `RetryPolicy` to every request it sends.

    Safe to share between threads: per-request state lives on the stack and the counters sit behind a
    lock; urllib3's pool (sized by `pool_maxsize`) hands each thread its own connection.
    """

    def __init__(self, policy: RetryPolicy | None = None, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 pool_connections: int = 4, pool_maxsize: int = 16) -> None:
        """Make an adapter; `sleep` and `clock` are injectable so that tests never really wait."""
        # max_retries=0 keeps urllib3's own Retry out of the way: one layer decides, not two.
        super().__init__(pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0)
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._stats = TransportStats()

    @property
    def stats(self) -> TransportStats:
        """A snapshot of the counters (safe to read while other threads send)."""
        with self._lock:
            return self._stats

    def _add(self, *, requests_: int = 0, retries: int = 0, waited: float = 0.0, throttled: int = 0) -> None:
        """Bump the counters atomically."""
        with self._lock:
            s = self._stats
            self._stats = TransportStats(s.requests + requests_, s.retries + retries,
                                         s.waited_seconds + waited, s.throttled + throttled)

    def effective_timeout(self, timeout: Timeout) -> tuple[float | None, float | None]:
        """The (connect, read) timeout to use: ours when none is given.

        A bare number (atlassian-python-api always passes its own) becomes the read timeout; the connect
        timeout stays at ours when smaller, so an unreachable host fails fast instead of hanging as long
        as a slow search may legitimately take.
        """
        if timeout is None:
            return self.timeout
        if isinstance(timeout, tuple):
            return timeout
        connect = min(self.timeout[0], float(timeout))
        return (connect, float(timeout))

    def send(self, request: PreparedRequest, stream: bool = False, timeout: Timeout = None,
             verify: bool | str = True, cert: Any = None, proxies: dict[str, str] | None = None,
             ) -> Response:
        """Send `request`, retrying as the policy says; raise `RetryExhausted` when attempts run out."""
        method = (request.method or "GET").upper()
        url = request.url or ""
        replayable = request.body is None or isinstance(request.body, bytes | str)
        effective = self.effective_timeout(timeout)
        attempt = 0
        while True:
            attempt += 1
            self._add(requests_=1)
            try:
                response = super().send(request, stream=stream, timeout=effective, verify=verify,
                                        cert=cert, proxies=proxies)
            except requests.exceptions.RequestException as exc:
                decision = self.policy.decide(method, url, attempt, error=exc, now=self._clock())
                if decision.exhausted:
                    raise RetryExhausted(method, url, attempt, decision.reason, request=request) from exc
                if not decision.retry or not replayable:
                    raise
            else:
                status = response.status_code
                decision = self.policy.decide(method, url, attempt, status=status, headers=response.headers,
                                              now=self._clock())
                if status == 429 or (status == 503 and "Retry-After" in response.headers):
                    self._add(throttled=1)
                if decision.exhausted:
                    _release(response)
                    raise RetryExhausted(method, url, attempt, decision.reason, status=status,
                                         response=response, request=request)
                if not decision.retry or not replayable:
                    return response
                _release(response)
            log.info("retrying %s %s: %s", method, safe_url(url), decision.reason)
            self._add(retries=1, waited=decision.wait)
            if decision.wait > 0:
                self._sleep(decision.wait)


def _release(response: Response) -> None:
    """Read and close a response we will not hand back, so its connection returns to the pool."""
    try:
        _ = response.content
    except Exception:  # a broken body must not hide the retry decision
        log.debug("could not drain a discarded response", exc_info=True)
    finally:
        response.close()


class ResilientSession(requests.Session):
    """A `requests.Session` whose http(s) traffic goes through one shared `RetryingAdapter`."""

    def __init__(self, policy: RetryPolicy | None = None, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 pool_maxsize: int = 16) -> None:
        """Mount one adapter for both schemes, so counters and the pool are shared by all requests."""
        super().__init__()
        self.transport = RetryingAdapter(policy, timeout=timeout, sleep=sleep, clock=clock,
                                         pool_maxsize=pool_maxsize)
        self.mount("https://", self.transport)
        self.mount("http://", self.transport)

    @property
    def stats(self) -> TransportStats:
        """The adapter's counters."""
        return self.transport.stats
