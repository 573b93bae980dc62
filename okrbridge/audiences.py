"""Who reads a view: audiences (a page's readers, as groups) and persons (one signed-in reader).

An audience stands for Jira/Confluence groups and picks objectives by scope (the whole company, a
team or a level) at a detail level (summary or detail). A person is a reader with groups and the
names the catalog uses for them as owner. Both answer `can_see(visible_to)`, the one visibility
rule that `views` applies. Pure data, no IO.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from okrbridge.domain import EVERYONE, Catalog, Level, Objective

AUDIENCE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""An audience name: lower-case letters, digits and dashes (it becomes a page key and a label)."""


class Scope(StrEnum):
    """Which objectives an audience is about."""

    COMPANY = "company"
    TEAM = "team"
    LEVEL = "level"


class DetailLevel(StrEnum):
    """How much an audience's view shows of each objective."""

    SUMMARY = "summary"  # objectives, grades, status, pace
    DETAIL = "detail"    # plus every KR: value, target, trend, forecast, staleness, how, initiatives


@dataclass(frozen=True)
class Audience:
    """A set of readers named by groups, with what they are shown.

    `groups` empty means everyone (a page open to all). `team` is set for the team scope, `level`
    for the level scope. Readers of an audience's page are the members of *any* of its groups, so
    an objective is shown only when *every* one of them may see it (see `can_see`).
    """

    name: str
    title: str
    groups: tuple[str, ...] = ()
    scope: Scope = Scope.COMPANY
    detail: DetailLevel = DetailLevel.SUMMARY
    team: str | None = None
    level: Level | None = None

    def __post_init__(self) -> None:
        """Refuse an audience whose name cannot key a page or whose scope lacks its subject."""
        if not AUDIENCE_NAME.match(self.name):
            raise ValueError(f"audience name {self.name!r}: use lower-case letters, digits and dashes")
        if self.scope is Scope.TEAM and not self.team:
            raise ValueError(f"audience {self.name!r}: scope 'team' needs a team")
        if self.scope is Scope.LEVEL and self.level is None:
            raise ValueError(f"audience {self.name!r}: scope 'level' needs a level")
        if EVERYONE in self.groups:
            raise ValueError(f"audience {self.name!r}: leave groups empty for everyone, "
                             f"not {EVERYONE!r}")

    def can_see(self, visible_to: Sequence[str]) -> bool:
        """Whether every reader of this audience may see something visible to `visible_to`."""
        if EVERYONE in visible_to:
            return True
        # Any member of any one group reads the page, so each group must be allowed.
        return bool(self.groups) and set(self.groups) <= set(visible_to)

    def covers(self, objective: Objective) -> bool:
        """Whether the objective falls in this audience's scope (visibility aside)."""
        if self.scope is Scope.TEAM:
            return objective.team == self.team
        if self.scope is Scope.LEVEL:
            return objective.level is self.level
        return True

    def covers_team(self, team: str) -> bool:
        """Whether a KPI of `team` falls in this audience's scope (KPIs have no level)."""
        if self.scope is Scope.TEAM:
            return team == self.team
        return self.scope is Scope.COMPANY

    def open_to(self, groups: Iterable[str]) -> bool:
        """Whether a member of `groups` is one of this audience's readers."""
        return not self.groups or bool(set(self.groups) & set(groups))


@dataclass(frozen=True)
class Person:
    """One reader: their groups and the names that stand for them as an owner in `okrs.toml`
    (a login, an account id, an email; whatever the catalog's `owner` fields use)."""

    name: str
    groups: frozenset[str] = frozenset()
    owner_names: frozenset[str] = frozenset()

    def can_see(self, visible_to: Sequence[str]) -> bool:
        """Whether this person may see something visible to `visible_to`."""
        return EVERYONE in visible_to or bool(self.groups & set(visible_to))

    def owns(self, owner: str | None) -> bool:
        """Whether a catalog `owner` names this person."""
        return owner is not None and owner in self.owner_names


def _slug(text: str) -> str:
    """`text` as an audience name: lower case, runs of other characters as one dash."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "team"


def _team_groups(objectives: Sequence[Objective]) -> tuple[str, ...]:
    """The groups that may see every restricted objective of a team (none if all are open)."""
    restricted = [set(o.visible_to) for o in objectives if EVERYONE not in o.visible_to]
    if not restricted:
        return ()
    return tuple(sorted(set.intersection(*restricted)))


def default_audiences(catalog: Catalog) -> tuple[Audience, ...]:
    """The audiences used when the config declares none.

    A company overview (summary) open to everyone; a leadership overview (summary of every
    objective) for the groups that may see all of them, when some objective is restricted and
    such groups exist (the sample's `okr-executives`); and per team of the catalog a detail
    audience for the groups that may see all of that team's objectives (the sample's `okr-sales`
    and `okr-executives` for sales). A team whose objectives no one group may all see gets no
    groups, so its page shows only what everyone may see: visibility never widens for a default.
    """
    teams: dict[str, list[Objective]] = {}
    for objective in catalog.objectives:
        if objective.team:
            teams.setdefault(objective.team, []).append(objective)
    audiences = [Audience("company", "Company overview")]
    leaders = _team_groups(catalog.objectives)
    if leaders:
        audiences.append(Audience("leadership", "Leadership overview", leaders))
    names = {a.name for a in audiences}
    for team, objectives in teams.items():
        name = f"team-{_slug(team)}"
        while name in names:
            name += "-x"
        names.add(name)
        audiences.append(Audience(name, f"Team: {team.replace('-', ' ').title()}", _team_groups(objectives),
                                  Scope.TEAM, DetailLevel.DETAIL, team=team))
    return tuple(audiences)


def resolve_audiences(configured: Sequence[Audience], catalog: Catalog) -> tuple[Audience, ...]:
    """The configured audiences, or the defaults for `catalog` when none are configured."""
    return tuple(configured) if configured else default_audiences(catalog)
