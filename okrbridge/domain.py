"""The OKR vocabulary: objectives, key results, KPIs, measures, sources, scores and statuses.

Plain frozen data with no IO. Everything else in okrbridge (the catalog loader, the store, grading,
views, renderers) speaks in these types.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from okrbridge.cycles import FiscalCalendar
from okrbridge.explanation import Explanation


class Level(StrEnum):
    """Where an objective sits in the organisation."""

    COMPANY = "company"
    TEAM = "team"
    INDIVIDUAL = "individual"


class MeasureKind(StrEnum):
    """How a key result turns its current value into a score (see grading.score_value)."""

    INCREASE = "increase"
    DECREASE = "decrease"
    THRESHOLD = "threshold"
    BASELINE = "baseline"
    MILESTONE = "milestone"


class Direction(StrEnum):
    """Which way is better for a KPI."""

    INCREASE = "increase"
    DECREASE = "decrease"


class SourceKind(StrEnum):
    """Where a key result's or KPI's value comes from."""

    MANUAL = "manual"
    JQL_COUNT = "jql_count"
    JQL_RATIO = "jql_ratio"
    JQL_SUM = "jql_sum"
    KPI = "kpi"
    MILESTONE = "milestone"


class Aggregate(StrEnum):
    """How a `jql_sum` source folds a numeric field over the matching issues."""

    SUM = "sum"
    AVG = "avg"


class Status(StrEnum):
    """The colour band a score falls in (bands are configurable, see grading.Bands)."""

    NO_DATA = "no data"
    OFF_TRACK = "off track"
    AT_RISK = "at risk"
    ON_TRACK = "on track"


class Pace(StrEnum):
    """Score compared with the elapsed share of the cycle."""

    NOT_STARTED = "not started"
    BEHIND = "behind"
    ON_PACE = "on pace"
    AHEAD = "ahead"
    DONE = "done"


EVERYONE = "everyone"
"""The audience name that means every viewer may see an objective or KPI."""

MAX_CHECKIN_MAGNITUDE = 1e15
"""The largest magnitude a checked-in value may have: a quadrillion is beyond any count, amount or
rate a team tracks, and anything near float's limit (1e308) is a typo that would overflow sums."""


def checked_value(value: float) -> float:
    """A checked-in value, once it is finite and within ±MAX_CHECKIN_MAGNITUDE; ValueError otherwise."""
    if not math.isfinite(value) or abs(value) > MAX_CHECKIN_MAGNITUDE:
        raise ValueError(f"value {value!r} is out of range: a check-in must be a finite number between "
                         f"-{MAX_CHECKIN_MAGNITUDE:.0e} and {MAX_CHECKIN_MAGNITUDE:.0e}")
    return value


@dataclass(frozen=True)
class Source:
    """Where a value comes from; which fields are set depends on `kind`.

    - jql_count: `jql`
    - jql_ratio: `numerator`, `denominator` (the value is a percentage)
    - jql_sum: `jql`, `field`, `agg`
    - kpi: `kpi` (a KPI id whose latest value is reused)
    - milestone: `issue` (an issue or epic key; done when its status category is Done)
    - manual: nothing; values come from check-ins
    """

    kind: SourceKind
    jql: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    field: str | None = None
    agg: Aggregate = Aggregate.SUM
    kpi: str | None = None
    issue: str | None = None

    @property
    def jqls(self) -> tuple[str, ...]:
        """Every JQL this source asks Jira, in a stable order."""
        if self.kind in (SourceKind.JQL_COUNT, SourceKind.JQL_SUM) and self.jql:
            return (self.jql,)
        if self.kind is SourceKind.JQL_RATIO and self.numerator and self.denominator:
            return (self.numerator, self.denominator)
        return ()


MANUAL = Source(kind=SourceKind.MANUAL)


@dataclass(frozen=True)
class Measure:
    """The numbers a score is computed against; which are needed depends on `kind`.

    - increase / decrease: `start`, `target` (start != target)
    - threshold: `low`, `high` (the healthy band) and `start` (where progress is measured from)
    - baseline: `baseline` and the direction (`better`) in which it is met
    - milestone: nothing (done or not), optionally scored by an epic's done ratio
    """

    kind: MeasureKind
    start: float | None = None
    target: float | None = None
    low: float | None = None
    high: float | None = None
    baseline: float | None = None
    better: Direction = Direction.INCREASE
    partial_credit: bool = False


@dataclass(frozen=True)
class Initiatives:
    """How to find the Jira epics that drive a key result: a JQL, a label, explicit keys, or several."""

    jql: str | None = None
    epics: tuple[str, ...] = ()
    label: str | None = None

    def __bool__(self) -> bool:
        return bool(self.jql or self.epics or self.label)

    @property
    def query(self) -> str | None:
        """One JQL for the epics found by `jql` or by `label` (explicit `epics` are asked by key)."""
        by_label = None
        if self.label:
            # Quoted: KR-style labels such as kr-CO-1.1 hold '.', a reserved JQL character.
            escaped = self.label.replace("\\", "\\\\").replace('"', '\\"')
            by_label = f'issuetype = Epic AND labels = "{escaped}"'
        if self.jql and by_label:
            return f"({self.jql}) OR ({by_label})"
        return self.jql or by_label


@dataclass(frozen=True)
class KeyResult:
    """A measurable outcome that shows progress toward its objective."""

    id: str
    title: str
    measure: Measure
    objective_id: str = ""
    owner: str | None = None
    weight: float = 1.0
    unit: str = ""
    source: Source = MANUAL
    initiatives: Initiatives = field(default_factory=Initiatives)


@dataclass(frozen=True)
class Objective:
    """A qualitative goal for one cycle, at company, team or individual level."""

    id: str
    title: str
    cycle: str
    level: Level = Level.TEAM
    team: str = ""
    owner: str | None = None
    parent: str | None = None
    visible_to: tuple[str, ...] = (EVERYONE,)
    key_results: tuple[KeyResult, ...] = ()


@dataclass(frozen=True)
class Kpi:
    """An ongoing health metric: a measurement with a target and an acceptable baseline."""

    id: str
    name: str
    direction: Direction = Direction.INCREASE
    unit: str = ""
    baseline: float | None = None
    target: float | None = None
    source: Source = MANUAL
    team: str = ""
    owner: str | None = None
    visible_to: tuple[str, ...] = (EVERYONE,)


@dataclass(frozen=True)
class Catalog:
    """Everything one `okrs.toml` declares, validated, with the calendar its cycle labels are read in.

    The calendar lives here and nowhere else: every reader of a cycle label (grading, the sync's
    closed-cycle check, the linter) takes it from the catalog, so `fiscal_year_named_by` cannot be
    dropped by a default somewhere.
    """

    objectives: tuple[Objective, ...] = ()
    kpis: tuple[Kpi, ...] = ()
    calendar: FiscalCalendar = field(default_factory=FiscalCalendar)

    # Lookups by id go through indices built once per catalog: a sync scores thousands of KRs, and
    # a linear scan per lookup made that quadratic. (cached_property writes to the instance dict,
    # which a frozen dataclass allows.)
    @cached_property
    def _objectives_by_id(self) -> dict[str, Objective]:
        return {o.id: o for o in self.objectives}

    @cached_property
    def _key_results_by_id(self) -> dict[str, KeyResult]:
        return {kr.id: kr for kr in self.key_results()}

    @cached_property
    def _kpis_by_id(self) -> dict[str, Kpi]:
        return {k.id: k for k in self.kpis}

    def objective(self, objective_id: str) -> Objective | None:
        """The objective with this id, or None."""
        return self._objectives_by_id.get(objective_id)

    def key_result(self, kr_id: str) -> KeyResult | None:
        """The key result with this id, or None."""
        return self._key_results_by_id.get(kr_id)

    def kpi(self, kpi_id: str) -> Kpi | None:
        """The KPI with this id, or None."""
        return self._kpis_by_id.get(kpi_id)

    def key_results(self) -> tuple[KeyResult, ...]:
        """Every key result of every objective, in file order."""
        return tuple(kr for o in self.objectives for kr in o.key_results)


@dataclass(frozen=True)
class Reading:
    """One stored value of a KR or KPI at a point in time, with what explains it: what grading reads."""

    subject_id: str
    taken_at: datetime
    value: float | None
    explained: Explanation | Callable[[], Explanation] = field(default_factory=Explanation)

    # The store hands a decoder rather than an Explanation: a year of hourly readings is read for a
    # grade that looks at one of them, so each JSON explanation is decoded only when asked for.
    @cached_property
    def explanation(self) -> Explanation:
        """What explains the value (decoded on first use)."""
        return self.explained() if callable(self.explained) else self.explained

    def __eq__(self, other: object) -> bool:
        """Equal when subject, time, value and explanation are (however the explanation is held)."""
        if not isinstance(other, Reading):
            return NotImplemented
        return (self.subject_id, self.taken_at, self.value, self.explanation) == (
            other.subject_id, other.taken_at, other.value, other.explanation)

    __hash__ = None  # type: ignore[assignment]  # equal readings may hold their explanation differently
