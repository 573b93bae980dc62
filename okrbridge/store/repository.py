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
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Table, and_, func, insert, or_, text, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, CursorResult, make_url
from sqlmodel import Session, col, select

from okrbridge.domain import Catalog, Reading, SourceKind
from okrbridge.store import definitions
from okrbridge.store.engine import SQLITE_BEGIN_OPTION, make_engine
from okrbridge.store.engine import downgrade as _downgrade
from okrbridge.store.engine import migrate as _migrate
from okrbridge.store.records import (
    CatalogChanges,
    CatalogConflict,
    CatalogItem,
    CatalogKind,
    Failure,
    Initiative,
    InitiativeRecord,
    NewSnapshot,
    RunAlreadyFinished,
    RunError,
    Snapshot,
    StoreError,
    SubjectState,
    SyncRun,
    UnknownRun,
    UnknownSubject,
)
from okrbridge.store.tables import (
    InitiativeRow,
    KeyResultRow,
    KpiRow,
    ObjectiveRow,
    RunStatus,
    SnapshotRow,
    StoreModel,
    SubjectKind,
    SubjectStateRow,
    SyncRunRow,
)

_CATALOG_LOCK_KEY = 0x6F6B72_636174
"""PostgreSQL advisory lock id that serialises catalog loads ("okr" "cat" in hex)."""

_RUN_RESULTS_LOCK_KEY = 0x6F6B72_72756E
"""PostgreSQL advisory lock id that serialises writing run results ("okr" "run" in hex)."""

_CatalogRow = TypeVar("_CatalogRow", ObjectiveRow, KeyResultRow, KpiRow)
_Key = TypeVar("_Key", str, tuple[str, str])


def _utcnow() -> datetime:
    """The current instant, aware and in UTC."""
    return datetime.now(UTC)


def _as_utc(value: datetime, name: str) -> datetime:
    """An aware datetime converted to UTC; a naive one is refused, naming the parameter."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _table(name: str) -> Table:
    """A store table by name, for Core statements (upserts, bulk updates)."""
    return StoreModel.metadata.tables[name]


class _ChangeLog:
    """Collects what a catalog load did, in the order it happened."""

    def __init__(self) -> None:
        self.added: list[CatalogItem] = []
        self.updated: list[CatalogItem] = []
        self.archived: list[CatalogItem] = []
        self.restored: list[CatalogItem] = []
        self.unchanged = 0

    def result(self) -> CatalogChanges:
        """The frozen summary."""
        return CatalogChanges(
            added=tuple(self.added),
            updated=tuple(self.updated),
            archived=tuple(self.archived),
            restored=tuple(self.restored),
            unchanged=self.unchanged,
        )


def _repeated(items: Iterable[_Key]) -> list[_Key]:
    """The items that occur more than once, sorted (for stable error messages)."""
    return sorted(item for item, n in Counter(items).items() if n > 1)


def _check_catalog_ids(catalog: Catalog) -> None:
    """Refuse a catalog whose ids would collide in the store's tables or in snapshots."""
    for kind, ids in (
        ("objective", [o.id for o in catalog.objectives]),
        ("key result", [kr.id for kr in catalog.key_results()]),
        ("KPI", [k.id for k in catalog.kpis]),
    ):
        duplicates = _repeated(ids)
        if duplicates:
            raise CatalogConflict(f"{kind} id used more than once: {', '.join(duplicates)}")
    # Snapshots and subject state are keyed by subject id alone, so a KR and a KPI cannot share one.
    shared = sorted({kr.id for kr in catalog.key_results()} & {k.id for k in catalog.kpis})
    if shared:
        raise CatalogConflict(f"id used by both a key result and a KPI: {', '.join(shared)}")


def _apply_catalog(
    session: Session,
    model: type[_CatalogRow],
    kind: CatalogKind,
    wanted: Mapping[str, dict[str, Any]],
    now: datetime,
    log: _ChangeLog,
) -> None:
    """Upsert one catalog table to `wanted` (id -> column values) and archive what is missing.

    Rows whose content hash matches are left untouched, so an unchanged catalog writes nothing.
    """
    existing = {row.id: row for row in session.exec(select(model))}
    for item_id, values in wanted.items():
        row = existing.get(item_id)
        if row is None:
            session.add(model(id=item_id, created_at=now, updated_at=now, archived_at=None, **values))
            log.added.append(CatalogItem(kind, item_id))
            continue
        if row.archived_at is None and row.content_hash == values["content_hash"]:
            log.unchanged += 1
            continue
        (log.restored if row.archived_at is not None else log.updated).append(CatalogItem(kind, item_id))
        for name, value in values.items():
            setattr(row, name, value)
        row.archived_at = None
        row.updated_at = now
    for item_id, row in existing.items():
        if item_id not in wanted and row.archived_at is None:
            row.archived_at = now
            row.updated_at = now
            log.archived.append(CatalogItem(kind, item_id))
    # Flush per table: key results reference objectives, and rows here carry no relationships
    # from which the unit of work could infer that order.
    session.flush()


def _catalog_values(catalog: Catalog) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Column values for every objective, key result and KPI of the catalog, keyed by id."""
    objectives: dict[str, dict[str, Any]] = {}
    key_results: dict[str, dict[str, Any]] = {}
    kpis: dict[str, dict[str, Any]] = {}
    for objective in catalog.objectives:
        definition = definitions.objective_definition(objective)
        objectives[objective.id] = {
            "title": objective.title,
            "cycle": objective.cycle,
            "level": objective.level.value,
            "team": objective.team,
            "owner": objective.owner,
            # okrs.toml writes "no parent" as parent = "".
            "parent": objective.parent or None,
            "visible_to": list(objective.visible_to),
            "definition": definition,
            "content_hash": definitions.content_hash(definition),
        }
        for kr in objective.key_results:
            definition = definitions.key_result_definition(kr, objective.id)
            key_results[kr.id] = {
                "objective_id": objective.id,
                "title": kr.title,
                "owner": kr.owner,
                "weight": kr.weight,
                "unit": kr.unit,
                "measure_kind": kr.measure.kind.value,
                "source_kind": kr.source.kind.value,
                "definition": definition,
                "content_hash": definitions.content_hash(definition),
            }
    for kpi in catalog.kpis:
        definition = definitions.kpi_definition(kpi)
        kpis[kpi.id] = {
            "name": kpi.name,
            "direction": kpi.direction.value,
            "unit": kpi.unit,
            "team": kpi.team,
            "owner": kpi.owner,
            "visible_to": list(kpi.visible_to),
            "source_kind": kpi.source.kind.value,
            "definition": definition,
            "content_hash": definitions.content_hash(definition),
        }
    return objectives, key_results, kpis


class _Subject:
    """What the store knows about a KR or KPI id when recording values for it."""

    def __init__(self, kind: SubjectKind, source_kind: str, archived_at: datetime | None) -> None:
        self.kind = kind
        self.source_kind = source_kind
        self.archived_at = archived_at


def _find_subjects(session: Session, subject_ids: Collection[str]) -> dict[str, _Subject]:
    """The KRs and KPIs among `subject_ids`, archived ones included; an active one wins a tie."""
    found: dict[str, _Subject] = {}
    if not subject_ids:
        return found
    ids = list(subject_ids)
    for kpi in session.exec(select(KpiRow).where(col(KpiRow.id).in_(ids))):
        found[kpi.id] = _Subject(SubjectKind.KPI, kpi.source_kind, kpi.archived_at)
    for kr in session.exec(select(KeyResultRow).where(col(KeyResultRow.id).in_(ids))):
        if kr.id not in found or kr.archived_at is None:
            found[kr.id] = _Subject(SubjectKind.KR, kr.source_kind, kr.archived_at)
    return found


def _require_subjects(session: Session, subject_ids: Collection[str]) -> dict[str, _Subject]:
    """Like _find_subjects, raising UnknownSubject for the first id (in order) never catalogued."""
    found = _find_subjects(session, subject_ids)
    for subject_id in subject_ids:
        if subject_id not in found:
            raise UnknownSubject(subject_id)
    return found


def _insert_statement(session: Session, table: Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"the store supports SQLite and PostgreSQL, not {dialect}")


def _write_subject_states(
    session: Session,
    run_id: int,
    snapshots: Sequence[NewSnapshot],
    failures: Sequence[tuple[Failure, datetime]],
    subjects: Mapping[str, _Subject],
) -> None:
    """Mark the run's successes fresh and its failures stale, keeping each last success time.

    A row only moves forward: an attempt older than the one stored (a slower run finishing after
    a newer one) is ignored, so results can never regress.
    """
    rows: list[dict[str, Any]] = [
        {
            "subject_id": s.subject_id,
            "subject_kind": subjects[s.subject_id].kind.value,
            "last_success_at": s.taken_at,
            "last_attempt_at": s.taken_at,
            "stale": False,
            "error": None,
            "last_sync_run_id": run_id,
        }
        for s in snapshots
    ]
    rows += [
        {
            "subject_id": f.subject_id,
            "subject_kind": subjects[f.subject_id].kind.value,
            "last_success_at": None,
            "last_attempt_at": at,
            "stale": True,
            "error": f.error,
            "last_sync_run_id": run_id,
        }
        for f, at in failures
    ]
    if not rows:
        return
    table = _table("subject_state")
    stmt = _insert_statement(session, table)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.subject_id],
        set_={
            "subject_kind": new.subject_kind,
            # A failure carries no success time: keep the stored one (the last good snapshot's).
            "last_success_at": func.coalesce(new.last_success_at, table.c.last_success_at),
            "last_attempt_at": new.last_attempt_at,
            "stale": new.stale,
            "error": new.error,
            "last_sync_run_id": new.last_sync_run_id,
        },
        where=or_(table.c.last_attempt_at.is_(None), table.c.last_attempt_at <= new.last_attempt_at),
    )
    session.execute(stmt, rows)


def _write_initiatives(
    session: Session,
    run_id: int,
    initiatives: Sequence[InitiativeRecord],
    resolved_kr_ids: Collection[str],
    synced_at: datetime,
) -> None:
    """Upsert the run's epics and mark removed the ones its resolved KRs no longer list.

    Epic lists only move forward in time: a KR whose epics a newer run has already recorded
    (a stored row synced or removed after this run) is skipped entirely, so a slow run finishing
    late can neither revive an epic the newer run dropped nor drop one it found.
    """
    table = _table("initiative")
    newer = {
        kr_id
        for kr_id, seen_at, removed_at in session.execute(
            select_columns(table.c.kr_id, table.c.synced_at, table.c.removed_at).where(
                table.c.kr_id.in_(list(resolved_kr_ids))
            )
        )
        if max(seen_at, removed_at or seen_at) > synced_at
    }
    initiatives = [i for i in initiatives if i.kr_id not in newer]
    resolved_kr_ids = [kr_id for kr_id in resolved_kr_ids if kr_id not in newer]
    if initiatives:
        stmt = _insert_statement(session, table)
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.epic_key, table.c.kr_id],
            set_={
                **{
                    name: getattr(new, name)
                    for name in (
                        "summary",
                        "status",
                        "status_category",
                        "done",
                        "progress",
                        "children_done",
                        "children_total",
                        "url",
                        "last_sync_run_id",
                        "synced_at",
                    )
                },
                "removed_at": None,
            },
            where=table.c.synced_at <= new.synced_at,
        )
        session.execute(
            stmt,
            [
                {
                    "epic_key": i.epic_key,
                    "kr_id": i.kr_id,
                    "summary": i.summary,
                    "status": i.status,
                    "status_category": i.status_category,
                    "done": i.done,
                    "progress": i.progress,
                    "children_done": i.children_done,
                    "children_total": i.children_total,
                    "url": i.url,
                    "last_sync_run_id": run_id,
                    "synced_at": synced_at,
                    "removed_at": None,
                }
                for i in initiatives
            ],
        )
    epics_by_kr: dict[str, set[str]] = {kr_id: set() for kr_id in resolved_kr_ids}
    for i in initiatives:
        epics_by_kr.setdefault(i.kr_id, set()).add(i.epic_key)
    for kr_id, epic_keys in sorted(epics_by_kr.items()):
        session.execute(
            update(table)
            .where(
                and_(
                    table.c.kr_id == kr_id,
                    table.c.removed_at.is_(None),
                    table.c.synced_at < synced_at,
                    table.c.epic_key.not_in(sorted(epic_keys)),
                )
            )
            .values(removed_at=synced_at, last_sync_run_id=run_id)
        )


def _validate_results(
    snapshots: Sequence[NewSnapshot],
    failures: Sequence[Failure],
    initiatives: Sequence[InitiativeRecord],
) -> None:
    """Refuse results that would be ambiguous: a subject twice, or both synced and failed."""
    synced = [s.subject_id for s in snapshots]
    failed = [f.subject_id for f in failures]
    for what, ids in (("snapshot", synced), ("failure", failed)):
        repeated = _repeated(ids)
        if repeated:
            raise ValueError(f"more than one {what} in one run for: {', '.join(repeated)}")
    both = sorted(set(synced) & set(failed))
    if both:
        raise ValueError(f"both a snapshot and a failure in one run for: {', '.join(both)}")
    keys = [(i.epic_key, i.kr_id) for i in initiatives]
    repeated_keys = _repeated(keys)
    if repeated_keys:
        raise ValueError(f"initiative listed twice in one run: {repeated_keys}")


def _snapshot(row: SnapshotRow) -> Snapshot:
    """The public, frozen form of a snapshot row."""
    assert row.id is not None  # rows are read back or flushed before conversion
    return Snapshot(
        id=row.id,
        subject_id=row.subject_id,
        subject_kind=SubjectKind(row.subject_kind),
        taken_at=row.taken_at,
        value=row.value,
        score=row.score,
        source_kind=row.source_kind,
        source_detail=dict(row.source_detail),
        sync_run_id=row.sync_run_id,
        note=row.note,
        author=row.author,
    )


def _reading(row: SnapshotRow) -> Reading:
    """A snapshot as grading reads it; `detail` explains the value (source, note, author)."""
    detail: dict[str, Any] = {**row.source_detail, "source_kind": row.source_kind}
    if row.note is not None:
        detail["note"] = row.note
    if row.author is not None:
        detail["author"] = row.author
    return Reading(subject_id=row.subject_id, taken_at=row.taken_at, value=row.value, detail=detail)


def _run(row: SyncRunRow) -> SyncRun:
    """The public, frozen form of a sync run row."""
    assert row.id is not None
    return SyncRun(
        id=row.id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=RunStatus(row.status),
        deployment=row.deployment,
        counts=dict(row.counts),
        errors=list(row.errors),
        dry_run=row.dry_run,
    )


def _state(row: SubjectStateRow) -> SubjectState:
    """The public, frozen form of a subject state row."""
    return SubjectState(
        subject_id=row.subject_id,
        subject_kind=SubjectKind(row.subject_kind),
        last_success_at=row.last_success_at,
        last_attempt_at=row.last_attempt_at,
        stale=row.stale,
        error=row.error,
        last_sync_run_id=row.last_sync_run_id,
    )


def _initiative(row: InitiativeRow) -> Initiative:
    """The public, frozen form of an initiative row."""
    return Initiative(**{f.name: getattr(row, f.name) for f in dataclasses.fields(Initiative)})


def _finished_status(status: RunStatus | str) -> RunStatus:
    """A run's final status; "running" is not one."""
    final = RunStatus(status)
    if final is RunStatus.RUNNING:
        raise ValueError("a run cannot finish with status 'running'")
    return final


class Store:
    """The okrbridge database: SQLite (`sqlite:///path.db`) or PostgreSQL (`postgresql+psycopg://...`).

    Creating a Store opens no connection; call `migrate()` once before use (it is idempotent).
    A Store is safe to share between threads; every method runs in its own transaction.
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.engine: Engine = make_engine(self.url, echo=echo)

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close every pooled connection (the Store can still be used; it reconnects on demand)."""
        self.engine.dispose()

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to `revision` (default: the newest) with the packaged migrations."""
        _migrate(self.engine, revision)

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
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            if write:
                # Procure the connection now, so BEGIN is emitted with the requested mode.
                session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            yield session

    # -- catalog ----------------------------------------------------------------------------

    def sync_catalog(self, catalog: Catalog, now: datetime | None = None) -> CatalogChanges:
        """Make the catalog tables match `catalog`: add, update changed, archive missing, restore.

        Items are matched by id and compared by content hash, so an unchanged item is not
        rewritten. Items missing from the catalog are archived, never deleted (their snapshots
        keep an owner); an archived item that reappears is restored. Concurrent loads are
        serialised. Raises CatalogConflict for ids the store cannot key unambiguously.
        """
        when = _as_utc(now, "now") if now is not None else _utcnow()
        _check_catalog_ids(catalog)
        objectives, key_results, kpis = _catalog_values(catalog)
        log = _ChangeLog()
        with self.session(write=True) as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CATALOG_LOCK_KEY})
            _apply_catalog(session, ObjectiveRow, "objective", objectives, when, log)
            _apply_catalog(session, KeyResultRow, "kr", key_results, when, log)
            _apply_catalog(session, KpiRow, "kpi", kpis, when, log)
        return log.result()

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
        taken_at = _as_utc(at, "at") if at is not None else _utcnow()
        # Reuse NewSnapshot's checks so check-ins and syncs refuse the same bad numbers.
        checked = NewSnapshot(subject_id, taken_at, value, score)
        with self.session(write=True) as session:
            subject = _find_subjects(session, [subject_id]).get(subject_id)
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
            )
            session.add(row)
            session.flush()
            return _snapshot(row)

    # -- sync runs --------------------------------------------------------------------------

    def start_run(
        self, deployment: str | None = None, dry_run: bool = False, started_at: datetime | None = None
    ) -> int:
        """Record a sync run as running and return its id."""
        when = _as_utc(started_at, "started_at") if started_at is not None else _utcnow()
        with self.session(write=True) as session:
            row = SyncRunRow(
                started_at=when,
                status=RunStatus.RUNNING.value,
                deployment=deployment,
                counts={},
                errors=[],
                dry_run=dry_run,
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
        final = _finished_status(status)
        when = _as_utc(finished_at, "finished_at") if finished_at is not None else _utcnow()
        with self.session(write=True) as session:
            return _run(self._claim_run(session, run_id, final, when, dict(counts or {}), list(errors)))

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
        when = _as_utc(finished_at, "finished_at") if finished_at is not None else _utcnow()
        final = _finished_status(status or (RunStatus.PARTIAL if failures else RunStatus.SUCCEEDED))
        run_counts = (
            dict(counts) if counts is not None else {"synced": len(snapshots), "failed": len(failures)}
        )
        run_errors = list(errors)
        try:
            _validate_results(snapshots, failures, initiatives)
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
                run = self._claim_run(session, run_id, final, when, run_counts, run_errors)
                if run.dry_run and (snapshots or failures or initiatives):
                    raise ValueError(f"sync run {run_id} is a dry run: it stores no results")
                subject_ids = [s.subject_id for s in snapshots] + [f.subject_id for f in failures]
                subjects = _require_subjects(session, subject_ids)
                given_records: list[NewSnapshot | Failure] = [*snapshots, *failures]
                for given in given_records:
                    actual = subjects[given.subject_id].kind
                    if given.subject_kind is not None and given.subject_kind is not actual:
                        raise ValueError(
                            f"{given.subject_id} is a {actual.value}, not a {given.subject_kind.value}"
                        )
                initiative_kr_ids = list(
                    dict.fromkeys(
                        [i.kr_id for i in initiatives]
                        if initiative_krs is None
                        else [*initiative_krs, *(i.kr_id for i in initiatives)]
                    )
                )
                kr_subjects = _require_subjects(session, initiative_kr_ids)
                not_krs = sorted(k for k, s in kr_subjects.items() if s.kind is not SubjectKind.KR)
                if not_krs:
                    raise ValueError(f"initiatives drive key results, and {', '.join(not_krs)} is a KPI")
                if new_snapshots:
                    # One bulk INSERT through Core: building an ORM object per snapshot cost
                    # two thirds of a 2,000-KR run's write and none of them is used afterwards.
                    session.execute(
                        insert(_table(SnapshotRow.__tablename__)),
                        [
                            {
                                "subject_id": s.subject_id,
                                "subject_kind": subjects[s.subject_id].kind.value,
                                "taken_at": s.taken_at,
                                "value": s.value,
                                "score": s.score,
                                "source_kind": s.source_kind or subjects[s.subject_id].source_kind,
                                "source_detail": dict(s.source_detail),
                                "sync_run_id": run_id,
                            }
                            for s in new_snapshots
                        ],
                    )
                _write_subject_states(session, run_id, new_snapshots, timed_failures, subjects)
                _write_initiatives(session, run_id, initiatives, initiative_kr_ids, when)
                return _run(run)
        except BaseException as exc:
            self._mark_failed(run_id, when, run_counts, [*run_errors, f"results not stored: {exc}"], exc)
            raise

    def _claim_run(
        self,
        session: Session,
        run_id: int,
        status: RunStatus,
        finished_at: datetime,
        counts: dict[str, int],
        errors: list[RunError],
    ) -> SyncRunRow:
        """Finish a running run inside `session`; the row lock this takes makes a second writer wait.

        Only a run still "running" is updated, so concurrent or repeated writers of one run find
        it finished and get RunAlreadyFinished instead of storing its results twice.
        """
        runs = _table("sync_run")
        result = cast(
            CursorResult[Any],
            session.execute(
                update(runs)
                .where(and_(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING.value))
                .values(status=status.value, finished_at=finished_at, counts=counts, errors=errors)
            ),
        )
        row = session.get(SyncRunRow, run_id, populate_existing=True)
        if row is None:
            raise UnknownRun(run_id)
        if result.rowcount != 1:
            raise RunAlreadyFinished(run_id, row.status)
        return row

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
        runs = _table("sync_run")
        try:
            with self.session(write=True) as session:
                session.execute(
                    update(runs)
                    .where(and_(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING.value))
                    .values(
                        status=RunStatus.FAILED.value, finished_at=finished_at, counts=counts, errors=errors
                    )
                )
        except Exception as secondary:
            cause.add_note(f"and sync run {run_id} could not be marked failed: {secondary}")

    # -- reads ------------------------------------------------------------------------------

    def readings(
        self, subject_ids: Iterable[str] | None = None, until: datetime | None = None
    ) -> dict[str, list[Reading]]:
        """Stored values per subject, oldest first, for grading.

        `subject_ids` limits the subjects (each one asked for is a key, with [] if it has no
        values); `until` keeps values taken strictly before it, so a period's `ends_at` can be
        passed as is.
        """
        stmt = select(SnapshotRow).order_by(
            col(SnapshotRow.subject_id), col(SnapshotRow.taken_at), col(SnapshotRow.id)
        )
        result: dict[str, list[Reading]] = {}
        if subject_ids is not None:
            ids = list(dict.fromkeys(subject_ids))
            result = {subject_id: [] for subject_id in ids}
            stmt = stmt.where(col(SnapshotRow.subject_id).in_(ids))
        if until is not None:
            stmt = stmt.where(col(SnapshotRow.taken_at) < _as_utc(until, "until"))
        with self.session() as session:
            for row in session.exec(stmt):
                result.setdefault(row.subject_id, []).append(_reading(row))
        return result

    def history(self, subject_id: str) -> list[Snapshot]:
        """Every snapshot of a KR or KPI (archived ones too), oldest first.

        Raises UnknownSubject when the id was never catalogued and has no snapshots.
        """
        with self.session() as session:
            rows = [
                _snapshot(row)
                for row in session.exec(
                    select(SnapshotRow)
                    .where(SnapshotRow.subject_id == subject_id)
                    .order_by(col(SnapshotRow.taken_at), col(SnapshotRow.id))
                )
            ]
            if not rows and not _find_subjects(session, [subject_id]):
                raise UnknownSubject(subject_id)
        return rows

    def latest_snapshot(self, subject_id: str) -> Snapshot | None:
        """The most recent snapshot of a KR or KPI, or None when it has none."""
        with self.session() as session:
            row = session.exec(
                select(SnapshotRow)
                .where(SnapshotRow.subject_id == subject_id)
                .order_by(col(SnapshotRow.taken_at).desc(), col(SnapshotRow.id).desc())
                .limit(1)
            ).first()
            return _snapshot(row) if row is not None else None

    def subject_states(self, subject_ids: Iterable[str] | None = None) -> dict[str, SubjectState]:
        """Sync state per KR/KPI that has been synced at least once (optionally only some ids)."""
        stmt = select(SubjectStateRow).order_by(col(SubjectStateRow.subject_id))
        if subject_ids is not None:
            stmt = stmt.where(col(SubjectStateRow.subject_id).in_(list(subject_ids)))
        with self.session() as session:
            return {row.subject_id: _state(row) for row in session.exec(stmt)}

    def initiatives_for(self, kr_id: str, include_removed: bool = False) -> list[Initiative]:
        """The epics driving a key result, by epic key; removed ones only when asked for."""
        return self._initiatives(InitiativeRow.kr_id == kr_id, include_removed)

    def initiatives_for_epic(self, epic_key: str, include_removed: bool = False) -> list[Initiative]:
        """The key results an epic drives (what the Jira issue panel shows), by KR id."""
        return self._initiatives(InitiativeRow.epic_key == epic_key, include_removed)

    def _initiatives(self, condition: Any, include_removed: bool) -> list[Initiative]:
        """Initiatives matching `condition`, current ones only unless `include_removed`."""
        stmt = select(InitiativeRow).where(condition)
        if not include_removed:
            stmt = stmt.where(col(InitiativeRow.removed_at).is_(None))
        stmt = stmt.order_by(col(InitiativeRow.kr_id), col(InitiativeRow.epic_key))
        with self.session() as session:
            return [_initiative(row) for row in session.exec(stmt)]

    def runs(self, limit: int = 20) -> list[SyncRun]:
        """The most recent sync runs, newest first."""
        with self.session() as session:
            stmt = (
                select(SyncRunRow)
                .order_by(col(SyncRunRow.started_at).desc(), col(SyncRunRow.id).desc())
                .limit(limit)
            )
            return [_run(row) for row in session.exec(stmt)]

    def run(self, run_id: int) -> SyncRun:
        """One sync run by id; raises UnknownRun."""
        with self.session() as session:
            row = session.get(SyncRunRow, run_id)
            if row is None:
                raise UnknownRun(run_id)
            return _run(row)
