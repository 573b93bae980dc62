"""`Store`: the library API the CLI, the sync worker, grading and the web app use for persistence.

Each method is one transaction. Writes that can race with another process (catalog loads, run
results) are made safe without application-level retries:

- SQLite write transactions start with `BEGIN IMMEDIATE`, so concurrent writers queue on the
  busy timeout instead of failing halfway. On PostgreSQL, catalog loads and run results each take
  a transaction-scoped advisory lock: two loads of the same file cannot both insert the same new
  id, and a run's results are written against every earlier run's, never beside them.
- Subject state and initiatives are upserted (`INSERT ... ON CONFLICT`) and only ever moved
  forward in time, so two runs finishing out of order cannot regress each other's results.
- A run's results are claimed by flipping its status away from "running" inside the same
  transaction, so the same results can never be written twice.

This module keeps the transactions, locks and public signatures; the row work inside them lives
in `catalog_rows` (catalog upsert, KR/KPI lookup), `run_rows` (run results) and `convert` (rows
to the frozen records callers get), so each can be read without the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, text, true
from sqlalchemy.engine import URL, make_url

from okrbridge.domain import Catalog, Reading, SourceKind
from okrbridge.month_series import MonthlyObservations
from okrbridge.series import Series
from okrbridge.store import convert, fingerprint_rows, history_rows, month_sums, series_rows
from okrbridge.store.definitions import RecordedCatalog
from okrbridge.store.engine import (
    SQLITE_BEGIN_OPTION,
    make_engine,
    packaged_heads,
    packaged_revisions,
    schema_revisions,
    sqlite_file,
)
from okrbridge.store.engine import downgrade as _downgrade
from okrbridge.store.engine import migrate as _migrate
from okrbridge.store.kinds import RunStatus
from okrbridge.store.records import (
    CatalogChanges,
    Failure,
    Initiative,
    InitiativeRecord,
    NewSnapshot,
    PublishRecord,
    RunError,
    SchemaNotReady,
    Snapshot,
    SubjectState,
    SyncRun,
    UnknownRun,
    UnknownSubject,
)
from okrbridge.store.series_rows import DetailBook

if TYPE_CHECKING:
    from sqlmodel import Session

# The ORM (SQLModel's tables, sessions, and the row modules built on them: catalog_rows, run_rows)
# is imported inside the methods that use it: a read-only command (grades, history's start) opens
# the store, checks its schema and reads the catalog fingerprint and month sums through Core alone,
# without loading it.

_CATALOG_LOCK_KEY = 0x6F6B72_636174
"""PostgreSQL advisory lock id that serialises catalog loads ("okr" "cat" in hex)."""

_RUN_RESULTS_LOCK_KEY = 0x6F6B72_72756E
"""PostgreSQL advisory lock id that serialises writing run results ("okr" "run" in hex)."""


def _utcnow() -> datetime:
    """The current instant, aware and in UTC."""
    return datetime.now(UTC)


def _as_utc(value: datetime, name: str) -> datetime:
    """An aware datetime converted to UTC; a naive one is refused, naming the parameter."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


class Store:
    """The okrbridge database: SQLite (`sqlite:///path.db`) or PostgreSQL (`postgresql+psycopg://...`).

    Creating a Store opens no connection; call `migrate()` once before writing (it is idempotent),
    or `check_schema()` before only reading. `create=False` leaves a missing SQLite file's folder
    uncreated (a reader must not make one). A Store is safe to share between threads; every method
    runs in its own transaction.
    """

    def __init__(self, url: str | URL, *, echo: bool = False, create: bool = True) -> None:
        self.url = make_url(url)
        self.engine: Engine = make_engine(self.url, echo=echo, create=create)

    def __repr__(self) -> str:
        """The URL with its password hidden, so logging a Store leaks no credentials."""
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close every pooled connection (the Store can still be used; it reconnects on demand)."""
        self.engine.dispose()

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to `revision` (default: the newest) with the packaged migrations."""
        _migrate(self.engine, revision)

    def check_schema(self) -> None:
        """Make sure the database can be read as it is, writing nothing: SchemaNotReady otherwise.

        A SQLite file that does not exist is not created (connecting would create it).
        """
        shown = self.url.render_as_string(hide_password=True)
        fix = "run `okrbridge sync` (or `okrbridge checkin`) first: they create and upgrade it"
        path = sqlite_file(self.url)
        if path is not None and not path.is_file():
            raise SchemaNotReady(f"the database {shown} does not exist yet: {fix}")
        current, heads = schema_revisions(self.engine), packaged_heads()
        if not current:
            raise SchemaNotReady(f"the database {shown} has no okrbridge tables yet: {fix}")
        if current != heads:
            at, reads = ", ".join(sorted(current)), ", ".join(sorted(heads))
            if current - packaged_revisions():
                raise SchemaNotReady(f"the database {shown} was written by a newer okrbridge (schema "
                                     f"{at}; this version reads {reads}): upgrade okrbridge")
            raise SchemaNotReady(f"the database {shown} has an older schema ({at}; this version "
                                 f"reads {reads}): {fix}")

    def downgrade(self, revision: str) -> None:
        """Take the schema back to `revision`; "base" drops every table and all data."""
        _downgrade(self.engine, revision)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error.

        `write=True` takes SQLite's write lock at BEGIN, so a concurrent writer waits its turn
        (busy timeout) instead of failing with "database is locked" halfway through.
        Objects stay readable after the block (no expiry on commit).
        """
        from sqlmodel import Session

        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            if write:
                # Procure the connection now, so BEGIN is emitted with the requested mode.
                session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            yield session

    # -- catalog ----------------------------------------------------------------------------

    def sync_catalog(self, catalog: Catalog, now: datetime | None = None, *,
                     digest: str | None = None) -> CatalogChanges:
        """Make the catalog tables match `catalog`: add, update changed, archive missing, restore.

        Items are matched by id and compared by content hash, so an unchanged item is not
        rewritten. Items missing from the catalog are archived, never deleted (their snapshots
        keep an owner); an archived item that reappears is restored. Concurrent loads are
        serialised. Raises CatalogConflict for ids the store cannot key unambiguously.

        `digest` is the content hash of the okrs.toml `catalog` was loaded from: it is kept with
        the catalog in the same transaction (see `catalog_digest`, `recorded_catalog`). Without
        one, the fingerprint is removed: the tables no longer hold any file's catalog.
        """
        from okrbridge.store import catalog_rows
        from okrbridge.store.tables import KeyResultRow, KpiRow, ObjectiveRow

        when = _as_utc(now, "now") if now is not None else _utcnow()
        catalog_rows.check_catalog_ids(catalog)
        objectives, key_results, kpis = catalog_rows.catalog_values(catalog)
        log = catalog_rows.ChangeLog()
        with self.session(write=True) as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CATALOG_LOCK_KEY})
            catalog_rows.apply_catalog(session, ObjectiveRow, "objective", objectives, when, log)
            catalog_rows.apply_catalog(session, KeyResultRow, "kr", key_results, when, log)
            catalog_rows.apply_catalog(session, KpiRow, "kpi", kpis, when, log)
            fingerprint_rows.save_fingerprint(session.connection(), catalog, digest, when)
        return log.result()

    def catalog_digest(self) -> str | None:
        """The content hash of the okrs.toml last recorded (`sync_catalog(digest=...)`), or None."""
        with self.engine.connect() as conn:
            return fingerprint_rows.recorded_digest(conn)

    def recorded_catalog(self, digest: str) -> RecordedCatalog | None:
        """The catalog last recorded, if it was loaded from a file with content hash `digest`.

        None when another file (or none) was recorded last, or by an okrbridge that kept the
        catalog in another shape: the caller then parses the file.
        """
        with self.engine.connect() as conn:
            return fingerprint_rows.recorded_catalog(conn, digest)

    # -- manual check-ins -------------------------------------------------------------------

    def record_checkin(
        self,
        subject_id: str,
        value: float,
        at: datetime | None = None,
        note: str | None = None,
        author: str | None = None,
        *,
        score: float | None = None,
    ) -> Snapshot:
        """Store a manual value for an active KR or KPI; `score` is the caller's (the store grades nothing).

        Raises UnknownSubject (naming the id) when the id is not in the catalog or is archived.
        """
        from okrbridge.store import catalog_rows
        from okrbridge.store.tables import SnapshotRow

        taken_at = _as_utc(at, "at") if at is not None else _utcnow()
        # Reuse NewSnapshot's checks so check-ins and syncs refuse the same bad numbers.
        checked = NewSnapshot(subject_id, taken_at, value, score)
        with self.session(write=True) as session:
            subject = catalog_rows.find_subjects(session, [subject_id]).get(subject_id)
            if subject is None or subject.archived_at is not None:
                raise UnknownSubject(subject_id, subject.archived_at if subject else None)
            row = SnapshotRow(
                subject_id=subject_id,
                subject_kind=subject.kind.value,
                taken_at=checked.taken_at,
                value=checked.value,
                score=checked.score,
                source_kind=SourceKind.MANUAL.value,
                source_detail={},
                note=note,
                author=author,
                confirmed_at=checked.taken_at,
            )
            session.add(row)
            session.flush()
            return convert.to_snapshot(row)

    # -- sync runs --------------------------------------------------------------------------

    def start_run(
        self,
        deployment: str | None = None,
        dry_run: bool = False,
        started_at: datetime | None = None,
        *,
        host: str | None = None,
        pid: int | None = None,
    ) -> int:
        """Record a sync run as running (by process `pid` on `host`, when given) and return its id."""
        from okrbridge.store.tables import SyncRunRow

        when = _as_utc(started_at, "started_at") if started_at is not None else _utcnow()
        with self.session(write=True) as session:
            row = SyncRunRow(
                started_at=when,
                status=RunStatus.RUNNING.value,
                deployment=deployment,
                counts={},
                errors=[],
                dry_run=dry_run,
                host=host,
                pid=pid,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def finish_run(
        self,
        run_id: int,
        status: RunStatus | str,
        counts: Mapping[str, int] | None = None,
        errors: Sequence[RunError] = (),
        finished_at: datetime | None = None,
    ) -> SyncRun:
        """Finish a run that wrote no results (a dry run, or one that failed before writing).

        Raises UnknownRun, or RunAlreadyFinished when the run has already finished.
        """
        from okrbridge.store import run_rows

        final = run_rows.finished_status(status)
        when = _as_utc(finished_at, "finished_at") if finished_at is not None else _utcnow()
        with self.session(write=True) as session:
            run = run_rows.claim_run(session, run_id, final, when, dict(counts or {}), list(errors))
            return convert.to_sync_run(run)

    def write_run_results(
        self,
        run_id: int,
        snapshots: Sequence[NewSnapshot] = (),
        failures: Sequence[Failure] = (),
        initiatives: Sequence[InitiativeRecord] = (),
        finished_at: datetime | None = None,
        status: RunStatus | str | None = None,
        counts: Mapping[str, int] | None = None,
        errors: Sequence[RunError] = (),
        *,
        initiative_krs: Iterable[str] | None = None,
    ) -> SyncRun:
        """Store everything one sync run produced, and finish it, in ONE transaction.

        - `snapshots`: one value per KR/KPI that synced; its subject state becomes fresh.
        - `failures`: KRs/KPIs whose query failed; their last good snapshot stays, and their
          subject state is marked stale with the error.
        - `initiatives`: the epics found per KR, upserted (a removed one that is back is revived).
          For every KR in `initiative_krs` (default: the KRs named in `initiatives`),
          stored epics not in this run's list are marked removed. Pass a KR there with no
          initiatives to record that its last epic went away; leave out KRs whose epic query
          failed, so their epics are kept.
        - `status` defaults to "partial" with failures, else "succeeded"; `counts` defaults to
          {"synced": len(snapshots), "failed": len(failures)}.

        If anything fails, nothing of the run is stored: the run is marked failed (with the
        error appended to its errors) and the exception is raised again. Raises UnknownRun,
        RunAlreadyFinished (results are never written twice), UnknownSubject (an id never
        catalogued; archived ones are accepted since a run may outlive a catalog change), or
        ValueError for ambiguous results, results for a dry run, or initiatives for a KPI.
        """
        from okrbridge.store import run_rows

        when = _as_utc(finished_at, "finished_at") if finished_at is not None else _utcnow()
        final = run_rows.finished_status(status or (RunStatus.PARTIAL if failures else RunStatus.SUCCEEDED))
        run_counts = (
            dict(counts) if counts is not None else {"synced": len(snapshots), "failed": len(failures)}
        )
        run_errors = list(errors)
        try:
            run_rows.validate_results(snapshots, failures, initiatives)
            # Normalise every time up front: a naive one must fail before anything is written.
            new_snapshots = [
                dataclasses.replace(s, taken_at=_as_utc(s.taken_at, "taken_at")) for s in snapshots
            ]
            timed_failures = [(f, _as_utc(f.at, "at") if f.at is not None else when) for f in failures]
            with self.session(write=True) as session:
                if session.get_bind().dialect.name == "postgresql":
                    # One run's results at a time (SQLite gets this from BEGIN IMMEDIATE): writes
                    # take milliseconds, and each then sees every earlier run's results, which
                    # keeps the forward-only rules for subject state and epics exact.
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RUN_RESULTS_LOCK_KEY}
                    )
                run = run_rows.claim_run(session, run_id, final, when, run_counts, run_errors)
                run_rows.write_results(
                    session, run, new_snapshots, timed_failures, initiatives, initiative_krs, when
                )
                return convert.to_sync_run(run)
        except BaseException as exc:
            self._mark_failed(run_id, when, run_counts, [*run_errors, f"results not stored: {exc}"], exc)
            raise

    def close_abandoned_runs(
        self,
        *,
        host: str,
        is_alive: Callable[[int], bool],
        started_before: datetime,
        now: datetime | None = None,
    ) -> list[int]:
        """Close as "abandoned" the running runs whose process is gone; return their ids.

        A run is abandoned when it was started on `host` by a process `is_alive` says is gone, or
        (on any host, or with no owner recorded) when it started before `started_before`, by which
        time a live sync would have finished. Only the run rows change: a dead run stored no
        results (they are written in one transaction with its end), so no snapshot is touched.
        """
        from sqlmodel import select

        from okrbridge.store import run_rows
        from okrbridge.store.tables import SyncRunRow

        when = _as_utc(now, "now") if now is not None else _utcnow()
        cutoff = _as_utc(started_before, "started_before")
        closed: list[int] = []
        with self.session(write=True) as session:
            running = session.exec(
                select(SyncRunRow).where(SyncRunRow.status == RunStatus.RUNNING.value)
            ).all()
            for run in running:
                if run.host == host and run.pid is not None and not is_alive(run.pid):
                    why = f"abandoned: process {run.pid} on {host} is gone"
                elif run.started_at < cutoff:
                    why = f"abandoned: still running at {when.isoformat()}, past the sync deadline"
                else:
                    continue
                assert run.id is not None
                errors = [*run.errors, {"subject": None, "error": why}]
                result = run_rows.finish_if_running(
                    session, run.id, RunStatus.ABANDONED, when, dict(run.counts), errors
                )
                if result.rowcount == 1:
                    closed.append(run.id)
        return closed

    def _mark_failed(
        self,
        run_id: int,
        finished_at: datetime,
        counts: dict[str, int],
        errors: list[RunError],
        cause: BaseException,
    ) -> None:
        """After a failed write, record the run as failed (if it is still running), in its own transaction.

        A failure to do so must not hide the original error, so it is attached to it as a note.
        """
        from okrbridge.store import run_rows

        try:
            with self.session(write=True) as session:
                run_rows.finish_if_running(session, run_id, RunStatus.FAILED, finished_at, counts, errors)
        except Exception as secondary:
            cause.add_note(f"and sync run {run_id} could not be marked failed: {secondary}")

    # -- reads ------------------------------------------------------------------------------

    def readings(
        self,
        subject_ids: Iterable[str] | None = None,
        until: datetime | None = None,
        *,
        since: datetime | None = None,
    ) -> dict[str, list[Reading]]:
        """Stored values per subject as grading reads them, oldest first: one per observation.

        A stored reading is observed when first seen (`taken_at`) and, once a later sync found it
        unchanged, when last confirmed (`confirmed_at`, same value and explanation). `subject_ids`
        limits the subjects (each one asked for is a key, with [] if it has no values); `until`
        keeps observations strictly before it, so a period's `ends_at` can be passed as is;
        `since` leaves out what no grade from that instant on can use: the database returns the
        observations from `since` on and, per subject, only the last reading before it.
        """
        result: dict[str, list[Reading]] = {}
        ids: list[str] | None = None
        if subject_ids is not None:
            ids = list(dict.fromkeys(subject_ids))
            result = {subject_id: [] for subject_id in ids}
        with self.session() as session:
            result.update(
                history_rows.read_readings(
                    session,
                    ids,
                    _as_utc(since, "since") if since is not None else None,
                    _as_utc(until, "until") if until is not None else None,
                )
            )
        return result

    def series(self, subject_ids: Iterable[str], until: datetime | None = None, *,
               since: datetime | None = None, book: DetailBook | None = None,
               ) -> tuple[dict[str, Series], DetailBook]:
        """The valued observations of each of `subject_ids` as a `Series` (subjects with none are
        left out), read as `readings` reads them (the observations from `since` on, the last value
        before it, none at or after `until`) in five narrow columns; explanations are read through
        the returned book, by id, only for the observations a grade uses (`DetailBook.prefetch`
        reads a report's in a few statements).
        """
        return series_rows.read_series(
            self.engine,
            list(dict.fromkeys(subject_ids)),
            _as_utc(since, "since") if since is not None else None,
            _as_utc(until, "until") if until is not None else None,
            book,
        )

    def month_series(self, subject_ids: Iterable[str], *, bounds: Iterable[datetime], now: datetime,
                     book: DetailBook | None = None) -> tuple[dict[str, MonthlyObservations], DetailBook]:
        """Each subject's observations up to `now` as running month sums, for windows that start and
        end at `bounds` (month starts; see okrbridge.store.month_sums), and the book their
        explanations are read through."""
        book = book if book is not None else DetailBook(self.engine)
        found = month_sums.read_month_series(self.engine, list(dict.fromkeys(subject_ids)),
                                             [_as_utc(bound, "bound") for bound in bounds],
                                             _as_utc(now, "now"), book)
        return found, book

    def refresh_month_sums(self) -> int:
        """Work out the month sums a write made due; how many (subject, month) pairs were."""
        return month_sums.refresh_month_sums(self.engine)

    def history(self, subject_id: str) -> list[Snapshot]:
        """Every snapshot of a KR or KPI (archived ones too), oldest first.

        Read through Core (the (subject_id, taken_at) index serves it): `okrbridge history` loads
        no ORM. Raises UnknownSubject when the id was never catalogued and has no snapshots.
        """
        table = history_rows.snapshot_table()
        statement = (select(table).where(table.c.subject_id == subject_id)
                     .order_by(table.c.taken_at, table.c.id))
        with self.engine.connect() as conn:
            rows = [convert.to_snapshot(row) for row in conn.execute(statement)]
        if not rows:
            from okrbridge.store import catalog_rows

            with self.session() as session:
                if not catalog_rows.find_subjects(session, [subject_id]):
                    raise UnknownSubject(subject_id)
        return rows

    def latest_snapshot(self, subject_id: str) -> Snapshot | None:
        """The most recent snapshot of a KR or KPI (the one confirmed last), or None when it has none."""
        from sqlmodel import col, select

        from okrbridge.store.tables import SnapshotRow

        with self.session() as session:
            row = session.exec(
                select(SnapshotRow)
                .where(SnapshotRow.subject_id == subject_id)
                .order_by(col(SnapshotRow.confirmed_at).desc(), col(SnapshotRow.id).desc())
                .limit(1)
            ).first()
            return convert.to_snapshot(row) if row is not None else None

    def subject_states(self, subject_ids: Iterable[str] | None = None) -> dict[str, SubjectState]:
        """Sync state per KR/KPI that has been synced at least once (optionally only some ids)."""
        from sqlmodel import col, select

        from okrbridge.store.tables import SubjectStateRow

        stmt = select(SubjectStateRow).order_by(col(SubjectStateRow.subject_id))
        if subject_ids is not None:
            stmt = stmt.where(col(SubjectStateRow.subject_id).in_(list(subject_ids)))
        with self.session() as session:
            return {row.subject_id: convert.to_subject_state(row) for row in session.exec(stmt)}

    def initiatives_for(self, kr_id: str, include_removed: bool = False) -> list[Initiative]:
        """The epics driving a key result, by epic key; removed ones only when asked for."""
        return self._initiatives(lambda row: row.kr_id == kr_id, include_removed)

    def initiatives_for_epic(self, epic_key: str, include_removed: bool = False) -> list[Initiative]:
        """The key results an epic drives (what the Jira issue panel shows), by KR id."""
        return self._initiatives(lambda row: row.epic_key == epic_key, include_removed)

    def initiatives_of(self, kr_ids: Iterable[str], include_removed: bool = False) -> list[Initiative]:
        """The epics driving any of these key results, in one query, by KR id then epic key."""
        wanted = list(kr_ids)
        return self._initiatives(lambda row: row.kr_id.in_(wanted), include_removed)

    def all_initiatives(self, include_removed: bool = False) -> list[Initiative]:
        """Every KR's epics, archived KRs' too (the sync reads them to find links to remove)."""
        return self._initiatives(lambda _: true(), include_removed)

    def _initiatives(self, condition: Callable[[Any], Any], include_removed: bool) -> list[Initiative]:
        """Initiatives matching `condition` (of the initiative table), current ones only unless
        `include_removed`."""
        from sqlmodel import col, select

        from okrbridge.store.tables import InitiativeRow

        stmt = select(InitiativeRow).where(condition(InitiativeRow))
        if not include_removed:
            stmt = stmt.where(col(InitiativeRow.removed_at).is_(None))
        stmt = stmt.order_by(col(InitiativeRow.kr_id), col(InitiativeRow.epic_key))
        with self.session() as session:
            return [convert.to_initiative(row) for row in session.exec(stmt)]

    def runs(self, limit: int = 20) -> list[SyncRun]:
        """The most recent sync runs, newest first."""
        from sqlmodel import col, select

        from okrbridge.store.tables import SyncRunRow

        with self.session() as session:
            stmt = (
                select(SyncRunRow)
                .order_by(col(SyncRunRow.started_at).desc(), col(SyncRunRow.id).desc())
                .limit(limit)
            )
            return [convert.to_sync_run(row) for row in session.exec(stmt)]

    def run(self, run_id: int) -> SyncRun:
        """One sync run by id; raises UnknownRun."""
        from okrbridge.store.tables import SyncRunRow

        with self.session() as session:
            row = session.get(SyncRunRow, run_id)
            if row is None:
                raise UnknownRun(run_id)
            return convert.to_sync_run(row)

    # -- publish records ------------------------------------------------------------------------

    def publish_records(self) -> dict[str, PublishRecord]:
        """What was last written to each Confluence page, by page key."""
        from sqlmodel import select

        from okrbridge.store.tables import PublishRecordRow

        with self.session() as session:
            rows = session.exec(select(PublishRecordRow)).all()
            return {row.key: convert.to_publish_record(row) for row in rows}

    def save_publish_record(self, record: PublishRecord) -> None:
        """Record (insert or replace) what was just written to one page."""
        from okrbridge.store.tables import PublishRecordRow

        values = dataclasses.asdict(record)
        values["published_at"] = _as_utc(record.published_at, "published_at")
        with self.session(write=True) as session:
            row = session.get(PublishRecordRow, record.key)
            if row is None:
                session.add(PublishRecordRow(**values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
