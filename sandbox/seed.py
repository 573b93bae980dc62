"""A realistic demo organisation, generated deterministically from a seed number and a size.

People (with documented credentials), groups, five projects, KR-labelled epics and a year of work
(see `seed_issues.py`) dated in the year of the sandbox clock and cut at the clock's "now".

Credentials follow one pattern for everyone, so they can be documented once:
`<login>@example.com` with API token `sandbox-token-<login>` (Basic auth; on Data Center the
username `<login>` works too) and personal access token `sandbox-pat-<login>` (Bearer, Data Center
only, as in Jira). The fixed people are:

| login  | role                    | groups (all but okrbot and grace are also in okr-viewers)      |
|--------|-------------------------|----------------------------------------------------------------|
| alice  | CEO                     | okr-executives, jira-administrators                            |
| bob    | VP Sales                | okr-executives, okr-sales                                      |
| carol  | Head of Marketing       | okr-marketing                                                  |
| dave   | VP Engineering          | okr-engineering                                                |
| erin   | Head of People          | okr-people                                                     |
| frank  | Advisor (read-only)     | okr-viewers                                                    |
| grace  | Engineer, deactivated   | okr-engineering (inactive: her credentials answer 403)         |
| okrbot | the okrbridge service   | jira-administrators                                            |

More team members are generated per size (`first.last@example.com`, same token pattern).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sandbox.defaults import DEFAULT_SEED, DEFAULT_SIZE
from sandbox.model import CustomField, Issue, Project, User
from sandbox.seed_issues import RESOLUTION_HOURS, STORY_POINTS, EpicSpec, Plan, Planner, share
from sandbox.state import SandboxState

EMAIL_DOMAIN = "example.com"
OKR_SPACE = "OKR"
GROUPS = ("okr-executives", "okr-sales", "okr-marketing", "okr-people", "okr-engineering",
          "okr-viewers", "jira-administrators")
CUSTOM_FIELDS = [CustomField(STORY_POINTS, "Story Points"),
                 CustomField(RESOLUTION_HOURS, "Resolution Time (h)")]

_ACCOUNT_NAMESPACE = uuid.UUID("2f0c8e8a-52e4-4c1b-9d0b-6f6b72627269")


@dataclass(frozen=True)
class Person:
    """A fixed member of the demo organisation."""

    login: str
    name: str
    groups: tuple[str, ...]
    active: bool = True
    viewer: bool = True


PEOPLE = (
    Person("alice", "Alice Andersen", ("okr-executives", "jira-administrators")),
    Person("bob", "Bob Baker", ("okr-executives", "okr-sales")),
    Person("carol", "Carol Chen", ("okr-marketing",)),
    Person("dave", "Dave Diaz", ("okr-engineering",)),
    Person("erin", "Erin Evans", ("okr-people",)),
    Person("frank", "Frank Fischer", ()),
    Person("grace", "Grace Gomez", ("okr-engineering",), active=False, viewer=False),
    Person("okrbot", "okrbridge bot", ("jira-administrators",), viewer=False),
)
FIRST_NAMES = ("Ava", "Ben", "Chloe", "Daniel", "Ella", "Felix", "Hana", "Ivan", "Julia", "Kai", "Lena",
               "Marco", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes",
               "Ximena", "Yusuf", "Zoe", "Amir", "Bea", "Carl", "Dina", "Emil")
LAST_NAMES = ("Meyer", "Okafor", "Novak", "Silva", "Tanaka", "Berg", "Costa", "Dubois", "Evans",
              "Fischer", "Garcia", "Hansen", "Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Nguyen",
              "Olsen", "Petrov", "Rossi", "Schmidt", "Torres", "Varga", "Wagner", "Young", "Zhang",
              "Ahmed", "Brown", "Clark")
TEAM_GROUPS = ("okr-sales", "okr-marketing", "okr-people", "okr-engineering")

# key, id, name, lead, issue types, groups whose members work in it
PROJECTS = (
    ("WEB", "10000", "Website", "carol", ("Epic", "Story", "Task", "Bug", "Visit"),
     ("okr-marketing", "okr-engineering")),
    ("SALES", "10001", "Sales", "bob", ("Epic", "Story", "Task", "Bug", "Deal"), ("okr-sales",)),
    ("MKT", "10002", "Marketing", "carol", ("Epic", "Story", "Task", "Bug"), ("okr-marketing",)),
    ("PEOPLE", "10003", "People", "erin", ("Epic", "Story", "Task", "Bug"), ("okr-people",)),
    ("ENG", "10004", "Engineering", "dave", ("Epic", "Story", "Task", "Bug"), ("okr-engineering",)),
)

# Days are counted from Jan 1 of the clock's year. ENG-1 must stay first in ENG.
EPICS = (
    EpicSpec("ENG", "Self-serve checkout", ("kr-ENG-1.1", "kr-CO-1.1"), 59, 348),
    EpicSpec("ENG", "Checkout performance budget", ("kr-ENG-1.2",), 31, 180),
    EpicSpec("ENG", "Reliable deploy pipeline", ("kr-ENG-1.2",), 90, 303),
    EpicSpec("ENG", "Billing service migration", ("kr-CO-2.1",), 181, None),
    EpicSpec("ENG", "Internal tooling cleanup", (), 14, 89),
    EpicSpec("WEB", "Pricing page redesign", ("kr-CO-1.1",), 45, 195),
    EpicSpec("WEB", "Landing page experiments", ("kr-MKT-1.1", "kr-CO-2.1"), 59, None),
    EpicSpec("WEB", "Site search", (), 243, None),
    EpicSpec("SALES", "Enterprise tier launch", ("kr-CO-1.1", "kr-SALES-1.1"), 9, 180),
    EpicSpec("SALES", "Partner channel", ("kr-SALES-1.1",), 90, None),
    EpicSpec("SALES", "Upsell playbook", ("kr-CO-1.1",), 212, 318),
    EpicSpec("MKT", "Spring campaign", ("kr-MKT-1.1",), 31, 150),
    EpicSpec("MKT", "Content engine", ("kr-MKT-1.1", "kr-CO-2.1"), 59, None),
    EpicSpec("MKT", "Brand refresh", (), 273, None),
    EpicSpec("PEOPLE", "Hiring pipeline", ("kr-PEOPLE-1.1",), 4, None),
    EpicSpec("PEOPLE", "Onboarding revamp", ("kr-PEOPLE-1.1", "kr-CO-2.1"), 73, 272),
    EpicSpec("PEOPLE", "Engagement survey", (), 243, 333),
)
STANDALONE_WEIGHTS = {"ENG": 35, "WEB": 25, "MKT": 15, "SALES": 10, "PEOPLE": 15}


def account_id(login: str) -> str:
    """A Cloud-style account id, stable per login."""
    return f"712020:{uuid.uuid5(_ACCOUNT_NAMESPACE, login)}"


def make_user(login: str, name: str, groups: list[str], active: bool = True) -> User:
    """A user with the documented credential pattern."""
    return User(
        account_id=account_id(login), email=f"{login}@{EMAIL_DOMAIN}", display_name=name,
        api_token=f"sandbox-token-{login}", personal_access_token=f"sandbox-pat-{login}",
        groups=sorted(groups), active=active, username=login,
    )


def people(rng: random.Random, size: int) -> tuple[dict[str, User], dict[str, list[str]]]:
    """The fixed people plus generated team members; users by account id, members by group."""
    users: list[User] = []
    for person in PEOPLE:
        groups = list(person.groups) + (["okr-viewers"] if person.viewer else [])
        users.append(make_user(person.login, person.name, groups, person.active))
    per_team = max(2, round(size / 400))
    taken = {u.login for u in users}
    for group in TEAM_GROUPS:
        for _ in range(per_team):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            login = f"{first}.{last}".lower()
            suffix = 2
            while login in taken:
                login, suffix = f"{first}.{last}{suffix}".lower(), suffix + 1
            taken.add(login)
            users.append(make_user(login, f"{first} {last}", [group, "okr-viewers"]))
    by_id = {u.account_id: u for u in users}
    members: dict[str, list[str]] = {name: [] for name in GROUPS}
    for user in users:
        for group in user.groups:
            members.setdefault(group, []).append(user.account_id)
    return by_id, members


def _projects(users: dict[str, User],
              members: dict[str, list[str]]) -> tuple[dict[str, Project], dict[str, list[str]]]:
    """The five projects, and who works in each (account ids)."""
    by_login = {u.login: u for u in users.values()}
    projects: dict[str, Project] = {}
    teams: dict[str, list[str]] = {}
    for key, project_id, name, lead, types, groups in PROJECTS:
        projects[key] = Project(key, project_id, name, by_login[lead].account_id, list(types))
        teams[key] = sorted({a for group in groups for a in members.get(group, [])})
    return projects, teams


def plan_year(rng: random.Random, year: int, projects: dict[str, Project], teams: dict[str, list[str]],
              size: int) -> tuple[list[Plan], list[Plan]]:
    """All epics (in key order) and all other issues of the year, before the cut."""
    planner = Planner(rng, year, teams)
    epics: list[Plan] = []
    counters: dict[str, int] = {}
    for index, spec in enumerate(EPICS):
        counters[spec.project] = counters.get(spec.project, 0) + 1
        epic = planner.epic(spec, f"{spec.project}-{counters[spec.project]}", index)
        epic.assignee = projects[spec.project].lead  # the lead owns the project's initiatives
        epics.append(epic)
    visits, deals, epic_work = round(size * 0.50), round(size * 0.08), round(size * 0.30)
    standalone = max(size - visits - deals - epic_work, 0)
    others: list[Plan] = []
    windows = [((spec.end_day or planner.days) - spec.start_day) for spec in EPICS]
    for spec, epic, count in zip(EPICS, epics, share(epic_work, windows), strict=True):
        others.extend(planner.epic_work(spec, epic.key, count))
    for project, count in zip(STANDALONE_WEIGHTS, share(standalone, list(STANDALONE_WEIGHTS.values())),
                              strict=True):
        others.extend(planner.standalone(project, count))
    others.extend(planner.visits(visits))
    others.extend(planner.deals(deals))
    return epics, others


def cut(epics: list[Plan], others: list[Plan], as_of: datetime) -> dict[str, Issue]:
    """The issues that exist at `as_of`, keyed per project in creation order, ids ascending."""
    for epic in epics:
        if epic.created > as_of:
            # The plan's epics always exist (ENG-1 is referenced by the sample OKRs).
            epic.created = as_of
            epic.events[0] = (as_of, *epic.events[0][1:])
    existing = [p for p in others if p.created <= as_of]
    existing.sort(key=lambda p: p.created)
    counters = {key: 0 for key, *_ in PROJECTS}
    for epic in epics:
        counters[epic.project] += 1
    keyed: list[tuple[Plan, str]] = [(epic, epic.key) for epic in epics]
    for plan in existing:
        counters[plan.project] += 1
        keyed.append((plan, f"{plan.project}-{counters[plan.project]}"))
    keyed.sort(key=lambda pair: pair[0].created)
    issues: dict[str, Issue] = {}
    for number, (plan, key) in enumerate(keyed, start=10000):
        issues[key] = plan.cut(as_of, str(number), key)
    return issues


def populate(state: SandboxState, *, seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE,
             as_of: datetime | None = None) -> dict[str, object]:
    """Replace `state`'s Jira world with the organisation for `seed`/`size`, as of the clock.

    Returns (and stores in `state.seed_info`) what was built and how long it took.
    """
    started = time.perf_counter()
    if size < 0:
        raise ValueError("size must not be negative")
    moment = as_of or state.now()
    rng = random.Random(seed)
    users, members = people(rng, size)
    projects, teams = _projects(users, members)
    epics, others = plan_year(rng, moment.year, projects, teams, size)
    issues = cut(epics, others, moment)
    with state.lock:
        state.users, state.groups, state.projects, state.issues = users, members, projects, issues
        state.custom_fields = list(CUSTOM_FIELDS)
        state.remote_links, state.issue_properties, state.comments = {}, {}, {}
        state.next_remote_link_id = state.next_comment_id = 10000
        _okr_space(state, users, moment)
        state.seed_info = {
            "seed": seed, "size": size, "as_of": moment.isoformat(), "year": moment.year,
            "issues": len(issues), "users": len(users),
            "seconds": round(time.perf_counter() - started, 4),
        }
    state.touch()
    return state.seed_info


def _okr_space(state: SandboxState, users: dict[str, User], moment: datetime) -> None:
    """Create the Confluence space "OKR" when the Confluence store offers spaces and lacks it."""
    store = state.confluence
    add_space = getattr(store, "add_space", None)
    if add_space is None or OKR_SPACE in getattr(store, "spaces", {}):
        return
    owner = account_id("okrbot") if account_id("okrbot") in users else None
    add_space(OKR_SPACE, "OKRs", description="Objectives and key results, published by okrbridge.",
              by=owner, at=moment)


def credentials_table(state: SandboxState) -> str:
    """The fixed people's credentials as an aligned text table (the CLI prints it)."""
    fixed = {person.login for person in PEOPLE}
    rows = [("email", "API token (Basic)", "PAT (Bearer)", "groups")]
    for user in sorted(state.users.values(), key=lambda u: u.login):
        if user.login in fixed:
            groups = ", ".join(user.groups) + ("" if user.active else "  [inactive]")
            rows.append((user.email, user.api_token, user.personal_access_token, groups))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows)
