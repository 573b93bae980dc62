"""The sync's logic with an in-memory Jira (tests/sync/fake_jira.py) and a real SQLite store.

These pin decisions the sync makes — which links change, when a KR counts as failed, when a run
aborts — without a network. How Jira itself behaves is tested against the sandbox over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.jira_models import JiraAuthError, JqlError, RemoteLink
from okrbridge.catalog import load_catalog
from okrbridge.domain import Catalog
from okrbridge.store import Store
from okrbridge.sync import SyncAborted, SyncReport, run_sync
from okrbridge.sync_links import WantedLink, global_link_id, link_changes
from okrbridge.sync_ports import SyncJira
from okrbridge.sync_remote_links import LinkOptions
from tests.okr_files import BUGS_DONE, STORIES_DONE, two_kr_okrs
from tests.sync.fake_jira import FakeJira

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
LINKS = LinkOptions(base_url="https://okr.example.com")


def _wanted(epic: str, kr: str, title: str = "KR · 0.50 at risk") -> WantedLink:
    """A wanted link with fixed URL and summary."""
    return WantedLink(epic, kr, f"https://okr.example.com/kr/{kr}", title, f"Key result {kr}", False)


def _shown(link: WantedLink, title: str | None = None) -> RemoteLink:
    """The remote link Jira would list after writing `link` (optionally with another title)."""
    return RemoteLink("1", global_link_id(link.kr_id), link.url, title or link.title, link.summary,
                      status_resolved=link.resolved)


def test_an_unchanged_link_is_not_written_and_a_changed_one_is() -> None:
    same, changed = _wanted("ENG-1", "A-1.1"), _wanted("ENG-2", "A-1.1")
    existing = {"ENG-1": [_shown(same)], "ENG-2": [_shown(changed, "KR · 0.30 off track")]}
    changes = link_changes([same, changed], existing, owned=lambda kr: True)
    assert changes.writes == (changed,) and changes.deletes == ()


def test_only_our_links_of_krs_this_run_knows_are_removed() -> None:
    ours_gone = RemoteLink("2", global_link_id("OLD-1.1"), "u", "t")
    ours_unknown = RemoteLink("3", global_link_id("BROKEN-1.1"), "u", "t")
    someone_elses = RemoteLink("4", "com.example:doc=1", "u", "t")
    existing = {"ENG-1": [ours_gone, ours_unknown, someone_elses]}
    changes = link_changes([], existing, owned=lambda kr: kr != "BROKEN-1.1")
    assert changes.deletes == (("ENG-1", "OLD-1.1"),)


def _catalog(tmp_path: Path, text: str) -> Catalog:
    """A catalog loaded from `text`."""
    path = tmp_path / "okrs.toml"
    path.write_text(text, encoding="utf-8")
    return load_catalog(path).catalog


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A migrated SQLite store."""
    store = Store(f"sqlite:///{tmp_path / 'okrbridge.db'}")
    store.migrate()
    return store


def _sync(catalog: Catalog, store: Store, jira: SyncJira) -> SyncReport:
    """One run at NOW, one question at a time (so call order is deterministic)."""
    store.sync_catalog(catalog, NOW)
    return run_sync(catalog, store, jira, max_concurrency=1, links=LINKS, now=lambda: NOW)


def test_a_failed_initiatives_query_never_fails_a_kr_whose_value_was_stored(
        tmp_path: Path, store: Store) -> None:
    okrs = two_kr_okrs().replace('id = "ENG-9.1"', 'id = "ENG-9.1"\n  initiatives = { jql = "labels = x" }')
    catalog = _catalog(tmp_path, okrs)
    jira = FakeJira(counts={BUGS_DONE: 5, STORIES_DONE: 7},
                    refuse={"epics labels = x": JqlError(400, ["Field 'x' is bad."], "u", jql="labels = x")})
    report = _sync(catalog, store, jira)
    assert report.failed == {}
    assert "Field 'x' is bad." in report.warnings["ENG-9.1"]
    assert store.latest_snapshot("ENG-9.1").value == 5  # type: ignore[union-attr]


def test_an_auth_refusal_aborts_before_the_remaining_questions_and_stores_nothing(
        tmp_path: Path, store: Store) -> None:
    catalog = _catalog(tmp_path, two_kr_okrs())
    jira = FakeJira(counts={BUGS_DONE: 5, STORIES_DONE: 7},
                    refuse={f"count {BUGS_DONE}": JiraAuthError(401, ["not authenticated"], "u")})
    with pytest.raises(SyncAborted, match="fix the token"):
        store.sync_catalog(catalog, NOW)
        run_sync(catalog, store, jira, max_concurrency=1, links=LINKS, now=lambda: NOW,
                 auth_hint="fix the token")
    assert jira.calls == [f"count {BUGS_DONE}"]
    assert store.latest_snapshot("ENG-9.1") is None and store.latest_snapshot("ENG-9.2") is None
    assert store.runs(limit=1)[0].status == "failed"


def test_a_second_run_with_nothing_changed_only_reads_links(tmp_path: Path, store: Store) -> None:
    epics = 'initiatives = { epics = ["ENG-1", "ENG-404"] }'
    okrs = two_kr_okrs().replace('id = "ENG-9.1"', f'id = "ENG-9.1"\n  {epics}')
    catalog = _catalog(tmp_path, okrs)
    jira = FakeJira(counts={BUGS_DONE: 5, STORIES_DONE: 7}, missing_keys={"ENG-404"})
    first = _sync(catalog, store, jira)
    assert first.links_written == 1 and "ENG-404" in first.warnings["ENG-9.1"]
    jira.calls.clear()
    second = _sync(catalog, store, jira)
    assert second.links_written == 0
    assert not [c for c in jira.calls if c.startswith(("upsert", "delete"))]
    assert "links ENG-1" in jira.calls
