"""One rule for a score: grades, history and the remote links on epics agree after a target is edited."""

from __future__ import annotations

from datetime import UTC, datetime

from okrbridge.catalog import bundled_sample
from okrbridge.sync_links import global_link_id
from okrbridge.workspace import grades, history, jira_connection, open_workspace, record_checkin, sync
from sandbox.server import SandboxServer
from tests.sync.conftest import MakeWorkspace

KR = "CO-2.1"  # manual, start 20 % -> target 15 %, driven by the epics labelled kr-CO-2.1
SAMPLE = bundled_sample("okrs.toml").read_text(encoding="utf-8")
TARGET_15 = 'measure = "decrease"\n  start = 20\n  target = 15\n  unit = "%"\n  source = { kind = "manual" }'
MID_2026 = datetime(2026, 6, 15, 12, tzinfo=UTC)  # inside CO-2's cycle, 2026, so the sync reads its epics


def test_grades_history_and_link_titles_show_the_score_under_the_edited_target(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    assert SAMPLE.count(TARGET_15) == 1
    ws = make_workspace(cloud_sandbox, SAMPLE)
    record_checkin(ws, KR, 17.5, at=MID_2026)  # (20 - 17.5) / (20 - 15) = 0.5 under the first target
    ws.close()

    # The team moves the target to 10 %: the same reading now scores (20 - 17.5) / (20 - 10) = 0.25.
    edited = SAMPLE.replace(TARGET_15, TARGET_15.replace("target = 15", "target = 10"))
    ws = make_workspace(cloud_sandbox, edited, base_url="https://okr.example.com")
    with jira_connection(ws.settings) as jira:
        sync(ws, jira, only=frozenset({KR}), now=lambda: MID_2026)
    epics = [i.epic_key for i in ws.store.initiatives_for(KR)]
    assert epics
    links = [link for epic in epics for link in cloud_sandbox.state.remote_links.get(epic, [])
             if link.global_id == global_link_id(KR)]
    titles = {link.object["title"] for link in links}  # type: ignore[attr-defined]

    reader = open_workspace(ws.settings, mode="read")
    try:
        [report] = grades(reader, reader.loaded.calendar.parse("2026"), now=MID_2026)
        graded = next(kr for o in report.objectives for kr in o.krs if kr.id == KR)
        [entry] = history(reader, KR)
    finally:
        reader.close()

    assert graded.score == entry.score == 0.25
    assert titles == {"KR CO-2.1 · Reduce annual employee churn from 20% to 15% · 0.25 off track"}
