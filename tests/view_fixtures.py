"""A small hand-written catalog with open, restricted and hostile objectives, for views and pages tests.

Restricted objectives carry distinctive ids, titles and numbers so a leak is a substring search:
nothing of HIDE-7 ("Classified merger Zanzibar", values 173.25 and 9876) or of the KPI
"secret-burn" (4321.5) may appear where its reader may not see it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from okrbridge.audiences import Audience, DetailLevel, Person, Scope
from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import (
    Catalog,
    Direction,
    Initiatives,
    KeyResult,
    Kpi,
    Level,
    Measure,
    MeasureKind,
    Objective,
    Reading,
    Source,
    SourceKind,
)
from okrbridge.explanation import Explanation
from okrbridge.report import PeriodReport, grade_period
from okrbridge.store.records import Initiative, SubjectState
from okrbridge.store.tables import SubjectKind
from okrbridge.views import ViewData

CALENDAR = FiscalCalendar()
Q1 = CALENDAR.parse("2026-Q1")
NOW = datetime(2026, 4, 1, tzinfo=UTC)
HOSTILE = 'Ship <b>&amp; "fast"</b> ]]> & \'now\' <ac:x/>'
HOSTILE_JQL = 'project = A AND summary ~ "a<b & c]]>"'


def _increase(kr_id: str, title: str, start: float, target: float, owner: str, *, unit: str = "",
              source: Source | None = None, initiatives: Initiatives | None = None) -> KeyResult:
    """An increase key result."""
    return KeyResult(kr_id, title, Measure(MeasureKind.INCREASE, start=start, target=target),
                     owner=owner, unit=unit, source=source or Source(SourceKind.MANUAL),
                     initiatives=initiatives or Initiatives())


PUBLIC = Objective(
    "PUB-1", HOSTILE, "2026", Level.COMPANY, team="alpha", owner="ann",
    key_results=(
        _increase("PUB-1.1", "Grow widgets from 0 to 10", 0, 10, "ann",
                  initiatives=Initiatives(label="kr-PUB-1.1")),
        _increase("PUB-1.2", "Count <done> & dusted", 0, 4, "ben",
                  source=Source(SourceKind.JQL_COUNT, jql=HOSTILE_JQL)),
    ))
HIDDEN = Objective(
    "HIDE-7", "Classified merger Zanzibar", "2026", Level.TEAM, team="alpha", owner="ben", parent="PUB-1",
    visible_to=("grp-secret",),
    key_results=(_increase("HIDE-7.1", "Acquire Quuxcorp shares", 100, 9876, "ann"),))
SHARED = Objective(
    "BOTH-3", "Joint venture with beta", "2026", Level.TEAM, team="beta", owner="cat", parent="PUB-1",
    visible_to=("grp-a", "grp-b"),
    key_results=(_increase("BOTH-3.1", "Sign partner contracts", 0, 8, "cat"),))
SECRET_KPI = Kpi("secret-burn", "Secret burn rate", Direction.DECREASE, "$", baseline=5000, target=3000,
                 team="alpha", owner="ben", visible_to=("grp-secret",))
OPEN_KPI = Kpi("uptime", "Uptime", Direction.INCREASE, "%", baseline=99.0, target=99.9, team="alpha")
CATALOG = Catalog(objectives=(PUBLIC, HIDDEN, SHARED), kpis=(SECRET_KPI, OPEN_KPI))


def _at(month: int, day: int) -> datetime:
    """An instant in 2026 (UTC midnight)."""
    return datetime(2026, month, day, tzinfo=UTC)


READINGS = {
    "PUB-1.1": [Reading("PUB-1.1", _at(1, 15), 2.0), Reading("PUB-1.1", _at(3, 1), 5.0)],
    "PUB-1.2": [Reading("PUB-1.2", _at(3, 2), 3.0,
                        Explanation("jql_count", jql=HOSTILE_JQL, count=3))],
    "HIDE-7.1": [Reading("HIDE-7.1", _at(2, 1), 173.25), Reading("HIDE-7.1", _at(3, 1), 2222.5)],
    "BOTH-3.1": [Reading("BOTH-3.1", _at(2, 10), 6.0)],
    "secret-burn": [Reading("secret-burn", _at(3, 3), 4321.5)],
    "uptime": [Reading("uptime", _at(3, 3), 99.5)],
}
INITIATIVES = {
    "PUB-1.1": [Initiative("ALPHA-12", "PUB-1.1", "Widget <factory> & co", "In Progress", "indeterminate",
                           False, 0.25, 1, 4, "https://jira.example.com/browse/ALPHA-12", 1, _at(3, 1), None),
                Initiative("ALPHA-3", "PUB-1.1", "Old epic", "Done", "done", True, 1.0, 2, 2,
                           "https://jira.example.com/browse/ALPHA-3", 1, _at(1, 1), _at(2, 1))],
}
STATES = {
    "PUB-1.2": SubjectState("PUB-1.2", SubjectKind.KR, _at(3, 2), _at(3, 20), True,
                            "Error in the JQL Query: 'x' <is> & unknown", 4),
}

AUDIENCES = (
    Audience("company", "Company overview"),
    Audience("team-alpha", "Team: Alpha", ("grp-a",), Scope.TEAM, DetailLevel.DETAIL, team="alpha"),
    Audience("team-beta", "Team: Beta", ("grp-a", "grp-b"), Scope.TEAM, DetailLevel.DETAIL, team="beta"),
    # grp-secret may see HIDE-7 but a reader in grp-a only reads this page too, so HIDE-7 stays out.
    Audience("teams", "Team objectives", ("grp-a", "grp-secret"), Scope.LEVEL, DetailLevel.DETAIL,
             level=Level.TEAM),
    Audience("insiders", "Insiders", ("grp-secret",), Scope.COMPANY, DetailLevel.DETAIL),
)
PEOPLE = (
    Person("nobody"),
    Person("ann", frozenset({"grp-a"}), frozenset({"ann"})),
    Person("ab", frozenset({"grp-a", "grp-b"})),
    Person("ben", frozenset({"grp-b"}), frozenset({"ben"})),  # owns HIDE-7 and secret-burn, may see neither
    Person("spy", frozenset({"grp-secret"})),
)
HIDDEN_TOKENS = ("HIDE-7", "Classified merger", "Zanzibar", "Quuxcorp", "173.25", "2222.5", "2,222.5",
                 "9876", "9,876")
SECRET_KPI_TOKENS = ("secret-burn", "Secret burn rate", "4321.5", "4,321.5")
SHARED_TOKENS = ("BOTH-3", "Joint venture", "Sign partner")


def report() -> PeriodReport:
    """The catalog graded for 2026-Q1 as of its end."""
    return grade_period(CATALOG, READINGS, Q1, now=NOW)


def view_data() -> ViewData:
    """Everything views need for 2026-Q1."""
    return ViewData(CATALOG, report(), READINGS, INITIATIVES, STATES)


def forbidden_for(can_see: object) -> tuple[str, ...]:
    """The tokens of everything a reader (anything with `can_see`) may not see."""
    check = can_see.can_see  # type: ignore[attr-defined]
    tokens: list[str] = []
    if not check(HIDDEN.visible_to):
        tokens += HIDDEN_TOKENS
    if not check(SECRET_KPI.visible_to):
        tokens += SECRET_KPI_TOKENS
    if not check(SHARED.visible_to):
        tokens += SHARED_TOKENS
    return tuple(tokens)
