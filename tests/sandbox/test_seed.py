"""The demo organisation: deterministic per seed, shaped as the sample OKRs expect, dated in the
clock's year and cut at the clock, fast to build."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import requests

from sandbox.model import Issue
from sandbox.seed import GROUPS, populate
from sandbox.seed_issues import CATEGORY
from sandbox.server import SandboxServer
from sandbox.state import SandboxState

from .conftest import FIXED_NOW, SEED

YEAR_END = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def _built(seed: int = 3, size: int = 2000, at: datetime = FIXED_NOW) -> SandboxState:
    """A state seeded as of `at`."""
    state = SandboxState()
    populate(state, seed=seed, size=size, as_of=at)
    return state


def _snapshot(state: SandboxState) -> list[tuple[object, ...]]:
    """Everything observable about the issues, in key order."""
    return [(i.key, i.id, i.issuetype, i.summary, i.status, i.created, i.resolved, tuple(i.labels),
             i.assignee, i.parent, tuple(sorted(i.custom.items())),
             tuple((h.at, h.to_status) for h in i.history))
            for i in sorted(state.issues.values(), key=lambda issue: int(issue.id))]


def test_the_same_seed_builds_the_same_world_and_another_seed_a_different_one() -> None:
    first, again, other = _built(seed=3), _built(seed=3), _built(seed=4)
    assert _snapshot(first) == _snapshot(again)
    assert sorted(first.users) == sorted(again.users)
    assert _snapshot(first) != _snapshot(other)


def test_the_organisation_has_the_groups_projects_and_fields_the_samples_use() -> None:
    state = _built()
    assert set(state.groups) == set(GROUPS)
    assert {p.key: p.issue_types for p in state.projects.values()}["WEB"][-1] == "Visit"
    assert "Deal" in state.projects["SALES"].issue_types
    assert {(f.id, f.name) for f in state.custom_fields} == {
        ("customfield_10016", "Story Points"), ("customfield_10050", "Resolution Time (h)")}
    admins = {state.users[a].login for a in state.groups["jira-administrators"]}
    assert admins == {"alice", "okrbot"}


def test_kr_labelled_epics_exist_in_every_project_and_eng_1_is_self_serve_checkout() -> None:
    state = _built()
    epic = state.issues["ENG-1"]
    assert (epic.issuetype, epic.summary) == ("Epic", "Self-serve checkout")
    labelled = Counter(label for i in state.issues.values() if i.issuetype == "Epic" for label in i.labels)
    for label in ("kr-CO-1.1", "kr-CO-2.1", "kr-SALES-1.1", "kr-ENG-1.1", "kr-ENG-1.2", "kr-MKT-1.1",
                  "kr-PEOPLE-1.1"):
        assert labelled[label] >= 1, label
    projects_with_kr_epics = {i.project for i in state.issues.values()
                              if i.issuetype == "Epic" and any(x.startswith("kr-") for x in i.labels)}
    assert projects_with_kr_epics == {"WEB", "SALES", "MKT", "PEOPLE", "ENG"}


def test_epic_children_carry_both_parent_and_epic_link() -> None:
    state = _built()
    children = [i for i in state.issues.values() if i.parent]
    assert children and all(i.parent == i.epic_link for i in children)
    assert all(state.issues[i.parent].issuetype == "Epic" for i in children)  # type: ignore[index]


def _rate(visits: list[Issue]) -> float:
    """Share of visits labelled converted."""
    return sum("converted" in v.labels for v in visits) / len(visits)


def test_web_conversion_drifts_from_about_2_0_toward_2_4_percent() -> None:
    state = _built(size=40_000, at=YEAR_END)
    visits = [i for i in state.issues.values() if i.issuetype == "Visit"]
    early = [v for v in visits if v.created.month <= 2]
    late = [v for v in visits if v.created.month >= 11]
    assert 0.0195 <= _rate(early) <= 0.0215
    assert 0.0230 <= _rate(late) <= 0.0245


def test_weekly_counts_move_through_the_year() -> None:
    state = _built(size=3000, at=YEAR_END)
    created = Counter(i.created.isocalendar().week for i in state.issues.values() if i.issuetype != "Epic")
    resolved = Counter(i.resolved.isocalendar().week for i in state.issues.values()
                       if i.resolved and i.issuetype in ("Story", "Task", "Bug"))
    assert all(created[week] > 0 for week in range(2, 52))
    assert len(set(resolved.values())) > 10
    bugs = Counter(i.created.month for i in state.issues.values() if i.issuetype == "Bug" and not i.parent)
    assert bugs[1] > bugs[12]   # bugs arrive less often as the year goes on


def test_statuses_agree_with_their_history_and_nothing_happens_after_the_clock() -> None:
    state = _built()
    for issue in state.issues.values():
        assert issue.created <= FIXED_NOW and issue.history[0].from_status is None
        times = [h.at for h in issue.history]
        assert times == sorted(times) and times[-1] <= FIXED_NOW
        assert issue.history[-1].to_status == issue.status
        assert issue.status_category == CATEGORY[issue.status]
        done = issue.status_category == "done"
        assert (issue.resolved is not None) == done == (issue.resolution is not None)


def test_an_earlier_clock_shows_an_earlier_chapter_of_the_same_story() -> None:
    march, june = _built(at=datetime(2026, 3, 1, tzinfo=UTC)), _built()
    assert len(march.issues) < len(june.issues)
    for key in ("ENG-1", "WEB-1", "SALES-1"):
        assert march.issues[key].created == june.issues[key].created
    statuses = Counter(i.status for i in march.issues.values())
    assert statuses["To Do"] or statuses["In Progress"]


def test_the_data_follows_the_clocks_year() -> None:
    state = _built(at=datetime(2031, 4, 1, tzinfo=UTC))
    assert {i.created.year for i in state.issues.values()} == {2031}


def test_the_size_knob_seeds_tens_of_thousands_of_issues() -> None:
    # How long this takes is printed by `info["seconds"]` and the benchmarks, never asserted here.
    state = SandboxState()
    info = populate(state, seed=1, size=20_000, as_of=YEAR_END)
    assert len(state.issues) >= 19_000 and info["issues"] == len(state.issues)


def test_the_okr_confluence_space_is_created() -> None:
    state = _built()
    space = state.confluence.get_space("OKR")
    assert space.key == "OKR"
    populate(state, seed=3, size=100, as_of=FIXED_NOW + timedelta(days=1))   # re-seeding keeps it
    assert state.confluence.get_space("OKR") is space


def test_reset_over_http_rebuilds_the_world_at_the_current_clock(cloud_sandbox: SandboxServer) -> None:
    admin = f"{cloud_sandbox.url}/_sandbox"
    before = len(cloud_sandbox.state.issues)
    assert requests.put(f"{admin}/clock", json={"today": "2026-02-01"}).status_code == 200
    rebuilt = requests.post(f"{admin}/reset", json={"seed": SEED}).json()
    assert rebuilt["seed"] == SEED and rebuilt["as_of"].startswith("2026-02-01")
    assert 0 < rebuilt["issues"] == len(cloud_sandbox.state.issues) < before
    assert cloud_sandbox.state.issues["ENG-1"].summary == "Self-serve checkout"
    assert requests.put(f"{admin}/clock", json={"real": True}).json()["offset_seconds"] == 0
    assert requests.put(f"{admin}/clock", json={"today": "not a day"}).status_code == 400
