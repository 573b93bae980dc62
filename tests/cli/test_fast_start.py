"""Commands load only what they use: no sandbox, web app, JQL grammar or HTTP stack for everyday commands,
and no alembic unless a migration is due. Start-up time itself is printed by the benchmark, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sandbox.server", "sandbox.seed", "flask", "werkzeug", "lark", "alembic", "atlassian", "requests",
         "connectors.jira")
"""Modules no everyday command needs (`sandbox.defaults` is a constants module and is fine)."""

PROBE = """
import json, sys
from okrbridge.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by(args: list[str], cwd: Path) -> set[str]:
    """The modules loaded by running `okrbridge ARGS` in a fresh interpreter in `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("OKRBRIDGE_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def heavy_in(modules: set[str]) -> set[str]:
    """Which of HEAVY (or their submodules) were loaded."""
    return {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}


def test_help_loads_neither_the_store_nor_pydantic_nor_the_sandbox(tmp_path: Path) -> None:
    modules = loaded_by(["--help"], tmp_path)
    assert heavy_in(modules) == set()
    assert not {"sqlalchemy", "sqlmodel", "pydantic"} & modules


def test_validate_loads_no_store(tmp_path: Path) -> None:
    modules = loaded_by(["validate"], tmp_path)
    assert heavy_in(modules) == set()
    assert "sqlalchemy" not in modules


def test_a_recording_command_loads_alembic_only_while_a_migration_is_due(tmp_path: Path) -> None:
    first = loaded_by(["checkin", "CO-1.2", "1"], tmp_path)  # a new database: the schema is created
    assert "alembic" in first and heavy_in(first) <= {m for m in first if m.startswith("alembic")}
    assert heavy_in(loaded_by(["checkin", "CO-1.2", "2"], tmp_path)) == set()  # at head: nothing heavy


@pytest.mark.parametrize("args", [["grades"], ["grades", "--nested", "--json"], ["history", "CO-1.1"]])
def test_reading_commands_never_load_alembic(tmp_path: Path, args: list[str]) -> None:
    loaded_by(["checkin", "CO-1.2", "1"], tmp_path)  # reading never creates the database
    assert heavy_in(loaded_by(args, tmp_path)) == set()


@pytest.mark.parametrize("args", [["grades"], ["history", "CO-1.1"]])
def test_reading_commands_take_the_recorded_catalog_without_loading_the_file_readers(
        tmp_path: Path, args: list[str]) -> None:
    loaded_by(["checkin", "CO-1.2", "1"], tmp_path)  # records the catalog and its fingerprint
    assert not {"okrbridge.catalog_schema", "okrbridge.catalog_reader"} & loaded_by(args, tmp_path)


@pytest.mark.parametrize("args", [["grades"], ["grades", "--nested", "--json"], ["history", "CO-1.2"]])
def test_reading_commands_read_through_core_without_loading_the_orm(tmp_path: Path, args: list[str]) -> None:
    loaded_by(["checkin", "CO-1.2", "1"], tmp_path)
    modules = loaded_by(args, tmp_path)
    assert "sqlalchemy" in modules  # the store is read...
    assert not {"sqlmodel", "sqlalchemy.orm", "okrbridge.store.tables"} & modules  # ...with no ORM
