"""Random histories for the change-only and as-of tests: a catalog, syncs that repeat values, and
the grades every question of a year asks (year, quarters, months, each at several instants)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from okrbridge.cycles import FiscalCalendar, Period, PeriodKind
from okrbridge.domain import (
    Catalog,
    Direction,
    KeyResult,
    Kpi,
    Level,
    Measure,
    MeasureKind,
    Objective,
    Reading,
)
from okrbridge.explanation import Explanation
from okrbridge.report import grade_period, reading_window_start
from okrbridge.store import Store

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
CALENDAR = FiscalCalendar(1)
CYCLES = ("2026", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026-02", "2026-07", "2025-Q4")


def migrated_store(backend: str, request: pytest.FixtureRequest, make_store: Callable[[Any], Store]) -> Store:
    """A migrated, empty store on the backend a test is parametrized with: a fresh SQLite file
    ("sqlite") or the real PostgreSQL's emptied database ("postgresql")."""
    store = make_store(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"))
    store.migrate()
    return store


def random_catalog(rng: random.Random, krs: int = 12, kpis: int = 3) -> Catalog:
    """Objectives in assorted cycles of 2026 (and one of 2025), each with a few increase KRs, and KPIs."""
    objectives = []
    for number, start in enumerate(range(0, krs, 3)):
        objective_id = f"O-{number}"
        cycle = rng.choice(CYCLES)
        key_results = tuple(
            KeyResult(
                id=f"{objective_id}.{i}",
                title=f"KR {i}",
                measure=Measure(MeasureKind.INCREASE, start=0, target=100),
                objective_id=objective_id,
                owner="dave",
            )
            for i in range(start, min(start + 3, krs))
        )
        objectives.append(Objective(id=objective_id, title=objective_id, cycle=cycle, level=Level.TEAM,
                                    team="eng", owner="dave", parent="", key_results=key_results))
    kpi_items = tuple(
        Kpi(id=f"kpi-{i}", name=f"KPI {i}", direction=Direction.INCREASE, unit="", baseline=10.0, target=50.0,
            team="eng", owner="dave")
        for i in range(kpis)
    )
    return Catalog(objectives=tuple(objectives), kpis=kpi_items)


def subject_ids(catalog: Catalog) -> list[str]:
    """Every KR and KPI id of the catalog."""
    return [kr.id for kr in catalog.key_results()] + [kpi.id for kpi in catalog.kpis]


@dataclass(frozen=True)
class SyncValue:
    """One value a sync found for a subject."""

    subject_id: str
    value: float | None
    jql: str


def random_syncs(rng: random.Random, catalog: Catalog, syncs: int,
                 change: float = 0.3) -> Iterator[tuple[datetime, list[SyncValue]]]:
    """`syncs` runs spread over 2025-11 to 2026-12 (irregular gaps); each subject's value changes
    with probability `change` per run, sometimes to nothing measured, sometimes its JQL changes."""
    ids = subject_ids(catalog)
    current = {subject: SyncValue(subject, float(rng.randint(0, 60)), f"q {subject}") for subject in ids}
    at = datetime(2025, 11, 20, tzinfo=UTC)
    span = (datetime(2026, 12, 31, tzinfo=UTC) - at) / syncs
    for _ in range(syncs):
        at += span * rng.uniform(0.2, 1.8)
        values = []
        for subject in ids:
            if rng.random() < 0.1:
                continue  # not synced this run (a failure, a narrowed sync)
            if rng.random() < change:
                old = current[subject]
                roll = rng.random()
                if roll < 0.1:
                    current[subject] = SyncValue(subject, None, old.jql)
                elif roll < 0.2:
                    current[subject] = SyncValue(subject, old.value, old.jql + " and x")
                else:
                    current[subject] = SyncValue(subject, float(rng.randint(0, 120)), old.jql)
            values.append(current[subject])
        yield at, values


def explanation(value: SyncValue, at: datetime) -> Explanation:
    """`source_detail` as the Explanation a sync hands the store."""
    return Explanation.from_dict(source_detail(value, at))


def source_detail(value: SyncValue, at: datetime) -> dict[str, Any]:
    """The explanation a sync writes: the JQL, the count, and when Jira was asked."""
    return {"jql": value.jql, "count": value.value, "deployment": "cloud", "queried_at": at.isoformat()}


def questions(now_choices: tuple[datetime, ...]) -> Iterator[tuple[Period, datetime]]:
    """Every grade a year's reports ask: the year, its quarters and months, each as of several instants."""
    year = CALENDAR.period_of(PeriodKind.YEAR, YEAR_START)
    for period in CALENDAR.nested(year):
        for now in now_choices:
            yield period, now


NOWS = (datetime(2026, 2, 14, 12, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC),
        datetime(2027, 1, 10, tzinfo=UTC))
"""Instants the grades are asked at: mid-February, mid-year, after the year."""


def all_grades(catalog: Catalog, readings_for: Any) -> list[dict[str, Any]]:
    """Every report of `questions`, as JSON-ready dicts; `readings_for(period, now)` gives its readings."""
    return [grade_period(catalog, readings_for(period, now), period, now=now).to_dict()
            for period, now in questions(NOWS)]


def value_at(readings: list[Reading], at: datetime) -> float | None:
    """The value a subject had at `at`: its latest reading taken at or before it."""
    before = [r for r in readings if r.taken_at <= at]
    return before[-1].value if before else None


def instants(rng: random.Random, count: int = 60) -> list[datetime]:
    """Random instants across the history's span."""
    start = datetime(2025, 11, 1, tzinfo=UTC)
    return [start + timedelta(seconds=rng.uniform(0, 430 * 86400)) for _ in range(count)]


def bounded_readings(store: Store,
                     catalog: Catalog) -> Callable[[Period, datetime], dict[str, list[Reading]]]:
    """What `readings_for(period, now)` gives when a period's readings are read bounded, as the product
    reads them: every reading of the period's window, as a Reading each."""
    def read(period: Period, now: datetime) -> dict[str, list[Reading]]:
        return store.readings(until=period.ends_at, since=reading_window_start(catalog, period, now))
    return read
