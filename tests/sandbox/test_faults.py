"""Injected faults over real HTTP: 429 with rate-limit headers, latency, 5xx shares, slow answers,
dropped connections, malformed bodies; the runtime controls and the request log."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from sandbox.faults import FaultConfig, FaultConfigError, FaultInjector
from sandbox.server import SandboxServer

from .conftest import api_root, session_for

StartSandbox = Callable[..., SandboxServer]


def _myself(sandbox: SandboxServer, **kwargs: object) -> requests.Response:
    """One cheap authenticated Jira request."""
    return session_for().get(f"{api_root(sandbox)}/myself", **kwargs)  # type: ignore[arg-type]


def test_requests_over_the_per_second_budget_answer_429_with_rate_limit_headers(
        sandbox_factory: StartSandbox) -> None:
    sandbox = sandbox_factory(faults={"rate_limit": 3})
    answers = [_myself(sandbox) for _ in range(12)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and len(refused) <= 12 - 3
    headers = refused[0].headers
    assert headers["Retry-After"] == "1" and headers["X-RateLimit-Limit"] == "3"
    assert headers["X-RateLimit-Remaining"] == "0" and headers["RateLimit-Reason"] == "jira-burst-based"
    assert headers["X-RateLimit-Reset"].endswith("Z")
    assert refused[0].json()["errorMessages"]
    accepted = next(a for a in answers if a.status_code == 200)
    assert accepted.headers["X-RateLimit-Limit"] == "3"


def test_the_budget_refills_every_second() -> None:
    clock = [1000.2]
    injector = FaultInjector(FaultConfig(rate_limit=2), now=lambda: clock[0])
    kinds = [injector.plan("/rest/api/3/myself").kind for _ in range(3)]
    assert kinds == [None, None, "429"]
    clock[0] = 1001.0
    assert injector.plan("/rest/api/3/myself").kind is None


def test_added_latency_is_observed_and_can_target_a_path_prefix(sandbox_factory: StartSandbox) -> None:
    sandbox = sandbox_factory(faults={"latency_by_prefix": {"/rest/api/3/search": 300}})
    started = time.perf_counter()
    _myself(sandbox)
    quick = time.perf_counter() - started
    started = time.perf_counter()
    session_for().post(f"{api_root(sandbox)}/search/approximate-count", json={"jql": "project = ENG"})
    slow = time.perf_counter() - started
    assert slow >= 0.3 > quick
    requests.put(f"{sandbox.url}/_sandbox/faults", json={"latency_ms": 200})
    started = time.perf_counter()
    _myself(sandbox)
    assert time.perf_counter() - started >= 0.2


def test_error_share_is_close_to_the_setting_and_repeats_with_the_same_seed(
        sandbox_factory: StartSandbox) -> None:
    runs = []
    for _ in range(2):
        sandbox = sandbox_factory(faults={"error_rate": 0.3, "seed": 42})
        runs.append([_myself(sandbox) for _ in range(200)])
    statuses = [[r.status_code for r in run] for run in runs]
    assert statuses[0] == statuses[1]
    failures = [s for s in statuses[0] if s >= 500]
    assert 0.2 < len(failures) / 200 < 0.4 and {500, 503} <= set(failures)
    unavailable = next(r for r in runs[0] if r.status_code == 503)
    assert unavailable.headers["Retry-After"] == "1" and unavailable.json()["errorMessages"]


def test_a_dropped_connection_reaches_the_client_as_a_connection_error(sandbox_factory: StartSandbox) -> None:
    sandbox = sandbox_factory(faults={"drop_rate": 1.0})
    with pytest.raises(requests.ConnectionError):
        _myself(sandbox)
    requests.delete(f"{sandbox.url}/_sandbox/faults")
    assert _myself(sandbox).status_code == 200
    log = requests.get(f"{sandbox.url}/_sandbox/requests").json()["requests"]
    assert [e["status"] for e in log if e["path"].endswith("/myself")] == [None, 200]


def test_slow_answers_outlast_a_client_timeout(sandbox_factory: StartSandbox) -> None:
    sandbox = sandbox_factory(faults={"slow_seconds": 2.0, "script": ["slow"]})
    with pytest.raises(requests.ReadTimeout):
        _myself(sandbox, timeout=0.3)
    assert _myself(sandbox, timeout=5).status_code == 200


def test_malformed_answers_are_not_json(sandbox_factory: StartSandbox) -> None:
    sandbox = sandbox_factory(faults={"script": ["malformed"]})
    broken = _myself(sandbox)
    assert broken.status_code == 200 and broken.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        broken.json()
    assert _myself(sandbox).json()["displayName"] == "Alice Andersen"


def test_cut_off_answers_announce_a_body_they_do_not_send(sandbox_factory: StartSandbox) -> None:
    sandbox = sandbox_factory(faults={"script": ["cut"]})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _myself(sandbox)
    assert _myself(sandbox).json()["displayName"] == "Alice Andersen"


def test_faults_change_at_runtime_and_never_touch_the_admin_api(cloud_sandbox: SandboxServer) -> None:
    admin = f"{cloud_sandbox.url}/_sandbox/faults"
    changed = requests.put(admin, json={"error_rate": 1.0, "seed": 1})
    assert changed.status_code == 200 and changed.json()["error_rate"] == 1.0
    assert _myself(cloud_sandbox).status_code in (500, 503)
    assert requests.get(f"{cloud_sandbox.url}/_sandbox/stats").status_code == 200
    assert requests.put(admin, json={"error_rate": 2}).status_code == 400
    assert requests.put(admin, json={"bogus": 1}).status_code == 400
    assert requests.delete(admin).json()["error_rate"] == 0.0
    assert _myself(cloud_sandbox).status_code == 200


def test_fault_settings_are_checked() -> None:
    with pytest.raises(FaultConfigError):
        FaultConfig.from_mapping({"drop_rate": 0.6, "error_rate": 0.6})
    with pytest.raises(FaultConfigError):
        FaultConfig.from_mapping({"script": ["explode"]})
    assert FaultConfig.from_mapping({"paths": "/rest/api/3/search"}).paths == ("/rest/api/3/search",)


def test_random_faults_can_be_limited_to_path_prefixes(sandbox_factory: StartSandbox) -> None:
    sandbox = sandbox_factory(faults={"error_rate": 1.0, "paths": ["/rest/api/3/search"]})
    assert _myself(sandbox).status_code == 200
    count = session_for().post(f"{api_root(sandbox)}/search/approximate-count", json={"jql": "project = ENG"})
    assert count.status_code >= 500


def test_request_log_records_each_request_and_can_be_cleared(cloud_sandbox: SandboxServer) -> None:
    requests.delete(f"{cloud_sandbox.url}/_sandbox/requests")
    _myself(cloud_sandbox)
    requests.get(f"{api_root(cloud_sandbox)}/myself")       # anonymous: 401
    log = requests.get(f"{cloud_sandbox.url}/_sandbox/requests").json()
    entries = [e for e in log["requests"] if e["path"].endswith("/myself")]
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 200), ("GET", 401)]
    assert all(e["duration_ms"] >= 0 and e["eval_ms"] == 0 for e in entries)
    assert entries[0]["user"] and entries[1]["user"] is None
    assert log["summary"]["requests"] >= 2
    assert requests.delete(f"{cloud_sandbox.url}/_sandbox/requests").status_code == 204
    assert requests.get(f"{cloud_sandbox.url}/_sandbox/requests").json()["requests"] == []
