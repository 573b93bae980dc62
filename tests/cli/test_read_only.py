"""Reading never writes: `grades` and `history` leave the database exactly as they found it."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from okrbridge.catalog import bundled_sample
from okrbridge.cli import cli
from okrbridge.config import load_settings
from okrbridge.workspace import open_workspace, record_checkin


def _fingerprint(database: Path) -> tuple[str, int]:
    """The database file's content hash and modification time."""
    return hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns


def test_grades_and_history_leave_the_database_untouched_even_after_okrs_toml_changed(
        runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    okrs = tmp_path / "okrs.toml"
    okrs.write_text(bundled_sample("okrs.toml").read_text(encoding="utf-8"), encoding="utf-8")
    config_file.write_text(config_file.read_text() + f'okrs = "{okrs}"\n', encoding="utf-8")
    assert runner.invoke(cli, ["checkin", "CO-1.2", "420", "--at", "2026-03-01"]).exit_code == 0
    # A changed title is what a recording open would write into the catalog tables.
    okrs.write_text(okrs.read_text().replace("Reduce annual employee churn", "Cut churn"), encoding="utf-8")
    database = tmp_path / "okrbridge.db"
    before = _fingerprint(database)

    for args in (["grades"], ["grades", "--cycle", "2026-Q1", "--nested", "--json"], ["history", "CO-1.2"],
                 ["history", "CO-1.2", "--json"], ["history", "CO-2.1"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output

    assert _fingerprint(database) == before


def test_grades_on_a_database_that_does_not_exist_say_what_to_run_and_create_nothing(
        runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["grades"])
    assert result.exit_code == 1
    assert "does not exist yet: run `okrbridge sync` (or `okrbridge checkin`) first" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "okrbridge.db").exists()


def test_history_on_a_database_without_okrbridge_tables_says_what_to_run(
        runner: CliRunner, tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "okrbridge.db").close()  # an empty file, as a mistyped path gives
    result = runner.invoke(cli, ["history", "CO-1.2"])
    assert result.exit_code == 1
    assert "has no okrbridge tables yet: run `okrbridge sync`" in result.output


def test_a_database_from_a_newer_okrbridge_is_refused_for_reading(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["checkin", "CO-1.2", "420"]).exit_code == 0
    with sqlite3.connect(tmp_path / "okrbridge.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    result = runner.invoke(cli, ["grades"])
    assert result.exit_code == 1
    assert "written by a newer okrbridge (schema 9999_from_the_future" in result.output


def test_a_workspace_opened_for_reading_refuses_to_record(runner: CliRunner, config_file: Path) -> None:
    assert runner.invoke(cli, ["checkin", "CO-1.2", "420"]).exit_code == 0
    ws = open_workspace(load_settings(config_file, {}), mode="read")
    try:
        with pytest.raises(ValueError, match="opened for reading"):
            record_checkin(ws, "CO-1.2", 1.0)
    finally:
        ws.close()


def test_grades_pause_the_garbage_collector_only_while_they_run(runner: CliRunner, config_file: Path) -> None:
    import gc

    assert runner.invoke(cli, ["checkin", "CO-1.2", "420", "--at", "2026-03-01"]).exit_code == 0
    assert gc.isenabled()
    for args in (["grades", "--json"], ["grades", "--cycle", "nonsense"]):  # a refusal ends the pause too
        runner.invoke(cli, args)
        assert gc.isenabled()
