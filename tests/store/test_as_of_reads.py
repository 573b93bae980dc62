"""As-of reads: a read bounded by the cycle grades exactly like a read of the whole history, and the
compact series `grades` reads grades exactly like the readings."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from okrbridge.cycles import Period
from okrbridge.domain import Catalog
from okrbridge.explanation import Explanation
from okrbridge.report import graded_observations, reading_window_start
from okrbridge.store import NewSnapshot, Store

from . import history_support as hs


def write_history(store: Store, catalog: Catalog, rng: random.Random, syncs: int) -> None:
    """Syncs written through the store (unchanged values confirmed), with check-ins between them."""
    store.sync_catalog(catalog, now=hs.YEAR_START - timedelta(days=90))
    ids = hs.subject_ids(catalog)
    for at, values in hs.random_syncs(rng, catalog, syncs=syncs, change=0.15):
        run_id = store.start_run(started_at=at)
        store.write_run_results(run_id, finished_at=at, snapshots=[
            NewSnapshot(v.subject_id, at, v.value, source_kind="jql_count",
                        explanation=Explanation.from_dict(hs.source_detail(v, at)))
            for v in values])
        if rng.random() < 0.2:
            # Sometimes in the past, inside a span another reading was confirmed over.
            store.record_checkin(rng.choice(ids), float(rng.randint(0, 99)),
                                 at=at - timedelta(hours=rng.uniform(0, 200)), note="by hand")


@pytest.mark.parametrize(("backend", "seed"), [("sqlite", 3), ("sqlite", 4), ("postgresql", 5)])
def test_bounded_reads_grade_every_period_exactly_like_a_full_read(
        backend: str, seed: int, request: pytest.FixtureRequest,
        make_store: Callable[[Any], Store]) -> None:
    store = hs.migrated_store(backend, request, make_store)
    rng = random.Random(seed)
    catalog = hs.random_catalog(rng)
    write_history(store, catalog, rng, syncs=60)
    full = store.readings()

    def everything_before(period: Period, now: datetime) -> dict[str, Any]:
        return {s: [r for r in rs if r.taken_at < period.ends_at] for s, rs in full.items()}

    bounded = hs.bounded_readings(store, catalog)
    assert hs.all_grades(catalog, bounded) == hs.all_grades(catalog, everything_before)


@pytest.mark.parametrize(("backend", "seed"), [("sqlite", 6), ("sqlite", 7), ("postgresql", 8)])
def test_the_series_read_grades_every_period_and_explains_every_grade_exactly_like_the_readings_read(
        backend: str, seed: int, request: pytest.FixtureRequest,
        make_store: Callable[[Any], Store]) -> None:
    store = hs.migrated_store(backend, request, make_store)
    rng = random.Random(seed)
    catalog = hs.random_catalog(rng)
    write_history(store, catalog, rng, syncs=60)  # check-ins dated into confirmed spans included

    def as_series(period: Period, now: datetime) -> dict[str, Any]:
        since = reading_window_start(catalog, period, now)
        series, details = store.series(hs.subject_ids(catalog), until=period.ends_at, since=since)
        if rng.random() < 0.5:  # reading ahead changes nothing but how many statements are run
            details.prefetch(graded_observations(catalog, series, [period], now=now))
        return series

    # to_dict holds values, scores, as-of times, explanations and the forecasts, compared as floats
    assert hs.all_grades(catalog, as_series) == hs.all_grades(catalog, hs.bounded_readings(store, catalog))


def test_a_bounded_read_keeps_the_last_reading_before_the_window_and_nothing_older(loaded: Store) -> None:
    early, late = hs.YEAR_START - timedelta(days=40), hs.YEAR_START - timedelta(days=20)
    for at, value in ((early, 1.0), (late, 2.0), (hs.YEAR_START + timedelta(days=3), 3.0)):
        loaded.record_checkin("web-conversion", value, at=at)

    readings = loaded.readings(["web-conversion", "CO-1.1"], since=hs.YEAR_START)

    assert [r.value for r in readings["web-conversion"]] == [2.0, 3.0]
    assert readings["CO-1.1"] == []
