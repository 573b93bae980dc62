"""Compaction: remove what no answer depends on, and nothing else.

History is change-only already (a sync that finds a value unchanged confirms the stored reading),
and grading reads every stored row as its observations — one at `taken_at`, one at `confirmed_at`
once a later sync confirmed it. Trends and forecasts are least-squares fits through all of those
observations, so folding a third reading of an unchanged value into a row would move them: three
observations cannot be held by one row. What is truly redundant is therefore narrow:

1. **A pair of readings that is one reading written twice.** Two sync readings of a subject, next
   to each other in time with no other observation of the subject between or at them, both never
   confirmed, with the same value, score, source, note and author, where the second's explanation is
   the first's with only its time of asking moved (exactly what the observation at a confirmation
   shows). They are exactly one row first seen at the first and confirmed at the second — the
   rule migration 0005 collapsed existing history by. Today's sync confirms instead of repeating,
   so such pairs arise only when two syncs overlap (a manual `okrbridge sync` beside the daemon, a
   run that finished late). The earlier row is kept and takes the later one's time and run as its
   confirmation; the later row goes, unless an explanation names it by id (a KR taking a KPI's
   reading). Every observation — value, explanation and time — stays the same.
2. **Sync runs nothing refers to, past the retention.** A run's row says when a sync ran and how
   it went. Once no reading (first seen or confirmed by it), subject state or initiative refers to
   it, and it started more than `keep_runs_days` ago, it explains nothing that is shown: dry runs,
   failed and abandoned runs that later ones superseded, and runs whose confirmations later runs
   moved on. They are deleted, except the newest finished run and the newest successful one
   (`/healthz` and "when did it last work" read them). A run still running is never touched.

The pairs are found and folded in `okrbridge.store.compaction_pairs`; the runs here.

On SQLite the freed pages are returned to the file system by VACUUM when they are a tenth of the
file or more; on PostgreSQL autovacuum makes the space reusable (the files do not shrink).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, text
from sqlmodel import Session

from okrbridge.store.compaction_pairs import candidate_pairs, chunks, merge, mergeable_pairs
from okrbridge.store.history_rows import snapshot_table
from okrbridge.store.repository import Store
from okrbridge.store.run_rows import _table
from okrbridge.store.tables import RunStatus, StoreModel

VACUUM_SHARE = 0.1
"""SQLite is vacuumed after a compaction when at least this share of its pages is free."""


@dataclass(frozen=True)
class CompactionReport:
    """What one compaction removed (or, with `dry_run`, would remove) and the database's size."""

    dry_run: bool
    readings_merged: int
    runs_deleted: dict[str, int] = field(default_factory=dict)
    bytes_before: int = 0
    bytes_after: int = 0
    vacuumed: bool = False
    months_summed: int = 0

    @property
    def rows_removed(self) -> int:
        """Snapshot and run rows removed in all."""
        return self.readings_merged + sum(self.runs_deleted.values())

    def describe(self) -> str:
        """One line: what was removed and the size before and after, e.g. for the daemon's log."""
        runs = ",".join(f"{status}:{n}" for status, n in sorted(self.runs_deleted.items())) or "-"
        verb = "would_remove" if self.dry_run else "removed"
        return (f"{verb}={self.rows_removed} readings_merged={self.readings_merged} "
                f"runs_deleted={sum(self.runs_deleted.values())} ({runs}) "
                f"bytes_before={self.bytes_before} bytes_after={self.bytes_after}"
                f"{' vacuumed=yes' if self.vacuumed else ''} months_summed={self.months_summed}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"dry_run": self.dry_run, "rows_removed": self.rows_removed,
                "readings_merged": self.readings_merged, "runs_deleted": dict(self.runs_deleted),
                "bytes_before": self.bytes_before, "bytes_after": self.bytes_after,
                "vacuumed": self.vacuumed, "months_summed": self.months_summed}


def compact(store: Store, *, now: datetime, keep_runs_days: int, dry_run: bool = False) -> CompactionReport:
    """Merge the readings written twice and delete the runs nothing refers to (see the module docstring).

    The history is scanned for candidate pairs in a read-only transaction, which blocks no writer.
    Then one write transaction re-reads and re-checks each candidate and the runs' references and
    changes them: on PostgreSQL the snapshot and run tables are locked against writers (readers go
    on) for its length, so a sync's confirmation or a check-in never lands between the check and the
    change; on SQLite the write lock does the same. The scan is the long part; the lock is short.
    """
    before = database_bytes(store)
    cutoff = now - timedelta(days=keep_runs_days)
    with store.session() as session:
        candidates = candidate_pairs(session)
    with store.session(write=not dry_run) as session:
        if not dry_run and session.get_bind().dialect.name == "postgresql":
            session.execute(text("LOCK TABLE snapshot, sync_run IN SHARE ROW EXCLUSIVE MODE"))
        pairs = mergeable_pairs(session, candidates)
        runs = _deletable_runs(session, cutoff)
        if not dry_run:
            merge(session, pairs)
            _delete_runs(session, [run_id for run_id, _ in runs])
    deleted: dict[str, int] = {}
    for _, status in runs:
        deleted[status] = deleted.get(status, 0) + 1
    # merging moved observations (the triggers marked their months due): sum them, and whatever
    # else is due, before `grades` has to
    summed = 0 if dry_run else store.refresh_month_sums()
    vacuumed = not dry_run and bool(pairs or runs) and _vacuum_if_worth_it(store)
    return CompactionReport(dry_run, len(pairs), deleted, before, database_bytes(store), vacuumed, summed)


def _referenced_runs(session: Session) -> set[int]:
    """Runs some stored row refers to: a reading first seen or confirmed by it, a state, an epic."""
    snapshots, states, initiatives = snapshot_table(), _table("subject_state"), _table("initiative")
    referenced: set[int] = set()
    for column in (snapshots.c.sync_run_id, snapshots.c.confirmed_run_id, states.c.last_sync_run_id,
                   initiatives.c.last_sync_run_id):
        referenced.update(run_id for (run_id,) in session.execute(select(column).distinct())
                          if run_id is not None)
    return referenced


def _deletable_runs(session: Session, cutoff: datetime) -> list[tuple[int, str]]:
    """(id, status) of the finished runs started before `cutoff` that nothing refers to, less the
    newest finished run and the newest successful one."""
    runs = _table("sync_run")
    newest = (runs.c.started_at.desc(), runs.c.id.desc())
    keep: set[int] = set()
    for condition in (and_(runs.c.finished_at.is_not(None), runs.c.dry_run.is_(False)),
                      runs.c.status == RunStatus.SUCCEEDED.value):
        found = session.execute(select(runs.c.id).where(condition).order_by(*newest).limit(1)).scalar()
        if found is not None:
            keep.add(found)
    old = session.execute(select(runs.c.id, runs.c.status).where(
        and_(runs.c.started_at < cutoff, runs.c.status != RunStatus.RUNNING.value)).order_by(runs.c.id))
    referenced = _referenced_runs(session) | keep
    return [(run_id, status) for run_id, status in old if run_id not in referenced]


def _delete_runs(session: Session, run_ids: Sequence[int]) -> None:
    """Delete these run rows."""
    runs = _table("sync_run")
    for chunk in chunks(run_ids):
        session.execute(delete(runs).where(runs.c.id.in_(list(chunk))))


def database_bytes(store: Store) -> int:
    """The database's size: SQLite's pages (the file, WAL content included); on PostgreSQL the
    store's tables with their indexes and TOAST."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
        names = sorted(StoreModel.metadata.tables)
        total = conn.execute(
            text("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.relname = ANY(:names) AND c.relkind = 'r' AND n.nspname = current_schema()"),
            {"names": names}).scalar_one()
        return int(total)


def _vacuum_if_worth_it(store: Store) -> bool:
    """VACUUM a SQLite database whose free pages are at least VACUUM_SHARE of it; whether it ran."""
    if store.engine.dialect.name != "sqlite":
        return False
    with store.engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
        free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar_one())
        conn.rollback()
    if pages == 0 or free / pages < VACUUM_SHARE:
        return False
    raw = store.engine.raw_connection()  # VACUUM cannot run inside a transaction, so no SQLAlchemy BEGIN
    try:
        cursor = raw.cursor()
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
    return True
