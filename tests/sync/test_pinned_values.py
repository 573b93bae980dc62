"""Synced values pinned to numbers worked out independently of the sandbox's JQL engine.

The seeded organisation (seed 1) as of 2026-06-15 12:00 UTC is filtered here in plain Python — no
JQL — and the results are also written down as literals, so neither an engine bug nor a seed
change can pass unnoticed. The sum reads Story Points by field NAME, which the connector resolves
through GET /field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from okrbridge.workspace import jira_connection, sync
from sandbox.model import Issue
from sandbox.server import SandboxServer
from tests.sync.conftest import MakeWorkspace, clocked_sandbox

DAY = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
STORY_POINTS = "customfield_10016"

OKRS = """
[[objective]]
id = "PIN-1"
title = "Numbers we can check by hand"
level = "team"
team = "engineering"
owner = "dave"
cycle = "2026"

  [[objective.key_result]]
  id = "PIN-1.1"
  title = "Resolve 100 engineering bugs"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 100
  source = { kind = "jql_count", jql = "project = ENG AND issuetype = Bug AND statusCategory = Done" }

  [[objective.key_result]]
  id = "PIN-1.2"
  title = "Raise visit conversion from 1.5 % to 3 %"
  owner = "carol"
  measure = "increase"
  start = 1.5
  target = 3.0
  unit = "%"
    [objective.key_result.source]
    kind = "jql_ratio"
    numerator = "project = WEB AND issuetype = Visit AND labels = converted"
    denominator = "project = WEB AND issuetype = Visit"

  [[objective.key_result]]
  id = "PIN-1.3"
  title = "Deliver 500 story points"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 500
    [objective.key_result.source]
    kind = "jql_sum"
    jql = "project = ENG AND issuetype = Story AND statusCategory = Done"
    field = "Story Points"

  [[objective.key_result]]
  id = "PIN-1.4"
  title = "Finish the internal tooling cleanup"
  owner = "dave"
  measure = "milestone"
  source = { kind = "milestone", issue = "ENG-5" }

  [[objective.key_result]]
  id = "PIN-1.5"
  title = "Migrate the billing service"
  owner = "dave"
  measure = "milestone"
  source = { kind = "milestone", issue = "ENG-4" }
"""


@pytest.fixture(params=["cloud", "datacenter"])
def fixed_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The sandbox seeded with seed 1, its clock at DAY, over real HTTP."""
    with clocked_sandbox(request.param, DAY) as server:
        yield server


def _issues(server: SandboxServer, keep: Callable[[Issue], bool]) -> list[Issue]:
    """The seeded issues `keep` accepts: a plain filter over the sandbox's data, not a JQL."""
    return [issue for issue in server.state.issues.values() if keep(issue)]


def test_synced_values_equal_numbers_worked_out_from_the_seeded_issues(
        fixed_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    bugs = _issues(fixed_sandbox, lambda i: i.project == "ENG" and i.issuetype == "Bug"
                   and i.status_category == "done")
    visits = _issues(fixed_sandbox, lambda i: i.project == "WEB" and i.issuetype == "Visit")
    converted = [i for i in visits if "converted" in i.labels]
    stories = _issues(fixed_sandbox, lambda i: i.project == "ENG" and i.issuetype == "Story"
                      and i.status_category == "done")
    points = sum(i.custom[STORY_POINTS] or 0 for i in stories if STORY_POINTS in i.custom)
    # The same numbers as literals: seed 1 at DAY has 48 bugs done, 14 of 673 visits converted,
    # and 69 stories done carrying 412 story points; ENG-5 is done and ENG-4 is not started.
    assert (len(bugs), len(converted), len(visits), len(stories), points) == (48, 14, 673, 69, 412)
    assert fixed_sandbox.state.issues["ENG-5"].status_category == "done"
    assert fixed_sandbox.state.issues["ENG-4"].status_category == "new"

    ws = make_workspace(fixed_sandbox, OKRS)
    with jira_connection(ws.settings) as jira:
        report = sync(ws, jira, now=lambda: DAY)
    assert report.failed == {} and sorted(report.synced) == ["PIN-1.1", "PIN-1.2", "PIN-1.3", "PIN-1.4",
                                                              "PIN-1.5"]
    value = {kr: snap.value for kr in report.synced if (snap := ws.store.latest_snapshot(kr))}
    score = {kr: ws.score_of(snap) for kr in report.synced if (snap := ws.store.latest_snapshot(kr))}
    assert value["PIN-1.1"] == 48 and score["PIN-1.1"] == pytest.approx(0.48)
    assert value["PIN-1.2"] == pytest.approx(100 * 14 / 673)  # 2.080 %
    assert score["PIN-1.2"] == pytest.approx((100 * 14 / 673 - 1.5) / 1.5)  # 0.387
    assert value["PIN-1.3"] == 412 and score["PIN-1.3"] == pytest.approx(412 / 500)
    assert (value["PIN-1.4"], score["PIN-1.4"]) == (1.0, 1.0)
    assert (value["PIN-1.5"], score["PIN-1.5"]) == (0.0, 0.0)
    detail = ws.store.latest_snapshot("PIN-1.3").explanation  # type: ignore[union-attr]
    assert (detail.field, detail.issues, detail.with_value) == ("Story Points", 69, 69)
