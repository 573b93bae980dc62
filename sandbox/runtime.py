"""The sandbox server's own machinery, apart from the world it simulates: faults, request log, JQL cache.

`SandboxState` is the simulated Jira/Confluence; `SandboxRuntime` is how this server behaves while
serving it. One runtime lives in `app.extensions[RUNTIME_KEY]`; handlers reach it with
`current_runtime()`.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from sandbox.faults import FaultInjector
from sandbox.jql_eval import JqlService

RUNTIME_KEY = "okrbridge_sandbox_runtime"
LOG_CAPACITY = 10_000


@dataclass
class LogEntry:
    """One answered (or dropped) request as `GET /_sandbox/requests` shows it."""

    at: str
    method: str
    path: str
    query: str
    status: int | None          # None: the connection was dropped without an answer
    duration_ms: float
    eval_ms: float              # time spent evaluating JQL for this request (0 on cache hits)
    user: str | None
    fault: str | None


@dataclass
class RequestLog:
    """The last `LOG_CAPACITY` requests plus running totals that survive the ring's turnover."""

    entries: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=LOG_CAPACITY))
    totals: Counter[str] = field(default_factory=Counter)
    duration_ms_total: float = 0.0
    eval_ms_total: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: LogEntry) -> None:
        """Record one request."""
        with self.lock:
            self.entries.append(entry)
            self.totals["requests"] += 1
            self.totals[f"status_{entry.status if entry.status is not None else 'dropped'}"] += 1
            if entry.fault:
                self.totals[f"fault_{entry.fault}"] += 1
            self.duration_ms_total += entry.duration_ms
            self.eval_ms_total += entry.eval_ms

    def snapshot(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The logged requests, oldest first (the newest `limit` when given)."""
        with self.lock:
            items = list(self.entries)
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        return [asdict(item) for item in items]

    def clear(self) -> None:
        """Forget every logged request and reset the totals."""
        with self.lock:
            self.entries.clear()
            self.totals.clear()
            self.duration_ms_total = 0.0
            self.eval_ms_total = 0.0

    def summary(self) -> dict[str, Any]:
        """Totals and averages since the last clear."""
        with self.lock:
            count = self.totals["requests"]
            return {
                "requests": count,
                "by_outcome": {k: v for k, v in sorted(self.totals.items()) if k != "requests"},
                "duration_ms_total": round(self.duration_ms_total, 3),
                "eval_ms_total": round(self.eval_ms_total, 3),
                "eval_ms_per_request": round(self.eval_ms_total / count, 3) if count else 0.0,
                "duration_ms_per_request": round(self.duration_ms_total / count, 3) if count else 0.0,
            }


@dataclass
class SandboxRuntime:
    """Faults to inject, the request log, and the JQL evaluation cache of one sandbox app."""

    faults: FaultInjector
    log: RequestLog = field(default_factory=RequestLog)
    jql: JqlService = field(default_factory=JqlService)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def current_runtime() -> SandboxRuntime:
    """The runtime of the sandbox app handling the current request."""
    runtime: SandboxRuntime = current_app.extensions[RUNTIME_KEY]
    return runtime
