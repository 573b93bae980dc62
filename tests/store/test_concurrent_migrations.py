"""Several first runs at once on a fresh database: one migrates, every one sees one schema.

Each thread opens its own Store (its own engine and connections), as separate processes would.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import URL

from okrbridge.domain import Catalog
from okrbridge.store import Store
from okrbridge.store.engine import make_engine
from okrbridge.store.tables import StoreModel

from .support import T0
from .test_postgres import in_parallel

FIRST_RUNS = 6


def _first_run(url: str | URL, catalog: Catalog) -> str:
    """What a first `okrbridge` command does with the store: migrate, then load the catalog."""
    store = Store(url)
    try:
        store.migrate()
        store.sync_catalog(catalog, now=T0)
        with store.engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        store.close()


def _assert_one_schema(url: str | URL, results: list[object]) -> None:
    """Every first run succeeded at the same revision and the schema matches the tables."""
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert len(set(results)) == 1
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, StoreModel.metadata) == []
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_first_runs_at_once_on_a_fresh_postgres_database_all_succeed(postgres_url: URL,
                                                                     catalog: Catalog) -> None:
    results = in_parallel([lambda: _first_run(postgres_url, catalog)] * FIRST_RUNS)
    _assert_one_schema(postgres_url, results)


def test_first_runs_at_once_on_a_fresh_sqlite_file_all_succeed(tmp_path: Path, catalog: Catalog) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    results = in_parallel([lambda: _first_run(url, catalog)] * FIRST_RUNS)
    _assert_one_schema(url, results)


def test_a_first_connection_waits_for_another_lock_to_switch_the_journal_to_wal(tmp_path: Path) -> None:
    """SQLite refuses a journal switch at once, without its busy handler, while anyone holds a lock."""
    path = tmp_path / "fresh.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE held (x INTEGER)")
    release = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    release.start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    finally:
        release.join()
        engine.dispose()
        holder.close()
