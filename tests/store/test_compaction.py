"""Compaction removes readings stored twice and runs nothing refers to, and no answer moves."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from okrbridge.cycles import PeriodKind
from okrbridge.domain import Catalog, Reading
from okrbridge.report import grade_period
from okrbridge.store import Failure, NewSnapshot, RunStatus, Store
from okrbridge.store.compaction import compact
from okrbridge.store.tables import SnapshotRow, SyncRunRow

from . import history_support as hs
from .support import T0, sample_catalog


def reading_at(subject: str, at: datetime, value: float | None, jql: str = "q") -> NewSnapshot:
    """A sync's value of `subject` taken at `at`, explained as the sync explains it."""
    return NewSnapshot(subject, at, value, source_kind="jql_count",
                       explanation=hs.explanation(hs.SyncValue(subject, value, jql), at))


def sync_at(store: Store, at: datetime, values: dict[str, float | None], *, started: datetime | None = None,
            finished: datetime | None = None) -> int:
    """One sync run whose values were taken at `at` (started and finished then unless told)."""
    run_id = store.start_run(deployment="cloud", started_at=started or at)
    store.write_run_results(run_id, snapshots=[reading_at(s, at, v) for s, v in values.items()],
                            finished_at=finished or at)
    return run_id


def count(store: Store, table: type[SnapshotRow] | type[SyncRunRow]) -> int:
    """Rows in a table."""
    with store.session() as session:
        return session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def observations(readings: dict[str, list[Reading]]) -> dict[str, list[tuple[Any, ...]]]:
    """Readings as comparable data: time, value and the whole explanation of each observation."""
    return {subject: [(r.taken_at, r.value, r.explanation.to_dict()) for r in rs]
            for subject, rs in readings.items()}


def test_a_reading_written_twice_by_overlapping_syncs_becomes_one_confirmed_reading(loaded: Store) -> None:
    # A manual sync took its reading at 09:30 but finished after the daemon's 10:00 run had stored
    # the same value: two unconfirmed rows that are one reading seen at 09:30 and again at 10:00.
    slow = loaded.start_run(deployment="cloud", started_at=T0 + timedelta(minutes=25))
    daemon = sync_at(loaded, T0 + timedelta(hours=1), {"CO-1.1": 320.0})
    loaded.write_run_results(slow, snapshots=[reading_at("CO-1.1", T0 + timedelta(minutes=30), 320.0)],
                             finished_at=T0 + timedelta(hours=1, minutes=1))
    before = observations(loaded.readings())
    assert len(loaded.history("CO-1.1")) == 2

    report = compact(loaded, now=T0 + timedelta(days=1), keep_runs_days=90)

    assert report.readings_merged == 1 and report.runs_deleted == {}
    [merged] = loaded.history("CO-1.1")
    assert (merged.taken_at, merged.sync_run_id) == (T0 + timedelta(minutes=30), slow)
    assert (merged.confirmed_at, merged.confirmed_run_id) == (T0 + timedelta(hours=1), daemon)
    assert observations(loaded.readings()) == before
    # The next sync finding the value unchanged confirms the merged reading, as it would have the pair.
    sync_at(loaded, T0 + timedelta(hours=2), {"CO-1.1": 320.0})
    assert [(s.taken_at, s.confirmed_at) for s in loaded.history("CO-1.1")] == [
        (T0 + timedelta(minutes=30), T0 + timedelta(hours=2))]


def test_readings_differing_in_anything_but_the_time_of_asking_are_never_merged(loaded: Store) -> None:
    slow = loaded.start_run(deployment="cloud", started_at=T0)
    sync_at(loaded, T0 + timedelta(hours=1), {"CO-1.1": 320.0, "web-conversion": 2.0})
    loaded.write_run_results(slow, snapshots=[
        reading_at("CO-1.1", T0 + timedelta(minutes=30), 321.0),                        # another value
        NewSnapshot("web-conversion", T0 + timedelta(minutes=30), 2.0, source_kind="jql_count",
                    explanation=hs.explanation(hs.SyncValue("web-conversion", 2.0, "other"),
                                               T0 + timedelta(minutes=30)))])              # another JQL
    assert compact(loaded, now=T0 + timedelta(days=1), keep_runs_days=90).readings_merged == 0
    assert count(loaded, SnapshotRow) == 4


def test_a_pair_with_another_observation_between_them_is_kept_apart(loaded: Store) -> None:
    # Someone checked a value in, dated between the two: one row spanning both would claim 320
    # held throughout, across the check-in.
    slow = loaded.start_run(deployment="cloud", started_at=T0)
    sync_at(loaded, T0 + timedelta(hours=1), {"CO-1.1": 320.0})
    loaded.write_run_results(slow, snapshots=[reading_at("CO-1.1", T0 + timedelta(minutes=30), 320.0)],
                             finished_at=T0 + timedelta(hours=1, minutes=1))
    loaded.record_checkin("CO-1.1", 330.0, at=T0 + timedelta(minutes=45), note="by hand")

    assert compact(loaded, now=T0 + timedelta(days=1), keep_runs_days=90).readings_merged == 0
    assert [s.value for s in loaded.history("CO-1.1")] == [320.0, 330.0, 320.0]


def test_a_pair_an_earlier_readings_confirmation_falls_between_is_kept_apart(loaded: Store) -> None:
    # 300 seen at 08:00 and confirmed at 09:45; a late run's 320 taken at 09:30; the daemon's 320 at
    # 10:00. The two 320s are next to each other by first-seen time, but 300 was observed between.
    sync_at(loaded, T0 - timedelta(hours=1), {"CO-1.1": 300.0})
    slow = loaded.start_run(deployment="cloud", started_at=T0 + timedelta(minutes=25))
    sync_at(loaded, T0 + timedelta(minutes=45), {"CO-1.1": 300.0})
    loaded.write_run_results(slow, snapshots=[reading_at("CO-1.1", T0 + timedelta(minutes=30), 320.0)],
                             finished_at=T0 + timedelta(minutes=50))
    sync_at(loaded, T0 + timedelta(hours=1), {"CO-1.1": 320.0})
    assert [(s.value, s.confirmed_at) for s in loaded.history("CO-1.1")] == [
        (300.0, T0 + timedelta(minutes=45)), (320.0, T0 + timedelta(minutes=30)),
        (320.0, T0 + timedelta(hours=1))]

    assert compact(loaded, now=T0 + timedelta(days=1), keep_runs_days=90).readings_merged == 0


# -- a store upgraded from one row per sync: each pair collapsed, the pairs kept apart ------------

_SNAPSHOT_0004 = sa.table(
    "snapshot", sa.column("subject_id", sa.String()), sa.column("subject_kind", sa.String()),
    sa.column("taken_at", sa.DateTime()), sa.column("value", sa.Float()), sa.column("score", sa.Float()),
    sa.column("source_kind", sa.String()), sa.column("source_detail", sa.JSON()),
    sa.column("sync_run_id", sa.Integer()))
_RUN_0004 = sa.table(
    "sync_run", sa.column("id", sa.Integer()), sa.column("started_at", sa.DateTime()),
    sa.column("finished_at", sa.DateTime()), sa.column("status", sa.String()), sa.column("counts", sa.JSON()),
    sa.column("errors", sa.JSON()), sa.column("dry_run", sa.Boolean()))


def test_identical_readings_confirmed_apart_are_kept_apart_because_merging_would_move_the_forecast(
        sqlite_url: str, make_store: Callable[[Any], Store]) -> None:
    # Written before change-only history, one row per daily sync: 300 on day 0, then 400 four
    # days running. Migration 0005 collapses days 1+2 and days 3+4 into a row each.
    store = make_store(sqlite_url)
    store.migrate("0004_run_owner")
    store.sync_catalog(sample_catalog(), now=T0)
    with store.engine.begin() as conn:
        for day, value in enumerate((300.0, 400.0, 400.0, 400.0, 400.0)):
            at = (T0 + timedelta(days=day)).replace(tzinfo=None)  # SQLite keeps naive UTC
            run = conn.execute(sa.insert(_RUN_0004).returning(_RUN_0004.c.id), [{
                "started_at": at, "finished_at": at, "status": "succeeded", "counts": {}, "errors": [],
                "dry_run": False}]).scalar_one()
            conn.execute(sa.insert(_SNAPSHOT_0004), [{
                "subject_id": "CO-1.1", "subject_kind": "kr", "taken_at": at, "value": value, "score": None,
                "source_kind": "jql_count", "sync_run_id": run,
                "source_detail": hs.source_detail(hs.SyncValue("CO-1.1", value, "q"),
                                                  T0 + timedelta(days=day))}])
    store.migrate()
    assert [(s.value, s.taken_at, s.confirmed_at) for s in store.history("CO-1.1")] == [
        (300.0, T0, T0), (400.0, T0 + timedelta(days=1), T0 + timedelta(days=2)),
        (400.0, T0 + timedelta(days=3), T0 + timedelta(days=4))]

    report = compact(store, now=T0 + timedelta(days=30), keep_runs_days=90)

    assert report.rows_removed == 0 and count(store, SnapshotRow) == 3
    year = sample_catalog().calendar.period_of(PeriodKind.YEAR, T0)
    graded = grade_period(sample_catalog(), store.readings(), year, now=T0 + timedelta(days=30))
    [kr] = [kr for objective in graded.objectives for kr in objective.krs if kr.id == "CO-1.1"]
    # The least-squares line through all five observations (x = days since T0: 0..4; y = 300, 400 x4)
    # has mean x 2, mean y 380, slope 200 / 10 = 20 a day; the year ends 360.625 days after T0:
    # 380 + 20 * 358.625 = 7552.5. Merging the two 400-rows would leave x = 0, 1, 4 (slope 19.23...).
    assert kr.forecast == pytest.approx(7552.5)


# -- sync runs ------------------------------------------------------------------------------------


def test_runs_nothing_refers_to_go_after_the_retention_and_the_newest_ones_stay(loaded: Store) -> None:
    day = timedelta(days=1)
    first = sync_at(loaded, T0, {"CO-1.1": 320.0})                            # first saw 320: kept
    moved_on = sync_at(loaded, T0 + day, {"CO-1.1": 320.0})                   # its confirmation moved on
    confirmer = sync_at(loaded, T0 + 2 * day, {"CO-1.1": 320.0})              # confirms 320 last: kept
    dry = loaded.start_run(started_at=T0 + 3 * day, dry_run=True)
    loaded.finish_run(dry, "succeeded", finished_at=T0 + 3 * day)
    refused = loaded.start_run(started_at=T0 + 4 * day)
    loaded.finish_run(refused, "failed", finished_at=T0 + 4 * day, errors=[{"subject": None, "error": "401"}])
    dead = loaded.start_run(started_at=T0 + 5 * day)
    loaded.finish_run(dead, "abandoned", finished_at=T0 + 6 * day)
    still_running = loaded.start_run(started_at=T0 + 5 * day)
    failing = loaded.start_run(started_at=T0 + 7 * day)                       # the KPI's current failure
    loaded.write_run_results(failing, failures=[Failure("web-conversion", "JQL refused", at=T0 + 7 * day)],
                             finished_at=T0 + 7 * day)
    last_success = sync_at(loaded, T0 + 8 * day, {"T-1.1": 1.0})              # newest succeeded: kept
    superseded = sync_at(loaded, T0 + 9 * day, {"T-1.1": 1.0})                # its confirmation moves on
    newest = loaded.start_run(started_at=T0 + 10 * day)                       # newest finished: kept
    loaded.finish_run(newest, "failed", finished_at=T0 + 10 * day)
    recent = loaded.start_run(started_at=T0 + 95 * day, dry_run=True)         # inside the retention
    loaded.finish_run(recent, "succeeded", finished_at=T0 + 95 * day)
    sync_at(loaded, T0 + 11 * day, {"T-1.1": 1.0}, started=T0 + 95 * day)      # moves `superseded` on

    report = compact(loaded, now=T0 + 100 * day, keep_runs_days=90)

    assert report.runs_deleted == {"abandoned": 1, "failed": 1, "succeeded": 3}
    kept = {run.id for run in loaded.runs(limit=100)}
    assert kept.isdisjoint({moved_on, dry, refused, dead, superseded})
    assert {first, confirmer, still_running, failing, last_success, newest, recent} <= kept
    assert loaded.run(still_running).status is RunStatus.RUNNING


def test_a_dry_run_counts_what_it_would_remove_and_changes_nothing(loaded: Store) -> None:
    slow = loaded.start_run(started_at=T0)
    sync_at(loaded, T0 + timedelta(hours=1), {"CO-1.1": 320.0})
    loaded.write_run_results(slow, snapshots=[reading_at("CO-1.1", T0 + timedelta(minutes=30), 320.0)],
                             finished_at=T0 + timedelta(hours=2))
    dry = loaded.start_run(started_at=T0, dry_run=True)
    loaded.finish_run(dry, "succeeded", finished_at=T0)
    history, runs = loaded.history("CO-1.1"), loaded.runs()

    report = compact(loaded, now=T0 + timedelta(days=200), keep_runs_days=90, dry_run=True)

    assert (report.dry_run, report.readings_merged, report.runs_deleted) == (True, 1, {"succeeded": 1})
    assert report.bytes_after == report.bytes_before
    assert (loaded.history("CO-1.1"), loaded.runs()) == (history, runs)


# -- the proof: every answer the same, on a realistic history ----------------------------------------


def write_history(store: Store, catalog: Catalog, rng: random.Random, syncs: int) -> int:
    """A year of syncs through the store API as a daemon and people write it: most values repeat
    (confirmed), some syncs overlap (a manual run finishing after the daemon's next one), dry runs,
    refused runs, check-ins in between. Returns how many overlapping runs were written."""
    store.sync_catalog(catalog, now=hs.YEAR_START - timedelta(days=90))
    ids = hs.subject_ids(catalog)
    overlaps = 0
    previous: tuple[datetime, list[hs.SyncValue]] | None = None
    for at, values in hs.random_syncs(rng, catalog, syncs=syncs, change=0.15):
        if previous is not None and rng.random() < 0.25:
            # A run that asked Jira a little before this one but finishes after it.
            late_at = at - (at - previous[0]) * rng.uniform(0.05, 0.5)
            late = store.start_run(started_at=late_at)
            overlaps += 1
        else:
            late = None
        run_id = store.start_run(started_at=at)
        store.write_run_results(run_id, finished_at=at, snapshots=[
            NewSnapshot(v.subject_id, at, v.value, source_kind="jql_count",
                        explanation=hs.explanation(v, at)) for v in values])
        if late is not None:
            late_values = [v for v in values if rng.random() < 0.7]
            store.write_run_results(late, finished_at=at + timedelta(minutes=1), snapshots=[
                NewSnapshot(v.subject_id, late_at, v.value, source_kind="jql_count",
                            explanation=hs.explanation(v, late_at)) for v in late_values])
        roll = rng.random()
        if roll < 0.1:
            dry = store.start_run(started_at=at + timedelta(minutes=5), dry_run=True)
            store.finish_run(dry, "succeeded", finished_at=at + timedelta(minutes=5))
        elif roll < 0.2:
            refused = store.start_run(started_at=at + timedelta(minutes=7))
            store.finish_run(refused, "failed", finished_at=at + timedelta(minutes=7),
                             errors=[{"subject": None, "error": "401 Unauthorized"}])
        elif roll < 0.3:
            store.record_checkin(rng.choice(ids), float(rng.randint(0, 99)),
                                 at=at - timedelta(hours=rng.uniform(0, 200)), note="by hand")
        previous = (at, values)
    return overlaps


def answers(store: Store, catalog: Catalog, probes: list[datetime]) -> dict[str, Any]:
    """Every as-of answer: the grades of the year, its quarters and months at several instants (read
    bounded, as the product reads them), every observation, the value of each subject at each probe
    instant, and what the history says each value was and when it was first seen and last confirmed."""
    readings = store.readings()
    history: dict[str, Any] = {}
    for subject in hs.subject_ids(catalog):
        as_readings = [r for r in readings.get(subject, [])]
        history[subject] = [hs.value_at(as_readings, at) for at in probes]
    return {"grades": hs.all_grades(catalog, hs.bounded_readings(store, catalog)),
            "observations": observations(readings),
            "value_at": history, "latest": {s: store.latest_snapshot(s) is not None for s in history}}


@pytest.mark.parametrize(("backend", "seed"), [
    ("sqlite", 11), ("sqlite", 12), pytest.param("postgresql", 13, marks=pytest.mark.postgres)])
def test_every_grade_history_answer_and_reading_is_the_same_after_compaction(
        backend: str, seed: int, request: pytest.FixtureRequest,
        make_store: Callable[[Any], Store]) -> None:
    store = hs.migrated_store(backend, request, make_store)
    rng = random.Random(seed)
    catalog = hs.random_catalog(rng)
    overlaps = write_history(store, catalog, rng, syncs=160)
    probes = hs.instants(rng, 200)
    before = answers(store, catalog, probes)
    rows_before = count(store, SnapshotRow), count(store, SyncRunRow)

    report = compact(store, now=datetime(2027, 1, 20, tzinfo=hs.YEAR_START.tzinfo), keep_runs_days=30)

    rows_after = count(store, SnapshotRow), count(store, SyncRunRow)
    print(f"\n{backend} seed {seed}: {overlaps} overlapping runs; "
          f"snapshots {rows_before[0]} -> {rows_after[0]}, runs {rows_before[1]} -> {rows_after[1]}; "
          f"{report.describe()}")
    assert report.readings_merged > 0 and sum(report.runs_deleted.values()) > 0  # it had work to do...
    assert rows_before[0] - rows_after[0] == report.readings_merged
    assert rows_before[1] - rows_after[1] == sum(report.runs_deleted.values())
    assert answers(store, catalog, probes) == before                           # ...and no answer moved
    assert compact(store, now=datetime(2027, 1, 20, tzinfo=hs.YEAR_START.tzinfo),
                   keep_runs_days=30).rows_removed == 0                         # and it is done at once
