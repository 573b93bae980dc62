"""Crash safety: `okrbridge sync` killed with SIGKILL at random points, on SQLite and PostgreSQL.

Two first runs go uninterrupted: the first creates the schema, the second times a whole sync.
Each later run is a real `okrbridge sync` process (forked from a server that imported the CLI once,
so a run costs no interpreter start) killed after a random delay within that time: while the store
is opened (migration check, catalog load), while Jira is asked, while links are written, while
results are stored, or not at all. After every run the database must be consistent — SQLite's
integrity check, a complete schema, no snapshot of a run that stored no results, no earlier snapshot
lost or changed — and at the end a sync in this process must complete, closing every killed run as
abandoned.

`OKRBRIDGE_CRASH_RUNS` (default 10 per database) and `OKRBRIDGE_CRASH_SEED` repeat or widen it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import URL

from okrbridge.config import load_settings
from okrbridge.store import RunStatus, Store
from okrbridge.store.tables import StoreModel
from okrbridge.workspace import jira_connection, open_workspace, sync
from sandbox.server import SandboxServer
from tests.faults.support import cli_env, integrity_problems, set_faults, snapshot_ids, write_config

pytestmark = pytest.mark.faults

RUNS = int(os.environ.get("OKRBRIDGE_CRASH_RUNS", "10"))
SEED = int(os.environ.get("OKRBRIDGE_CRASH_SEED", "20261201"))
KILL_WINDOW = 1.1
"""The kill lands within this many times an uninterrupted run's duration, measured first, after the
start: early (imports done, schema not yet there) through late (links written), or not at all."""
REPOSITORY = Path(__file__).resolve().parents[2]


class ForkServer:
    """`tests.faults.fork_cli` in a subprocess: start `okrbridge` runs, then reap them."""

    def __init__(self) -> None:
        """Start the server (it imports the CLI once)."""
        self._process = subprocess.Popen([sys.executable, "-m", "tests.faults.fork_cli"], cwd=REPOSITORY,
                                         env=cli_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True)

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        """One command, one answer."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._process.stdout.readline())
        return answer

    def run(self, *args: str) -> int:
        """Start `okrbridge ARGS`; its pid."""
        return int(self._ask({"run": list(args)})["pid"])

    def wait(self, pid: int) -> int:
        """The run's exit code (negative: the signal that ended it)."""
        return int(self._ask({"wait": pid})["exit"])

    def close(self) -> None:
        """Stop the server."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)


@pytest.fixture(scope="module")
def forks() -> Iterator[ForkServer]:
    """The fork server, shared by the module's tests."""
    server = ForkServer()
    yield server
    server.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The seeded Cloud sandbox, every API answer a few milliseconds late so kills land mid-sync."""
    with SandboxServer(deployment="cloud", seed=1) as server:
        set_faults(server.url, {"latency_ms": 2})
        yield server


def _schema_problems(store: Store) -> list[str]:
    """A migrated database has every table exactly as declared; a fresh one has none."""
    tables = set(inspect(store.engine).get_table_names())
    if not tables:
        return []
    with store.engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                 StoreModel.metadata)
    return [f"schema drift: {d}" for d in drift]


def _crash_runs(database_url: str, folder: Path, sandbox: SandboxServer, forks: ForkServer) -> Counter[str]:
    """RUNS killed syncs on one database, checked after each; then one sync that must complete."""
    rng = random.Random(f"{SEED}:{database_url.split(':')[0]}")
    config = write_config(folder, sandbox.url, database_url, sync_deadline_seconds=30)
    store = Store(database_url)
    outcomes: Counter[str] = Counter()
    previous: dict[int, Any] = {}
    try:
        assert forks.wait(forks.run("--config", str(config), "sync", "--json")) == 0  # creates the schema
        started = time.monotonic()
        assert forks.wait(forks.run("--config", str(config), "sync", "--json")) == 0  # a typical run
        window = KILL_WINDOW * (time.monotonic() - started)
        previous = snapshot_ids(store)
        for _ in range(RUNS):
            pid = forks.run("--config", str(config), "sync", "--json")
            time.sleep(rng.uniform(0, window))
            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                os.kill(pid, signal.SIGKILL)
            code = forks.wait(pid)
            outcomes["killed" if code == -signal.SIGKILL else f"exited {code}"] += 1
            assert _schema_problems(store) == []
            if "sync_run" not in inspect(store.engine).get_table_names():
                continue  # killed before the schema was committed: nothing to check yet
            assert integrity_problems(store) == []
            snapshots = snapshot_ids(store)
            assert {k: snapshots.get(k) for k in previous} == previous, "an earlier snapshot changed"
            previous = snapshots
        settings = load_settings(config, cli_env())
        ws = open_workspace(settings, mode="record")
        try:
            with jira_connection(ws.settings) as jira:
                report = sync(ws, jira)
            assert report.status == "succeeded", report.failed
            assert integrity_problems(ws.store) == []
            runs = ws.store.runs(limit=1000)
            assert [r.id for r in runs if r.status is RunStatus.RUNNING] == []
            outcomes["abandoned runs closed"] = sum(r.status is RunStatus.ABANDONED for r in runs)
            outcomes["snapshots"] = len(snapshot_ids(ws.store))
        finally:
            ws.close()
    finally:
        store.close()
    outcomes["kill window ms"] = round(window * 1000)
    print(f"crash safety on {database_url.split(':')[0]}: {dict(outcomes)}")  # the figures, with -s
    return outcomes


def test_sigkill_at_random_points_leaves_sqlite_consistent(tmp_path: Path, sandbox: SandboxServer,
                                                           forks: ForkServer) -> None:
    outcomes = _crash_runs(f"sqlite:///{tmp_path / 'okrbridge.db'}", tmp_path, sandbox, forks)
    assert outcomes["killed"] >= 1


@pytest.mark.postgres
def test_sigkill_at_random_points_leaves_postgres_consistent(tmp_path: Path, sandbox: SandboxServer,
                                                             forks: ForkServer, postgres_url: URL) -> None:
    url = postgres_url.render_as_string(hide_password=False)
    outcomes = _crash_runs(url, tmp_path, sandbox, forks)
    assert outcomes["killed"] >= 1
