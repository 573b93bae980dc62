"""Which stored answers may stand: the steady-state sync's pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from okrbridge.change_scope import (
    ALWAYS,
    SITE,
    Baseline,
    StoredAnswer,
    Touched,
    may_stand,
    projects_scope,
    question_scope,
    scope_unchanged,
    settled_scopes,
    window_minutes,
)
from okrbridge.sync_plan import Question

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
COUNT = Question("count", jql="project = ENG AND statusCategory = Done")
DAY = timedelta(hours=24)


def _never(_asked: datetime) -> bool:
    return False


def test_each_kind_of_question_gets_its_scope() -> None:
    assert question_scope(COUNT).key == "projects:eng"
    assert question_scope(Question("issue", keys=("ENG-5",))).key == "projects:eng"
    assert question_scope(Question("epics", keys=("ENG-1", "OPS-2"))).key == "projects:eng,ops"
    assert question_scope(Question("epics", jql="project = WEB", keys=("ENG-1",))).key == "projects:eng,web"
    assert question_scope(Question("epics", jql="labels = kr-1", keys=("ENG-1",))).key == SITE
    assert question_scope(Question("epic_progress", keys=("ENG-1",))).key == SITE
    assert question_scope(Question("count", jql="project = ENG AND created > -1d")).key == ALWAYS
    assert question_scope(Question("count", jql="project = ENG AND resolved > startOfYear()")).at_midnight


def test_a_scopes_total_is_counted_by_a_bounded_query() -> None:
    assert projects_scope(["ENG", 'we"ird']).probe_jql == 'project in ("eng", "we\\"ird")'
    assert question_scope(Question("count", jql="labels = x")).probe_jql == "created <= now()"


def test_an_answer_stands_only_when_confirmed_at_its_baseline_and_young_enough() -> None:
    scope = question_scope(COUNT)
    baseline = Baseline(100, NOW - timedelta(hours=1))
    fresh = StoredAnswer(7, NOW - timedelta(hours=3), confirmed_at=baseline.probed_at)
    stands = lambda stored, **kw: may_stand(COUNT, scope, stored, baseline, jira_now=NOW,  # noqa: E731
                                            midnight_passed=_never, **{"full_sync": DAY, **kw})
    assert stands(fresh)
    assert not stands(None)
    assert not stands(fresh, full_sync=None)  # sync --full
    assert not stands(StoredAnswer(7, NOW - DAY, confirmed_at=baseline.probed_at))  # too old
    # confirmed before the baseline moved on: it left the catalog for a while
    assert not stands(StoredAnswer(7, NOW - timedelta(hours=3), confirmed_at=NOW - timedelta(hours=2)))
    # probed in Jira's future: Jira's clock went back
    ahead = Baseline(100, NOW + timedelta(minutes=1))
    earlier = StoredAnswer(7, NOW - timedelta(hours=1), confirmed_at=ahead.probed_at)
    assert not may_stand(COUNT, scope, earlier, ahead, jira_now=NOW, full_sync=DAY, midnight_passed=_never)
    assert not stands(StoredAnswer(7, NOW + timedelta(minutes=1), confirmed_at=NOW + timedelta(minutes=1)))


def test_a_calendar_answer_stands_until_midnight() -> None:
    question = Question("count", jql="project = ENG AND resolved >= startOfDay()")
    scope = question_scope(question)
    baseline = Baseline(100, NOW)
    stored = StoredAnswer(2, NOW - timedelta(minutes=10), confirmed_at=NOW)
    assert may_stand(question, scope, stored, baseline, jira_now=NOW, full_sync=DAY, midnight_passed=_never)
    assert not may_stand(question, scope, stored, baseline, jira_now=NOW, full_sync=DAY,
                         midnight_passed=lambda _asked: True)


def test_the_updated_window_covers_the_oldest_baseline_with_the_overlap() -> None:
    assert window_minutes([], NOW) is None
    baselines = [Baseline(1, NOW - timedelta(minutes=60)), Baseline(1, NOW - timedelta(minutes=30))]
    assert window_minutes(baselines, NOW) == 65
    assert window_minutes([Baseline(1, NOW + timedelta(minutes=3))], NOW) == 5  # a baseline "ahead"


def test_a_scope_is_unchanged_only_with_the_same_total_and_nothing_updated_in_it() -> None:
    eng = question_scope(COUNT)
    site = question_scope(Question("count", jql="labels = x"))
    baseline = Baseline(100, NOW)
    quiet = Touched(frozenset({"ops", "10001", "operations"}), complete=True)
    assert scope_unchanged(eng, baseline, 100, quiet)
    assert not scope_unchanged(eng, baseline, 99, quiet)  # a deletion
    assert not scope_unchanged(eng, baseline, 100, Touched(frozenset({"eng"}), complete=True))
    assert not scope_unchanged(eng, baseline, 100, Touched(frozenset(), complete=False))
    assert not scope_unchanged(eng, None, 100, quiet)
    assert not scope_unchanged(eng, baseline, None, quiet)  # the total could not be counted
    assert not scope_unchanged(site, baseline, 100, quiet)
    assert scope_unchanged(site, baseline, 100, Touched(frozenset(), complete=True))


def test_a_scope_with_a_failed_question_keeps_its_baseline() -> None:
    other = Question("count", jql="project = ENG AND labels = x")
    sales = Question("count", jql="project = SALES")
    volatile = Question("count", jql="project = SALES AND created > -1d")
    scopes = {q: question_scope(q) for q in (COUNT, other, sales, volatile)}
    assert settled_scopes(scopes, {COUNT, sales}) == {"projects:sales"}
