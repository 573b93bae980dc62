"""Persistence for okrbridge: the catalog as loaded, snapshots, sync runs, subject state, initiatives,
the daemons' leader lease, and what was last published to each Confluence page.

Use it through `Store`:

    store = Store("sqlite:///var/okrbridge.db")   # or "postgresql+psycopg://user@host/db"
    store.migrate()                                # packaged alembic migrations, idempotent
    store.check_schema()                           # or, to only read: refuse a missing/old schema
    store.sync_catalog(catalog)                    # after loading okrs.toml
    run_id = store.start_run(deployment="cloud")
    store.write_run_results(run_id, snapshots=[...], failures=[...], initiatives=[...])
    store.readings(until=period.ends_at)           # what grading reads

Callers pass the small frozen inputs defined here (`NewSnapshot`, `Failure`, `InitiativeRecord`)
and get frozen records back (`Snapshot`, `SubjectState`, `Initiative`, `SyncRun`); table rows
(`okrbridge.store.tables`) stay inside the store.
"""

from typing import TYPE_CHECKING, Any

from okrbridge.store.engine import make_engine
from okrbridge.store.kinds import RunStatus, SubjectKind
from okrbridge.store.records import (
    CatalogChanges,
    CatalogConflict,
    CatalogItem,
    Failure,
    Initiative,
    InitiativeRecord,
    NewSnapshot,
    PublishRecord,
    RunAlreadyFinished,
    RunError,
    SchemaNotReady,
    Snapshot,
    StoreError,
    SubjectState,
    SyncRun,
    UnknownRun,
    UnknownSubject,
)
from okrbridge.store.repository import Store

if TYPE_CHECKING:
    from okrbridge.store.lease import DAEMON_LEASE, Lease, acquire_lease, current_lease, release_lease
    from okrbridge.store.silence import SilenceChanges, last_value_times, mark_silence

_LATER = {
    "DAEMON_LEASE": "lease", "Lease": "lease", "acquire_lease": "lease", "current_lease": "lease",
    "release_lease": "lease", "SilenceChanges": "silence", "last_value_times": "silence",
    "mark_silence": "silence",
}
"""Names whose modules load the ORM, imported on first use (a read-only command never needs them)."""


def __getattr__(name: str) -> Any:
    """The lease and silence names, from their modules on first use (PEP 562)."""
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DAEMON_LEASE",
    "CatalogChanges",
    "CatalogConflict",
    "CatalogItem",
    "Failure",
    "Initiative",
    "InitiativeRecord",
    "Lease",
    "NewSnapshot",
    "PublishRecord",
    "RunAlreadyFinished",
    "RunError",
    "RunStatus",
    "SchemaNotReady",
    "SilenceChanges",
    "Snapshot",
    "Store",
    "StoreError",
    "SubjectKind",
    "SubjectState",
    "SyncRun",
    "UnknownRun",
    "UnknownSubject",
    "acquire_lease",
    "current_lease",
    "last_value_times",
    "make_engine",
    "mark_silence",
    "release_lease",
]
