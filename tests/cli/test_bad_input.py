"""Absurd values, dates and databases reach the user as one clear message, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from okrbridge.cli import cli
from okrbridge.store import Store, engine


def refused(result: object, *fragments: str) -> str:
    """The output of a command that must have failed with a message (exit 1 or 2), not a traceback."""
    from click.testing import Result
    assert isinstance(result, Result)
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result.output


@pytest.mark.parametrize("value", ["1e308", "-1e16", "1e15000", "nan", "inf"])
def test_an_absurd_checkin_value_is_refused_and_nothing_is_stored(runner: CliRunner, value: str) -> None:
    refused(runner.invoke(cli, ["checkin", "--at", "2026-02-01", "CO-1.2", "--", value]), "out of range")
    assert runner.invoke(cli, ["history", "CO-1.2"]).output == "CO-1.2: no snapshots yet\n"


@pytest.mark.parametrize("value", ["١٢", "１２", "12 000"])
def test_a_checkin_value_takes_ascii_digits_only(runner: CliRunner, value: str) -> None:
    refused(runner.invoke(cli, ["checkin", "CO-1.2", value]), "is not a number")


def test_a_large_but_plausible_checkin_value_is_kept(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checkin", "CO-1.2", "1e15", "--at", "2026-02-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["value"] == 1e15


def test_grades_never_crash_on_huge_values_already_stored(runner: CliRunner, config_file: Path) -> None:
    # Rows written before check-ins were bounded: the store holds any finite float.
    store = Store(f"sqlite:///{config_file.parent / 'okrbridge.db'}")
    # a recording command creates the database (a KPI's check-in: nothing the KRs below read)
    assert runner.invoke(cli, ["checkin", "materials-cost", "1", "--at", "2026-01-01"]).exit_code == 0
    for month in (2, 3):
        store.record_checkin("CO-1.2", 1e308, datetime(2026, month, 1, tzinfo=UTC), score=1.0)
    store.record_checkin("CO-1.3", -1.7e308, datetime(2026, 2, 1, tzinfo=UTC), score=0.0)
    store.record_checkin("CO-1.3", 1.7e308, datetime(2026, 3, 1, tzinfo=UTC), score=1.0)
    store.close()
    result = runner.invoke(cli, ["grades", "--cycle", "2026", "--at", "2026-04-01", "--json"])
    assert result.exit_code == 0, result.output
    krs = {kr["id"]: kr for o in json.loads(result.output)["objectives"] for kr in o["krs"]}
    assert krs["CO-1.2"]["value"] == 1e308 and krs["CO-1.2"]["forecast"] == 1e308  # a flat line
    assert krs["CO-1.3"]["forecast"] is None  # its line leaves float's range by the cycle's end
    assert runner.invoke(cli, ["grades", "--cycle", "2026", "--at", "2026-04-01"]).exit_code == 0


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "3000-01-01",
                                "1899-12-31"])
def test_a_checkin_dated_out_of_range_is_refused_with_the_range(runner: CliRunner, at: str) -> None:
    refused(runner.invoke(cli, ["checkin", "CO-1.2", "5", "--at", at]), "--at", "out of range",
            "1900-01-01", "2999-12-31")


def test_grades_at_the_end_of_time_is_refused_with_the_range(runner: CliRunner) -> None:
    refused(runner.invoke(cli, ["grades", "--at", "9999-12-31T23:59:59-05:00"]), "out of range")


def run_with_database(tmp_path: Path, url: str, *args: str) -> object:
    """Run `okrbridge --config <a config naming url> args...`."""
    config = tmp_path / "db.toml"
    config.write_text(f"database_url = {json.dumps(url)}\n", encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(config), *args])


@pytest.mark.parametrize(("url", "fragment"), [
    ("not a url", "is not a database URL: write sqlite:///path/okrbridge.db"),
    ("mysql+nosuchdriver://u:hunter2@db/x", "names a database okrbridge cannot use"),
    ("postgresql+psycopg://u:hunter2@127.0.0.1:1/x", "cannot use the database_url "
                                                     "'postgresql+psycopg://u:***@127.0.0.1:1/x'"),
])
def test_a_wrong_or_unreachable_database_url_is_named_without_its_password(
        tmp_path: Path, url: str, fragment: str) -> None:
    output = refused(run_with_database(tmp_path, url, "grades"), fragment)
    assert "hunter2" not in output


def test_a_file_that_is_not_a_database_is_named_and_left_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("my notes, not a database\n" * 200, encoding="utf-8")
    refused(run_with_database(tmp_path, f"sqlite:///{notes}", "grades"),
            f"database_url 'sqlite:///{notes}' names a file that is not a SQLite database")
    assert notes.read_text(encoding="utf-8") == "my notes, not a database\n" * 200


def test_a_sqlite_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    refused(run_with_database(tmp_path, f"sqlite:///{blocker}/sub/okrbridge.db", "checkin", "CO-1.2", "5"),
            f"cannot create the folder {blocker}/sub for the SQLite database")


def test_a_database_locked_by_another_process_past_the_busy_timeout_is_a_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "okrbridge.db"
    url = f"sqlite:///{database}"
    assert run_with_database(tmp_path, url, "checkin", "CO-1.2", "4").exit_code == 0  # creates, migrates
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)  # wait 0.2 s instead of 30
    holder = subprocess.Popen(  # another process holds the write lock until told to stop
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.readline()", str(database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        refused(run_with_database(tmp_path, url, "checkin", "CO-1.2", "5"),
                f"database_url '{url}' is locked by another process (waited 0.2 s)")
    finally:
        holder.communicate("\n", timeout=30)
    result = run_with_database(tmp_path, url, "checkin", "CO-1.2", "5")
    assert result.exit_code == 0, result.output
