"""Engines for SQLite and PostgreSQL, and the packaged alembic migrations run programmatically.

SQLite gets the settings a small multi-process app needs: WAL (readers never block the writer),
foreign keys (off by default in SQLite), a busy timeout (a second writer waits instead of failing),
and SQLAlchemy-emitted BEGIN so a write transaction can take the write lock up front
(`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails at once with
"database is locked" when another writer got in between, and no timeout helps with that.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from okrbridge.store.json_text import loads
from okrbridge.store.records import StoreError

if TYPE_CHECKING:  # alembic loads only when a migration is due (see `migrate`)
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The packaged alembic script directory (env.py, script.py.mako, versions/)."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another writer's lock before giving up."""

SQLITE_BEGIN_OPTION = "okrbridge_sqlite_begin"
"""Execution option naming the SQLite BEGIN mode of a transaction ("DEFERRED" or "IMMEDIATE")."""

_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def _is_sqlite_memory(url: URL) -> bool:
    """Whether a SQLite URL names an in-memory database (each connection would get its own)."""
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database


def _prepare_sqlite_file(url: URL) -> None:
    """Create the folder of a file database, so a fresh install needs no manual mkdir."""
    database = url.database or ""
    if _is_sqlite_memory(url) or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder {folder} for the SQLite database: "
                         f"{error.strerror or error}") from error


def _on_sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Per-connection SQLite settings; runs before SQLAlchemy uses the connection."""
    # Hand transaction control to SQLAlchemy (see _on_sqlite_begin): the sqlite3 module's own
    # implicit BEGIN is always DEFERRED and is skipped before SELECTs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _enter_wal(cursor)
        # NORMAL is durable across application crashes in WAL mode and much faster than FULL.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _enter_wal(cursor: Any) -> None:
    """Switch the database to WAL, waiting out other first connections like the busy timeout would.

    Switching a fresh file's journal needs its exclusive lock, and SQLite answers "database is
    locked" at once, without calling the busy handler, while another connection holds any lock (six
    first runs at once hit it). WAL is a property of the file, so once one connection has switched
    it the others' statement is a no-op; until then they retry with a short backoff.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def _on_sqlite_begin(conn: Connection) -> None:
    """Emit BEGIN in the mode the transaction asked for (DEFERRED unless told otherwise)."""
    mode = str(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names; None for PostgreSQL, in-memory and `file:` URI databases."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or _is_sqlite_memory(parsed) or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def make_engine(url: str | URL, *, echo: bool = False, create: bool = True) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured for the store.

    `sqlite:///path/to/okrbridge.db` (the folder is created unless `create` is False),
    `sqlite://` (in memory, one shared connection; for quick experiments only), or
    `postgresql+psycopg://user@host/db`.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if create:
            _prepare_sqlite_file(parsed)
        kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
        if _is_sqlite_memory(parsed):
            # Every new connection to :memory: is a new, empty database: share one connection.
            kwargs = {"connect_args": {"check_same_thread": False}, "poolclass": StaticPool}
        engine = create_engine(parsed, echo=echo, json_deserializer=loads, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    # pre_ping: a long-running daemon outlives server restarts and idle-connection reaping.
    return create_engine(parsed, echo=echo, pool_pre_ping=True, json_deserializer=loads)


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config for the packaged migrations; no alembic.ini is needed.

    With a connection, env.py migrates through it. Developers adding a revision can use this too:
    `command.revision(alembic_config(conn), message=..., autogenerate=True)`.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(.+)$", re.MULTILINE)


def packaged_heads() -> frozenset[str]:
    """The newest revisions of the packaged migrations, read from their files without alembic.

    Every revision file assigns `revision` and `down_revision` literals; the heads are the revisions
    no other one revises. tests/store checks this agrees with alembic's own answer.
    """
    revisions, revised = _revision_files()
    return revisions - revised


def _revision_files() -> tuple[frozenset[str], frozenset[str]]:
    """The revisions the packaged migration files define, and the ones they revise."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            found = set(re.findall(r"[\"']([^\"']+)[\"']", value))
            (revisions if name == "revision" else revised).update(found)
    return frozenset(revisions), frozenset(revised)


def migration_due(engine: Engine) -> bool:
    """Whether the database is not at the packaged heads (an empty database is: it has no schema)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return True
        stamped = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    return stamped != packaged_heads()


_MIGRATION_LOCK_KEY = 0x6F6B72_6D6967
"""PostgreSQL advisory lock id that serialises migrations ("okr" "mig" in hex)."""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to `revision` (default: the newest) in one transaction.

    Processes starting together (two daemons on two hosts) take turns: the second waits for the
    first's migration to commit, then finds nothing left to do. A database already at the newest
    revision is left alone, with no lock taken and without loading alembic (which is most of a
    command's start-up otherwise).
    """
    if revision == "head" and not migration_due(engine):
        return
    from alembic import command

    with engine.connect() as connection, _foreign_keys_off_on_sqlite(connection):
        connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), revision)
            _check_foreign_keys(connection)


@contextmanager
def _foreign_keys_off_on_sqlite(connection: Connection) -> Iterator[None]:
    """SQLite's batch migrations rebuild a table (copy, drop the original, rename the copy); with
    foreign keys on, dropping a table other rows refer to (sync_run, by snapshots) would delete or
    refuse. SQLite's documented way is foreign keys off around the rebuild (the pragma only takes
    effect outside a transaction), then `foreign_key_check` before committing."""
    if connection.dialect.name != "sqlite":
        yield
        return
    # on the driver's connection, in autocommit (see _on_sqlite_connect): through SQLAlchemy the
    # statement would open a transaction first, and the pragma is a no-op inside one
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse to commit a migration that left a row pointing at nothing (SQLite; PostgreSQL checks)."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left {len(broken)} broken references, e.g. {tuple(broken[0])}")


def schema_revisions(engine: Engine) -> frozenset[str]:
    """The migrations the database is stamped with; empty when it has no okrbridge tables. Writes nothing."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return frozenset()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(row[0] for row in rows)


def packaged_revisions() -> frozenset[str]:
    """Every packaged migration (a stamp outside them was written by a newer okrbridge)."""
    return _revision_files()[0]


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to `revision` ("base" drops every store table)."""
    from alembic import command

    with engine.connect() as connection, _foreign_keys_off_on_sqlite(connection), connection.begin():
        command.downgrade(alembic_config(connection), revision)
        _check_foreign_keys(connection)
