"""The workspace's status pages: views over the stored data of a real SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from okrbridge.config import load_settings
from okrbridge.workspace import open_workspace, record_checkin, status_pages

NOW = datetime(2026, 5, 15, tzinfo=UTC)


def test_a_checkin_shows_on_the_pages_that_may_show_it_and_renders_the_same_twice(tmp_path: Path) -> None:
    config = tmp_path / "okrbridge.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path}/okr.db"\n'
                      '[jira]\nurl = "https://jira.example.com"\n', encoding="utf-8")
    ws = open_workspace(load_settings(config, {}), mode="record", now=NOW)
    try:
        record_checkin(ws, "SALES-1.1", 15321.5, at=datetime(2026, 3, 1, tzinfo=UTC))
        pages = {p.key: p for p in status_pages(ws, now=NOW)}
        again = {p.key: p.body for p in status_pages(ws, now=NOW)}
    finally:
        ws.close()
    assert "15,321.5" in pages["period:2026/audience:team-sales"].body
    assert "15,321.5" not in pages["period:2026/audience:company"].body
    assert pages["period:2026/audience:team-sales"].read_groups == ("okr-executives", "okr-sales")
    assert {key: p.body for key, p in pages.items()} == again
    assert "period:2026-Q2/audience:leadership" in pages
