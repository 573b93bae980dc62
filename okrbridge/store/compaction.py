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

On SQLite the freed pages are returned to the file system by VACUUM when they are a tenth of the
file or more; on PostgreSQL autovacuum makes the space reusable (the files do not shrink).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Text, and_, bindparam, cast, delete, func, select, text, update
from sqlmodel import Session

from okrbridge.store.history_rows import observed_detail, snapshot_table
from okrbridge.store.repository import Store
from okrbridge.store.run_rows import _table
from okrbridge.store.tables import RunStatus, StoreModel

VACUUM_SHARE = 0.1
"""SQLite is vacuumed after a compaction when at least this share of its pages is free."""

_T = TypeVar("_T")

_CHUNK = 500
"""Ids per IN (...) list or executemany batch."""


@dataclass(frozen=True)
class CompactionReport:
    """What one compaction removed (or, with `dry_run`, would remove) and the database's size."""

    dry_run: bool
    readings_merged: int
    runs_deleted: dict[str, int] = field(default_factory=dict)
    bytes_before: int = 0
    bytes_after: int = 0
    vacuumed: bool = False

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
                f"{' vacuumed=yes' if self.vacuumed else ''}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"dry_run": self.dry_run, "rows_removed": self.rows_removed,
                "readings_merged": self.readings_merged, "runs_deleted": dict(self.runs_deleted),
                "bytes_before": self.bytes_before, "bytes_after": self.bytes_after,
                "vacuumed": self.vacuumed}


@dataclass(frozen=True)
class _Pair:
    """Two rows that are one reading: `kept` (first seen) absorbs `gone` (its confirmation)."""

    kept: int
    gone: int
    confirmed_at: datetime
    confirmed_run_id: int | None


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
        candidates = [(row.p_id, row.id) for row in _candidate_rows(session)]
    with store.session(write=not dry_run) as session:
        if not dry_run and session.get_bind().dialect.name == "postgresql":
            session.execute(text("LOCK TABLE snapshot, sync_run IN SHARE ROW EXCLUSIVE MODE"))
        pairs = _mergeable_pairs(session, candidates)
        runs = _deletable_runs(session, cutoff)
        if not dry_run:
            _merge(session, pairs)
            _delete_runs(session, [run_id for run_id, _ in runs])
    deleted: dict[str, int] = {}
    for _, status in runs:
        deleted[status] = deleted.get(status, 0) + 1
    vacuumed = not dry_run and bool(pairs or runs) and _vacuum_if_worth_it(store)
    return CompactionReport(dry_run, len(pairs), deleted, before, database_bytes(store), vacuumed)


_COMPARED = ("id", "taken_at", "confirmed_at", "value", "score", "source_kind", "note", "author",
             "sync_run_id")
"""The predecessor's columns the candidate scan compares (as `p_<name>`)."""


def _lag(column: Any) -> Any:
    """LAG(column) typed like the column, so times come back as aware datetimes."""
    return func.lag(column, type_=column.type)


def _candidate_rows(session: Session) -> Iterator[Any]:
    """Rows whose predecessor may be the same reading (`p_id`, `id`), in stored order.

    Window functions over each subject's rows in stored order (first seen, then id) give each
    row's predecessor, the row after it, and the latest confirmation of every row before the
    predecessor, so the database returns only pairs of unconfirmed sync readings with the same
    value, score, source, note and author and nothing observed at or between them. Explanations
    are compared later, for these candidates only.
    """
    table = snapshot_table()
    order = (table.c.taken_at, table.c.id)
    by_subject: dict[str, Any] = {"partition_by": table.c.subject_id, "order_by": order}
    lagged = select(
        table.c.id, table.c.subject_id, table.c.taken_at, table.c.confirmed_at, table.c.value,
        table.c.score, table.c.source_kind, table.c.note, table.c.author, table.c.sync_run_id,
        *(_lag(table.c[name]).over(**by_subject).label(f"p_{name}") for name in _COMPARED),
        func.lead(table.c.taken_at, type_=table.c.taken_at.type).over(**by_subject).label("n_taken_at"),
        func.max(table.c.confirmed_at).over(partition_by=table.c.subject_id, order_by=order,
                                            rows=(None, -2)).label("reached_before"),
    ).subquery()
    c = lagged.c
    same = and_(
        c.p_id.is_not(None), c.sync_run_id.is_not(None), c.p_sync_run_id.is_not(None),
        c.confirmed_at == c.taken_at, c.p_confirmed_at == c.p_taken_at, c.p_taken_at < c.taken_at,
        c.value.is_not_distinct_from(c.p_value), c.score.is_not_distinct_from(c.p_score),
        c.source_kind == c.p_source_kind, c.note.is_not_distinct_from(c.p_note),
        c.author.is_not_distinct_from(c.p_author),
        (c.n_taken_at.is_(None)) | (c.n_taken_at > c.taken_at),
        (c.reached_before.is_(None)) | (c.reached_before < c.p_taken_at),
    )
    yield from session.execute(select(c.p_id, c.id).where(same).order_by(c.subject_id, c.taken_at, c.id))


def _named_snapshot_ids(session: Session) -> set[int]:
    """Snapshot ids that explanations name (a KR that took a KPI's stored reading names it)."""
    table = snapshot_table()
    detail = cast(table.c.source_detail, Text)
    named: set[int] = set()
    for (raw,) in session.execute(select(detail).where(detail.like('%"snapshot_id"%'))):
        named.update(_snapshot_ids(json.loads(raw) if raw else {}))
    return named


def _snapshot_ids(detail: Any) -> Iterator[int]:
    """Every `snapshot_id` at any depth of an explanation."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "snapshot_id" and isinstance(value, int) and not isinstance(value, bool):
                yield value
            else:
                yield from _snapshot_ids(value)
    elif isinstance(detail, list):
        for item in detail:
            yield from _snapshot_ids(item)


def _rows_by_id(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Snapshot rows by id, read again inside the writing transaction."""
    table = snapshot_table()
    found: dict[int, Any] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        selected = session.execute(select(table).where(table.c.id.in_(list(chunk))))
        found.update((row.id, row) for row in selected)
    return found


def _alone_between(session: Session, first: Any, second: Any) -> bool:
    """Whether no other row of the subject is observed from `first`'s time to `second`'s, inclusive:
    none first seen by then is still confirmed at or after `first` was seen."""
    table = snapshot_table()
    others = session.execute(select(func.count()).select_from(table).where(
        table.c.subject_id == first.subject_id, table.c.id.not_in([first.id, second.id]),
        table.c.taken_at <= second.taken_at, table.c.confirmed_at >= first.taken_at)).scalar_one()
    return int(others) == 0


def _one_reading(first: Any, second: Any) -> bool:
    """Whether two rows are one reading stored twice: unconfirmed sync readings, `second` later,
    every field equal, and `second`'s explanation exactly what `first`'s shows observed at its time."""
    if first.subject_id != second.subject_id or first.sync_run_id is None or second.sync_run_id is None:
        return False
    if first.confirmed_at != first.taken_at or second.confirmed_at != second.taken_at:
        return False
    if not first.taken_at < second.taken_at:
        return False
    fields = ("subject_kind", "value", "score", "source_kind", "note", "author")
    if any(getattr(first, name) != getattr(second, name) for name in fields):
        return False
    return bool(observed_detail(first.source_detail or {}, first.taken_at, second.taken_at)
                == (second.source_detail or {}))


def _mergeable_pairs(session: Session, candidates: Sequence[tuple[int, int]]) -> list[_Pair]:
    """The candidates that still are one reading stored twice, each checked again (the scan ran
    before this transaction began), taken greedily in time order: a row absorbed into the one before
    cannot absorb the one after, which would be a third observation; a row an explanation names is
    never absorbed."""
    named = _named_snapshot_ids(session)
    rows = _rows_by_id(session, [row_id for pair in candidates for row_id in pair])
    pairs: list[_Pair] = []
    absorbed: set[int] = set()
    for kept_id, gone_id in candidates:
        first, second = rows.get(kept_id), rows.get(gone_id)
        if first is None or second is None or kept_id in absorbed or gone_id in named:
            continue
        if not _one_reading(first, second) or not _alone_between(session, first, second):
            continue
        pairs.append(_Pair(kept_id, gone_id, second.taken_at, second.sync_run_id))
        absorbed.add(gone_id)
    return pairs


def _merge(session: Session, pairs: Sequence[_Pair]) -> None:
    """Give each kept row its partner's time and run as its confirmation, then delete the partners."""
    table = snapshot_table()
    for chunk in _chunks(pairs):
        session.execute(
            update(table).where(table.c.id == bindparam("kept"))
            .values(confirmed_at=bindparam("at"), confirmed_run_id=bindparam("run")),
            [{"kept": p.kept, "at": p.confirmed_at, "run": p.confirmed_run_id} for p in chunk])
        session.execute(delete(table).where(table.c.id.in_([p.gone for p in chunk])))


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
    for chunk in _chunks(run_ids):
        session.execute(delete(runs).where(runs.c.id.in_(list(chunk))))


def _chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    """`items` in slices of at most _CHUNK."""
    return (items[start:start + _CHUNK] for start in range(0, len(items), _CHUNK))


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
