"""`okrbridge sync` against the live sandbox: the summary, the JSON, and the exit code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from okrbridge.cli import cli
from sandbox.server import SandboxServer
from tests.okr_files import two_kr_okrs

BAD_KR = two_kr_okrs("project = NOPE")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The seeded sandbox, as Jira Data Center (Cloud is covered by the library tests)."""
    with SandboxServer(deployment="datacenter", seed=1) as server:
        yield server


def _config(tmp_path: Path, sandbox: SandboxServer, okrs: str | None = None) -> Path:
    """A config pointing at the sandbox, with a database in the test's folder."""
    lines = [f'database_url = "sqlite:///{tmp_path / "db.sqlite"}"']
    if okrs is not None:
        (tmp_path / "okrs.toml").write_text(okrs, encoding="utf-8")
        lines.append('okrs = "okrs.toml"')
    lines += ["[jira]", f'url = "{sandbox.url}"', 'email = "okrbot"', 'token_env = "SANDBOX_PAT"']
    path = tmp_path / "okrbridge.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sync_stores_every_value_and_exits_zero(
        runner: CliRunner, tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PAT", "sandbox-pat-okrbot")
    config = _config(tmp_path, sandbox)
    result = runner.invoke(cli, ["--config", str(config), "sync", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["deployment"] == "datacenter" and report["status"] == "succeeded"
    assert report["failed"] == {} and len(report["synced"]) >= 10
    history = runner.invoke(cli, ["--config", str(config), "history", "ENG-1.2"])
    assert "count" in history.output and "statusCategory = Done" in history.output


def test_a_failed_kr_is_named_with_jiras_reason_and_exits_one(
        runner: CliRunner, tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PAT", "sandbox-pat-okrbot")
    result = runner.invoke(cli, ["--config", str(_config(tmp_path, sandbox, BAD_KR)), "sync"])
    assert result.exit_code == 1
    assert "partial" in result.output
    assert "failed ENG-9.2" in result.output and "'NOPE' does not exist" in result.output


def test_a_wrong_token_is_reported_without_the_token(
        runner: CliRunner, tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PAT", "not-the-token-s3cr3t")
    result = runner.invoke(cli, ["--config", str(_config(tmp_path, sandbox)), "sync"])
    assert result.exit_code == 1
    assert "401" in result.output
    assert "s3cr3t" not in result.output


def test_a_missing_token_names_the_variable_to_set(
        runner: CliRunner, tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_PAT", raising=False)
    result = runner.invoke(cli, ["--config", str(_config(tmp_path, sandbox)), "sync"])
    assert result.exit_code == 1
    assert "SANDBOX_PAT" in result.output


def test_a_dead_jira_aborts_with_the_url_and_writes_nothing(
        runner: CliRunner, tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PAT", "sandbox-pat-okrbot")
    config = _config(tmp_path, sandbox)
    sandbox.stop()
    config.write_text(config.read_text(encoding="utf-8") + "max_retries = 0\n", encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(config), "sync"])
    assert result.exit_code == 1
    assert "sync aborted" in result.output and sandbox.url in result.output
