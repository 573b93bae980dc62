"""The retry policy for Atlassian REST calls: after a failed attempt, try again, and after how long?

`RetryPolicy.decide` answers that one question. It does no IO and reads no clock of its own, so it is
tested as a table; the transport that applies it (`RetryingAdapter`, `ResilientSession`) lives in
connectors.retry, which also re-exports every name defined here.

| what came back                          | methods retried              | wait                              |
|-----------------------------------------|------------------------------|-----------------------------------|
| 429                                     | any                          | Retry-After / X-RateLimit-Reset   |
| 503 with a Retry-After                  | any                          | Retry-After                       |
| other 5xx (not 501/505)                 | idempotent                   | exponential backoff               |
| connect failure (request never sent)    | any                          | exponential backoff               |
| read timeout, connection reset, a body  | idempotent                   | exponential backoff               |
| cut short, a 2xx body that is not JSON  |                              |                                   |
| any other 4xx, TLS errors, bad URLs     | none                         | —                                 |

Idempotent: GET, HEAD, OPTIONS, PUT, DELETE; the read-only POSTs (searches and counts); and the
upsert POSTs (a remote link with a `globalId`: Jira updates the link with that id in place, so
sending it twice leaves one link).

A wait hint beyond `max_wait` (a Retry-After of an hour) means "give up this request now": the
decision is `exhausted` at once, rather than a capped wait that would only be refused again.
A 429 with neither header backs off exponentially. Every wait gets up to `jitter` (a fraction) added,
so that the sync's worker threads, throttled together, do not come back together; waits are capped at
`max_wait` and attempts at `max_attempts`. A retryable failure on the last attempt yields a `Decision`
marked `exhausted`, which the transport turns into `RetryExhausted`.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""RFC 9110 idempotent methods (TRACE left out: nothing here sends it)."""

READ_ONLY_POSTS: tuple[str, ...] = (
    # Jira searches and counts are POSTs only because a JQL can be too long for a URL; they change
    # nothing, so repeating one is as safe as repeating a GET. The optional context path covers
    # Data Center installs served under e.g. /jira.
    r"/rest/api/[^/]+/search(?:/jql|/approximate-count)?/?$",
)

UPSERT_POSTS: tuple[str, ...] = (
    # A remote link POSTed with a globalId replaces the link with that id: an upsert, so repeating
    # it is safe. Without a globalId every POST adds a link, so the body is checked too.
    r"/rest/api/[^/]+/issue/[^/]+/remotelink/?$",
)

THROTTLE_STATUSES = frozenset({429})
NEVER_RETRIED_5XX = frozenset({501, 505})
"""501 Not Implemented and 505 HTTP Version Not Supported will answer the same way every time."""

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
    upsert_posts: tuple[str, ...] = UPSERT_POSTS
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Reject settings that would make the policy loop forever or wait a negative time."""
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_wait < 0 or self.base_backoff < 0 or self.jitter < 0:
            raise ValueError("max_wait, base_backoff and jitter must not be negative")

    def is_idempotent(self, method: str, url: str, body: bytes | str | None = None) -> bool:
        """Whether sending the request twice has the same effect as sending it once.

        `body` matters only for upsert POSTs, which are idempotent when they carry a globalId.
        """
        verb = method.upper()
        if verb in IDEMPOTENT_METHODS:
            return True
        if verb == "POST":
            path = _path(url)
            if any(re.search(pattern, path) for pattern in self.read_only_posts):
                return True
            return (any(re.search(pattern, path) for pattern in self.upsert_posts)
                    and _has_global_id(body))
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

    def _hinted(self, hint: float, reason: str, attempt: int) -> Decision:
        """Wait as the server asked, or give up now when it asks for longer than `max_wait`."""
        if hint > self.max_wait:
            return Decision(False, 0.0, f"{reason}, beyond the {self.max_wait:g}s cap; gave up at once",
                            exhausted=True)
        return self._finish(hint, reason, attempt)

    def decide(self, method: str, url: str, attempt: int, status: int | None = None,
               headers: Mapping[str, str] | None = None, error: BaseException | None = None,
               *, now: float | None = None, body: bytes | str | None = None) -> Decision:
        """Decide what to do after attempt number `attempt` (1-based) ended in `status` or `error`.

        `now` (epoch seconds) anchors HTTP-date and ISO-8601 headers; the transport passes its clock.
        `body` is the request's, for telling an upsert POST from one that adds. A success (status
        below 400, no error) is never retried.
        """
        now = time.time() if now is None else now
        verb = method.upper()
        idempotent = self.is_idempotent(verb, url, body)
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
            return self._hinted(hint, reason, attempt)
        if status == 503:
            hint = parse_retry_after(_header(headers, "Retry-After"), now)
            if hint is not None:
                # A 503 with Retry-After is the server saying "not now" before doing anything.
                return self._hinted(hint, f"HTTP 503 unavailable; Retry-After {hint:g}s", attempt)
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
                      | requests.exceptions.ChunkedEncodingError | MalformedAnswer):
            if not idempotent:
                return Decision(False, 0.0, f"{name} on a {verb} that may have taken effect; not repeated")
            return self._finish(self.backoff(attempt), name, attempt)
        return Decision(False, 0.0, f"{name} is not retryable")


class MalformedAnswer(requests.exceptions.RequestException):
    """A 2xx answer whose body is not the JSON that was asked for (cut off, or a proxy's page).

    The message says what came: the status, the content type and the first bytes of the body.
    """

    def __init__(self, status: int, content_type: str, body: bytes, detail: str, **kwargs: Any) -> None:
        """Describe the answer; the body is shown only as its first bytes."""
        self.status = status
        self.content_type = content_type or "no content type"
        self.head = body[:60]
        more = "…" if len(body) > len(self.head) else ""
        super().__init__(f"expected a JSON answer, got HTTP {status} ({self.content_type}, {len(body)} bytes "
                         f"starting {self.head!r}{more}): {detail}", **kwargs)


def _has_global_id(body: bytes | str | None) -> bool:
    """Whether a JSON request body is an object carrying a non-empty globalId."""
    if body is None:
        return False
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and bool(data.get("globalId"))


def describe_error(error: BaseException) -> str:
    """The innermost cause of a transport error as `Type: text`, without urllib3's object reprs.

    Never a header's value: the HTTP library's InvalidHeader text quotes it, and the value of the
    Authorization header is a credential.
    """
    if isinstance(error, requests.exceptions.InvalidHeader):
        return ("InvalidHeader: a request header has whitespace or control characters HTTP does not "
                "allow (check the token; its value is not shown)")
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
