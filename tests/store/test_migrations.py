"""The packaged migrations build exactly the tables the code declares, on SQLite, without alembic.ini."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, Float, MetaData, inspect, text

from okrbridge.store import Store
from okrbridge.store.engine import MIGRATIONS_DIR, alembic_config
from okrbridge.store.tables import StoreModel

STORE_TABLES = {"objective", "key_result", "kpi", "snapshot", "sync_run", "subject_state", "initiative",
                "leader_lease", "publish_record", "owner_notice", "jira_answer", "jira_scope",
                "catalog_fingerprint", "month_sum", "month_sum_due"}


def head_revision() -> str:
    """The one head of the packaged migrations (two heads would mean an unchained revision)."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return heads[0]


def schema_drift(engine: Engine) -> list[object]:
    """What alembic autogenerate would change to make the database match the SQLModel tables."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, StoreModel.metadata))


def test_migrate_creates_every_store_table_on_an_empty_database(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    assert inspect(store.engine).get_table_names() == []

    store.migrate()

    assert set(inspect(store.engine).get_table_names()) == STORE_TABLES | {"alembic_version"}


def test_migrated_sqlite_schema_matches_the_sqlmodel_tables_exactly(store: Store) -> None:
    assert schema_drift(store.engine) == []


def test_migrating_an_up_to_date_database_changes_nothing(store: Store) -> None:
    store.migrate()

    with store.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]
    assert schema_drift(store.engine) == []


def test_downgrade_to_base_drops_every_table_and_upgrade_rebuilds_them(store: Store) -> None:
    store.downgrade("base")
    assert set(inspect(store.engine).get_table_names()) == {"alembic_version"}

    store.migrate()
    assert schema_drift(store.engine) == []


def test_migrate_needs_no_alembic_ini_and_works_from_any_directory(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    Store(sqlite_url).migrate()

    assert not list(MIGRATIONS_DIR.glob("*.ini"))
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()


def test_file_database_folder_is_created(tmp_path: Path) -> None:
    database = tmp_path / "deep" / "er" / "okrbridge.db"

    Store(f"sqlite:///{database}").migrate()

    assert database.is_file()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 1000


def test_in_memory_sqlite_keeps_one_database_across_sessions() -> None:
    store = Store("sqlite://")
    store.migrate()

    run_id = store.start_run("cloud")

    assert store.run(run_id).deployment == "cloud"


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.start_run(started_at=datetime(2026, 1, 1, 12, 0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-9, minutes=-30))]
        ),
    )
)
def test_a_datetime_comes_back_as_the_same_instant_in_utc(store: Store, moment: datetime) -> None:
    run = store.run(store.start_run(started_at=moment))

    assert run.started_at == moment
    assert run.started_at.tzinfo is UTC


def test_drift_check_notices_a_column_the_migrations_lack(store: Store) -> None:
    # Guards the guard: the comparison above must fail when code and migrations disagree.
    declared = MetaData(naming_convention=StoreModel.metadata.naming_convention)
    for table in StoreModel.metadata.sorted_tables:
        table.to_metadata(declared)
    declared.tables["snapshot"].append_column(Column("confidence", Float(), nullable=True))

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, declared)

    assert [(d[0], d[3].name) for d in diffs] == [("add_column", "confidence")]


def test_the_heads_read_without_alembic_are_alembics_heads() -> None:
    from alembic.script import ScriptDirectory

    from okrbridge.store.engine import alembic_config, packaged_heads
    assert packaged_heads() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_a_migration_is_due_on_an_empty_or_older_database_and_not_at_head(sqlite_url: str) -> None:
    from okrbridge.store.engine import migration_due
    store = Store(sqlite_url)
    assert migration_due(store.engine)
    store.migrate()
    assert not migration_due(store.engine)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    assert migration_due(store.engine)
