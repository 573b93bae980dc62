"""Fixtures for the store tests: a migrated SQLite store, sample catalogs, a throwaway PostgreSQL.

PostgreSQL tests get a database of their own per pytest process (created through the `postgres`
maintenance database and dropped at the end), so parallel workers (`-n 2`) never share tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from okrbridge.domain import Catalog
from okrbridge.store import Store

from .support import T0, sample_catalog

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def catalog() -> Catalog:
    """The sample catalog."""
    return sample_catalog()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in a folder that does not exist yet."""
    return f"sqlite:///{tmp_path}/data/okrbridge.db"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """A migrated, empty SQLite store."""
    s = Store(sqlite_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def loaded(store: Store, catalog: Catalog) -> Store:
    """The SQLite store with the sample catalog loaded at T0."""
    store.sync_catalog(catalog, now=T0)
    return store


# -- PostgreSQL -------------------------------------------------------------------------------


def _postgres_url() -> URL:
    """The server under test, from OKRBRIDGE_TEST_POSTGRES_URL."""
    return make_url(os.environ.get("OKRBRIDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A fresh database for this pytest process, dropped afterwards; skips when no server answers."""
    server = _postgres_url()
    admin = create_engine(
        server.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    name = f"okrbridge_store_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        admin.dispose()
        # The driver's first line says why (refused, unknown host, auth); the rest is boilerplate.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL not reachable at {server.render_as_string()}: {reason}")
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: URL) -> URL:
    """The per-process database with an empty public schema (each test starts from nothing)."""
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres_database


@pytest.fixture
def postgres_store(postgres_url: URL) -> Iterator[Store]:
    """A migrated, empty PostgreSQL store."""
    s = Store(postgres_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def make_store() -> Iterator[Callable[[str | URL], Store]]:
    """Opens extra Stores (own engines, as separate processes would have) and closes them after."""
    opened: list[Store] = []

    def make(url: str | URL) -> Store:
        s = Store(url)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()
