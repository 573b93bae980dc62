"""The daemon's compaction job: on its cron, one log line with what went and the size; a bad cron named."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from okrbridge.config import SchedulerSettings
from okrbridge.scheduler import cron_trigger
from okrbridge.store import Store
from sandbox.server import SandboxServer
from tests.daemon.conftest import LAUNCH, SANDBOX_TOKEN, write_config


def _once(config: Path) -> subprocess.CompletedProcess[str]:
    """`okrbridge daemon --once` in a subprocess, its log on stderr."""
    return subprocess.run([*LAUNCH, "--config", str(config), "daemon", "--once"], cwd=config.parent,
                          env={**os.environ, "SANDBOX_PAT": SANDBOX_TOKEN}, capture_output=True, text=True,
                          timeout=120)


def test_once_runs_the_compaction_after_the_others_and_logs_one_line_with_its_outcome(
        tmp_path: Path, sandbox: SandboxServer) -> None:
    url = f"sqlite:///{tmp_path / 'okrbridge.db'}"
    config = write_config(tmp_path, sandbox, url)
    assert _once(config).returncode == 0  # a first sync, so the store holds runs
    store = Store(url)
    old = store.start_run(started_at=datetime.now(UTC) - timedelta(days=400), dry_run=True)
    store.finish_run(old, "succeeded", finished_at=datetime.now(UTC) - timedelta(days=400))

    done = _once(config)

    assert done.returncode == 0, done.stderr
    jobs = re.findall(r"job=(\w+) outcome=", done.stderr)
    assert jobs == ["sync", "publish", "stale", "compact"]
    [line] = [line for line in done.stderr.splitlines() if "job=compact" in line]
    assert re.search(r"job=compact outcome=succeeded duration=\d+\.\d{3}s removed=1 readings_merged=0 "
                     r"runs_deleted=1 \(succeeded:1\) bytes_before=\d+ bytes_after=\d+", line), line
    assert [run.id for run in store.runs(limit=10) if run.dry_run] == []
    store.close()


def test_the_default_compaction_time_is_three_in_the_morning_in_the_scheduler_timezone() -> None:
    trigger = cron_trigger("compact_cron", SchedulerSettings(timezone="Europe/Paris").compact_cron,
                           "Europe/Paris")
    after = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 6, 2, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert isinstance(trigger, CronTrigger)


def test_a_compaction_cron_apscheduler_refuses_stops_the_daemon_with_the_setting_named(
        tmp_path: Path, sandbox: SandboxServer) -> None:
    config = write_config(tmp_path, sandbox, f"sqlite:///{tmp_path / 'okrbridge.db'}")
    config.write_text(config.read_text(encoding="utf-8") + 'compact_cron = "61 3 * * *"\n', encoding="utf-8")

    done = _once(config)

    assert done.returncode == 1
    assert "scheduler.compact_cron = '61 3 * * *' is not a valid crontab expression" in done.stderr
    assert "Traceback" not in done.stderr
