"""`JqlService` filters only the issues of a query's projects: the answers equal a full scan's.

The reference is the engine run over every issue (`jql.search(list(state.issues.values()), ...)`);
`JqlService._evaluate` must give the same keys in the same order, or the same error as a 400.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import jql
from sandbox.errors import JiraError
from sandbox.jql_eval import JqlService
from sandbox.model import Issue, User
from sandbox.seed import populate
from sandbox.state import SandboxState

from .conftest import FIXED_NOW, SEED, SIZE, clocked_state

Outcome = tuple[str, ...] | str  # keys, or the error message


@cache
def seeded() -> tuple[SandboxState, User, datetime, JqlService]:
    """One seeded state (never modified), alice, a fixed evaluation instant and one service."""
    state = clocked_state()
    populate(state, seed=SEED, size=SIZE)
    alice = next(user for user in state.users.values() if user.email == "alice@example.com")
    return state, alice, state.now(), JqlService()


def full_scan(state: SandboxState, service: JqlService, text: str, user: User | None,
              now: datetime) -> Outcome:
    """What the engine finds over every issue, as before the index."""
    try:
        found = jql.search(list(state.issues.values()), text, service.context(state, user, now))
    except jql.JqlError as error:
        return error.message
    return tuple(issue.key for issue in found)


def indexed(state: SandboxState, service: JqlService, text: str, user: User | None,
            now: datetime) -> Outcome:
    """What `JqlService._evaluate` answers (a refusal must be a 400)."""
    try:
        return service._evaluate(state, text, user, now)
    except JiraError as error:
        assert error.status == 400
        return error.messages[0]


def assert_same(text: str) -> Outcome:
    """The indexed answer for `text` over the seeded state equals the full scan's; returns it."""
    state, alice, now, service = seeded()
    expected = full_scan(state, service, text, alice, now)
    assert indexed(state, service, text, alice, now) == expected, text
    return expected


# --- typical KR queries (the shapes bench/sync_bench.py generates) ---------------------------------

STATUS = ("", "", "", "statusCategory = Done", "statusCategory != Done", "resolution = Done",
          'status in ("In Progress", "In Review")', "priority in (High, Highest)", "status = Won")
LABELS = ("", "", "", "", "labels = organic", "labels in (paid, smb)", "labels is EMPTY",
          "labels != converted")
KINDS = ("", "", "Story", "Task", "Bug", "Visit", "Deal", "Epic")
PROJECTS = ("ENG", "WEB", "SALES", "MKT", "PEOPLE", "eng", "Web")


def kr_queries(count: int, seed: int = 3) -> list[str]:
    """`count` distinct KR-like queries: project, then type, status, labels and a created window."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        clauses = [f"project = {rng.choice(PROJECTS)}"]
        kind = rng.choice(KINDS)
        clauses += [f"issuetype = {kind}"] if kind else []
        clauses += [c for c in (rng.choice(STATUS), rng.choice(LABELS)) if c]
        if rng.random() < 0.8:
            clauses.append(f"created >= -{rng.randrange(7, 366)}d")
        rng.shuffle(clauses)
        found.setdefault(" AND ".join(clauses))
    return list(found)


def test_typical_kr_queries_find_the_same_issues_in_the_same_order() -> None:
    queries = kr_queries(400)
    outcomes = [assert_same(text) for text in queries]
    assert sum(isinstance(o, tuple) and len(o) > 0 for o in outcomes) > 120  # not vacuous


# --- the awkward cases ------------------------------------------------------------------------------

AWKWARD = [
    "project = ENG",
    "project = eng",
    'project = "Sales"',
    "project in (ENG, web, MKT)",
    "project in (web, ENG) ORDER BY created ASC",
    "project in (SALES, WEB) ORDER BY project, status DESC",
    "project in (ENG, WEB) AND project in (WEB, MKT)",
    "project = ENG AND project = WEB",
    "project = ENG OR project = WEB",
    "project = ENG OR labels = organic",
    "NOT project = ENG",
    "NOT (project = ENG AND issuetype = Story)",
    "project != ENG",
    "project != ENG AND issuetype = Story",
    "project not in (ENG, WEB)",
    "project is EMPTY",
    "project is not EMPTY AND labels = paid",
    "project in (ENG, EMPTY)",
    "project = NOPE",
    "project = ENG AND status = NotAStatus",
    "project in (ENG, NOPE)",
    "project = ENG AND key = WEB-3",
    "project = ENG AND key in (ENG-1, SALES-2)",
    "project = ENG AND key = NOPE-1",
    "project = ENG AND parent = ENG-1",
    "project = ENG AND key > ENG-100 ORDER BY key ASC",
    "project = WEB AND issue = 10005",
    "project = ENG AND assignee = currentUser()",
    "project = SALES AND reporter in membersOf(okr-executives)",
    "project = SALES AND assignee in membersOf(no-such-group)",
    "project = ENG AND created >= startOfYear() ORDER BY updated DESC",
    "project = ENG AND status was Done",
    "project = ENG AND summary ~ checkout",
    "project = ENG ORDER BY nosuchfield",
    "project = currentUser()",
    "project = ENG AND",
    "status = Done",
    "labels = organic ORDER BY key ASC",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_queries_give_the_same_answer_or_the_same_error(text: str) -> None:
    assert_same(text)


def test_an_unknown_project_is_still_a_400_and_counted() -> None:
    state, alice, now, _ = seeded()
    service = JqlService()
    with pytest.raises(JiraError) as raised:
        service._evaluate(state, "project = NOPE AND status = Done", alice, now)
    assert raised.value.status == 400
    assert raised.value.messages == ["The value 'NOPE' does not exist for the field 'project'."]
    assert service.stats.errors == 1


def test_the_public_keys_call_goes_through_the_index() -> None:
    state, alice, _, _ = seeded()
    service = JqlService()
    keys = service.keys(state, "project = mkt AND issuetype = Story", alice, require_bounded=True)
    index = service.project_index(state)
    assert len(index.candidates({"mkt"})) < len(state.issues) / 4
    expected = full_scan(state, service, "project = mkt AND issuetype = Story", alice, state.now())
    assert keys == expected and keys


# --- generated queries ------------------------------------------------------------------------------

_P = st.sampled_from(["ENG", "eng", "WEB", "Sales", "MKT", "PEOPLE"])
CLAUSES = st.one_of(
    _P.map(lambda p: f"project = {p}"),
    st.tuples(_P, _P).map(lambda ps: f"project in ({ps[0]}, {ps[1]})"),
    _P.map(lambda p: f"project != {p}"),
    st.tuples(_P, _P).map(lambda ps: f"project not in ({ps[0]}, {ps[1]})"),
    st.sampled_from([
        "project is EMPTY", "project in (WEB, EMPTY)", "project = NOPE", "issuetype = Story",
        "issuetype in (Bug, Task, Visit)", "status = Done", "statusCategory != Done", "labels = organic",
        "labels is EMPTY", "labels in (paid, smb)", "created >= -60d", "created < -200d",
        "resolution = Unresolved", "priority in (High, Highest)", "assignee = currentUser()",
        "assignee is EMPTY", "key = ENG-1", "key in (WEB-3, SALES-2)", "key > ENG-100",
        "parent = ENG-1", "status was Done", "summary ~ onboarding",
    ]),
)
NODES = st.recursive(
    CLAUSES,
    lambda inner: st.one_of(
        inner.map(lambda node: f"NOT ({node})"),
        st.tuples(inner, st.sampled_from([" AND ", " OR "]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
    ),
    max_leaves=5,
)
ORDERS = st.sampled_from(["", " ORDER BY created DESC", " ORDER BY project, key", " ORDER BY priority DESC",
                          " ORDER BY labels", " ORDER BY status, updated ASC"])


@settings(max_examples=300, deadline=None)
@given(st.lists(NODES, min_size=1, max_size=4), ORDERS)
def test_generated_queries_give_the_same_answer_with_and_without_the_index(
    conjuncts: list[str], order: str
) -> None:
    assert_same(" AND ".join(conjuncts) + order)


# --- index upkeep -----------------------------------------------------------------------------------


def small_state() -> SandboxState:
    """A small seeded state of its own, for tests that change data."""
    state = clocked_state(now=FIXED_NOW - timedelta(days=1))
    populate(state, seed=SEED, size=300)
    return state


def keys_of(service: JqlService, state: SandboxState, text: str) -> tuple[str, ...]:
    """The service's answer with its result cache cleared, checked against a full scan."""
    service.clear()
    now = state.now()
    found = service._evaluate(state, text, None, now)
    assert found == full_scan(state, service, text, None, now)
    return found


def test_a_data_change_rebuilds_the_index() -> None:
    state, service = small_state(), JqlService()
    before = keys_of(service, state, "project = MKT")
    moved = state.issues["ENG-2"]
    moved.project = "MKT"
    state.touch()
    after = keys_of(service, state, "project = MKT")
    assert set(after) == set(before) | {"ENG-2"}
    assert "ENG-2" not in keys_of(service, state, "project = ENG")


def test_replacing_or_adding_issues_rebuilds_the_index() -> None:
    state, service = small_state(), JqlService()
    assert keys_of(service, state, "project = PEOPLE")
    template = state.issues["PEOPLE-1"]
    state.issues["PEOPLE-999"] = Issue(**{**vars(template), "key": "PEOPLE-999", "id": "99999"})
    assert "PEOPLE-999" in keys_of(service, state, "project = PEOPLE")  # no touch: the size changed
    populate(state, seed=SEED + 1, size=300)  # a new issues dict
    assert "PEOPLE-999" not in keys_of(service, state, "project = PEOPLE")


def tied(first_project: str) -> SandboxState:
    """Two issues whose keys tie in key order (they differ only in case), in two projects."""
    state = clocked_state()
    created = FIXED_NOW - timedelta(days=3)
    specs = [("abc-1", "A", "1"), ("ABC-1", "B", "2")]
    if first_project == "B":
        specs.reverse()
    for key, project, number in specs:
        state.issues[key] = Issue(id=number, key=key, project=project, issuetype="Task", summary=key,
                                  status="Done", status_category="done", created=created, updated=created)
    state.touch()
    return state


TIE_QUERIES = ["project in (A, B)", "project in (b, a)", "project in (A, b) ORDER BY status"]


@pytest.mark.parametrize("first", ["A", "B"])
@pytest.mark.parametrize("text", TIE_QUERIES)
def test_several_projects_keep_the_full_scans_order_for_ties(first: str, text: str) -> None:
    state = tied(first)
    found = keys_of(JqlService(), state, text)
    assert len(found) == 2
