"""Daemons as real subprocesses against the sandbox: their config, their logs, and the databases.

The PostgreSQL fixtures are the store tests' (a database per pytest process); the sandbox runs
on a background thread of the test process, over real HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tests.okr_files import two_kr_okrs
from tests.store.conftest import postgres_database, postgres_url  # noqa: F401  (fixtures reused)

SANDBOX_TOKEN = "sandbox-pat-okrbot"
LAUNCH = [sys.executable, "-c", "from okrbridge.cli import main; main()"]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The seeded sandbox as Jira Data Center."""
    with SandboxServer(deployment="datacenter", seed=1) as server:
        yield server


def write_config(folder: Path, sandbox: SandboxServer, database_url: str, *, lease_seconds: int = 2,
                 okrs: str | None = None) -> Path:
    """A config syncing every second against the sandbox, with a short lease; returns its path."""
    (folder / "okrs.toml").write_text(okrs if okrs is not None else two_kr_okrs(), encoding="utf-8")
    path = folder / "okrbridge.toml"
    path.write_text("\n".join([
        f'database_url = "{database_url}"', 'okrs = "okrs.toml"',
        "[jira]", f'url = "{sandbox.url}"', 'email = "okrbot"', 'token_env = "SANDBOX_PAT"',
        "[scheduler]", "sync_every_seconds = 1", f"lease_seconds = {lease_seconds}"]) + "\n",
        encoding="utf-8")
    return path


class DaemonProcess:
    """`okrbridge daemon` in a subprocess, its stderr in a file the test reads as it grows."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log_path = log
        env = {**os.environ, "SANDBOX_PAT": SANDBOX_TOKEN}
        self._log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen([*LAUNCH, "--config", str(config), "daemon"], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, cwd=config.parent)

    @property
    def pid(self) -> int:
        """The daemon's process id (part of its lease owner name)."""
        return self.process.pid

    def lines(self) -> list[str]:
        """Everything it logged so far."""
        return self.log_path.read_text(encoding="utf-8").splitlines()

    def wait_for(self, pattern: str, *, count: int = 1, timeout: float = 15.0) -> list[str]:
        """The log lines matching `pattern` once there are `count` of them; fails after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self.process.poll()
            found = [line for line in self.lines() if re.search(pattern, line)]
            if len(found) >= count:
                return found
            if exited is not None or time.monotonic() > deadline:
                why = f"exited with {exited}" if exited is not None else f"not within {timeout} s"
                raise AssertionError(f"no {count} line(s) matching {pattern!r} ({why}):\n"
                                     + "\n".join(self.lines()))
            time.sleep(0.05)

    def run_ids(self) -> list[int]:
        """The sync runs this daemon logged as done."""
        return [int(m[1]) for line in self.lines() if (m := re.search(r"job=sync .* run=(\d+)", line))]

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig` and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()


@pytest.fixture
def start_daemon() -> Iterator[type[DaemonProcess]]:
    """Starts daemons; any still running at the end are killed (by their own pid)."""
    started: list[DaemonProcess] = []

    class Tracked(DaemonProcess):
        def __init__(self, config: Path, log: Path) -> None:
            super().__init__(config, log)
            started.append(self)

    yield Tracked
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait(timeout=10)
