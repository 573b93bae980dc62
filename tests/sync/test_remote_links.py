"""Remote links: every epic that drives a KR shows it in Jira, with no app installed."""

from __future__ import annotations

from okrbridge.sync import global_link_id
from okrbridge.workspace import jira_connection, record_checkin, sync
from sandbox.server import SandboxServer
from tests.okr_files import two_kr_okrs
from tests.sync.conftest import MakeWorkspace

KR = "CO-1.1"


def _links(server: SandboxServer, epic: str, kr: str = KR) -> list[object]:
    """The sandbox's remote links on `epic` that okrbridge wrote for `kr`."""
    return [link for link in server.state.remote_links.get(epic, []) if link.global_id == global_link_id(kr)]


def test_each_epic_driving_a_kr_carries_one_link_updated_not_duplicated(
        sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(sandbox)
    with jira_connection(ws.settings) as jira:
        first = sync(ws, jira)
        second = sync(ws, jira)
    epics = {i.epic_key for i in ws.store.initiatives_for(KR)}
    labelled = {i.key for i in sandbox.state.issues.values()
                if i.issuetype == "Epic" and f"kr-{KR}" in i.labels}
    assert epics == labelled and epics
    assert first.links_written == second.links_written > 0
    for epic in epics:
        [link] = _links(sandbox, epic)
        title = link.object["title"]  # type: ignore[attr-defined]
        assert title.startswith(f"KR {KR} · Increase web conversion rate")
        assert link.object["url"].endswith(f"/kr/{KR}")  # type: ignore[attr-defined]


def test_a_link_is_removed_when_its_epic_no_longer_drives_the_kr(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
        dropped = sorted(i.epic_key for i in ws.store.initiatives_for(KR))[0]
        issue = cloud_sandbox.state.issues[dropped]
        issue.labels = [label for label in issue.labels if label != f"kr-{KR}"]
        cloud_sandbox.state.touch()
        report = sync(ws, jira)
    assert report.links_removed >= 1
    assert _links(cloud_sandbox, dropped) == []
    assert dropped not in {i.epic_key for i in ws.store.initiatives_for(KR)}


def test_links_can_be_switched_off(cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, remote_links=False)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.links_written == 0
    assert not any(link.global_id and link.global_id.startswith("okrbridge:")
                   for links in cloud_sandbox.state.remote_links.values() for link in links)


def test_a_manual_krs_link_shows_its_latest_check_in(cloud_sandbox: SandboxServer,
                                                      make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox)
    record_checkin(ws, "CO-2.1", 17.5)  # churn 20 % -> 15 %: 0.5, at risk
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    epics = [i.epic_key for i in ws.store.initiatives_for("CO-2.1")]
    assert epics
    for epic in epics:
        [link] = _links(cloud_sandbox, epic, "CO-2.1")
        assert link.object["title"].endswith("· 0.50 at risk")  # type: ignore[attr-defined]


def test_initiatives_by_label_find_the_same_epics_as_the_equivalent_jql(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    by_jql = "initiatives = { jql = 'issuetype = Epic AND labels = \"kr-ENG-1.2\"' }"
    okrs = (two_kr_okrs()
            .replace('id = "ENG-9.1"', f'id = "ENG-9.1"\n  {by_jql}')
            .replace('id = "ENG-9.2"', 'id = "ENG-9.2"\n  initiatives = { label = "kr-ENG-1.2" }'))
    ws = make_workspace(cloud_sandbox, okrs)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    by_label = {i.epic_key for i in ws.store.initiatives_for("ENG-9.2")}
    assert by_label and by_label == {i.epic_key for i in ws.store.initiatives_for("ENG-9.1")}
