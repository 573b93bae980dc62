"""The resilience layer for Atlassian REST calls: the transport that applies the retry policy.

The policy — which failures to retry, and after how long — is pure and lives in connectors.retry_policy
(its table is in that module's docstring); every name it defines is re-exported here, so callers import
the whole layer from connectors.retry. `RetryingAdapter` is a `requests` transport adapter that asks the
policy after every attempt, sleeps through an injectable `sleep`, applies a default (connect, read)
timeout and counts what it did. `ResilientSession` is a `requests.Session` with that adapter mounted for
every http(s) URL.

When attempts run out on a retryable failure the adapter raises `RetryExhausted`, naming the method,
URL and status — callers never see the last 429, so a library above us cannot retry it again.

The adapter reads the body itself (unless the caller streams), so a body cut short is a failure the
policy sees like any other, and checks that a 2xx answer to a JSON-only request is JSON
(`MalformedAnswer` otherwise). An optional deadline (`set_deadline`) bounds everything: no request is
sent after it, no timeout or retry wait reaches past it (`DeadlineReached`).
"""

from __future__ import annotations

import json
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
    UPSERT_POSTS,
    Decision,
    MalformedAnswer,
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
    "UPSERT_POSTS",
    "DeadlineReached",
    "Decision",
    "MalformedAnswer",
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


class DeadlineReached(RetryExhausted):
    """The transport's deadline has passed (or a retry wait would pass it): the request is given up."""

    def __init__(self, method: str, url: str, attempts: int, why: str,
                 request: PreparedRequest | None = None) -> None:
        """`why` says what the deadline cut short (the request itself, or a retry's wait)."""
        super().__init__(method, url, attempts, f"deadline reached: {why}", request=request)
        self.args = (f"{method} {self.url}: deadline reached: {why}",)


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
                 monotonic: Callable[[], float] = time.monotonic,
                 pool_connections: int = 4, pool_maxsize: int = 16) -> None:
        """Make an adapter; `sleep` and the clocks are injectable so that tests never really wait."""
        # max_retries=0 keeps urllib3's own Retry out of the way: one layer decides, not two.
        super().__init__(pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0)
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._monotonic = monotonic
        self._deadline: float | None = None
        self._lock = threading.Lock()
        self._stats = TransportStats()

    def set_deadline(self, seconds: float | None) -> None:
        """From now on, give up every request `seconds` from now (None: no deadline)."""
        self._deadline = None if seconds is None else self._monotonic() + max(0.0, seconds)

    def _remaining(self) -> float | None:
        """Seconds left before the deadline (None without one)."""
        deadline = self._deadline
        return None if deadline is None else deadline - self._monotonic()

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

    def _bounded(self, timeout: tuple[float | None, float | None], method: str, url: str, attempt: int,
                 request: PreparedRequest) -> tuple[float | None, float | None]:
        """The timeout of the next attempt, cut to the time left; DeadlineReached when none is left."""
        remaining = self._remaining()
        if remaining is None:
            return timeout
        if remaining <= 0:
            raise DeadlineReached(method, url, attempt - 1, "not sent", request=request)
        connect, read = timeout
        return (remaining if connect is None else min(connect, remaining),
                remaining if read is None else min(read, remaining))

    def send(self, request: PreparedRequest, stream: bool = False, timeout: Timeout = None,
             verify: bool | str = True, cert: Any = None, proxies: dict[str, str] | None = None,
             ) -> Response:
        """Send `request`, retrying as the policy says; raise `RetryExhausted` when attempts run out."""
        method = (request.method or "GET").upper()
        url = request.url or ""
        body = request.body if isinstance(request.body, bytes | str) else None
        replayable = request.body is None or isinstance(request.body, bytes | str)
        effective = self.effective_timeout(timeout)
        attempt = 0
        while True:
            attempt += 1
            bounded = self._bounded(effective, method, url, attempt, request)
            self._add(requests_=1)
            try:
                response = super().send(request, stream=stream, timeout=bounded, verify=verify,
                                        cert=cert, proxies=proxies)
                if not stream:
                    _read_body(request, response)
            except requests.exceptions.RequestException as exc:
                decision = self.policy.decide(method, url, attempt, error=exc, now=self._clock(), body=body)
                if decision.exhausted:
                    raise RetryExhausted(method, url, attempt, decision.reason, request=request) from exc
                if not decision.retry or not replayable:
                    raise
            else:
                status = response.status_code
                decision = self.policy.decide(method, url, attempt, status=status, headers=response.headers,
                                              now=self._clock(), body=body)
                if status == 429 or (status == 503 and "Retry-After" in response.headers):
                    self._add(throttled=1)
                if decision.exhausted:
                    _release(response)
                    raise RetryExhausted(method, url, attempt, decision.reason, status=status,
                                         response=response, request=request)
                if not decision.retry or not replayable:
                    return response
                _release(response)
            remaining = self._remaining()
            if remaining is not None and decision.wait >= remaining:
                raise DeadlineReached(method, url, attempt, f"{decision.reason} would pass it",
                                      request=request)
            log.info("retrying %s %s: %s", method, safe_url(url), decision.reason)
            self._add(retries=1, waited=decision.wait)
            if decision.wait > 0:
                self._sleep(decision.wait)


def _wants_json(request: PreparedRequest) -> bool:
    """Whether the request accepts JSON only (what atlassian-python-api asks for on every REST call)."""
    accept = str(request.headers.get("Accept", "")).strip().lower()
    return accept == "application/json"


def _read_body(request: PreparedRequest, response: Response) -> None:
    """Read the whole body now, so a body cut short fails here, where the policy can retry it.

    A 2xx answer with a body, to a request that accepts JSON only, must parse as JSON: anything
    else (half a JSON document, a proxy's HTML page) is a `MalformedAnswer`.
    """
    content = response.content  # ChunkedEncodingError / ConnectionError when the body is cut short
    if not (200 <= response.status_code < 300) or not content or request.method == "HEAD":
        return
    if not _wants_json(request):
        return
    try:
        json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        content_type = response.headers.get("Content-Type", "")
        response.close()
        raise MalformedAnswer(response.status_code, content_type, content, str(exc),
                              request=request, response=response) from exc


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
                 monotonic: Callable[[], float] = time.monotonic, pool_maxsize: int = 16) -> None:
        """Mount one adapter for both schemes, so counters and the pool are shared by all requests."""
        super().__init__()
        self.transport = RetryingAdapter(policy, timeout=timeout, sleep=sleep, clock=clock,
                                         monotonic=monotonic, pool_maxsize=pool_maxsize)
        self.mount("https://", self.transport)
        self.mount("http://", self.transport)

    @property
    def stats(self) -> TransportStats:
        """The adapter's counters."""
        return self.transport.stats
