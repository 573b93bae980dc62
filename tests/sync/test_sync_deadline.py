"""A sync ends by its deadline whatever Jira does, and its summary's duration is the real one."""

from __future__ import annotations

import time

from okrbridge.workspace import jira_connection, sync
from sandbox.server import SandboxServer
from tests.faults.support import set_faults
from tests.sync.conftest import MakeWorkspace

MARGIN = 3.0
"""Seconds a run may take past its deadline to store what it has (generous: CI machines are slow)."""


def _faults(server: SandboxServer, **settings: object) -> None:
    """Switch the sandbox's faults on through its admin API."""
    set_faults(server.url, settings)


def test_a_retry_after_beyond_the_cap_fails_each_request_at_once(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, max_retries=3, max_retry_wait_seconds=2.0, remote_links=False)
    with jira_connection(ws.settings) as jira:
        jira.deployment  # noqa: B018  # settle the deployment before the storm
        _faults(cloud_sandbox, script=["429"] * 500, retry_after_s=3600)
        report = sync(ws, jira)
    assert report.status == "failed" and report.synced == []
    assert report.retries == 0  # one request per question: none waited for an hour, none was repeated
    reasons = list(report.failed.values())
    assert all("Retry-After 3600s" in reason and "beyond the 2s cap" in reason for reason in reasons)


def test_a_sync_stops_asking_at_its_deadline_and_keeps_the_last_good_values(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, base_url="https://okr.example.com", max_retries=1000,
                        max_retry_wait_seconds=5.0, max_concurrency=2, sync_deadline_seconds=1.5)
    with jira_connection(ws.settings) as jira:
        good = sync(ws, jira)
        before = {kr: ws.store.latest_snapshot(kr) for kr in good.synced}
        _faults(cloud_sandbox, script=["429"] * 5000, retry_after_s=1)
        started = time.monotonic()
        report = sync(ws, jira)
        wall = time.monotonic() - started
    assert good.status == "succeeded"
    assert report.status == "failed"
    assert set(report.failed) >= set(good.synced)
    assert all("deadline reached" in reason for reason in report.failed.values())
    assert wall < 1.5 + MARGIN
    assert report.duration_seconds <= wall
    assert {kr: ws.store.latest_snapshot(kr) for kr in good.synced} == before
    assert set(report.stale) == set(good.synced)
    assert ws.store.run(report.run_id or 0).status == "failed"


def test_the_reported_duration_includes_writing_the_remote_links(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, base_url="https://okr.example.com")
    with jira_connection(ws.settings) as jira:
        jira.deployment  # noqa: B018
        _faults(cloud_sandbox, latency_by_prefix={"/rest/api/3/issue/": 100})
        started = time.monotonic()
        report = sync(ws, jira)
        wall = time.monotonic() - started
    assert report.links_written >= 5  # so the links take at least half a second of the run
    assert report.duration_seconds >= wall - 0.25
