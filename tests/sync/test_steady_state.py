"""The steady-state sync over HTTP, Cloud and Data Center: a second sync asks Jira only what could
have changed, and every way a count can change is still seen.

Expected values are worked out from the edit each test makes (one more done story is one more in
the count), not from the sandbox's JQL engine. Each test syncs once, changes the world the way a
person would (sandbox.edits), and syncs again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from okrbridge.sync import SyncReport
from okrbridge.workspace import Workspace, jira_connection, sync
from sandbox import edits
from sandbox.server import SandboxServer
from tests.store.support import snapshot_rows
from tests.sync.conftest import MakeWorkspace, clocked_sandbox

DAY = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

OKRS = """
[[objective]]
id = "ST-1"
title = "Numbers that move"
level = "team"
team = "engineering"
owner = "dave"
cycle = "2026"

  [[objective.key_result]]
  id = "ST-1.1"
  title = "Finish 200 stories"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 200
  source = { kind = "jql_count", jql = "project = ENG AND issuetype = Story AND statusCategory = Done" }
  initiatives = { epics = ["ENG-1"] }

  [[objective.key_result]]
  id = "ST-1.2"
  title = "Open 300 deals"
  owner = "bob"
  measure = "increase"
  start = 0
  target = 300
  source = { kind = "jql_count", jql = "project = SALES AND issuetype = Deal" }

  [[objective.key_result]]
  id = "ST-1.3"
  title = "Engineering work the sales team picks up"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 10
  source = { kind = "jql_count", jql = 'project = ENG AND assignee in membersOf("okr-sales")' }

  [[objective.key_result]]
  id = "ST-1.4"
  title = "Stories finished today"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 5
  source = { kind = "jql_count", jql = "project = ENG AND issuetype = Story AND resolved >= startOfDay()" }

  [[objective.key_result]]
  id = "ST-1.5"
  title = "Issues labelled for the probe, anywhere"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 10
  source = { kind = "jql_count", jql = "labels = steady-probe" }
"""

SCOPES = 3
"""The scopes the catalog above probes: ENG, SALES, and the site (ST-1.5 and the epic's progress)."""


@pytest.fixture(params=["cloud", "datacenter"])
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The seeded sandbox with its clock at DAY, over real HTTP."""
    with clocked_sandbox(request.param, DAY) as running:
        yield running


@pytest.fixture
def ws(server: SandboxServer, make_workspace: MakeWorkspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace on the catalog above, writing remote links, its Jira deployment known up front."""
    monkeypatch.setenv("OKRBRIDGE_JIRA_TOKEN", "sandbox-token-okrbot")
    return make_workspace(server, OKRS, base_url="https://okr.example", deployment=server.state.deployment)


def _sync(ws: Workspace, *, full: bool = False, skew: timedelta = timedelta(0)) -> SyncReport:
    """One sync; okrbridge's own clock is off Jira's by `skew`."""
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira, full=full, now=lambda: datetime.now(UTC) + skew)
    assert report.status == "succeeded", report.failed
    return report


def _value(ws: Workspace, kr: str) -> float:
    """The KR's latest stored value."""
    latest = ws.store.latest_snapshot(kr)
    assert latest is not None and latest.value is not None
    return latest.value


def _values(ws: Workspace) -> dict[str, float]:
    """Every KR's latest value."""
    return {kr: _value(ws, kr) for kr in ("ST-1.1", "ST-1.2", "ST-1.3", "ST-1.4", "ST-1.5")}


def _an_unfinished_story(server: SandboxServer) -> str:
    """An ENG story not done yet, assigned to nobody in okr-sales."""
    sales = set(server.state.groups.get("okr-sales", []))
    return next(i.key for i in server.state.issues.values() if i.project == "ENG" and i.issuetype == "Story"
                and i.status_category != "done" and i.assignee not in sales)


def test_a_second_sync_with_nothing_changed_asks_only_the_probes_and_writes_nothing(ws: Workspace) -> None:
    first = _sync(ws)
    rows, values = snapshot_rows(ws.store), _values(ws)
    second = _sync(ws)
    # serverInfo, myself (a calendar query may stand), the updated-issue search, one total per
    # scope, and the membersOf() count, which is asked every time.
    assert second.requests == 3 + SCOPES + 1
    assert second.answers_stood == second.questions - 1
    assert first.links_written >= 1 and second.links_written == 0 and second.links_in_place >= 1
    assert snapshot_rows(ws.store) == rows
    assert _values(ws) == values


def test_a_created_issue_is_counted_and_the_untouched_project_is_not_asked_again(
        server: SandboxServer, ws: Workspace) -> None:
    _sync(ws)
    before = _values(ws)
    edits.create_issue(server.state, "ENG", "Story", "A story finished today", status="Done")
    report = _sync(ws)
    after = _values(ws)
    assert after["ST-1.1"] == before["ST-1.1"] + 1
    assert after["ST-1.4"] == before["ST-1.4"] + 1
    assert after["ST-1.2"] == before["ST-1.2"]
    assert report.answers_stood == 1  # the SALES count; ENG and the site changed, membersOf is re-asked


def test_a_status_change_is_counted(server: SandboxServer, ws: Workspace) -> None:
    _sync(ws)
    before = _values(ws)
    edits.transition(server.state, _an_unfinished_story(server), "Done")
    _sync(ws)
    assert _value(ws, "ST-1.1") == before["ST-1.1"] + 1
    assert _value(ws, "ST-1.4") == before["ST-1.4"] + 1


def test_an_edited_field_is_counted_by_a_query_bounded_by_no_project(
        server: SandboxServer, ws: Workspace) -> None:
    _sync(ws)
    before = _value(ws, "ST-1.5")
    key = next(k for k, i in server.state.issues.items() if i.project == "MKT")
    edits.edit_issue(server.state, key, labels=[*server.state.issues[key].labels, "steady-probe"])
    report = _sync(ws)
    assert _value(ws, "ST-1.5") == before + 1
    # ENG's two counts and its epics, and SALES' count, stand: MKT is in none of their scopes
    assert report.answers_stood == 4


def test_a_deleted_issue_is_seen_by_its_project_total_though_it_leaves_no_update(
        server: SandboxServer, ws: Workspace) -> None:
    _sync(ws)
    before = _value(ws, "ST-1.1")
    key = next(k for k, i in server.state.issues.items()
               if i.project == "ENG" and i.issuetype == "Story" and i.status_category == "done"
               and i.parent != "ENG-1")
    edits.delete_issue(server.state, key)
    _sync(ws)
    assert _value(ws, "ST-1.1") == before - 1


def test_an_issue_moved_between_projects_leaves_one_count_and_joins_another(
        server: SandboxServer, ws: Workspace) -> None:
    _sync(ws)
    before = _values(ws)
    deal = next(k for k, i in server.state.issues.items() if i.project == "SALES" and i.issuetype == "Deal")
    edits.move_issue(server.state, deal, "ENG")
    report = _sync(ws)
    assert _value(ws, "ST-1.2") == before["ST-1.2"] - 1
    assert _value(ws, "ST-1.1") == before["ST-1.1"]  # a deal is no story, in ENG or not
    assert report.answers_stood == 0  # both projects changed, and so did the site


def test_a_calendar_query_is_asked_again_after_midnight_and_stands_before_it(
        server: SandboxServer, ws: Workspace) -> None:
    server.state.clock.set_now(DAY.replace(hour=23, minute=30))
    edits.create_issue(server.state, "ENG", "Story", "Finished late", status="Done")
    server.state.clock.set_now(DAY.replace(hour=23, minute=40))  # past the probes' overlap
    _sync(ws)
    today = _value(ws, "ST-1.4")
    assert today >= 1
    server.state.clock.set_now(DAY.replace(hour=23, minute=55))
    standing = _sync(ws)
    assert standing.answers_stood == standing.questions - 1  # before midnight it stands
    server.state.clock.set_now(DAY.replace(hour=23, minute=55) + timedelta(minutes=10))  # 00:05 next day
    after = _sync(ws)
    assert _value(ws, "ST-1.4") == 0  # nothing was resolved in the new day's five minutes
    assert after.answers_stood == after.questions - 2  # the calendar query and membersOf were asked


def test_a_group_membership_change_is_seen_by_the_query_that_names_the_group(
        server: SandboxServer, ws: Workspace) -> None:
    _sync(ws)
    before = _value(ws, "ST-1.3")
    key = next(k for k, i in server.state.issues.items() if i.project == "ENG" and i.assignee)
    assignee = server.state.issues[key].assignee
    assert assignee is not None
    assigned = sum(1 for i in server.state.issues.values() if i.project == "ENG" and i.assignee == assignee)
    members = server.state.groups.setdefault("okr-sales", [])
    assert assignee not in members
    members.append(assignee)
    user = server.state.users[assignee]
    user.groups = sorted([*user.groups, "okr-sales"])
    server.state.touch()
    _sync(ws)
    assert _value(ws, "ST-1.3") == before + assigned


@pytest.mark.parametrize("skew", [timedelta(hours=-3), timedelta(hours=5)], ids=["behind", "ahead"])
def test_okrbridges_clock_off_jiras_changes_nothing_the_probes_decide(
        server: SandboxServer, ws: Workspace, skew: timedelta) -> None:
    _sync(ws, skew=skew)
    before = _value(ws, "ST-1.1")
    server.state.clock.set_now(DAY + timedelta(minutes=30))
    edits.transition(server.state, _an_unfinished_story(server), "Done")
    _sync(ws, skew=skew)
    assert _value(ws, "ST-1.1") == before + 1


def test_full_asks_everything_again(ws: Workspace) -> None:
    _sync(ws)
    report = _sync(ws, full=True)
    assert report.answers_stood == 0
    assert _sync(ws).answers_stood == report.questions - 1  # and the next one stands on it


def test_an_answer_older_than_the_full_sync_period_is_asked_again(
        server: SandboxServer, ws: Workspace) -> None:
    _sync(ws)
    server.state.clock.set_now(DAY + timedelta(hours=ws.settings.jira.full_sync_hours, minutes=1))
    assert _sync(ws).answers_stood == 0


def test_a_probe_jira_fails_makes_everything_asked_again_and_says_why(
        server: SandboxServer, make_workspace: MakeWorkspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKRBRIDGE_JIRA_TOKEN", "sandbox-token-okrbot")
    ws = make_workspace(server, OKRS, base_url="https://okr.example", deployment=server.state.deployment,
                        max_retries=0)
    _sync(ws)
    values = _values(ws)
    # The next request, the probe of Jira's clock, answers 503.
    assert requests.put(f"{server.url}/_sandbox/faults", json={"script": ["503"]}, timeout=5).ok
    report = _sync(ws)
    assert report.answers_stood == 0
    assert report.change_note is not None and "Jira's clock could not be read" in report.change_note
    assert _values(ws) == values
    assert _sync(ws).answers_stood == report.questions - 1  # and the run after it stands again


EPICS_BY_KEY = """
[[objective]]
id = "EK-1"
title = "Driven by one epic"
level = "team"
team = "engineering"
owner = "dave"
cycle = "2026"

  [[objective.key_result]]
  id = "EK-1.1"
  title = "Finish 200 stories"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 200
  source = { kind = "jql_count", jql = "project = ENG AND issuetype = Story AND statusCategory = Done" }
  initiatives = { epics = ["ENG-1"] }
"""


def test_an_epics_progress_stands_when_nothing_changed_anywhere_though_no_planned_question_is_site_wide(
        server: SandboxServer, make_workspace: MakeWorkspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKRBRIDGE_JIRA_TOKEN", "sandbox-token-okrbot")
    ws = make_workspace(server, EPICS_BY_KEY, deployment=server.state.deployment)
    _sync(ws)
    second = _sync(ws)
    assert second.answers_stood == second.questions == 3  # the count, the epic list, its progress
    assert second.requests == 4  # serverInfo, the updated-issue search, the ENG and site totals
    child = next(k for k, i in server.state.issues.items()
                 if i.parent == "ENG-1" and i.status_category != "done")
    edits.transition(server.state, child, "Done")
    third = _sync(ws)
    assert third.answers_stood == 0
    assert ws.store.initiatives_for("EK-1.1")[0].children_done == \
        sum(1 for i in server.state.issues.values() if i.parent == "ENG-1" and i.status_category == "done")
