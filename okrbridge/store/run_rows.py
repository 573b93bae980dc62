"""Run results as rows: what one sync run writes, and the checks that guard it.

`Store.write_run_results` owns the transaction, the lock and the failure handling; this module
holds the row work inside it: claiming the run (so results are never written twice), resolving
the KRs and KPIs the results name, inserting snapshots, and moving subject state and initiatives
forward. The forward-only rules live in the upserts' WHERE clauses, so a run finishing after a
newer one cannot regress the newer one's results.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import CursorResult
from sqlmodel import Session

from okrbridge.store import history_rows
from okrbridge.store.catalog_rows import Subject, require_subjects
from okrbridge.store.records import (
    Failure,
    InitiativeRecord,
    NewSnapshot,
    RunAlreadyFinished,
    RunError,
    StoreError,
    UnknownRun,
    repeated,
)
from okrbridge.store.tables import (
    RunStatus,
    StoreModel,
    SubjectKind,
    SyncRunRow,
)


def _table(name: str) -> Table:
    """A store table by name, for Core statements (upserts, bulk updates)."""
    return StoreModel.metadata.tables[name]


def _insert_statement(session: Session, table: Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    # the dialect modules load when first used: PostgreSQL's costs a SQLite command's start-up ~50 ms
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"the store supports SQLite and PostgreSQL, not {dialect}")


def validate_results(
    snapshots: Sequence[NewSnapshot],
    failures: Sequence[Failure],
    initiatives: Sequence[InitiativeRecord],
) -> None:
    """Refuse results that would be ambiguous: a subject twice, or both synced and failed."""
    synced = [s.subject_id for s in snapshots]
    failed = [f.subject_id for f in failures]
    for what, ids in (("snapshot", synced), ("failure", failed)):
        twice = repeated(ids)
        if twice:
            raise ValueError(f"more than one {what} in one run for: {', '.join(twice)}")
    both = sorted(set(synced) & set(failed))
    if both:
        raise ValueError(f"both a snapshot and a failure in one run for: {', '.join(both)}")
    keys = [(i.epic_key, i.kr_id) for i in initiatives]
    repeated_keys = repeated(keys)
    if repeated_keys:
        raise ValueError(f"initiative listed twice in one run: {repeated_keys}")


def finished_status(status: RunStatus | str) -> RunStatus:
    """A run's final status; "running" is not one."""
    final = RunStatus(status)
    if final is RunStatus.RUNNING:
        raise ValueError("a run cannot finish with status 'running'")
    return final


def finish_if_running(
    session: Session,
    run_id: int,
    status: RunStatus,
    finished_at: datetime,
    counts: dict[str, int],
    errors: list[RunError],
) -> CursorResult[Any]:
    """Finish the run only while it is still "running"; the result's rowcount says whether it was.

    Guarding on the status makes the UPDATE itself the claim: of two writers of one run, the
    second waits on the first's row lock and then matches no row.
    """
    runs = _table("sync_run")
    return cast(
        CursorResult[Any],
        session.execute(
            update(runs)
            .where(and_(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING.value))
            .values(status=status.value, finished_at=finished_at, counts=counts, errors=errors)
        ),
    )


def claim_run(
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
    result = finish_if_running(session, run_id, status, finished_at, counts, errors)
    row = session.get(SyncRunRow, run_id, populate_existing=True)
    if row is None:
        raise UnknownRun(run_id)
    if result.rowcount != 1:
        raise RunAlreadyFinished(run_id, row.status)
    return row


def write_results(
    session: Session,
    run: SyncRunRow,
    snapshots: Sequence[NewSnapshot],
    failures: Sequence[tuple[Failure, datetime]],
    initiatives: Sequence[InitiativeRecord],
    initiative_krs: Iterable[str] | None,
    synced_at: datetime,
) -> None:
    """Write a claimed run's snapshots, subject states and initiatives (times already in UTC).

    Every check that needs the catalog runs before the first write, in the order callers see
    its errors: dry run, unknown subjects, wrong subject kinds, initiatives for a KPI.
    """
    run_id = run.id
    assert run_id is not None  # a claimed run was read back from the database
    if run.dry_run and (snapshots or failures or initiatives):
        raise ValueError(f"sync run {run_id} is a dry run: it stores no results")
    subject_ids = [s.subject_id for s in snapshots] + [f.subject_id for f, _ in failures]
    subjects = require_subjects(session, subject_ids)
    given_records: list[NewSnapshot | Failure] = [*snapshots, *(f for f, _ in failures)]
    for given in given_records:
        actual = subjects[given.subject_id].kind
        if given.subject_kind is not None and given.subject_kind is not actual:
            raise ValueError(f"{given.subject_id} is a {actual.value}, not a {given.subject_kind.value}")
    initiative_kr_ids = list(
        dict.fromkeys(
            [i.kr_id for i in initiatives]
            if initiative_krs is None
            else [*initiative_krs, *(i.kr_id for i in initiatives)]
        )
    )
    kr_subjects = require_subjects(session, initiative_kr_ids)
    not_krs = sorted(k for k, s in kr_subjects.items() if s.kind is not SubjectKind.KR)
    if not_krs:
        raise ValueError(f"initiatives drive key results, and {', '.join(not_krs)} is a KPI")
    _write_snapshots(session, run_id, snapshots, subjects)
    _write_subject_states(session, run_id, snapshots, failures, subjects)
    _write_initiatives(session, run_id, initiatives, initiative_kr_ids, synced_at)


def _write_snapshots(
    session: Session, run_id: int, snapshots: Sequence[NewSnapshot], subjects: Mapping[str, Subject]
) -> None:
    """Insert the run's changed values; confirm, instead of repeating, the ones found unchanged.

    A value confirms a subject's latest reading when it is the same number, score, source and
    explanation (the time of asking aside) and comes after that reading's last confirmation; the
    reading's `confirmed_at` then moves to this run's time. Everything else is a new reading.
    """
    if not snapshots:
        return
    latest = history_rows.latest_rows(session, [s.subject_id for s in snapshots])
    confirmations: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for s in snapshots:
        source_kind = s.source_kind or subjects[s.subject_id].source_kind
        stored = latest.get(s.subject_id)
        detail = s.explanation.to_dict()
        new = history_rows.StoredValue(s.value, s.score, source_kind,
                                       history_rows.comparable_detail(detail, s.taken_at))
        unchanged = stored is not None and history_rows.stored_value(stored) == new
        if stored is not None and unchanged and s.taken_at > stored.confirmed_at:
            confirmations.append({"row_id": stored.id, "at": s.taken_at, "run": run_id})
            continue
        inserts.append(
            {
                "subject_id": s.subject_id,
                "subject_kind": subjects[s.subject_id].kind.value,
                "taken_at": s.taken_at,
                "confirmed_at": s.taken_at,
                "value": s.value,
                "score": s.score,
                "source_kind": source_kind,
                "source_detail": detail,
                "sync_run_id": run_id,
            }
        )
    table = history_rows.snapshot_table()
    if confirmations:
        # Forward only: a slower run finishing after a newer one cannot move a confirmation back.
        session.execute(
            update(table)
            .where(and_(table.c.id == bindparam("row_id"), table.c.confirmed_at < bindparam("at")))
            .values(confirmed_at=bindparam("at"), confirmed_run_id=bindparam("run")),
            confirmations,
        )
    if inserts:
        # One bulk INSERT through Core: an ORM object per snapshot cost two thirds of a
        # 2,000-KR run's write and none of them is used afterwards.
        session.execute(insert(table), inserts)


def _write_subject_states(
    session: Session,
    run_id: int,
    snapshots: Sequence[NewSnapshot],
    failures: Sequence[tuple[Failure, datetime]],
    subjects: Mapping[str, Subject],
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
    # Only KRs with an epic still listed can lose one: one query finds them, instead of an UPDATE
    # per KR of a large catalog whose KRs mostly have no initiatives at all.
    still_listed = and_(table.c.kr_id.in_(list(epics_by_kr)), table.c.removed_at.is_(None))
    listed = set(session.execute(select_columns(table.c.kr_id).where(still_listed).distinct()).scalars())
    for kr_id, epic_keys in sorted(epics_by_kr.items()):
        if kr_id not in listed:
            continue
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
