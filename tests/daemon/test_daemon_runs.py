"""One daemon: okrs.toml edits picked up without a restart, SIGTERM mid-job, `--once` and standing by."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from click.testing import CliRunner

from okrbridge.cli import cli
from okrbridge.store import DAEMON_LEASE, Store, acquire_lease
from sandbox.server import SandboxServer
from tests.daemon.conftest import SANDBOX_TOKEN, DaemonProcess, write_config
from tests.okr_files import BUGS_DONE, two_kr_okrs

THIRD_KR = f"""
  [[objective.key_result]]
  id = "ENG-9.3"
  title = "Increase bugs resolved again from 0 to 50"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 50
  source = {{ kind = "jql_count", jql = "{BUGS_DONE}" }}
"""


def _replace(path: Path, text: str) -> None:
    """Write `path` whole at once, as an editor saving through a temporary file does: the daemon
    reading between a truncate and a write would see an empty file, which is another edit."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def test_okrs_edits_reach_the_next_jobs_and_a_broken_edit_keeps_the_last_good_catalog(
        tmp_path: Path, sandbox: SandboxServer, start_daemon: type[DaemonProcess]) -> None:
    url = f"sqlite:///{tmp_path / 'okrbridge.db'}"
    config = write_config(tmp_path, sandbox, url)
    daemon = start_daemon(config, tmp_path / "daemon.log")
    daemon.wait_for(r"job=sync outcome=succeeded .*synced=2 ")

    _replace(tmp_path / "okrs.toml", two_kr_okrs() + THIRD_KR)
    daemon.wait_for(r"event=catalog_reloaded .*added=ENG-9.3 ")
    daemon.wait_for(r"job=sync outcome=succeeded .*synced=3 ")

    _replace(tmp_path / "okrs.toml", two_kr_okrs() + THIRD_KR.replace('"increase"', '"sideways"'))
    [invalid] = daemon.wait_for(r"event=catalog_invalid")
    assert "okrs.toml" in invalid and "sideways" in invalid
    synced_after = len(daemon.wait_for(r"job=sync outcome=succeeded .*synced=3 "))
    daemon.wait_for(r"job=sync outcome=succeeded .*synced=3 ", count=synced_after + 2)
    assert daemon.stop() == 0

    lines = daemon.lines()
    assert len([line for line in lines if "event=catalog_invalid" in line]) == 1  # reported once
    broken_at = next(n for n, line in enumerate(lines) if "event=catalog_invalid" in line)
    later = [line for line in lines[broken_at:] if "job=sync" in line]
    assert len(later) >= 2 and all("outcome=succeeded" in line and "synced=3 " in line for line in later)
    store = Store(url)
    assert store.latest_snapshot("ENG-9.3") is not None
    store.close()


def test_sigterm_lets_the_running_sync_finish_and_exits_zero(
        tmp_path: Path, start_daemon: type[DaemonProcess]) -> None:
    url = f"sqlite:///{tmp_path / 'okrbridge.db'}"
    with SandboxServer(deployment="datacenter", seed=1, faults={"latency_ms": 1500}) as slow:
        daemon = start_daemon(write_config(tmp_path, slow, url), tmp_path / "daemon.log")
        daemon.wait_for(r"event=leading")
        store = Store(url)
        deadline = time.monotonic() + 15
        while not any(run.status == "running" for run in store.runs()):
            assert time.monotonic() < deadline, "\n".join(daemon.lines())
            time.sleep(0.05)
        # every request takes 1.5 s, so the running sync alone can take most of the usual 15 s on a
        # loaded machine: it is waited for as long as it needs, since finishing it is the point
        assert daemon.stop(signal.SIGTERM, timeout=90) == 0
    lines = daemon.lines()
    stopping = next(n for n, line in enumerate(lines) if "event=stopping" in line)
    assert any("job=sync outcome=succeeded" in line for line in lines[stopping:])
    assert "event=stopped" in lines[-1]
    assert [run.status for run in store.runs()] == ["succeeded"]  # the job that was running finished
    store.close()


def test_once_runs_each_job_then_exits_and_a_standby_runs_nothing(
        tmp_path: Path, sandbox: SandboxServer) -> None:
    url = f"sqlite:///{tmp_path / 'okrbridge.db'}"
    config = write_config(tmp_path, sandbox, url)
    runner = CliRunner()
    env = {"SANDBOX_PAT": SANDBOX_TOKEN}
    result = runner.invoke(cli, ["--config", str(config), "daemon", "--once"], env=env)
    assert result.exit_code == 0, result.output
    store = Store(url)
    assert [run.status for run in store.runs()] == ["succeeded"]

    assert acquire_lease(store, DAEMON_LEASE, "another-host:1:abcd", 60) is not None
    standby = runner.invoke(cli, ["--config", str(config), "daemon", "--once"], env=env)
    assert standby.exit_code == 2
    assert len(store.runs()) == 1
    store.close()
