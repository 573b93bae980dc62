"""`okrbridge publish` against the live sandbox (Confluence Data Center): outcomes, JSON, dry-run diffs.

Most tests replace the rendered status pages by a fixed small tree (so outcomes can be pinned);
one publishes the real pages of the sample OKRs.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from okrbridge import workspace
from okrbridge.cli import cli
from okrbridge.page_spec import PageSpec
from sandbox.server import SandboxServer
from tests.publish.support import SANDBOX_SIZE, tree

RENDERED: list[PageSpec] = []


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The seeded sandbox; its Confluence addressed as Data Center."""
    with SandboxServer(deployment="datacenter", seed=1, size=SANDBOX_SIZE) as server:
        yield server


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[PageSpec]:
    """The pages `status_pages` returns for the test (a test may change them between runs)."""
    RENDERED[:] = tree()
    monkeypatch.setattr(workspace, "status_pages", lambda ws, now: list(RENDERED))
    return RENDERED


@pytest.fixture
def publisher(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose config publishes to the sandbox with the bot's PAT from the environment."""
    config = tmp_path / "okrbridge.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "db.sqlite"}"\n'
                      f'[confluence]\nurl = "{sandbox.url}"\ndeployment = "datacenter"\n', encoding="utf-8")
    monkeypatch.setenv("OKRBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("OKRBRIDGE_CONFLUENCE_TOKEN", "sandbox-pat-okrbot")
    return CliRunner()


def test_publish_reports_each_page_then_nothing_to_do(publisher: CliRunner, rendered: list[PageSpec]) -> None:
    first = publisher.invoke(cli, ["publish", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["counts"] == {"created": 5} and not data["dry_run"]
    assert [p["title"] for p in data["pages"]][:2] == ["OKRs", "OKRs 2026"]

    second = publisher.invoke(cli, ["publish"])
    assert second.exit_code == 0, second.output
    assert "unchanged  Team: Sales (page" in second.output
    assert second.output.strip().endswith("5 unchanged")


def test_a_dry_run_shows_the_diff_and_writes_nothing(publisher: CliRunner, rendered: list[PageSpec]) -> None:
    publisher.invoke(cli, ["publish"])
    rendered[:] = [dataclasses.replace(s, body="<p>All cycles &amp; more.</p>") if s.key == "root" else s
                   for s in rendered]

    dry = publisher.invoke(cli, ["publish", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert re.search(r"^would be updated +OKRs \(page \d+\): content changed$", dry.output, re.MULTILINE)
    assert "\n-<p>All cycles.</p>\n+<p>All cycles &amp; more.</p>\n" in dry.output
    assert "dry run, nothing written: 4 unchanged, 1 updated" in dry.output
    again = json.loads(publisher.invoke(cli, ["publish", "--json"]).output)
    assert again["counts"] == {"unchanged": 4, "updated": 1}


def test_a_failed_page_exits_1_with_the_reason(publisher: CliRunner, rendered: list[PageSpec]) -> None:
    rendered.append(PageSpec("period:2026/audience:x", "Team: X", "period:2026", "<p>x</p>",
                             read_groups=("no-such-group",)))
    result = publisher.invoke(cli, ["publish"])
    assert result.exit_code == 1
    line = r"^failed +Team: X \(page \d+\): restrictions could not be set"
    assert re.search(line, result.output, re.MULTILINE)


def test_a_bad_period_and_a_missing_token_are_named(publisher: CliRunner, rendered: list[PageSpec],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    bad = publisher.invoke(cli, ["publish", "--period", "2026-Q9"])
    assert bad.exit_code == 1 and "2026-Q9" in bad.output and "Traceback" not in bad.output
    monkeypatch.delenv("OKRBRIDGE_CONFLUENCE_TOKEN")
    missing = publisher.invoke(cli, ["publish"])
    assert missing.exit_code == 1 and "OKRBRIDGE_CONFLUENCE_TOKEN" in missing.output


def test_the_sample_okrs_status_pages_publish_and_then_stay_unchanged(publisher: CliRunner) -> None:
    first = json.loads(publisher.invoke(cli, ["publish", "--json"]).output)
    assert first["counts"] == {"created": len(first["pages"])} and len(first["pages"]) > 2
    second = json.loads(publisher.invoke(cli, ["publish", "--json"]).output)
    assert second["counts"] == {"unchanged": len(first["pages"])}


def test_publishing_one_period_names_a_period_without_pages(publisher: CliRunner,
                                                            rendered: list[PageSpec]) -> None:
    only = json.loads(publisher.invoke(cli, ["publish", "--period", "2026", "--json"]).output)
    assert only["counts"] == {"created": 5}
    none = publisher.invoke(cli, ["publish", "--period", "2031"])
    assert none.exit_code == 1
    assert "no pages are published for period 2031 (periods with pages: 2026)" in none.output
