"""Syncing against the live sandbox over HTTP, Jira Cloud and Data Center alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from okrbridge.domain import SourceKind
from okrbridge.explanation import JqlCount
from okrbridge.sync import LeadershipLost
from okrbridge.workspace import grades, jira_connection, resolve_period, sync
from sandbox.server import SandboxServer
from tests.okr_files import BUGS_DONE, two_kr_okrs
from tests.sync.conftest import MakeWorkspace, sandbox_count

BAD_SECOND = "project = ENG AND labelz = broken"


def test_synced_values_equal_the_sandboxs_own_counts(sandbox: SandboxServer,
                                                     make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(sandbox)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.failed == {}
    assert report.deployment == sandbox.state.deployment
    checked = 0
    for kr in ws.catalog.key_results():
        snapshot = ws.store.latest_snapshot(kr.id)
        if kr.source.kind is SourceKind.JQL_COUNT:
            assert snapshot is not None and snapshot.value == sandbox_count(sandbox, kr.source.jql or "")
            assert snapshot.explanation.jql == kr.source.jql
            checked += 1
        elif kr.source.kind is SourceKind.JQL_RATIO:
            numerator = sandbox_count(sandbox, kr.source.numerator or "")
            denominator = sandbox_count(sandbox, kr.source.denominator or "")
            assert snapshot is not None and snapshot.value == pytest.approx(100 * numerator / denominator)
            assert snapshot.explanation.denominator == JqlCount(kr.source.denominator or "", denominator)
            checked += 1
        if snapshot is not None and snapshot.sync_run_id:
            assert snapshot.explanation.deployment == sandbox.state.deployment
    assert checked >= 5


def test_grades_show_the_synced_values(cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    now = datetime.now(UTC)
    [report] = grades(ws, resolve_period(ws, None, now), now=now)
    graded = {kr.id: kr for objective in report.objectives for kr in objective.krs}
    snapshot = ws.store.latest_snapshot("CO-1.1")
    assert snapshot is not None
    assert graded["CO-1.1"].value == snapshot.value
    assert graded["CO-1.1"].score == ws.score_of(snapshot)
    assert graded["CO-1.1"].explanation == snapshot.explanation
    assert snapshot.explanation.numerator is not None
    assert snapshot.explanation.numerator.jql.startswith("project = WEB")


def test_identical_jql_is_sent_once_per_sync(cloud_sandbox: SandboxServer,
                                             make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, two_kr_okrs(BUGS_DONE), full_sync_hours=0)  # no change probes
    requests.delete(f"{cloud_sandbox.url}/_sandbox/requests", timeout=5)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    entries = requests.get(f"{cloud_sandbox.url}/_sandbox/requests", timeout=5).json()["requests"]
    counts = [e for e in entries if e["path"].endswith("/search/approximate-count")]
    assert len(counts) == 1 == report.questions
    assert sorted(report.synced) == ["ENG-9.1", "ENG-9.2"]
    assert report.requests == len([e for e in entries if e["path"].startswith("/rest/")])


def test_each_run_reports_its_own_requests_on_a_shared_connection(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, two_kr_okrs(), full_sync_hours=0)  # every sync asks everything
    with jira_connection(ws.settings) as jira:
        first, second = sync(ws, jira), sync(ws, jira)
    assert first.requests == 3  # serverInfo (deployment "auto") and two counts
    assert second.requests == 2
    assert second.duration_seconds > 0


def test_a_bad_jql_fails_only_its_kr_and_keeps_its_last_good_value(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, two_kr_okrs())
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    good = ws.store.latest_snapshot("ENG-9.2")
    assert good is not None

    ws = make_workspace(cloud_sandbox, two_kr_okrs(BAD_SECOND))
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.synced == ["ENG-9.1"]
    assert "Field 'labelz' does not exist" in report.failed["ENG-9.2"]
    assert report.stale == ["ENG-9.2"]
    assert ws.store.latest_snapshot("ENG-9.2") == good
    state = ws.store.subject_states()["ENG-9.2"]
    assert state.stale and "labelz" in (state.error or "")
    # Its value did not change: the one reading is confirmed by the second run, not repeated.
    [reading] = ws.store.history("ENG-9.1")
    assert reading.confirmed_run_id == report.run_id and reading.confirmed_at > reading.taken_at


def test_sync_survives_429s_5xx_and_dropped_connections_without_losing_snapshots(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, remote_links=False, max_concurrency=4)
    with jira_connection(ws.settings) as jira:
        first = sync(ws, jira)
    assert first.failed == {}
    # The first answers are scripted (so each kind of fault surely happens), then 20 % fail at random.
    faults = {"script": ["429", "500", "drop", "503"], "error_rate": 0.1, "drop_rate": 0.1,
              "seed": 7, "paths": ["/rest/api"]}
    assert requests.put(f"{cloud_sandbox.url}/_sandbox/faults", json=faults, timeout=5).ok
    with jira_connection(ws.settings) as jira:
        second = sync(ws, jira)
        retries = jira.stats.retries
    assert second.failed == {}, second.failed
    assert retries > 0
    statuses = {e["status"] for e in requests.get(f"{cloud_sandbox.url}/_sandbox/requests",
                                                   timeout=5).json()["requests"]}
    assert {429, None} <= statuses and statuses & {500, 503}
    for subject in first.synced:
        [reading] = ws.store.history(subject)  # nothing changed in Jira: confirmed, not repeated
        assert reading.confirmed_run_id == second.run_id


def test_an_unreachable_jira_fails_the_run_and_keeps_every_snapshot(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    subjects = [kr.id for kr in ws.catalog.key_results()] + [kpi.id for kpi in ws.catalog.kpis]
    before = {subject: ws.store.history(subject) for subject in subjects}
    cloud_sandbox.stop()
    dead = make_workspace(cloud_sandbox, deployment="cloud", max_retries=1)
    with jira_connection(dead.settings) as jira:
        report = sync(dead, jira)
    assert report.status == "failed" and not report.synced
    assert set(report.stale) == {s for s, snaps in before.items() if snaps and s in report.failed}
    assert all("127.0.0.1" in reason for reason in report.failed.values())
    assert {subject: dead.store.history(subject) for subject in subjects} == before


def test_a_sync_whose_daemon_lost_the_lease_writes_no_values_and_closes_its_run(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, two_kr_okrs())
    with jira_connection(ws.settings) as jira, pytest.raises(LeadershipLost):
        sync(ws, jira, still_leader=lambda: False)
    assert ws.store.latest_snapshot("ENG-9.1") is None
    [run] = ws.store.runs()
    assert run.status == "failed" and "lost the leader lease" in str(run.errors)
    with jira_connection(ws.settings) as jira:
        assert sync(ws, jira, still_leader=lambda: True).synced == ["ENG-9.1", "ENG-9.2"]
