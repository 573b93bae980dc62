"""Grades of a catalog for one period (a year, quarter or month) from stored readings: pure, no IO.

A yearly objective has a grade at the end of each of its quarters and months too: the grade as of a
period's end is the one its KRs' latest readings before that end give. Views, pages, the CLI and the
JSON API render a `PeriodReport`; `PeriodReport.to_dict` is its JSON form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from okrbridge.cycles import Period, PeriodKind, as_utc
from okrbridge.domain import Catalog, KeyResult, Kpi, Level, MeasureKind, Objective, Pace, Reading, Status
from okrbridge.explanation import Explanation
from okrbridge.grading import Bands, kpi_status, objective_score, pace, score_of
from okrbridge.series import Observations, Series, micros, observations_of, series_of


@dataclass(frozen=True)
class KrGrade:
    """One key result as of a period's cut-off: its value, score, band, pace and forecast.

    `as_of` and `explanation` come from the reading graded (which JQL, what count; None without a
    reading; `explanation.describe()` is the human line);
    `forecast` is the value the trend of the cycle's readings reaches at the cycle's end, and
    `forecast_score` what that value would score.
    """

    id: str
    title: str
    owner: str | None
    unit: str
    measure: MeasureKind
    weight: float
    value: float | None
    score: float | None
    status: Status
    as_of: datetime | None
    explanation: Explanation | None = None
    pace: Pace = Pace.NOT_STARTED
    forecast: float | None = None
    forecast_score: float | None = None


@dataclass(frozen=True)
class ObjectiveGrade:
    """One objective as of a period's cut-off: the weighted grade of its KRs."""

    id: str
    title: str
    level: Level
    team: str
    owner: str | None
    parent: str | None
    cycle: str
    score: float | None
    status: Status
    pace: Pace
    krs: tuple[KrGrade, ...] = ()


@dataclass(frozen=True)
class KpiGrade:
    """One KPI's latest value before a period's cut-off, its score and status, and what explains it."""

    id: str
    name: str
    unit: str
    value: float | None
    score: float | None
    status: Status
    as_of: datetime | None
    explanation: Explanation | None = None


@dataclass(frozen=True)
class PeriodReport:
    """The grades of every objective whose cycle overlaps a period, and of every KPI.

    `start`/`end` are the period's half-open days; `as_of` is the cut-off instant actually used
    (the period's end, or `now` if that came first).
    """

    period: str
    kind: PeriodKind
    start: date
    end: date
    as_of: datetime
    objectives: tuple[ObjectiveGrade, ...] = ()
    kpis: tuple[KpiGrade, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: dates and datetimes as ISO-8601, enums as their values."""
        return {
            "period": self.period, "kind": self.kind.value, "start": self.start.isoformat(),
            "end": self.end.isoformat(), "as_of": self.as_of.isoformat(),
            "objectives": _plain(self.objectives), "kpis": _plain(self.kpis),
        }


_LEAVES = frozenset({str, int, float, bool, type(None)})
"""Types JSON takes as they are: most of a report, so they are told apart first, by type alone."""

def _iso(moment: datetime) -> str:
    """`moment.isoformat()`; a UTC instant's is kept (formatting an aware datetime takes
    microseconds, and a report's 10,000 grades were taken at a few thousand instants)."""
    return _utc_iso(moment) if moment.tzinfo is UTC else moment.isoformat()


@lru_cache(maxsize=1 << 16)
def _utc_iso(moment: datetime) -> str:
    """`moment.isoformat()` of a UTC instant (equal UTC instants format alike)."""
    return moment.isoformat()


def _kr_dict(kr: KrGrade) -> dict[str, Any]:
    """A KrGrade as `_plain` makes a dataclass, field by field (written out: `grades --nested` at
    10,000 KRs makes 170,000 of them; a test holds it to the generic form)."""
    return {"id": kr.id, "title": kr.title, "owner": kr.owner, "unit": kr.unit, "measure": kr.measure.value,
            "weight": kr.weight, "value": kr.value, "score": kr.score, "status": kr.status.value,
            "as_of": _iso(kr.as_of) if kr.as_of is not None else None,
            "explanation": kr.explanation.to_dict() if kr.explanation is not None else None,
            "pace": kr.pace.value, "forecast": kr.forecast, "forecast_score": kr.forecast_score}


def _objective_dict(objective: ObjectiveGrade) -> dict[str, Any]:
    """An ObjectiveGrade as `_plain` makes a dataclass (see `_kr_dict`)."""
    return {"id": objective.id, "title": objective.title, "level": objective.level.value,
            "team": objective.team, "owner": objective.owner, "parent": objective.parent,
            "cycle": objective.cycle, "score": objective.score, "status": objective.status.value,
            "pace": objective.pace.value, "krs": [_kr_dict(kr) for kr in objective.krs]}


_WRITTEN_OUT: dict[type, Callable[[Any], dict[str, Any]]] = {KrGrade: _kr_dict,
                                                             ObjectiveGrade: _objective_dict}


def _plain(data: Any) -> Any:
    """`data` as JSON-ready values: report dataclasses become dicts, tuples lists, enums values."""
    kind = type(data)
    if kind in _LEAVES:
        return data
    written_out = _WRITTEN_OUT.get(kind)
    if written_out is not None:
        return written_out(data)
    if kind is tuple or kind is list:
        return [_plain(item) for item in data]
    return _plain_generic(data)


def _plain_generic(data: Any) -> Any:
    """`_plain` by the types of `data` alone (every report dataclass field by field)."""
    if isinstance(data, Enum):
        return data.value
    if isinstance(data, Explanation):
        return data.to_dict()
    if isinstance(data, datetime | date):
        return data.isoformat()
    if isinstance(data, KrGrade | ObjectiveGrade | KpiGrade):
        return {name: _plain_generic(getattr(data, name)) for name in data.__dataclass_fields__}
    if isinstance(data, Mapping):
        return {str(key): _plain_generic(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_plain_generic(item) for item in data]
    return data


def _grade_kr(kr: KeyResult, readings: Sequence[Reading] | Observations, cycle: Period, *, before: datetime,
              until: datetime, elapsed: float, bands: Bands, tolerance: float, cycle_end: int) -> KrGrade:
    """One KR graded from its readings inside its objective's cycle, up to the cut-off.

    Readings may come unsorted; naive times are UTC. A reading without a value (nothing measured)
    is skipped so the last good value still grades. `cycle_end` is the cycle's end in microseconds
    (an objective's KRs share it).
    """
    # Readings before the cycle started belong to an earlier cycle: KR ids are often reused from
    # one quarter to the next, and last quarter's value must not grade this quarter's KR.
    observations = observations_of(readings)
    starts_at = cycle.starts_at
    pick = observations.last(not_before=starts_at, before=before, until=until)
    if pick is None:
        return KrGrade(kr.id, kr.title, kr.owner, kr.unit, kr.measure.kind, kr.weight, None, None,
                       Status.NO_DATA, None)
    reading = observations.reading(pick)
    value, explanation, kind = reading.value, reading.explanation, kr.measure.kind
    score = score_of(kr, value, explanation)
    predicted: float | None = None
    predicted_score: float | None = None
    # A trend line through done / not-done flags predicts nothing, so milestones get no forecast.
    if kind is not MeasureKind.MILESTONE:
        line = observations.line(not_before=starts_at, before=before, until=until)
        predicted = line.value_at(cycle_end)
        predicted_score = score_of(kr, predicted)
    return KrGrade(kr.id, kr.title, kr.owner, kr.unit, kind, kr.weight, value, score,
                   bands.status(score), as_utc(reading.taken_at), explanation,
                   pace(score, elapsed, tolerance=tolerance), predicted, predicted_score)


def _overlapping(catalog: Catalog, period: Period) -> Iterator[tuple[Objective, Period]]:
    """Each objective whose cycle (read with the catalog's calendar) overlaps `period`, with the cycle."""
    for objective in catalog.objectives:
        cycle = catalog.calendar.parse(objective.cycle)
        if cycle.overlaps(period):
            yield objective, cycle


def _window_end(period: Period, cycle: Period) -> datetime:
    """Where a KR's window ends when its objective is graded for `period`: the period's end, or the
    cycle's if that comes first (an objective is final at its cycle's end: a year report must not
    regrade a Q1 objective with readings taken in Q3)."""
    return min(period.ends_at, cycle.ends_at)


def _grade_objective(objective: Objective, cycle: Period,
                     readings: Mapping[str, Sequence[Reading] | Observations], *, before: datetime,
                     elapsed_at: datetime, now: datetime, bands: Bands, tolerance: float) -> ObjectiveGrade:
    """One objective graded from its KRs' windows ending at `before`, its pace measured at `elapsed_at`."""
    elapsed = cycle.elapsed_fraction(elapsed_at)
    cycle_end = micros(cycle.ends_at)
    krs = tuple(
        _grade_kr(kr, readings.get(kr.id, ()), cycle, before=before, until=now, elapsed=elapsed,
                  bands=bands, tolerance=tolerance, cycle_end=cycle_end)
        for kr in objective.key_results)
    score = objective_score([(kr.weight, kr.score) for kr in krs])
    return ObjectiveGrade(objective.id, objective.title, objective.level, objective.team, objective.owner,
                          objective.parent, cycle.label, score, bands.status(score),
                          pace(score, elapsed, tolerance=tolerance), krs)


def _grade_kpi(kpi: Kpi, readings: Sequence[Reading] | Observations, *, before: datetime,
               until: datetime) -> KpiGrade:
    """A KPI's latest value before the cut-off; KPIs are ongoing, so any earlier reading counts."""
    observations = observations_of(readings)
    pick = observations.last(not_before=None, before=before, until=until)
    reading = observations.reading(pick) if pick is not None else None
    value = reading.value if reading is not None else None
    return KpiGrade(kpi.id, kpi.name, kpi.unit, value, score_of(kpi, value), kpi_status(kpi, value),
                    as_utc(reading.taken_at) if reading is not None else None,
                    reading.explanation if reading is not None else None)


GradeMemo = dict[tuple[str, datetime, datetime], ObjectiveGrade]
"""Objective grades already worked out, by (objective id, window end, elapsed instant): reports of
one catalog, one set of readings and one `now` may share one (see `grade_period`)."""


def grade_period(catalog: Catalog, readings: Mapping[str, Sequence[Reading] | Observations],
                 period: Period, *, now: datetime, bands: Bands | None = None,
                 pace_tolerance: float = 0.1, memo: GradeMemo | None = None) -> PeriodReport:
    """The grades, as of the end of `period`, of every objective whose cycle overlaps it and of every KPI.

    `readings` maps KR and KPI ids to their readings (any order), or to their `Observations` (what the
    store reads for `grades`, so `--nested` sorts each subject's history once). A KR is graded by its latest
    reading taken before the period ends (and never after `now`), within its objective's cycle;
    pace compares that with the elapsed share of the cycle at `min(period end, now)`, a score within
    `pace_tolerance` of it being on pace (the `grading.pace_tolerance` setting). Cycle labels are
    read with the catalog's calendar.

    An objective's grade depends on the period only through its window's end and the instant
    elapsed is measured at, so Q1's grade of a yearly objective is March's. `memo`, shared by the
    reports of one `grades --nested` (same catalog, readings, `now`, bands and tolerance), keeps
    each such grade once: seventeen reports of a year grade twelve distinct windows.
    """
    bands = bands or Bands()
    now = as_utc(now)
    elapsed_at = min(period.ends_at, now)
    objectives: list[ObjectiveGrade] = []
    for objective, cycle in _overlapping(catalog, period):
        before = _window_end(period, cycle)
        key = (objective.id, before, elapsed_at)
        graded = memo.get(key) if memo is not None else None
        if graded is None:
            graded = _grade_objective(objective, cycle, readings, before=before, elapsed_at=elapsed_at,
                                      now=now, bands=bands, tolerance=pace_tolerance)
            if memo is not None:
                memo[key] = graded
        objectives.append(graded)
    kpis = tuple(_grade_kpi(kpi, readings.get(kpi.id, ()), before=period.ends_at, until=now)
                 for kpi in catalog.kpis)
    return PeriodReport(period.label, period.kind, period.start, period.end, elapsed_at,
                        tuple(objectives), kpis)


def graded_observations(catalog: Catalog, observations: Mapping[str, Observations], periods: Sequence[Period],
                        *, now: datetime) -> Iterator[int]:
    """The stored observation (row id * 2 + kind) of every reading `grade_period` will grade for
    `periods` as of `now`: what a store reads ahead, so each explanation is read in one batch
    rather than alone."""
    now = as_utc(now)
    for period in periods:
        for objective, cycle in _overlapping(catalog, period):
            before = _window_end(period, cycle)
            for kr in objective.key_results:
                if (ref := _graded_ref(observations.get(kr.id), cycle.starts_at, before, now)) is not None:
                    yield ref
    yield from graded_kpi_observations(catalog, observations, periods, now=now)


def graded_kpi_observations(catalog: Catalog, observations: Mapping[str, Observations],
                            periods: Sequence[Period], *, now: datetime) -> Iterator[int]:
    """`graded_observations` of the KPIs alone."""
    now = as_utc(now)
    for period in periods:
        for kpi in catalog.kpis:
            if (ref := _graded_ref(observations.get(kpi.id), None, period.ends_at, now)) is not None:
                yield ref


def _graded_ref(found: Observations | None, not_before: datetime | None, before: datetime,
                until: datetime) -> int | None:
    """The stored observation a grade of this window takes from `found`, if any."""
    pick = found.last(not_before=not_before, before=before, until=until) if found is not None else None
    return found.detail_ref(pick) if found is not None and pick is not None else None


def window_bounds(catalog: Catalog, periods: Sequence[Period]) -> list[datetime]:
    """Every instant a KR's window starts or ends at when `grade_period` grades these periods: its
    objective's cycle start, and the earlier of the period's and the cycle's ends."""
    bounds: set[datetime] = set()
    for period in periods:
        for _, cycle in _overlapping(catalog, period):
            bounds.update((cycle.starts_at, _window_end(period, cycle)))
    return sorted(bounds)


def reading_window_start(catalog: Catalog, period: Period, now: datetime) -> datetime:
    """The earliest instant a grade of `period` (or of any period inside it) as of `now` reads from.

    KRs are graded from their objective's cycle only, so nothing before the earliest cycle
    overlapping `period` (or the period's own start, or `now` when that comes first) counts; KPIs
    take the last value before it, which a bounded read keeps too (`Store.readings(since=...)`).
    """
    cycle_starts = (cycle.starts_at for _, cycle in _overlapping(catalog, period))
    return min([period.starts_at, as_utc(now), *cycle_starts])


def trend_points(readings: Sequence[Reading] | Series, cycle: Period, period: Period,
                 as_of: datetime) -> list[tuple[datetime, float]]:
    """The `(taken_at, value)` points, in time order, that a KR's grade for `period` is drawn from:
    its readings inside its objective's `cycle`, before the earlier of the two ends and not after
    `as_of` (a report's cut-off). The trend a view charts and the forecast fits are these."""
    series = series_of(readings)
    return series.points(series.window(not_before=cycle.starts_at, before=_window_end(period, cycle),
                                       until=as_of))
