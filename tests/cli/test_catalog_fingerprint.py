"""The catalog is recorded when okrs.toml changed, and only then; an unchanged file is not parsed twice.

Every write to the catalog tables is seen by SQLite triggers the tests add to the database, so
"nothing was written" is the database's own account, not a guess from timestamps.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from okrbridge.catalog import bundled_sample, load_catalog
from okrbridge.cli import cli
from okrbridge.store import definitions
from okrbridge.store.definitions import RecordedCatalog, UnreadableSubject, catalog_data, catalog_from_data

CATALOG_TABLES = ("objective", "key_result", "kpi", "catalog_fingerprint")
OLD_TITLE = "Reduce annual employee churn from 20% to 15%"


def watch_catalog_writes(database: Path) -> None:
    """Log every insert, update and delete on the catalog tables into a `catalog_write` table."""
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE catalog_write (tbl TEXT, op TEXT)")
        for table in CATALOG_TABLES:
            for op in ("INSERT", "UPDATE", "DELETE"):
                db.execute(f"CREATE TRIGGER watch_{table}_{op.lower()} AFTER {op} ON {table} "
                           f"BEGIN INSERT INTO catalog_write VALUES ('{table}', '{op}'); END")


def catalog_writes(database: Path) -> list[tuple[str, str]]:
    """The writes logged since the last call (the log is emptied)."""
    with sqlite3.connect(database) as db:
        found = db.execute("SELECT tbl, op FROM catalog_write").fetchall()
        db.execute("DELETE FROM catalog_write")
    return found


def kr_title(database: Path, kr_id: str) -> str:
    """The title the catalog tables hold for a key result."""
    with sqlite3.connect(database) as db:
        return str(db.execute("SELECT title FROM key_result WHERE id = ?", (kr_id,)).fetchone()[0])


@pytest.fixture
def okrs(config_file: Path, tmp_path: Path) -> Path:
    """A copy of the sample okrs.toml the config points at, to edit."""
    path = tmp_path / "okrs.toml"
    path.write_text(bundled_sample("okrs.toml").read_text(encoding="utf-8"), encoding="utf-8")
    config_file.write_text(config_file.read_text() + f'okrs = "{path}"\n', encoding="utf-8")
    return path


def invoke(runner: CliRunner, *args: str) -> str:
    """Run a command that must succeed; its output."""
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_unchanged_okrs_toml_is_not_recorded_again_and_an_edited_one_is_by_the_next_recording_command(
        runner: CliRunner, okrs: Path, tmp_path: Path) -> None:
    database = tmp_path / "okrbridge.db"
    invoke(runner, "checkin", "CO-1.2", "420", "--at", "2026-03-01")  # creates the store, records the file
    watch_catalog_writes(database)

    invoke(runner, "grades", "--json")
    invoke(runner, "history", "CO-1.2")
    invoke(runner, "checkin", "CO-1.2", "430", "--at", "2026-03-02")
    assert catalog_writes(database) == []  # neither reading nor recording an unchanged file writes it

    okrs.write_text(okrs.read_text(encoding="utf-8").replace(OLD_TITLE, "Cut churn"), encoding="utf-8")
    grades = json.loads(invoke(runner, "grades", "--json"))
    titles = {kr["id"]: kr["title"] for o in grades["objectives"] for kr in o["krs"]}
    assert titles["CO-2.1"] == "Cut churn"  # reading sees the file as it is now...
    assert catalog_writes(database) == [] and kr_title(database, "CO-2.1") == OLD_TITLE  # ...writing nothing

    invoke(runner, "checkin", "CO-1.2", "440", "--at", "2026-03-03")
    writes = catalog_writes(database)
    assert ("key_result", "UPDATE") in writes and ("catalog_fingerprint", "INSERT") in writes
    assert {table for table, _ in writes} == {"key_result", "catalog_fingerprint"}  # only what changed
    assert kr_title(database, "CO-2.1") == "Cut churn"


def test_reading_with_a_recorded_catalog_of_another_shape_parses_the_file_instead(
        runner: CliRunner, okrs: Path, tmp_path: Path) -> None:
    database = tmp_path / "okrbridge.db"
    invoke(runner, "checkin", "CO-1.2", "420", "--at", "2026-03-01")
    expected = invoke(runner, "grades", "--json", "--at", "2026-06-30")
    with sqlite3.connect(database) as db:  # as an okrbridge that kept the catalog otherwise would
        db.execute("""UPDATE catalog_fingerprint SET catalog = '{"version": 0}'""")

    assert invoke(runner, "grades", "--json", "--at", "2026-06-30") == expected


def test_the_catalog_kept_as_data_reads_back_equal_to_the_catalog_it_was_made_from(tmp_path: Path) -> None:
    sample = bundled_sample("okrs.toml").read_text(encoding="utf-8")
    fiscal = tmp_path / "fiscal.toml"  # a fiscal year from April, named by the year it starts in
    calendar = 'fiscal_year_start = 4\nfiscal_year_named_by = "start"'
    fiscal.write_text(sample.replace("fiscal_year_start = 1", calendar), encoding="utf-8")
    for path in (bundled_sample("okrs.toml"), fiscal):
        catalog = load_catalog(path).catalog
        assert catalog_from_data(json.loads(json.dumps(catalog_data(catalog)))) == catalog
    assert load_catalog(fiscal).catalog.calendar.start_month == 4


def test_history_of_one_kr_builds_that_kr_alone_from_the_recorded_catalog(
        runner: CliRunner, okrs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    invoke(runner, "checkin", "CO-1.2", "420", "--at", "2026-03-01")
    expected = invoke(runner, "history", "CO-1.2", "--json")

    def whole(_: object) -> None:
        raise AssertionError("history built the whole recorded catalog")

    monkeypatch.setattr(definitions, "catalog_from_data", whole)
    assert invoke(runner, "history", "CO-1.2", "--json") == expected
    result = runner.invoke(cli, ["history", "NO-SUCH.1"])
    assert result.exit_code != 0 and "NO-SUCH.1" in result.output


def test_a_recorded_catalog_whose_subject_cannot_be_told_is_parsed_from_the_file(
        runner: CliRunner, okrs: Path, tmp_path: Path) -> None:
    database = tmp_path / "okrbridge.db"
    invoke(runner, "checkin", "CO-1.2", "420", "--at", "2026-03-01")
    expected = invoke(runner, "history", "CO-1.2", "--json")
    with sqlite3.connect(database) as db:  # this version's mark, but not this version's shape
        db.execute("""UPDATE catalog_fingerprint SET catalog = '{"version": 1, "objectives": 3}'""")

    assert invoke(runner, "history", "CO-1.2", "--json") == expected


def test_a_recorded_subject_reads_back_as_the_catalog_holds_it() -> None:
    catalog = load_catalog(bundled_sample("okrs.toml")).catalog
    recorded = RecordedCatalog.of(json.loads(json.dumps(catalog_data(catalog))))
    assert recorded is not None
    for subject in (*catalog.key_results(), *catalog.kpis):
        assert recorded.subject(subject.id) == subject
    assert recorded.subject("NO-SUCH.1") is None
    assert RecordedCatalog.of({"version": 0}) is None
    with pytest.raises(UnreadableSubject):
        RecordedCatalog({"version": 1, "objectives": [{"key_results": [{}]}]}).subject("CO-1.2")
