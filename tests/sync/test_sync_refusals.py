"""What a sync does when Jira refuses: a missing epic key, revoked credentials (sandbox over HTTP)."""

from __future__ import annotations

import pytest
import requests

from connectors.jira import JiraConnection
from okrbridge.demo import BOT_EMAIL
from okrbridge.sync import SyncAborted, dry_run
from okrbridge.sync_links import global_link_id
from okrbridge.workspace import jira_connection, sync
from sandbox.server import SandboxServer
from tests.okr_files import two_kr_okrs
from tests.sync.conftest import MakeWorkspace

BASE = "https://okr.example.com"
WRONG_TOKEN = "wrong-token-7f3a9c1e"


def _an_epic(server: SandboxServer) -> str:
    """The key of some seeded epic."""
    return sorted(i.key for i in server.state.issues.values() if i.issuetype == "Epic")[0]


def test_a_missing_epic_key_is_a_warning_and_the_kr_keeps_its_value_and_other_epics(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    epic = _an_epic(cloud_sandbox)
    epics = f'initiatives = {{ epics = ["{epic}", "ENG-99999"] }}'
    okrs = two_kr_okrs().replace('id = "ENG-9.1"', f'id = "ENG-9.1"\n  {epics}')
    ws = make_workspace(cloud_sandbox, okrs, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.failed == {} and report.status == "succeeded"
    assert sorted(report.synced) == ["ENG-9.1", "ENG-9.2"]
    assert "ENG-99999" in report.warnings["ENG-9.1"] and epic not in report.warnings["ENG-9.1"]
    assert [i.epic_key for i in ws.store.initiatives_for("ENG-9.1")] == [epic]
    assert [link.global_id for link in cloud_sandbox.state.remote_links[epic]] == [global_link_id("ENG-9.1")]
    assert not ws.store.subject_states()["ENG-9.1"].stale


def _history(ws: object) -> dict[str, object]:
    """Every subject's snapshots and sync state, to compare before and after a refused run."""
    from okrbridge.workspace import Workspace

    assert isinstance(ws, Workspace)
    subjects = [kr.id for kr in ws.catalog.key_results()] + [kpi.id for kpi in ws.catalog.kpis]
    return {"snapshots": {s: ws.store.history(s) for s in subjects}, "states": ws.store.subject_states()}


@pytest.mark.parametrize("refusal", ["wrong token (401)", "deactivated account (403)"])
@pytest.mark.parametrize("configured", ["auto", "as the site is"])
def test_refused_credentials_abort_the_run_with_one_message_and_change_no_snapshot(
        sandbox: SandboxServer, make_workspace: MakeWorkspace, refusal: str, configured: str) -> None:
    """With "auto" the serverInfo probe is refused; with the deployment configured, the first questions."""
    deployment = "auto" if configured == "auto" else sandbox.state.deployment
    ws = make_workspace(sandbox)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    before = _history(ws)
    requests.delete(f"{sandbox.url}/_sandbox/requests", timeout=5)
    token = ws.settings.jira_token() or ""
    if refusal.startswith("wrong"):
        token = WRONG_TOKEN
    else:
        bot = next(u for u in sandbox.state.users.values() if u.email == BOT_EMAIL)
        bot.active = False
    with (JiraConnection(sandbox.url, deployment=deployment, email=BOT_EMAIL, token=token) as jira,
          pytest.raises(SyncAborted) as aborted):
        sync(ws, jira)
    message = str(aborted.value)
    assert "jira.token_env" in message and "OKRBRIDGE_JIRA_TOKEN" in message and "jira.email" in message
    assert ("HTTP 401" if refusal.startswith("wrong") else "HTTP 403") in message
    assert token not in message
    assert _history(ws) == before
    run = ws.store.runs(limit=1)[0]
    assert run.status == "failed" and run.errors[0]["error"] == message
    # Aborted at the first refusal: the questions not yet started are never sent.
    entries = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=5).json()["requests"]
    refused = [e for e in entries if e["status"] in (401, 403)]
    assert refused and len(refused) < dry_run(ws.catalog).questions
