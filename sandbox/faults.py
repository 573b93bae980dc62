"""Injected trouble: latency, a per-second request budget (429), 5xx answers, slow answers, dropped
connections and malformed JSON, so clients can be tested against the failures real Atlassian
services produce.

`FaultConfig` says what to inject; `FaultInjector` decides, request by request, what happens. With a
`seed` the random choices repeat exactly for the same sequence of requests. Faults apply to the Jira
and Confluence API paths only, never to `/_sandbox/*`.

Each request draws one random number, so the outcomes are mutually exclusive and their shares are
exact: [0, drop) drops, then 500/503 errors (`error_rate`, split evenly), then slow answers, then
malformed bodies (half a JSON document, announced as such), then cut-off ones (the full length is
announced, half is sent, the connection closes). A `script` of forced outcomes is consumed first,
one per request, which lets a test say "the next request answers 429" without relying on randomness
or timing.
"""

from __future__ import annotations

import contextlib
import math
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from flask import Flask, Response, g, request

from sandbox.errors import api_error, api_kind

FAULT_KINDS = ("429", "500", "503", "drop", "slow", "malformed", "cut")
RETRY_AFTER_FORMS = ("seconds", "date", "none")
_RATES = ("drop_rate", "error_rate", "slow_rate", "malformed_rate", "cut_rate")


class FaultConfigError(ValueError):
    """A fault setting is unknown or out of range; the message names it."""


@dataclass(frozen=True)
class FaultConfig:
    """What to inject. Every field defaults to "nothing"."""

    latency_ms: float = 0.0                     # added to every API request
    latency_by_prefix: dict[str, float] = field(default_factory=dict)   # extra ms per path prefix
    rate_limit: int = 0                         # requests per second (0: unlimited)
    error_rate: float = 0.0                     # share answered 500 or 503 (half each)
    retry_after_s: int = 1                      # Retry-After on 503 answers and scripted 429s
    retry_after_form: str = "seconds"           # how it is sent: seconds | date (HTTP-date) | none
    slow_rate: float = 0.0                      # share answered only after `slow_seconds`
    slow_seconds: float = 30.0
    drop_rate: float = 0.0                      # share whose connection is closed unanswered
    malformed_rate: float = 0.0                 # share whose JSON body is cut in half
    cut_rate: float = 0.0                       # share whose connection closes halfway through the body
    paths: tuple[str, ...] = ()                 # prefixes the random faults apply to (empty: all)
    seed: int | None = None
    script: tuple[str, ...] = ()                # forced outcomes for the next requests, in order

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: FaultConfig | None = None) -> FaultConfig:
        """`base` (or the defaults) with the settings in `data` applied, all checked."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultConfigError(f"unknown fault setting(s): {', '.join(unknown)}")
        changes: dict[str, Any] = {}
        for name, value in data.items():
            changes[name] = _coerce(name, value)
        config = replace(base or cls(), **changes)
        config.check()
        return config

    def check(self) -> None:
        """Raise `FaultConfigError` when a setting is out of range."""
        for name in _RATES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FaultConfigError(f"{name} must be between 0 and 1, not {value}")
        if sum(getattr(self, name) for name in _RATES) > 1.0 + 1e-9:
            raise FaultConfigError("drop_rate + error_rate + slow_rate + malformed_rate + cut_rate "
                                   "must not exceed 1")
        if self.latency_ms < 0 or any(v < 0 for v in self.latency_by_prefix.values()):
            raise FaultConfigError("latencies must not be negative")
        if self.rate_limit < 0 or self.slow_seconds < 0 or self.retry_after_s < 0:
            raise FaultConfigError("rate_limit, slow_seconds and retry_after_s must not be negative")
        if self.retry_after_form not in RETRY_AFTER_FORMS:
            raise FaultConfigError(f"retry_after_form must be one of {', '.join(RETRY_AFTER_FORMS)}, "
                                   f"not {self.retry_after_form!r}")
        bad = [item for item in self.script if item not in FAULT_KINDS]
        if bad:
            raise FaultConfigError(f"script items must be among {', '.join(FAULT_KINDS)}; got {bad}")

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-ready data."""
        data = asdict(self)
        data["paths"] = list(self.paths)
        data["script"] = list(self.script)
        return data


def _coerce(name: str, value: Any) -> Any:
    """Turn a JSON/CLI value into the type of setting `name`."""
    try:
        if name in ("latency_ms", "slow_seconds", *_RATES):
            return float(value)
        if name in ("rate_limit", "retry_after_s"):
            return int(value)
        if name == "seed":
            return None if value is None else int(value)
        if name == "latency_by_prefix":
            return {str(k): float(v) for k, v in dict(value).items()}
        if name == "retry_after_form":
            return str(value)
        if name in ("paths", "script"):
            items = [value] if isinstance(value, str) else list(value)
            return tuple(str(item) for item in items)
    except (TypeError, ValueError) as error:
        raise FaultConfigError(f"{name}: {error}") from error
    return value


@dataclass
class FaultPlan:
    """What happens to one request."""

    delay_s: float = 0.0
    kind: str | None = None                     # one of FAULT_KINDS, or None
    headers: dict[str, str] = field(default_factory=dict)   # rate-limit headers for the answer


class FaultInjector:
    """Decides each request's fate from a `FaultConfig`; thread-safe."""

    def __init__(self, config: FaultConfig | None = None, *, now: Callable[[], float] = time.time) -> None:
        """Start with `config` (no faults by default); `now` is the wall clock (seconds)."""
        self._lock = threading.Lock()
        self._now = now
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self._script = list(self._config.script)
        self._window = -1
        self._window_count = 0

    @property
    def config(self) -> FaultConfig:
        """The settings in force."""
        return self._config

    def configure(self, changes: Mapping[str, Any], *, reset: bool = False) -> FaultConfig:
        """Apply `changes` (on top of the current settings, or of none when `reset`)."""
        with self._lock:
            config = FaultConfig.from_mapping(changes, None if reset else self._config)
            self._config = config
            if reset or "seed" in changes:
                self._rng = random.Random(config.seed)
            if reset or "script" in changes:
                self._script = list(config.script)
            return config

    def plan(self, path: str) -> FaultPlan:
        """Decide what happens to a request for `path` (an API path)."""
        with self._lock:
            config = self._config
            plan = FaultPlan(delay_s=self._latency_ms(config, path) / 1000.0)
            if config.rate_limit:
                limited = self._count_against_budget(config, plan, path)
                if limited:
                    return plan
            if self._script:
                plan.kind = self._script.pop(0)
                if plan.kind == "429":
                    wait = config.retry_after_s
                    plan.headers = _refusal_headers(config.rate_limit, self._now(), wait, path,
                                                    config.retry_after_form)
                return plan
            if config.paths and not any(path.startswith(prefix) for prefix in config.paths):
                return plan
            plan.kind = self._draw(config)
            return plan

    @staticmethod
    def _latency_ms(config: FaultConfig, path: str) -> float:
        """Base latency plus the extra of the longest matching prefix."""
        matches = [prefix for prefix in config.latency_by_prefix if path.startswith(prefix)]
        extra = config.latency_by_prefix[max(matches, key=len)] if matches else 0.0
        return config.latency_ms + extra

    def _count_against_budget(self, config: FaultConfig, plan: FaultPlan, path: str) -> bool:
        """Count the request in the current one-second window; True when it is over budget."""
        now = self._now()
        window = math.floor(now)
        if window != self._window:
            self._window, self._window_count = window, 0
        limit = config.rate_limit
        if self._window_count >= limit:
            plan.kind = "429"
            plan.headers = _refusal_headers(limit, now, window + 1 - now, path, config.retry_after_form)
            return True
        self._window_count += 1
        remaining = limit - self._window_count
        plan.headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
        if remaining < 0.2 * limit:
            plan.headers["X-RateLimit-NearLimit"] = "true"
        return False

    def _draw(self, config: FaultConfig) -> str | None:
        """One random draw mapped onto the configured shares."""
        if not any(getattr(config, name) for name in _RATES):
            return None
        u = self._rng.random()
        edge = config.drop_rate
        if u < edge:
            return "drop"
        if u < edge + config.error_rate:
            return "500" if u < edge + config.error_rate / 2 else "503"
        edge += config.error_rate
        if u < edge + config.slow_rate:
            return "slow"
        edge += config.slow_rate
        if u < edge + config.malformed_rate:
            return "malformed"
        edge += config.malformed_rate
        if u < edge + config.cut_rate:
            return "cut"
        return None


def _retry_after(now: float, wait_s: float, form: str) -> dict[str, str]:
    """The Retry-After header in the configured form (delta-seconds, an HTTP-date, or none at all)."""
    if form == "none":
        return {}
    if form == "date":
        return {"Retry-After": format_datetime(datetime.fromtimestamp(math.ceil(now + wait_s), UTC),
                                               usegmt=True)}
    return {"Retry-After": str(math.ceil(wait_s))}


def _refusal_headers(limit: int, now: float, wait_s: float, path: str,
                     form: str = "seconds") -> dict[str, str]:
    """Jira's headers on a 429 at `now` (epoch seconds): when to retry, the budget, its reset, why.

    With the "none" form neither Retry-After nor X-RateLimit-Reset is sent (a bare 429).
    """
    reset_at = datetime.fromtimestamp(now + wait_s, UTC)
    headers = {
        **_retry_after(now, wait_s, form),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-NearLimit": "true",
    }
    if form != "none":
        headers["X-RateLimit-Reset"] = reset_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if api_kind(path) == "jira":
        headers["RateLimit-Reason"] = "jira-burst-based"
    return headers


def _drop_connection() -> Response:
    """Close the client's socket without an HTTP answer.

    Shutting the socket down (rather than raising) is what makes the client see a connection
    error: an exception would become a 500 answer. werkzeug's attempt to write the returned
    response then fails with a broken pipe, which it treats as a dropped connection and ignores.
    """
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        # Under Flask's test client there is no socket to close; surface the fault as an error.
        raise ConnectionAbortedError("sandbox fault: connection dropped")
    with contextlib.suppress(OSError):  # the client may have gone already
        sock.shutdown(socket.SHUT_RDWR)
    return Response(status=500)


def _cut_short(response: Response) -> None:
    """Announce the whole body, send half of it, then close the connection (a body cut short).

    The client sees the headers and a Content-Length it never receives in full: an incomplete read.
    """
    data = response.get_data()
    sock = request.environ.get("werkzeug.socket")
    if not data or sock is None:
        return  # nothing to cut, or no socket (Flask's test client): answer normally

    def half_then_close() -> Iterator[bytes]:
        """The first half of the body; then the socket is shut down."""
        yield data[: max(1, len(data) // 2)]
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    response.response = half_then_close()
    response.headers["Content-Length"] = str(len(data))


def install(app: Flask, injector: FaultInjector, sleep: Callable[[float], None] = time.sleep) -> None:
    """Register the request hooks that apply `injector`'s decisions on `app`'s API paths."""

    @app.before_request
    def inject_fault() -> Response | None:
        """Delay, refuse, fail or drop the request as planned; mark later-stage faults in `g`."""
        if api_kind(request.path) not in ("jira", "confluence"):
            return None
        plan = injector.plan(request.path)
        g.sandbox_fault_plan = plan
        g.sandbox_fault = plan.kind
        if plan.delay_s:
            sleep(plan.delay_s)
        if plan.kind == "429":
            return api_error(429, "Rate limit exceeded.", headers=plan.headers)
        if plan.kind == "500":
            return api_error(500, "Internal server error")
        if plan.kind == "503":
            config = injector.config
            retry = _retry_after(time.time(), config.retry_after_s, config.retry_after_form)
            return api_error(503, "Service unavailable. Please try again later.", headers=retry)
        if plan.kind == "drop":
            return _drop_connection()
        if plan.kind == "slow":
            sleep(injector.config.slow_seconds)
        return None

    @app.after_request
    def finish_fault(response: Response) -> Response:
        """Add rate-limit headers; cut a JSON body in half when a malformed answer was planned, or
        the connection in the middle of the body when a cut-off one was."""
        plan: FaultPlan | None = g.get("sandbox_fault_plan")
        if plan is None:
            return response
        for name, value in plan.headers.items():
            response.headers.setdefault(name, value)
        if plan.kind == "malformed" and response.is_json:
            data = response.get_data()
            if data:
                response.set_data(data[: max(1, len(data) // 2)])
        if plan.kind == "cut":
            _cut_short(response)
        return response

