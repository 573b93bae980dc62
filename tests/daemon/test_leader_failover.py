"""Two daemons on one database: one leads, each sync period runs once, the standby takes over a killed leader.

Runs against one SQLite file (one host) and the real PostgreSQL (the many-hosts case). Each
daemon syncs every second with a 2 s lease; the leader is killed with SIGKILL, so it neither
finishes its job nor gives up the lease, and the standby must wait for the lease to expire.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from okrbridge.store import DAEMON_LEASE, Store, current_lease
from sandbox.server import SandboxServer
from tests.daemon.conftest import DaemonProcess, write_config

LEASE_SECONDS = 2
SCHEDULING_SLACK = 0.5  # a busy machine may wake the standby's thread late; printed, not hidden


def _failover(tmp_path: Path, sandbox: SandboxServer, url: str, start_daemon: type[DaemonProcess]) -> None:
    """Start two daemons, let them sync, kill the leader, and check periods and takeover."""
    config = write_config(tmp_path, sandbox, url, lease_seconds=LEASE_SECONDS)
    store = Store(url)
    store.migrate()  # so the test can read while the daemons start (they migrate too, in turn)
    daemons = [start_daemon(config, tmp_path / f"daemon-{n}.log") for n in (1, 2)]
    for daemon in daemons:
        daemon.wait_for(r"event=(leading|standby)")
    first_leader = _wait_for_runs(store, daemons, at_least=3)
    leader = next(d for d in daemons if f":{d.pid}:" in first_leader)
    standby = next(d for d in daemons if d is not leader)
    before = len(store.runs(limit=1000))
    leader.process.send_signal(signal.SIGKILL)
    killed_at = time.time()
    leader.process.wait(timeout=10)
    standby.wait_for(r"event=leading")
    standby.wait_for(r"job=sync", count=2)
    assert standby.stop() == 0  # SIGTERM: the standby-turned-leader exits cleanly

    runs = sorted(store.runs(limit=1000), key=lambda r: r.started_at)
    periods = Counter(int(run.started_at.timestamp() // 1) for run in runs)
    print(f"\n{url.split(':')[0]}: {len(runs)} sync runs over {len(periods)} one-second periods")
    assert [p for p, n in periods.items() if n > 1] == []  # no period synced twice
    logged = leader.run_ids() + standby.run_ids()
    assert len(logged) == len(set(logged))  # no run claimed by both daemons
    assert set(logged) <= {run.id for run in runs}
    assert len(runs) > before >= 3
    lease = current_lease(store, DAEMON_LEASE)
    assert lease is not None and f":{standby.pid}:" in lease.owner
    takeover = lease.acquired_at.timestamp() - killed_at
    print(f"takeover {takeover:.2f} s after SIGKILL (lease {LEASE_SECONDS} s)")
    assert takeover <= LEASE_SECONDS + SCHEDULING_SLACK
    after_kill = [run for run in runs if run.started_at.timestamp() > killed_at]
    assert after_kill and all(run.id in standby.run_ids() or run.status == "running" for run in after_kill)
    store.close()


def _wait_for_runs(store: Store, daemons: list[DaemonProcess], *, at_least: int) -> str:
    """Wait until `at_least` sync runs are stored; the lease owner then."""
    deadline = time.monotonic() + 15
    while len(store.runs(limit=at_least)) < at_least:
        assert time.monotonic() < deadline, "\n".join(line for d in daemons for line in d.lines())
        time.sleep(0.1)
    lease = current_lease(store, DAEMON_LEASE)
    assert lease is not None
    return lease.owner


def test_two_daemons_on_one_sqlite_file_sync_once_per_period_and_fail_over(
        tmp_path: Path, sandbox: SandboxServer, start_daemon: type[DaemonProcess]) -> None:
    _failover(tmp_path, sandbox, f"sqlite:///{tmp_path / 'okrbridge.db'}", start_daemon)


@pytest.mark.postgres
def test_two_daemons_on_postgres_sync_once_per_period_and_fail_over(
        tmp_path: Path, sandbox: SandboxServer, postgres_url: URL, start_daemon: type[DaemonProcess]) -> None:
    _failover(tmp_path, sandbox, postgres_url.render_as_string(hide_password=False), start_daemon)
