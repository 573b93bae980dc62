"""The catalog fingerprint: the content hash of the okrs.toml last recorded, and its catalog as data.

Core statements on the lightweight clause (okrbridge.store.clauses), so a read-only command takes
the recorded catalog without loading the ORM.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, inspect, select

from okrbridge.collector import collector_paused
from okrbridge.domain import Catalog
from okrbridge.store import definitions
from okrbridge.store.clauses import CATALOG_FINGERPRINT
from okrbridge.store.definitions import RecordedCatalog

_FINGERPRINT_ID = 1
"""The one row of catalog_fingerprint."""


def save_fingerprint(conn: Connection, catalog: Catalog, digest: str | None, now: datetime) -> None:
    """Keep `digest` and the catalog as the fingerprint of what the tables now hold (none: remove it).

    With no digest on a schema older than the fingerprint (a test writing history as an older
    okrbridge did) there is nothing to remove.
    """
    if digest is None and not inspect(conn).has_table(CATALOG_FINGERPRINT.name):
        return
    conn.execute(delete(CATALOG_FINGERPRINT))
    if digest is not None:
        conn.execute(insert(CATALOG_FINGERPRINT).values(
            id=_FINGERPRINT_ID, digest=digest, catalog=definitions.catalog_data(catalog), recorded_at=now))


def recorded_digest(conn: Connection) -> str | None:
    """The digest of the okrs.toml last recorded, or None (only that column is read)."""
    found = conn.execute(select(CATALOG_FINGERPRINT.c.digest)).scalar()
    return str(found) if found is not None else None


def recorded_catalog(conn: Connection, digest: str) -> RecordedCatalog | None:
    """The catalog recorded with `digest`, or None when the fingerprint names another file or holds
    the catalog in another version's shape.

    The cyclic garbage collector is paused while the JSON is decoded (see okrbridge.collector).
    """
    with collector_paused():
        row = conn.execute(select(CATALOG_FINGERPRINT.c.catalog)
                           .where(CATALOG_FINGERPRINT.c.digest == digest)).scalar()
    return definitions.RecordedCatalog.of(row) if row is not None else None
