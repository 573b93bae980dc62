"""The fault suite: the sync against the sandbox over HTTP, with faults switched on, run after run.

The sandbox's world stays still for the whole module, so a clean sync's values are the truth every
later run is held to. After every faulted run: no earlier snapshot is lost or altered, every value
recorded equals the truth (a failure is never stored as a number), every stored epic progress is
the truth (never a 0/0 for a count that failed), a failed KR with history is stale with its reason,
no epic carries a duplicated okrbridge link, and the run ended within its deadline. A last clean
sync must then put every link back: none lost. Tiny timeouts and caps keep every wait short.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connectors.jira import JiraError
from okrbridge.demo import demo_settings
from okrbridge.store import RunStatus
from okrbridge.sync import SyncReport, dry_run
from okrbridge.sync_links import global_link_id
from okrbridge.workspace import Workspace, jira_connection, open_workspace, sync
from sandbox.server import SandboxServer
from tests.faults.support import KR_PAGES, integrity_problems, set_faults, snapshot_ids

pytestmark = pytest.mark.faults

DEADLINE = 2.0
MARGIN = 3.0
"""Seconds a run may take past its deadline to store its results (generous for loaded machines)."""
FAST = {"timeout_seconds": 0.4, "max_retries": 3, "max_retry_wait_seconds": 0.05,
        "sync_deadline_seconds": DEADLINE, "max_concurrency": 8}
LINK_PREFIX = "okrbridge:"


@dataclass
class World:
    """The sandbox, the workspace synced into it, and what a clean sync found."""

    server: SandboxServer
    ws: Workspace
    values: dict[str, float] = field(default_factory=dict)
    progress: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    links: set[tuple[str, str]] = field(default_factory=set)
    runs: list[str] = field(default_factory=list)


def _stored_progress(ws: Workspace) -> dict[tuple[str, str], tuple[int, int]]:
    """(epic, KR) -> (children done, children in all) for every current initiative."""
    return {(i.epic_key, i.kr_id): (i.children_done, i.children_total)
            for kr in ws.catalog.key_results() for i in ws.store.initiatives_for(kr.id)}


def _links(server: SandboxServer) -> list[tuple[str, str]]:
    """Every okrbridge remote link in the sandbox as (epic, globalId), duplicates kept."""
    return [(epic, link.global_id) for epic, links in server.state.remote_links.items() for link in links
            if link.global_id and link.global_id.startswith(LINK_PREFIX)]


def _clean_sync(world: World) -> SyncReport:
    """A sync with no fault at all."""
    set_faults(world.server.url, {})
    with jira_connection(world.ws.settings) as jira:
        return sync(world.ws, jira)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A Cloud sandbox and a workspace with one clean sync done, shared by every fault run."""
    folder: Path = tmp_path_factory.mktemp("faults")
    with SandboxServer(deployment="cloud", seed=1) as server:
        settings = demo_settings(server.url, folder / "okrbridge.db", dict(os.environ))
        settings = settings.model_copy(update={
            "jira": settings.jira.model_copy(update=FAST),
            "web": settings.web.model_copy(update={"base_url": KR_PAGES})})
        ws = open_workspace(settings, mode="record")
        state = World(server, ws)
        first = _clean_sync(state)
        assert first.status == "succeeded", first.failed
        latest = {s: ws.store.latest_snapshot(s) for s in first.synced}
        state.values = {s: v.value for s, v in latest.items() if v is not None and v.value is not None}
        state.progress = _stored_progress(ws)
        state.links = {(i.epic_key, global_link_id(i.kr_id)) for kr in ws.catalog.key_results()
                       for i in ws.store.initiatives_for(kr.id)}
        assert state.values and state.progress and set(_links(server)) == state.links
        yield state
        ws.close()


def _faulted_run(world: World, faults: dict[str, Any],
                 progress: Callable[[int, int], None] | None = None, *, full: bool = False,
                 ) -> SyncReport | None:
    """One sync with `faults` on (`full`: every question asked, none standing on an earlier
    answer); None when it could not even start (serverInfo unreadable)."""
    set_faults(world.server.url, faults)
    try:
        with jira_connection(world.ws.settings) as jira:
            return sync(world.ws, jira, progress=progress, full=full)
    except (JiraError, KeyboardInterrupt):
        return None
    finally:
        set_faults(world.server.url, {})


def _check(world: World, before: dict[int, tuple[str, Any, Any]], report: SyncReport | None) -> None:
    """Every invariant the module docstring lists, after one faulted run."""
    store = world.ws.store
    after = snapshot_ids(store)
    assert {k: after.get(k) for k in before} == before, "an earlier snapshot was lost or altered"
    for snapshot_id, (subject, _, value) in after.items():
        if snapshot_id not in before and subject in world.values:
            truth = world.values[subject]
            assert value == truth, f"{subject}: {value} recorded, the truth is {truth}"
    assert _stored_progress(world.ws) == world.progress
    links = _links(world.server)
    assert len(links) == len(set(links)), "a remote link was duplicated"
    assert set(links) <= world.links
    assert integrity_problems(store) == []
    assert [run.id for run in store.runs(limit=1000) if run.status is RunStatus.RUNNING] == []
    if report is None:
        return
    assert report.duration_seconds <= DEADLINE + MARGIN
    states = store.subject_states(report.failed)
    for subject, reason in report.failed.items():
        assert reason
        if subject in world.values and not reason.startswith("initiatives:"):
            assert states[subject].stale and states[subject].error, subject
            assert subject in report.stale


SCENARIOS: dict[str, dict[str, Any]] = {
    "429 storm, Retry-After in seconds": {"script": ["429"] * 40, "retry_after_s": 0},
    "429 storm, Retry-After as an HTTP-date": {"script": ["429"] * 40, "retry_after_s": 0,
                                               "retry_after_form": "date"},
    "429 storm, huge Retry-After": {"script": ["429"] * 40, "retry_after_s": 3600},
    "429 storm, no Retry-After": {"script": ["429"] * 40, "retry_after_form": "none"},
    "429 forever, huge Retry-After": {"script": ["429"] * 2000, "retry_after_s": 3600},
    "5xx burst": {"script": ["500", "503", "500"] * 12, "retry_after_s": 0},
    "5xx everywhere": {"error_rate": 1.0, "retry_after_s": 0},
    "answers slower than the timeout": {"slow_rate": 0.3, "slow_seconds": 1.0, "seed": 3},
    "dropped connections": {"drop_rate": 0.3, "seed": 4},
    "bodies cut short": {"cut_rate": 0.3, "seed": 5},
    "malformed JSON": {"malformed_rate": 0.3, "seed": 6},
    "everything at once": {"drop_rate": 0.1, "error_rate": 0.1, "slow_rate": 0.05, "slow_seconds": 1.0,
                           "malformed_rate": 0.1, "cut_rate": 0.1, "retry_after_s": 0, "seed": 7},
    "everything at once, another seed": {"drop_rate": 0.1, "error_rate": 0.1, "malformed_rate": 0.1,
                                         "cut_rate": 0.1, "retry_after_s": 0, "seed": 8},
    "remote-link writes failing": {"paths": ["/rest/api/3/issue/"], "error_rate": 0.5, "cut_rate": 0.3,
                                   "drop_rate": 0.2, "seed": 9},
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_faulted_sync_loses_nothing_and_records_no_failure_as_a_value(world: World, name: str) -> None:
    before = snapshot_ids(world.ws.store)
    report = _faulted_run(world, SCENARIOS[name])
    world.runs.append(f"{name}: {report.status if report else 'did not start'}")
    _check(world, before, report)


@pytest.mark.parametrize("phase", ["first answers", "values read", "epic progress counted"])
def test_jira_dying_at_each_phase_loses_nothing(world: World, phase: str) -> None:
    planned = dry_run(world.ws.catalog).questions
    point = {"first answers": 1, "values read": planned, "epic progress counted": 10**9}[phase]

    def die(done: int, total: int) -> None:
        """Jira stops answering once `point` answers are in (after every answer for the last phase)."""
        if done >= point or (phase == "epic progress counted" and done == total > planned):
            set_faults(world.server.url, {"error_rate": 1.0, "retry_after_s": 0}, reset=True)

    before = snapshot_ids(world.ws.store)
    report = _faulted_run(world, {}, progress=die, full=True)
    assert report is not None
    if phase == "epic progress counted":  # every value and count is in: only the links fail
        assert report.status == "succeeded" and report.link_errors
    else:
        assert report.status in ("partial", "failed")
    _check(world, before, report)


@pytest.mark.parametrize("answers", [1, 5, 12])
def test_the_sync_interrupted_at_each_phase_stores_nothing_half(world: World, answers: int) -> None:
    def interrupt(done: int, _total: int) -> None:
        """Ctrl-C (or SIGTERM, which the CLI turns into it) after `answers` answers."""
        if done == answers:
            raise KeyboardInterrupt

    before = snapshot_ids(world.ws.store)
    assert _faulted_run(world, {}, progress=interrupt, full=True) is None
    assert snapshot_ids(world.ws.store) == before
    assert world.ws.store.runs(limit=1)[0].status is RunStatus.FAILED
    _check(world, before, None)


def test_after_the_storms_a_clean_sync_puts_every_link_back(world: World) -> None:
    report = _clean_sync(world)
    assert report.status == "succeeded", report.failed
    links = _links(world.server)
    assert sorted(links) == sorted(world.links)
    assert {s: world.ws.store.latest_snapshot(s).value for s in world.values} == world.values  # type: ignore[union-attr]
