"""Change-only history: an unchanged value is confirmed, not stored again, and every answer holds."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from okrbridge.domain import Catalog, Reading
from okrbridge.explanation import Explanation
from okrbridge.store import NewSnapshot, Store, last_value_times
from okrbridge.store.convert import explanation_of

from . import history_support as hs
from .support import T0
from .support import snapshot_rows as rows
from .test_month_sums import month_reader


def sync_once(store: Store, at: datetime, values: dict[str, float | None], jql: str = "q") -> int:
    """One sync run at `at` writing these values (explanations as the sync writes them)."""
    run_id = store.start_run(deployment="cloud", started_at=at)
    snapshots = [
        NewSnapshot(subject, at, value, source_kind="jql_count",
                    explanation=hs.explanation(hs.SyncValue(subject, value, jql), at))
        for subject, value in values.items()
    ]
    store.write_run_results(run_id, snapshots=snapshots, finished_at=at)
    return run_id


def test_an_unchanged_value_is_confirmed_instead_of_stored_again(loaded: Store) -> None:
    first = sync_once(loaded, T0, {"CO-1.1": 320.0})
    second = sync_once(loaded, T0 + timedelta(hours=1), {"CO-1.1": 320.0})
    third = sync_once(loaded, T0 + timedelta(hours=2), {"CO-1.1": 320.0})

    [reading] = loaded.history("CO-1.1")
    assert (reading.taken_at, reading.sync_run_id) == (T0, first)
    assert (reading.confirmed_at, reading.confirmed_run_id) == (T0 + timedelta(hours=2), third)
    assert second != third and rows(loaded) == 1


def test_a_new_value_or_a_new_explanation_is_a_new_reading(loaded: Store) -> None:
    sync_once(loaded, T0, {"CO-1.1": 320.0})
    sync_once(loaded, T0 + timedelta(hours=1), {"CO-1.1": 330.0})
    sync_once(loaded, T0 + timedelta(hours=2), {"CO-1.1": 330.0}, jql="another query")
    sync_once(loaded, T0 + timedelta(hours=3), {"CO-1.1": None})

    history = loaded.history("CO-1.1")
    assert [(s.value, s.explanation.jql) for s in history] == [
        (320.0, "q"), (330.0, "q"), (330.0, "another query"), (None, "q")]
    assert all(s.confirmed_at == s.taken_at and s.confirmed_run_id is None for s in history)


def test_grading_sees_a_confirmed_value_when_first_seen_and_when_last_confirmed(loaded: Store) -> None:
    later = T0 + timedelta(days=3)
    sync_once(loaded, T0, {"CO-1.1": 320.0})
    sync_once(loaded, T0 + timedelta(days=1), {"CO-1.1": 320.0})
    sync_once(loaded, later, {"CO-1.1": 320.0})

    first, confirmed = loaded.readings(["CO-1.1"])["CO-1.1"]
    assert (first.taken_at, first.value, first.explanation.queried_at) == (T0, 320.0, T0.isoformat())
    # The observation at the last confirmation reads as that sync wrote it: its own time of asking.
    assert (confirmed.taken_at, confirmed.value, confirmed.explanation.queried_at) == (
        later, 320.0, later.isoformat())
    assert confirmed.explanation == Explanation.from_dict(
        {**hs.source_detail(hs.SyncValue("CO-1.1", 320.0, "q"), later), "source": "jql_count"})
    assert loaded.readings(["CO-1.1"], until=later)["CO-1.1"] == [first]


def test_staleness_is_judged_from_the_last_confirmation(loaded: Store) -> None:
    sync_once(loaded, T0, {"CO-1.1": 320.0})
    sync_once(loaded, T0 + timedelta(days=2), {"CO-1.1": 320.0})

    state = loaded.subject_states()["CO-1.1"]
    assert state.last_success_at == T0 + timedelta(days=2) and not state.stale
    assert last_value_times(loaded)["CO-1.1"] == T0 + timedelta(days=2)  # what the stale job reads
    assert loaded.latest_snapshot("CO-1.1") == loaded.history("CO-1.1")[0]


def test_a_run_finishing_late_never_moves_a_confirmation_back(loaded: Store) -> None:
    slow = loaded.start_run(started_at=T0 + timedelta(hours=1))
    sync_once(loaded, T0, {"CO-1.1": 320.0})
    sync_once(loaded, T0 + timedelta(hours=2), {"CO-1.1": 320.0})
    loaded.write_run_results(slow, snapshots=[NewSnapshot(
        "CO-1.1", T0 + timedelta(hours=1), 320.0, source_kind="jql_count",
        explanation=hs.explanation(hs.SyncValue("CO-1.1", 320.0, "q"), T0 + timedelta(hours=1)))])

    latest = loaded.latest_snapshot("CO-1.1")
    assert latest is not None and latest.confirmed_at == T0 + timedelta(hours=2)
    # The late run's value is kept as a reading of its own, inside the confirmed span.
    assert [s.taken_at for s in loaded.history("CO-1.1")] == [T0, T0 + timedelta(hours=1)]


def test_a_checkin_is_never_a_confirmation(loaded: Store) -> None:
    loaded.record_checkin("CO-1.2", 3, at=T0, note="three", author="carol")
    loaded.record_checkin("CO-1.2", 3, at=T0 + timedelta(days=1), note="three", author="carol")

    assert len(loaded.history("CO-1.2")) == 2


# -- the migration from a store written one row per sync ----------------------------------------

_OLD_SNAPSHOT = sa.table(
    "snapshot",
    sa.column("id", sa.Integer()), sa.column("subject_id", sa.String()),
    sa.column("subject_kind", sa.String()), sa.column("taken_at", sa.DateTime(timezone=True)),
    sa.column("value", sa.Float()), sa.column("score", sa.Float()), sa.column("source_kind", sa.String()),
    sa.column("source_detail", sa.JSON()),
    sa.column("sync_run_id", sa.Integer()), sa.column("note", sa.Text()), sa.column("author", sa.String()),
)


_OLD_RUN = sa.table(
    "sync_run", sa.column("id", sa.Integer()), sa.column("started_at", sa.DateTime()),
    sa.column("status", sa.String()), sa.column("counts", sa.JSON()), sa.column("errors", sa.JSON()),
    sa.column("dry_run", sa.Boolean()),
)


def _db_time(store: Store, at: datetime) -> datetime:
    """A time as the store writes it: naive UTC on SQLite, aware on PostgreSQL."""
    return at.replace(tzinfo=None) if store.engine.dialect.name == "sqlite" else at


def write_history_as_before(store: Store, catalog: Catalog, rng: random.Random) -> None:
    """A store at the first schema, written the way syncs wrote it then: one row per subject per sync
    (the time of asking in each explanation), with manual check-ins in between."""
    store.migrate("0001")
    store.sync_catalog(catalog, now=hs.YEAR_START - timedelta(days=90))
    kinds = {kr.id: "kr" for kr in catalog.key_results()} | {kpi.id: "kpi" for kpi in catalog.kpis}
    for at, values in hs.random_syncs(rng, catalog, syncs=70):
        with store.engine.begin() as conn:
            # the first schema's run columns (Store.start_run writes today's, which 0001 lacks)
            run_id = conn.execute(sa.insert(_OLD_RUN).returning(_OLD_RUN.c.id), [
                {"started_at": _db_time(store, at), "status": "running", "counts": {}, "errors": [],
                 "dry_run": False}]).scalar_one()
            conn.execute(sa.insert(_OLD_SNAPSHOT), [
                {"subject_id": v.subject_id, "subject_kind": kinds[v.subject_id],
                 "taken_at": _db_time(store, at), "value": v.value, "score": None, "source_kind": "jql_count",
                 "source_detail": hs.source_detail(v, at), "sync_run_id": run_id, "note": None,
                 "author": None}
                for v in values])
            if rng.random() < 0.15:
                subject = rng.choice(list(kinds))
                conn.execute(sa.insert(_OLD_SNAPSHOT), [{
                    "subject_id": subject, "subject_kind": kinds[subject],
                    "taken_at": _db_time(store, at + timedelta(minutes=5)), "value": 7.0, "score": None,
                    "source_kind": "manual", "source_detail": {}, "sync_run_id": None, "note": "by hand",
                    "author": "carol"}])


def readings_as_before(store: Store) -> dict[str, list[Reading]]:
    """What grading read from that store: every row a reading, explanation, source kind, note, author."""
    result: dict[str, list[Reading]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(sa.select(_OLD_SNAPSHOT).order_by(
                _OLD_SNAPSHOT.c.subject_id, _OLD_SNAPSHOT.c.taken_at, _OLD_SNAPSHOT.c.id)):
            at = row.taken_at if row.taken_at.tzinfo else row.taken_at.replace(tzinfo=hs.YEAR_START.tzinfo)
            detail = explanation_of(row.source_detail, row.source_kind, row.note, row.author)
            result.setdefault(row.subject_id, []).append(Reading(row.subject_id, at, row.value, detail))
    return result


def cut(readings: dict[str, list[Reading]], until: datetime) -> dict[str, list[Reading]]:
    """Readings strictly before `until` (what the old read returned for a period)."""
    return {subject: [r for r in rs if r.taken_at < until] for subject, rs in readings.items()}


@pytest.mark.parametrize(("backend", "seed"), [("sqlite", 1), ("sqlite", 2), ("postgresql", 1)])
def test_migrating_a_store_written_one_row_per_sync_keeps_every_grade_and_history_answer(
        backend: str, seed: int, request: pytest.FixtureRequest,
        make_store: Callable[[Any], Store]) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    store = make_store(url)
    rng = random.Random(seed)
    catalog = hs.random_catalog(rng)
    write_history_as_before(store, catalog, rng)
    before = readings_as_before(store)
    rows_before = sum(len(rs) for rs in before.values())
    grades_before = hs.all_grades(catalog, lambda period, _: cut(before, period.ends_at))
    probes = hs.instants(rng)

    store.migrate()

    assert rows(store) < rows_before  # identical pairs were collapsed...
    grades_after = hs.all_grades(catalog, lambda period, _: store.readings(until=period.ends_at))
    assert grades_after == grades_before  # ...and no grade, trend or forecast moved
    # what `grades` reads: month sums, every month due after the upgrade, then worked out and stored
    assert hs.all_grades(catalog, month_reader(store, catalog, rng)) == grades_before
    assert store.refresh_month_sums() > 0
    assert hs.all_grades(catalog, month_reader(store, catalog, rng)) == grades_before
    for subject in hs.subject_ids(catalog):
        history = store.history(subject)
        as_readings = [Reading(subject, s.taken_at, s.value) for s in history]
        assert [hs.value_at(as_readings, t) for t in probes] == [
            hs.value_at(before.get(subject, []), t) for t in probes]
        first_seen = [r.taken_at for r in before.get(subject, [])]
        assert all(s.taken_at in first_seen and s.confirmed_at in first_seen for s in history)

    store.downgrade("0001")
    assert readings_as_before(store) == {
        subject: [Reading(r.subject_id, r.taken_at, r.value, r.explanation) for r in rs]
        for subject, rs in before.items()}
