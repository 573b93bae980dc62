"""Epic progress that Jira could not count is a failure, never a zero: the last good counts stay."""

from __future__ import annotations

import requests

from okrbridge.store import Store
from okrbridge.workspace import jira_connection, sync
from sandbox.server import SandboxServer
from tests.sync.conftest import MakeWorkspace

KR = "CO-1.1"


def _progress(store: Store, kr: str) -> dict[str, tuple[int, int]]:
    """(children done, children in all) per epic stored for `kr`."""
    return {i.epic_key: (i.children_done, i.children_total) for i in store.initiatives_for(kr)}


def test_jira_dying_before_epic_progress_is_counted_keeps_the_last_good_progress(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    # one request in flight: the pool asks the planned questions in order and the epics' progress
    # (follow-ups, queued behind them) after, so Jira dies between the two whatever the machine's load
    ws = make_workspace(cloud_sandbox, max_retries=0, full_sync_hours=0,  # the second sync asks again
                        max_concurrency=1)
    with jira_connection(ws.settings) as jira:
        first = sync(ws, jira)
    assert first.status == "succeeded"
    good = _progress(ws.store, KR)
    assert good and any(total > 0 for _, total in good.values())

    def kill_jira_after_the_values(done: int, _total: int) -> None:
        """Once every planned question is answered, every later Jira request fails with a 5xx (the
        epics' progress joins the pool's queue behind the planned questions; at most the one the
        worker already started is counted)."""
        if done == len(first.planned):
            requests.put(f"{cloud_sandbox.url}/_sandbox/faults", json={"error_rate": 1.0}, timeout=5)

    with jira_connection(ws.settings) as jira:
        second = sync(ws, jira, progress=kill_jira_after_the_values)

    assert KR in second.synced and KR not in second.failed  # its value was read before Jira died
    assert second.status == "partial"
    assert set(good) & set(second.uncounted_epics)  # (an epic a milestone KR asks about was counted first)
    assert "progress of epic" in second.warnings[KR] and "not counted" in second.warnings[KR]
    assert _progress(ws.store, KR) == good
    assert ws.store.run(second.run_id or 0).status == "partial"
