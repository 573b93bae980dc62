"""The store on a real PostgreSQL: migrations, time zones, and concurrent writers from separate engines.

Each thread opens its own Store (its own engine and pool), as separate worker processes would.
Skipped, with the reason, when no server answers at OKRBRIDGE_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect
from sqlalchemy.engine import URL
from sqlmodel import select

from okrbridge.domain import Catalog, Objective
from okrbridge.store import (
    Failure,
    InitiativeRecord,
    NewSnapshot,
    RunAlreadyFinished,
    RunStatus,
    Store,
)
from okrbridge.store.tables import (
    InitiativeRow,
    KeyResultRow,
    KpiRow,
    ObjectiveRow,
    SnapshotRow,
    StoreModel,
    SubjectStateRow,
)

from .support import T0

pytestmark = pytest.mark.postgres

_T = TypeVar("_T")


def in_parallel(calls: list[Callable[[], _T]]) -> list[_T | BaseException]:
    """Run the calls on threads released together; each result or exception, in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[_T | BaseException] = [RuntimeError("did not run")] * len(calls)

    def run(index: int, call: Callable[[], _T]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as exc:  # collected: a thread's exception would otherwise be lost
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def count(store: Store, model: type[Any]) -> int:
    """How many rows a table holds."""
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def big_catalog(catalog: Catalog, extra: int) -> Catalog:
    """The sample catalog plus `extra` objectives, so concurrent loads overlap for longer."""
    extras = tuple(Objective(id=f"X-{n}", title=f"Extra {n}", cycle="2026") for n in range(extra))
    return replace(catalog, objectives=(*catalog.objectives, *extras))


def test_migrated_postgres_schema_matches_the_sqlmodel_tables_exactly(postgres_store: Store) -> None:
    with postgres_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, StoreModel.metadata) == []
    assert set(inspect(postgres_store.engine).get_table_names()) == {
        *StoreModel.metadata.tables,
        "alembic_version",
    }


def test_downgrade_and_upgrade_round_trip_on_postgres(postgres_store: Store) -> None:
    postgres_store.downgrade("base")
    assert inspect(postgres_store.engine).get_table_names() == ["alembic_version"]

    postgres_store.migrate()
    assert set(StoreModel.metadata.tables) <= set(inspect(postgres_store.engine).get_table_names())


def test_datetimes_come_back_in_utc_whatever_the_session_time_zone(
    postgres_url: URL, catalog: Catalog
) -> None:
    # A server or role configured for local time must not shift or re-zone history.
    kolkata = postgres_url.update_query_dict({"options": "-c timezone=Asia/Kolkata"})
    store = Store(kolkata)
    try:
        store.migrate()
        store.sync_catalog(catalog, now=T0)
        at = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-7)))

        snapshot = store.record_checkin("CO-1.2", 5, at=at)

        assert store.history("CO-1.2") == [snapshot]
        assert snapshot.taken_at == at
        assert snapshot.taken_at.tzinfo is UTC
        assert store.readings(until=at + timedelta(microseconds=1))["CO-1.2"][0].taken_at == at
    finally:
        store.close()


def test_concurrent_catalog_loads_add_each_item_exactly_once(
    postgres_url: URL, postgres_store: Store, catalog: Catalog, make_store: Callable[[URL], Store]
) -> None:
    wanted = big_catalog(catalog, extra=40)
    stores = [make_store(postgres_url) for _ in range(4)]

    results = in_parallel([partial(s.sync_catalog, wanted, now=T0) for s in stores])

    assert not [r for r in results if isinstance(r, BaseException)], results
    added = [item for r in results if not isinstance(r, BaseException) for item in r.added]
    assert len(added) == len(set(added)) == 42 + 3 + 1
    assert (count(postgres_store, ObjectiveRow), count(postgres_store, KeyResultRow)) == (42, 3)
    assert count(postgres_store, KpiRow) == 1


def test_concurrent_catalog_changes_are_each_applied_once(
    postgres_url: URL, postgres_store: Store, catalog: Catalog, make_store: Callable[[URL], Store]
) -> None:
    postgres_store.sync_catalog(catalog, now=T0)
    shrunk = replace(catalog, kpis=())
    stores = [make_store(postgres_url) for _ in range(3)]

    results = in_parallel([partial(s.sync_catalog, shrunk, now=T0 + timedelta(days=1)) for s in stores])

    archived = [item.id for r in results if not isinstance(r, BaseException) for item in r.archived]
    assert archived == ["web-conversion"]


def test_concurrent_run_results_lose_and_duplicate_nothing(
    postgres_url: URL, postgres_store: Store, catalog: Catalog, make_store: Callable[[URL], Store]
) -> None:
    postgres_store.sync_catalog(catalog, now=T0)
    writers = [make_store(postgres_url) for _ in range(4)]
    epic = InitiativeRecord("SHOP-7", "T-1.1", "Checkout", "In Progress", "indeterminate", False, 1, 4, "u")

    def write(n: int) -> Callable[[], object]:
        run_id = writers[n].start_run("cloud", started_at=T0)
        at = T0 + timedelta(minutes=n + 1)
        return lambda: writers[n].write_run_results(
            run_id,
            [NewSnapshot("CO-1.1", at, float(n)), NewSnapshot("web-conversion", at, 2.0 + n)],
            failures=[Failure("CO-1.2", f"run {n}: bad JQL")],
            initiatives=[epic, replace(epic, epic_key=f"SHOP-{100 + n}")],
            finished_at=at,
        )

    results = in_parallel([write(n) for n in range(len(writers))])

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert count(postgres_store, SnapshotRow) == 8
    assert count(postgres_store, SubjectStateRow) == 3
    assert {r.status for r in postgres_store.runs()} == {RunStatus.PARTIAL}
    # Whatever order the runs committed in, the newest run's view wins: its values are the
    # latest state, and only the epics it found are current (older runs' extras never stick).
    newest = T0 + timedelta(minutes=len(writers))
    newest_run = max(postgres_store.runs(), key=lambda r: r.finished_at or T0).id
    assert postgres_store.subject_states()["CO-1.1"].last_success_at == newest
    assert postgres_store.subject_states()["CO-1.2"].last_attempt_at == newest
    current = postgres_store.initiatives_for("T-1.1")
    assert {i.epic_key for i in current} == {"SHOP-7", f"SHOP-{100 + len(writers) - 1}"}
    assert {i.last_sync_run_id for i in current} == {newest_run}
    assert count(postgres_store, InitiativeRow) == len(
        postgres_store.initiatives_for("T-1.1", include_removed=True)
    )


def test_one_run_written_concurrently_is_stored_once(
    postgres_url: URL, postgres_store: Store, catalog: Catalog, make_store: Callable[[URL], Store]
) -> None:
    postgres_store.sync_catalog(catalog, now=T0)
    run_id = postgres_store.start_run(started_at=T0)
    writers = [make_store(postgres_url) for _ in range(3)]
    results = [NewSnapshot("CO-1.1", T0, 7.0), NewSnapshot("web-conversion", T0, 2.5)]

    outcomes = in_parallel([partial(w.write_run_results, run_id, results, finished_at=T0) for w in writers])

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, RunAlreadyFinished) for o in outcomes if isinstance(o, BaseException))
    assert count(postgres_store, SnapshotRow) == 2
    assert postgres_store.run(run_id).status is RunStatus.SUCCEEDED
