"""Remote links: every epic that drives a KR shows it in Jira, with no app installed, and nothing stale.

Every test here talks to the sandbox over HTTP; the sandbox's request log proves which link writes
were sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from okrbridge.sync_links import LINK_PREFIX, global_link_id
from okrbridge.workspace import jira_connection, record_checkin, sync
from sandbox import edits
from sandbox.model import RemoteLink
from sandbox.server import SandboxServer
from tests.okr_files import two_kr_okrs
from tests.sync.conftest import MakeWorkspace, clocked_sandbox

KR = "CO-1.1"
BASE = "https://okr.example.com"
LABEL = "kr-ENG-1.2"
WITH_EPICS = two_kr_okrs().replace('id = "ENG-9.1"',
                                   f'id = "ENG-9.1"\n  initiatives = {{ label = "{LABEL}" }}')
WITHOUT_ENG_9_1 = WITH_EPICS[:WITH_EPICS.index("  [[objective.key_result]]")] + \
    WITH_EPICS[WITH_EPICS.index('  [[objective.key_result]]\n  id = "ENG-9.2"'):]


QUIET_NIGHT = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
"""A sandbox clock past the day's last seeded change by far more than the probes' overlap: the seed
dates its issues' changes in working hours, so at real time a change a few minutes old can fall
inside the overlap and rightly count as "something changed"."""


@pytest.fixture(params=["cloud", "datacenter"])
def quiet_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The seeded sandbox over HTTP with its clock at QUIET_NIGHT, as Jira Cloud and Data Center."""
    with clocked_sandbox(request.param, QUIET_NIGHT) as server:
        yield server


def _links(server: SandboxServer, epic: str, kr: str = KR) -> list[RemoteLink]:
    """The sandbox's remote links on `epic` that okrbridge wrote for `kr`."""
    return [link for link in server.state.remote_links.get(epic, []) if link.global_id == global_link_id(kr)]


def _ours(server: SandboxServer) -> dict[str, list[str]]:
    """Every link of ours in the sandbox, as epic -> globalIds."""
    found = {epic: sorted(str(link.global_id) for link in links
                          if (link.global_id or "").startswith(LINK_PREFIX))
             for epic, links in server.state.remote_links.items()}
    return {epic: ids for epic, ids in found.items() if ids}


def _labelled(server: SandboxServer, label: str) -> set[str]:
    """The sandbox's epics carrying `label` (worked out from its data, not through JQL)."""
    return {i.key for i in server.state.issues.values() if i.issuetype == "Epic" and label in i.labels}


def _link_writes(server: SandboxServer) -> list[dict[str, object]]:
    """The POST and DELETE requests on remote links in the sandbox's request log."""
    entries = requests.get(f"{server.url}/_sandbox/requests", timeout=5).json()["requests"]
    return [e for e in entries if e["path"].endswith("/remotelink") and e["method"] in ("POST", "DELETE")]


def _clear_log(server: SandboxServer) -> None:
    """Empty the sandbox's request log."""
    requests.delete(f"{server.url}/_sandbox/requests", timeout=5)


def test_each_epic_driving_a_kr_carries_one_link_pointing_at_the_kr_page(
        sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(sandbox, base_url=BASE + "/")
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    epics = {i.epic_key for i in ws.store.initiatives_for(KR)}
    assert epics == _labelled(sandbox, f"kr-{KR}") and epics
    assert report.links_written == sum(len(_ours(sandbox)[e]) for e in _ours(sandbox)) > 0
    for epic in epics:
        [link] = _links(sandbox, epic)
        assert link.object["title"].startswith(f"KR {KR} · Increase web conversion rate")
        assert link.object["url"] == f"{BASE}/kr/{KR}"


def test_a_second_sync_with_nothing_changed_writes_no_link(
        quiet_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    sandbox = quiet_sandbox
    ws = make_workspace(sandbox, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        first = sync(ws, jira)
        _clear_log(sandbox)
        second = sync(ws, jira)
    assert first.links_written > 0
    assert second.links_written == second.links_removed == 0
    assert _link_writes(sandbox) == []
    entries = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=5).json()["requests"]
    # nothing changed in Jira, so the links a run read or wrote are known to be in place: not even read
    link_reads = [e for e in entries if e["path"].endswith("/remotelink") and e["method"] == "GET"]
    assert link_reads == [] and second.links_in_place > 0
    assert second.requests == len([e for e in entries if e["path"].startswith("/rest/")])


def test_link_writes_count_in_the_runs_request_figure(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, WITH_EPICS, base_url=BASE)
    _clear_log(cloud_sandbox)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    entries = requests.get(f"{cloud_sandbox.url}/_sandbox/requests", timeout=5).json()["requests"]
    epics = _labelled(cloud_sandbox, LABEL)
    assert report.links_written == len(epics) == len(_link_writes(cloud_sandbox))
    assert report.requests == len([e for e in entries if e["path"].startswith("/rest/")])
    [run] = ws.store.runs(limit=1)
    assert run.counts["requests"] == report.requests and run.counts["links_written"] == len(epics)


def test_a_changed_score_rewrites_only_that_krs_links(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
        record_checkin(ws, "CO-2.1", 17.5)  # churn 20 % -> 15 %: 0.5, at risk
        _clear_log(cloud_sandbox)
        report = sync(ws, jira)
    epics = {i.epic_key for i in ws.store.initiatives_for("CO-2.1")}
    assert epics and report.links_written == len(epics)
    assert {str(e["path"]).split("/")[-2] for e in _link_writes(cloud_sandbox)} == epics
    for epic in epics:
        [link] = _links(cloud_sandbox, epic, "CO-2.1")
        assert link.object["title"].endswith("· 0.50 at risk")


def test_a_link_is_removed_when_its_epic_no_longer_drives_the_kr(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
        dropped = sorted(i.epic_key for i in ws.store.initiatives_for(KR))[0]
        labels = [label for label in cloud_sandbox.state.issues[dropped].labels if label != f"kr-{KR}"]
        edits.edit_issue(cloud_sandbox.state, dropped, labels=labels)
        report = sync(ws, jira)
    assert report.links_removed == 1
    assert _links(cloud_sandbox, dropped) == []
    assert dropped not in {i.epic_key for i in ws.store.initiatives_for(KR)}


def test_links_go_when_a_krs_initiatives_are_removed_from_okrs_toml(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, WITH_EPICS, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    epics = _labelled(cloud_sandbox, LABEL)
    assert set(_ours(cloud_sandbox)) == epics
    ws = make_workspace(cloud_sandbox, two_kr_okrs(), base_url=BASE)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.links_removed == len(epics)
    assert _ours(cloud_sandbox) == {}
    assert ws.store.initiatives_for("ENG-9.1") == []


def test_links_go_when_the_kr_is_removed_from_okrs_toml(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, WITH_EPICS, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    assert _ours(cloud_sandbox)
    ws = make_workspace(cloud_sandbox, WITHOUT_ENG_9_1, base_url=BASE)
    assert ws.catalog.key_result("ENG-9.1") is None  # archived in the store now
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
        again = sync(ws, jira)
    assert report.links_removed == len(_labelled(cloud_sandbox, LABEL))
    assert _ours(cloud_sandbox) == {}
    assert again.links_removed == again.links_written == 0


def test_links_of_a_kr_whose_epics_could_not_be_read_are_left_alone(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, WITH_EPICS, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        sync(ws, jira)
    before = _ours(cloud_sandbox)
    broken = WITH_EPICS.replace(f'label = "{LABEL}"', 'jql = "issuetype = Epic AND labelz = x"')
    ws = make_workspace(cloud_sandbox, broken, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.links_removed == 0 and _ours(cloud_sandbox) == before
    assert "ENG-9.1" in report.synced and "ENG-9.1" not in report.failed
    assert "labelz" in report.warnings["ENG-9.1"]


def test_without_a_base_url_no_link_is_written_and_the_summary_says_why(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    from okrbridge.workspace import sync_summary

    ws = make_workspace(cloud_sandbox)
    _clear_log(cloud_sandbox)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.links_written == 0 and _ours(cloud_sandbox) == {}
    entries = requests.get(f"{cloud_sandbox.url}/_sandbox/requests", timeout=5).json()["requests"]
    assert not [e for e in entries if "remotelink" in e["path"]]
    assert report.links_skipped and "web.base_url" in report.links_skipped
    assert "web.base_url is not set" in sync_summary(report)
    assert ws.store.initiatives_for(KR)  # initiatives are still recorded


def test_links_can_be_switched_off(cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox, remote_links=False, base_url=BASE)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira)
    assert report.links_written == 0 and report.links_skipped is None
    assert _ours(cloud_sandbox) == {}


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
