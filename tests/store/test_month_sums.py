"""Month sums: grades read from them equal grades read from every observation, whatever state the
sums are in, and the snapshot triggers never let a stale sum stand."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from okrbridge.catalog import bundled_sample, load_checkins
from okrbridge.cycles import Period, PeriodKind
from okrbridge.demo import demo_settings
from okrbridge.domain import Catalog
from okrbridge.month_series import month_sum_of
from okrbridge.report import grade_period, graded_observations, reading_window_start, window_bounds
from okrbridge.store import Store, month_sums
from okrbridge.store.series_rows import _Instants
from okrbridge.workspace import import_checkins, open_workspace

from . import history_support as hs
from .test_as_of_reads import write_history


def month_reader(store: Store, catalog: Catalog, rng: random.Random) -> Callable[[Period, datetime], Any]:
    """What `grades` reads for a period as of an instant: the KRs' month sums, the KPIs' series."""
    krs = [kr.id for kr in catalog.key_results()]
    kpis = [kpi.id for kpi in catalog.kpis]

    def read(period: Period, now: datetime) -> dict[str, Any]:
        since = reading_window_start(catalog, period, now)
        by_month, book = store.month_series(krs, bounds=window_bounds(catalog, [period]), now=now)
        series, _ = store.series(kpis, until=period.ends_at, since=since, book=book)
        found: dict[str, Any] = {**by_month, **series}
        if rng.random() < 0.5:  # reading ahead changes nothing but how many statements are run
            book.prefetch(graded_observations(catalog, found, [period], now=now))
        return found

    return read


def nested_grades(store: Store, catalog: Catalog, *, by_month: bool) -> list[dict[str, Any]]:
    """The year's reports and those of every quarter and month in it, each as of several instants,
    read once per instant for all seventeen (as `grades --nested` reads): from month sums, or from
    every reading."""
    year = hs.CALENDAR.period_of(PeriodKind.YEAR, hs.YEAR_START)
    periods = hs.CALENDAR.nested(year)
    reports = []
    for now in hs.NOWS:
        if by_month:
            found: Any = store.month_series([kr.id for kr in catalog.key_results()],
                                            bounds=window_bounds(catalog, periods), now=now)[0]
            found.update(store.series([kpi.id for kpi in catalog.kpis], until=year.ends_at,
                                      since=reading_window_start(catalog, year, now))[0])
        else:
            found = store.readings(until=year.ends_at, since=reading_window_start(catalog, year, now))
        reports += [grade_period(catalog, found, period, now=now).to_dict() for period in periods]
    return reports


def stale_sums(store: Store) -> list[tuple[str, str]]:
    """The stored running sums that differ from the running sums of the rows as they are now (every
    month of the subject's history up to the stored one, worked out again)."""
    with store.engine.connect() as conn:
        stored = {(row[0], row[1]): tuple(row[2:]) for row in conn.execute(text(
            "SELECT subject_id, month, count, sum_x, sum_xx, sum_y, sum_xy, exponent, nonfinite, last_at, "
            "last_ref, last_value FROM month_sum"))}
        subjects = sorted({subject for subject, _ in stored})
        worked_out = month_sums.running_from_rows(conn, subjects, "1970-01", "2100-01", {}, _Instants(), None)
        last_at = {(subject, each.month): each.last_at for subject, each in _months_of(conn, subjects)}
    expected = {(row[0], row[1]): (*row[2:9], last_at[row[0], row[1]], *row[9:])
                for rows in worked_out.values() for row in rows}
    as_ints = [int if i in (1, 2, 3, 4) else (lambda v: v) for i in range(10)]
    return sorted(key for key, row in stored.items()
                  if expected.get(key) != tuple(convert(v) for convert, v in zip(as_ints, row, strict=True)))


def _months_of(conn: Any, subjects: list[str]) -> Any:
    """Each (subject, MonthSum of one month) of the subjects' whole history."""
    found = month_sums._observations(conn, subjects, "1970-01", "2100-01", _Instants(), None)
    for subject, months in found.items():
        for month, points in months.items():
            each = month_sum_of(month, points)
            assert each is not None
            yield subject, each


def due_count(store: Store) -> int:
    """How many (subject, month) pairs are due."""
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM month_sum_due")).scalar_one())


@pytest.mark.parametrize(("backend", "seed"), [("sqlite", 11), ("sqlite", 12), ("postgresql", 13)])
def test_grades_from_month_sums_equal_grades_from_every_reading_before_after_and_between_refreshes(
        backend: str, seed: int, request: pytest.FixtureRequest,
        make_store: Callable[[Any], Store]) -> None:
    store = hs.migrated_store(backend, request, make_store)
    rng = random.Random(seed)
    catalog = hs.random_catalog(rng)
    write_history(store, catalog, rng, syncs=50)  # check-ins dated into confirmed spans included
    expected = hs.all_grades(catalog, hs.bounded_readings(store, catalog))
    months = month_reader(store, catalog, rng)

    assert due_count(store) > 0
    assert hs.all_grades(catalog, months) == expected  # every month worked out from the rows
    nested = nested_grades(store, catalog, by_month=False)
    assert nested_grades(store, catalog, by_month=True) == nested

    assert store.refresh_month_sums() > 0
    assert due_count(store) == 0 and stale_sums(store) == []
    assert hs.all_grades(catalog, months) == expected  # every month from its stored sums
    assert nested_grades(store, catalog, by_month=True) == nested
    with pytest.MonkeyPatch.context() as patch:  # more subjects than a chunk: one statement for all
        patch.setattr(month_sums, "_CHUNK", 4)
        assert hs.all_grades(catalog, months) == expected

    # more history on top, not summed yet: some months stored, some due
    write_history(store, catalog, rng, syncs=15)
    assert due_count(store) > 0 and stale_sums(store) == []
    expected = hs.all_grades(catalog, hs.bounded_readings(store, catalog))
    assert hs.all_grades(catalog, months) == expected
    assert nested_grades(store, catalog, by_month=True) == nested_grades(store, catalog, by_month=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(month_sums, "_CHUNK", 4)
        assert hs.all_grades(catalog, months) == expected
    # worked out a few months at a time: each batch on top of the one before
    assert month_sums.refresh_month_sums(store.engine, batch=3) > 0
    assert due_count(store) == 0 and stale_sums(store) == []
    assert hs.all_grades(catalog, months) == expected


def _reading(store: Store, subject: str, at: datetime, value: float) -> None:
    store.record_checkin(subject, value, at=at, note="by hand")


def test_a_forecast_from_month_sums_is_the_line_through_the_observations(store: Store) -> None:
    # three check-ins on the line value = days since 2026-01-01: 0 on Jan 1, 31 on Feb 1, 59 on
    # Mar 1; the line reaches 365 at the year's end (2027-01-01)
    catalog = next(c for c in map(hs.random_catalog, map(random.Random, range(100)))
                   if any(o.cycle == "2026" for o in c.objectives))
    store.sync_catalog(catalog, now=hs.YEAR_START - timedelta(days=90))
    yearly = next(o for o in catalog.objectives if o.cycle == "2026")
    kr = yearly.key_results[0].id
    for day, value in ((0, 0.0), (31, 31.0), (59, 59.0)):
        _reading(store, kr, hs.YEAR_START + timedelta(days=day), value)
    store.refresh_month_sums()
    year = catalog.calendar.parse("2026")
    now = datetime(2026, 3, 15, tzinfo=UTC)
    by_month, _ = store.month_series([kr], bounds=[year.starts_at, year.ends_at], now=now)
    graded = grade_period(catalog, by_month, year, now=now)
    grade = next(k for o in graded.objectives for k in o.krs if k.id == kr)
    assert (grade.value, grade.forecast) == (59.0, 365.0)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_write_to_a_snapshot_drops_and_marks_due_the_first_month_it_changed_and_every_later_one(
        backend: str, request: pytest.FixtureRequest, make_store: Callable[[Any], Store]) -> None:
    store = hs.migrated_store(backend, request, make_store)
    catalog = hs.random_catalog(random.Random(2))
    store.sync_catalog(catalog, now=hs.YEAR_START - timedelta(days=90))
    kr = catalog.objectives[0].key_results[0].id
    _reading(store, kr, datetime(2026, 3, 10, tzinfo=UTC), 5.0)
    _reading(store, kr, datetime(2026, 5, 10, tzinfo=UTC), 7.0)
    assert store.refresh_month_sums() == 2
    months = "SELECT month FROM month_sum WHERE subject_id = :kr ORDER BY month"
    due = "SELECT month FROM month_sum_due WHERE subject_id = :kr ORDER BY month"

    def state() -> tuple[list[str], list[str]]:
        with store.engine.connect() as conn:
            return ([row[0] for row in conn.execute(text(months), {"kr": kr})],
                    [row[0] for row in conn.execute(text(due), {"kr": kr})])

    def run(statement: str, **values: Any) -> None:
        with store.engine.begin() as conn:
            conn.execute(text(statement), {"kr": kr, **values})

    assert state() == (["2026-03", "2026-05"], [])
    # hand-written statements, as an operator might run them. The March reading confirmed into
    # April: a confirmation, which adds an observation in April and leaves March's as it was
    april = datetime(2026, 4, 2, tzinfo=UTC) if backend == "postgresql" else "2026-04-02 00:00:00.000000"
    run("UPDATE snapshot SET confirmed_at = :at WHERE subject_id = :kr AND value = 5", at=april)
    assert state() == (["2026-03"], ["2026-04", "2026-05"])
    assert store.refresh_month_sums() == 2 and stale_sums(store) == []
    assert state() == (["2026-03", "2026-04", "2026-05"], [])
    # its value edited: every month from the one it was first seen in changes
    run("UPDATE snapshot SET value = 6 WHERE subject_id = :kr AND value = 5")
    assert state() == ([], ["2026-03", "2026-04", "2026-05"])
    assert store.refresh_month_sums() == 3 and stale_sums(store) == []
    run("DELETE FROM snapshot WHERE subject_id = :kr AND value = 7")
    assert state() == (["2026-03", "2026-04"], ["2026-05"])
    assert store.refresh_month_sums() == 1
    assert state() == (["2026-03", "2026-04"], [])  # no observation left in May: no sums either
    assert stale_sums(store) == []


@pytest.mark.postgres
def test_a_refresh_waits_for_a_writer_in_flight_and_stores_no_stale_sum(
        postgres_store: Store, make_store: Callable[[Any], Store]) -> None:
    catalog = hs.random_catalog(random.Random(3))
    postgres_store.sync_catalog(catalog, now=hs.YEAR_START - timedelta(days=90))
    kr = catalog.objectives[0].key_results[0].id
    _reading(postgres_store, kr, datetime(2026, 6, 1, tzinfo=UTC), 1.0)
    writer = make_store(postgres_store.url)
    with writer.engine.connect() as conn, conn.begin():
        conn.execute(text("UPDATE snapshot SET value = 2 WHERE subject_id = :kr"), {"kr": kr})
        refresh = threading.Thread(target=postgres_store.refresh_month_sums)
        refresh.start()
        refresh.join(timeout=1.0)
        assert refresh.is_alive()  # it waits for the writer: the rows it would sum are changing
    refresh.join(timeout=30)
    assert not refresh.is_alive()
    assert stale_sums(postgres_store) == []
    with postgres_store.engine.connect() as conn:
        assert conn.execute(text("SELECT sum_y FROM month_sum WHERE subject_id = :kr"), {"kr": kr}).all() in (
            [("2",)], [])


def test_a_checkin_file_imported_leaves_every_month_it_wrote_summed(tmp_path: Path) -> None:
    settings = demo_settings("http://127.0.0.1:9", tmp_path / "okrbridge.db", dict(os.environ))
    ws = open_workspace(settings, mode="record")  # check-ins ask Jira nothing
    try:
        added = import_checkins(ws, load_checkins(bundled_sample("checkins.toml"), ws.catalog))
        assert added > 0 and due_count(ws.store) == 0
        with ws.store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM month_sum")).scalar_one() > 0
        assert stale_sums(ws.store) == []
    finally:
        ws.close()
