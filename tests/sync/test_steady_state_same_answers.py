"""Half a year of syncs with change detection gives exactly the answers of the same syncs asking
everything: grades for every period, every KR's history, and every status page.

Two workspaces on one sandbox follow the same half-year: each month people change 2 % of the
issues (sandbox.edits.churn) between two syncs of the same day, and both workspaces sync three
times (before, after, and an hour later with nothing changed). One asks Jira everything each time
(`jira.full_sync_hours = 0`); the other asks only what could have changed. Their stores must
answer alike. (With the change detection's scope check disabled, this test fails.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from okrbridge.demo import demo_settings
from okrbridge.workspace import (
    Workspace,
    grades,
    history,
    jira_connection,
    open_workspace,
    status_pages,
    sync,
)
from sandbox import edits
from sandbox.app import create_app
from sandbox.server import SandboxServer
from sandbox.state import Deployment, SandboxState

MONTHS = 6


@pytest.fixture(params=["cloud", "datacenter"])
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The seeded sandbox as of the year's start, over real HTTP."""
    deployment: Deployment = request.param
    state = SandboxState(deployment=deployment)
    state.clock.set_now(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    with SandboxServer(app=create_app(state, deployment=deployment, seed=1)) as running:
        yield running


def _workspace(server: SandboxServer, folder: Path, full_sync_hours: float) -> Workspace:
    """A workspace on the sample OKRs with its own database."""
    folder.mkdir()
    settings = demo_settings(server.url, folder / "okrbridge.db", dict(os.environ))
    jira = settings.jira.model_copy(update={"full_sync_hours": full_sync_hours,
                                            "deployment": server.state.deployment})
    return open_workspace(settings.model_copy(update={"jira": jira}), mode="record")


def test_syncs_asking_only_what_changed_store_the_answers_of_syncs_asking_everything(
        server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKRBRIDGE_JIRA_TOKEN", "sandbox-token-okrbot")
    everything = _workspace(server, tmp_path / "everything", 0)
    steady = _workspace(server, tmp_path / "steady", 24)
    stood = 0
    try:
        for month in range(1, MONTHS + 1):
            # a month since the last sync: everything is asked again (older than a day); then people
            # change things, and the next syncs, within the day, must see exactly those changes
            for hour, churn in ((12, False), (13, True), (14, False)):
                moment = datetime(2026, month, 10, hour, 0, tzinfo=UTC)
                if churn:
                    server.state.clock.set_now(moment - timedelta(minutes=30))
                    edits.churn(server.state, 0.02, seed=month)
                server.state.clock.set_now(moment)
                for ws in (everything, steady):
                    with jira_connection(ws.settings) as jira:
                        report = sync(ws, jira, now=lambda moment=moment: moment)
                    assert report.status == "succeeded", report.failed
                    if ws is steady:
                        stood += report.answers_stood
        assert stood > 0  # the comparison is only worth something if answers did stand

        end = datetime(2026, MONTHS, 28, tzinfo=UTC)
        year = steady.loaded.calendar.parse("2026")
        assert grades(steady, year, now=end, nested=True) == grades(everything, year, now=end, nested=True)
        for kr in steady.catalog.key_results():
            ours = [(h.snapshot.taken_at, h.snapshot.confirmed_at, h.snapshot.value, h.score)
                    for h in history(steady, kr.id)]
            theirs = [(h.snapshot.taken_at, h.snapshot.confirmed_at, h.snapshot.value, h.score)
                      for h in history(everything, kr.id)]
            assert ours == theirs, kr.id
        pages = {p.key: p.body for p in status_pages(steady, now=end)}
        assert pages and pages == {p.key: p.body for p in status_pages(everything, now=end)}
    finally:
        everything.close()
        steady.close()
