"""Runs whose process died are closed as "abandoned" by the next sync, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy.engine import URL

from okrbridge.domain import Catalog
from okrbridge.run_owner import RunOwner, close_abandoned_runs, process_alive
from okrbridge.store import NewSnapshot, RunStatus, Store

from .support import T0

DEADLINE = 60.0


def _dead_pid() -> int:
    """The id of a process that has just exited (and been reaped), so none by that id exists."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _exercise(store: Store) -> None:
    """A dead local run, a live local run, an old remote run and a recent remote run; one sync."""
    finished = store.start_run(deployment="cloud", started_at=T0, host="here", pid=1)
    store.write_run_results(finished, snapshots=[NewSnapshot("CO-1.1", T0, 350.0, 0.25)], finished_at=T0)
    dead_pid = _dead_pid()
    assert not process_alive(dead_pid)
    dead = store.start_run(deployment="cloud", started_at=T0, host="here", pid=dead_pid)
    live = store.start_run(deployment="cloud", started_at=T0, host="here", pid=1)  # init is alive
    old_remote = store.start_run(deployment="cloud", started_at=T0 - timedelta(hours=1),
                                 host="elsewhere", pid=dead_pid)
    recent_remote = store.start_run(deployment="cloud", started_at=T0, host="elsewhere", pid=dead_pid)
    snapshots_before = store.history("CO-1.1")

    closed = close_abandoned_runs(store, RunOwner("here", 999_999_999), now=T0 + timedelta(seconds=5),
                                  deadline_seconds=DEADLINE)

    assert sorted(closed) == sorted([dead, old_remote])
    assert store.run(dead).status is RunStatus.ABANDONED
    assert store.run(dead).finished_at == T0 + timedelta(seconds=5)
    assert f"process {dead_pid} on here is gone" in str(store.run(dead).errors)
    assert "past the sync deadline" in str(store.run(old_remote).errors)
    assert store.run(live).status is RunStatus.RUNNING
    assert store.run(recent_remote).status is RunStatus.RUNNING
    assert store.run(finished).status is RunStatus.SUCCEEDED
    assert store.history("CO-1.1") == snapshots_before
    assert store.run(dead).host == "here" and store.run(dead).pid == dead_pid


def test_dead_runs_are_closed_as_abandoned_and_live_ones_left_running_on_sqlite(loaded: Store) -> None:
    _exercise(loaded)


@pytest.mark.postgres
def test_dead_runs_are_closed_as_abandoned_and_live_ones_left_running_on_postgres(
        postgres_store: Store, catalog: Catalog) -> None:
    postgres_store.sync_catalog(catalog, now=T0)
    _exercise(postgres_store)


@pytest.mark.postgres
def test_the_abandoned_status_is_allowed_by_the_migrated_schema(postgres_url: URL, sqlite_url: str) -> None:
    for url in (postgres_url, sqlite_url):
        store = Store(url)
        store.migrate()
        run = store.start_run(started_at=T0, host="h", pid=_dead_pid())
        assert close_abandoned_runs(store, RunOwner("h", 1), now=T0, deadline_seconds=DEADLINE) == [run]
        store.downgrade("0001")
        store.migrate()
        assert store.run(run).status is RunStatus.FAILED  # downgraded to the older status set
        store.close()
