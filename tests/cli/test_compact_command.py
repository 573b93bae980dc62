"""`okrbridge compact`: thin over the store's compaction; --dry-run changes nothing; --json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from okrbridge.cli import cli
from okrbridge.explanation import Explanation
from okrbridge.store import NewSnapshot, Store

THEN = datetime.now(UTC) - timedelta(days=200)


def _reading(at: datetime) -> NewSnapshot:
    """CO-1.1 at 320, explained as a sync explains a count asked at `at`."""
    return NewSnapshot("CO-1.1", at, 320.0, source_kind="jql_count", explanation=Explanation.from_dict(
        {"source": "jql_count", "jql": "project = SALES", "count": 320, "queried_at": at.isoformat()}))


def _store_with_a_reading_stored_twice_and_a_dry_run(runner: CliRunner, tmp_path: Path) -> Store:
    """The sample's store (made by a check-in) with two overlapping syncs' copies of one reading and
    an old dry run."""
    assert runner.invoke(cli, ["checkin", "CO-1.2", "3"]).exit_code == 0
    store = Store(f"sqlite:///{tmp_path / 'okrbridge.db'}")
    slow = store.start_run(started_at=THEN)
    daemon = store.start_run(started_at=THEN + timedelta(minutes=30))
    store.write_run_results(daemon, snapshots=[_reading(THEN + timedelta(minutes=30))],
                            finished_at=THEN + timedelta(minutes=31))
    store.write_run_results(slow, snapshots=[_reading(THEN + timedelta(minutes=10))],
                            finished_at=THEN + timedelta(minutes=32))
    dry = store.start_run(started_at=THEN, dry_run=True)
    store.finish_run(dry, "succeeded", finished_at=THEN)
    return store


def test_compact_dry_run_counts_then_compact_removes_and_reports_sizes(
        runner: CliRunner, tmp_path: Path) -> None:
    store = _store_with_a_reading_stored_twice_and_a_dry_run(runner, tmp_path)

    dry = runner.invoke(cli, ["compact", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("would remove 2 row(s): 1 reading(s) stored twice merged, "
                                 "1 sync run(s) nothing refers to (1 succeeded)")
    assert len(store.history("CO-1.1")) == 2

    done = runner.invoke(cli, ["compact", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert (report["dry_run"], report["rows_removed"], report["readings_merged"], report["runs_deleted"]) == (
        False, 2, 1, {"succeeded": 1})
    assert report["bytes_before"] > 0 and report["bytes_after"] > 0
    [reading] = store.history("CO-1.1")
    assert (reading.taken_at, reading.confirmed_at) == (
        THEN + timedelta(minutes=10), THEN + timedelta(minutes=30))
    store.close()


def test_compact_dry_run_on_a_missing_database_says_what_to_run_and_creates_nothing(
        runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["compact", "--dry-run"])
    assert result.exit_code == 1
    assert "does not exist yet" in result.output
    assert not (tmp_path / "okrbridge.db").exists()
