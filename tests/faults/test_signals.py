"""SIGTERM ends a sync as Ctrl-C does: the run is marked failed, no traceback, nothing half-written."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from okrbridge.store import RunStatus, Store
from sandbox.server import SandboxServer
from tests.faults.support import integrity_problems, running_runs, set_faults, start_cli, write_config

pytestmark = pytest.mark.faults


@pytest.fixture
def slow_sandbox() -> Iterator[SandboxServer]:
    """The seeded Cloud sandbox answering every search and count 300 ms late, so a sync takes seconds."""
    with SandboxServer(deployment="cloud", seed=1) as server:
        set_faults(server.url, {"latency_by_prefix": {"/rest/api/3/search": 300}})
        yield server


def _wait_for_a_running_run(store: Store, process: object, limit: float = 20.0) -> int:
    """The id of the sync's run once it is recorded as running (polling the real database)."""
    stop = time.monotonic() + limit
    while time.monotonic() < stop:
        try:
            found = running_runs(store)
        except OperationalError:  # the subprocess has not created the tables yet
            found = []
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no run started within {limit}s ({process})")


def test_sigterm_during_a_sync_marks_its_run_failed(slow_sandbox: SandboxServer, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'okrbridge.db'}"
    config = write_config(tmp_path, slow_sandbox.url, database, max_concurrency=2)
    store = Store(database)
    process = start_cli(config, "sync")
    try:
        run_id = _wait_for_a_running_run(store, process)
        time.sleep(0.3)  # well inside the asking phase
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    run = store.run(run_id)
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert run.status is RunStatus.FAILED
    assert "terminated by SIGTERM" in str(run.errors)
    assert integrity_problems(store) == []
    store.close()
