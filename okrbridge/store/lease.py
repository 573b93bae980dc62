"""A leader lease in the database: of the daemons sharing one store, the one holding it runs the jobs.

The lease is a row (`leader_lease`): its owner and when it expires. `acquire_lease` takes or
renews it in one transaction with a guarded UPDATE — it matches only while the row is ours or has
expired — and, when there is no row yet, an INSERT that does nothing on conflict. Whichever
statement changed a row says whether we hold the lease; the database decides, never the caller:

- PostgreSQL (several hosts): two daemons updating at once queue on the row lock, and the second
  re-checks the guard against the first's committed row, so it sees a fresh lease and matches
  nothing. Times come from the database server's clock, so hosts' clocks need not agree.
- SQLite (one host): write transactions start with BEGIN IMMEDIATE, so they take turns; times
  come from the host's clock, which every process on it shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, case, or_, text, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session

from okrbridge.store.repository import Store
from okrbridge.store.tables import LeaderLeaseRow, StoreModel

DAEMON_LEASE = "daemon"
"""The lease the `okrbridge daemon` processes share."""


@dataclass(frozen=True)
class Lease:
    """A lease as stored: who holds it, since when, last renewed, and until when."""

    name: str
    owner: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime


def _database_now(session: Session) -> datetime:
    """The current instant by the database's clock (PostgreSQL), else by this host's (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        # clock_timestamp(), not now(): now() is the transaction's start, which may lag behind.
        moment = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        return cast(datetime, moment).astimezone(UTC)
    return datetime.now(UTC)


def acquire_lease(store: Store, name: str, owner: str, seconds: float) -> Lease | None:
    """Take or renew lease `name` for `owner` for `seconds`: the lease when held, None when not."""
    table = StoreModel.metadata.tables[LeaderLeaseRow.__tablename__]
    with store.session(write=True) as session:
        now = _database_now(session)
        expires = now + timedelta(seconds=seconds)
        renewed = cast(CursorResult[Any], session.execute(
            update(table)
            .where(and_(table.c.name == name, or_(table.c.owner == owner, table.c.expires_at < now)))
            .values(owner=owner, renewed_at=now, expires_at=expires,
                    # a renewal keeps the time it was first taken; a takeover starts a new term
                    acquired_at=case((table.c.owner == owner, table.c.acquired_at), else_=now))))
        if renewed.rowcount != 1:
            from sqlalchemy.dialects import postgresql, sqlite  # loaded when first used (start-up)

            dialect = session.get_bind().dialect.name
            insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
            # RETURNING says whether the row went in (rowcount is not reported alike by every driver)
            inserted = session.execute(
                insert.values(name=name, owner=owner, acquired_at=now, renewed_at=now, expires_at=expires)
                .on_conflict_do_nothing(index_elements=[table.c.name]).returning(table.c.name)).first()
            if inserted is None:
                return None
        row = session.get(LeaderLeaseRow, name, populate_existing=True)
        assert row is not None  # written just above, in this transaction
        return _to_lease(row)


def release_lease(store: Store, name: str, owner: str) -> bool:
    """Give the lease up now if `owner` holds it (so a standby need not wait for it to expire)."""
    table = StoreModel.metadata.tables[LeaderLeaseRow.__tablename__]
    with store.session(write=True) as session:
        now = _database_now(session)
        result = cast(CursorResult[Any], session.execute(
            update(table).where(and_(table.c.name == name, table.c.owner == owner))
            .values(expires_at=now - timedelta(microseconds=1))))
        return result.rowcount == 1


def current_lease(store: Store, name: str) -> Lease | None:
    """The lease as stored (expired or not), or None when nobody ever took it."""
    with store.session() as session:
        row = session.get(LeaderLeaseRow, name)
        return _to_lease(row) if row is not None else None


def _to_lease(row: LeaderLeaseRow) -> Lease:
    """The frozen form of a lease row."""
    return Lease(name=row.name, owner=row.owner, acquired_at=row.acquired_at, renewed_at=row.renewed_at,
                 expires_at=row.expires_at)
