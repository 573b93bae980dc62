"""Fixtures shared by every test module: an isolated workspace and the command-line runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A config using the bundled sample OKRs and a SQLite database in the test's own folder."""
    path = tmp_path / "okrbridge.toml"
    path.write_text(f'database_url = "sqlite:///{tmp_path / "okrbridge.db"}"\n', encoding="utf-8")
    return path


@pytest.fixture
def runner(config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A CLI runner whose commands use `config_file` and run in the test's folder."""
    monkeypatch.setenv("OKRBRIDGE_CONFIG", str(config_file))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


# Property tests must not fail on a busy machine: how long an example takes is never a verdict here
# (speed is measured by the benchmarks), so hypothesis' per-example deadline is off everywhere.
settings.register_profile("okrbridge", deadline=None)
settings.load_profile("okrbridge")
