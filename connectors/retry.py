"""The resilience layer for Atlassian REST calls: a pure retry policy and the transport that applies it.

`RetryPolicy.decide` answers one question — after this failed attempt, try again, and after how long?
It does no IO and reads no clock of its own, so it is tested as a table. `RetryingAdapter` is a
`requests` transport adapter that asks the policy after every attempt, sleeps through an injectable
`sleep`, applies a default (connect, read) timeout and counts what it did. `ResilientSession` is a
`requests.Session` with that adapter mounted for every http(s) URL.

| what came back                          | methods retried              | wait                              |
|-----------------------------------------|------------------------------|-----------------------------------|
| 429                                     | any                          | Retry-After / X-RateLimit-Reset   |
| 503 with a Retry-After                  | any                          | Retry-After                       |
| other 5xx (not 501/505)                 | idempotent, read-only POSTs  | exponential backoff               |
| connect failure (request never sent)    | any                          | exponential backoff               |
| read timeout, connection reset          | idempotent, read-only POSTs  | exponential backoff               |
| any other 4xx, TLS errors, bad URLs     | none                         | —                                 |

A 429 with neither header backs off exponentially. Every wait gets up to `jitter` (a fraction) added,
so that the sync's worker threads, throttled together, do not come back together; waits are capped at
`max_wait` and attempts at `max_attempts`.
When attempts run out on a retryable failure the adapter raises `RetryExhausted`, naming the method,
URL and status — callers never see the last 429, so a library above us cannot retry it again.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""RFC 9110 idempotent methods (TRACE left out: nothing here sends it)."""

READ_ONLY_POSTS: tuple[str, ...] = (
    # Jira searches and counts are POSTs only because a JQL can be too long for a URL; they change
    # nothing, so repeating one is as safe as repeating a GET. The optional context path covers
    # Data Center installs served under e.g. /jira.
    r"/rest/api/[^/]+/search(?:/jql|/approximate-count)?/?$",
)

THROTTLE_STATUSES = frozenset({429})
NEVER_RETRIED_5XX = frozenset({501, 505})
"""501 Not Implemented and 505 HTTP Version Not Supported will answer the same way every time."""

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 30.0)
"""(connect, read) seconds applied to any request sent without a timeout of its own."""


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one failed attempt.

    `retry` says whether to send the request again after `wait` seconds; `reason` explains the answer
    in words fit for a log line. `exhausted` is true when the failure was retryable but no attempt is
    left — the transport turns that into `RetryExhausted` instead of handing the failure back.
    """

    retry: bool
    wait: float
    reason: str
    exhausted: bool = False


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value looked up case-insensitively (plain dicts in tests, CaseInsensitiveDict live)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date; None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may parse naive.
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def parse_rate_limit_reset(value: str | None, now: float) -> float | None:
    """Seconds until an X-RateLimit-Reset instant (Jira sends ISO-8601; epoch seconds also accepted)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, moment.timestamp() - now)
    # A bare number is only meaningful as an epoch instant; small numbers would be ambiguous.
    if not math.isfinite(number) or number < 1e9:
        return None
    return max(0.0, number - now)


def _path(url: str) -> str:
    """The path part of a URL (no query), used to recognise read-only POSTs."""
    return urlsplit(url).path


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


@dataclass(frozen=True)
class RetryPolicy:
    """When to try an Atlassian request again, and how long to wait first. Pure: no IO, no sleeping.

    `max_attempts` counts every send, the first included. `base_backoff` is the first backoff wait,
    doubled on each further attempt. `jitter` is the largest fraction added to any wait (0.1: up to
    +10 %). `random` yields numbers in [0, 1) and is injectable so tests get exact waits.
    """

    max_attempts: int = 5
    max_wait: float = 60.0
    base_backoff: float = 0.5
    jitter: float = 0.1
    read_only_posts: tuple[str, ...] = READ_ONLY_POSTS
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Reject settings that would make the policy loop forever or wait a negative time."""
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_wait < 0 or self.base_backoff < 0 or self.jitter < 0:
            raise ValueError("max_wait, base_backoff and jitter must not be negative")

    def is_idempotent(self, method: str, url: str) -> bool:
        """Whether sending the request twice has the same effect as sending it once."""
        verb = method.upper()
        if verb in IDEMPOTENT_METHODS:
            return True
        if verb == "POST":
            path = _path(url)
            return any(re.search(pattern, path) for pattern in self.read_only_posts)
        return False

    def backoff(self, attempt: int) -> float:
        """Exponential backoff before attempt `attempt + 1`: base, 2×base, 4×base, … (no jitter yet)."""
        return self.base_backoff * (2 ** max(0, attempt - 1))

    def _finish(self, wait: float, reason: str, attempt: int) -> Decision:
        """Add jitter, cap the wait, and give up if this was the last attempt."""
        if attempt >= self.max_attempts:
            return Decision(False, 0.0, f"{reason}; gave up after {attempt} attempts", exhausted=True)
        stretched = wait * (1.0 + self.jitter * self.random())
        capped = min(self.max_wait, stretched)
        note = f" (capped at {self.max_wait:g}s)" if stretched > self.max_wait else ""
        return Decision(True, capped, f"{reason}; retry {attempt + 1} of {self.max_attempts} "
                                      f"in {capped:.2f}s{note}")

    def decide(self, method: str, url: str, attempt: int, status: int | None = None,
               headers: Mapping[str, str] | None = None, error: BaseException | None = None,
               *, now: float | None = None) -> Decision:
        """Decide what to do after attempt number `attempt` (1-based) ended in `status` or `error`.

        `now` (epoch seconds) anchors HTTP-date and ISO-8601 headers; the transport passes its clock.
        A success (status below 400, no error) is never retried.
        """
        now = time.time() if now is None else now
        verb = method.upper()
        idempotent = self.is_idempotent(verb, url)
        if error is not None:
            return self._decide_error(verb, idempotent, attempt, error)
        if status is None or status < 400:
            return Decision(False, 0.0, "succeeded")
        if status in THROTTLE_STATUSES:
            hint = parse_retry_after(_header(headers, "Retry-After"), now)
            source = "Retry-After"
            if hint is None:
                hint = parse_rate_limit_reset(_header(headers, "X-RateLimit-Reset"), now)
                source = "X-RateLimit-Reset"
            if hint is None:
                # Throttled without a hint: the request was still refused, not processed, so any
                # method may repeat it.
                return self._finish(self.backoff(attempt), f"HTTP {status} throttled, no wait hint", attempt)
            reason = f"HTTP {status} throttled; {source} {hint:g}s"
            reason_extra = _header(headers, "RateLimit-Reason")
            if reason_extra:
                reason += f" ({reason_extra})"
            return self._finish(hint, reason, attempt)
        if status == 503:
            hint = parse_retry_after(_header(headers, "Retry-After"), now)
            if hint is not None:
                # A 503 with Retry-After is the server saying "not now" before doing anything.
                return self._finish(hint, f"HTTP 503 unavailable; Retry-After {hint:g}s", attempt)
        if 500 <= status < 600 and status not in NEVER_RETRIED_5XX:
            if not idempotent:
                return Decision(False, 0.0, f"HTTP {status} on a {verb} that may have taken effect; "
                                            "not repeated")
            return self._finish(self.backoff(attempt), f"HTTP {status}", attempt)
        return Decision(False, 0.0, f"HTTP {status} is not retryable")

    def _decide_error(self, verb: str, idempotent: bool, attempt: int, error: BaseException) -> Decision:
        """Decide after a transport error: connect failures always retry, the rest only if idempotent."""
        name = describe_error(error)
        if isinstance(error, requests.exceptions.SSLError | requests.exceptions.InvalidURL
                      | requests.exceptions.InvalidSchema | requests.exceptions.MissingSchema):
            # A certificate or URL problem answers the same way every time.
            return Decision(False, 0.0, f"{name} is not retryable")
        if _never_sent(error):
            return self._finish(self.backoff(attempt), f"connection failed before sending ({name})", attempt)
        if isinstance(error, requests.exceptions.Timeout | requests.exceptions.ConnectionError
                      | requests.exceptions.ChunkedEncodingError):
            if not idempotent:
                return Decision(False, 0.0, f"{name} on a {verb} that may have taken effect; not repeated")
            return self._finish(self.backoff(attempt), name, attempt)
        return Decision(False, 0.0, f"{name} is not retryable")


def describe_error(error: BaseException) -> str:
    """The innermost cause of a transport error as `Type: text`, without urllib3's object reprs."""
    current: BaseException = error
    for _ in range(10):
        nested = getattr(current, "reason", None)
        if not isinstance(nested, BaseException):
            nested = next((a for a in current.args if isinstance(a, BaseException)), None)
        if nested is None:
            break
        current = nested
    text = re.sub(r"<[^>]+ object at 0x[0-9a-fA-F]+>:?\s*", "", str(current)).strip()
    return f"{type(current).__name__}: {text}" if text else type(current).__name__


def _never_sent(error: BaseException) -> bool:
    """Whether the error happened before any byte of the request reached the server.

    A connect timeout or a refused connection means the server never saw the request, so repeating
    even a non-idempotent POST cannot do anything twice.
    """
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    current: Any = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in {"NewConnectionError", "NameResolutionError"}:
            return True
        # requests wraps urllib3's MaxRetryError, whose `reason` holds the underlying error.
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested if nested is not None else current.__cause__ or current.__context__
    return False


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
