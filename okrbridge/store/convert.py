"""Table rows turned into the frozen records the store hands back.

Rows are mutable and tied to a session, so no row leaves the store: every read converts through
here. Keeping the converters in one place means a new column reaches callers by one edit, and the
query code in `Store` stays about what to read rather than how to present it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from okrbridge.explanation import Explanation
from okrbridge.store.kinds import RunStatus, SubjectKind
from okrbridge.store.records import Initiative, PublishRecord, Snapshot, SubjectState, SyncRun

if TYPE_CHECKING:  # the ORM rows are only named here; a Core row of the same columns converts alike
    from sqlalchemy import Row

    from okrbridge.store.tables import (
        InitiativeRow,
        PublishRecordRow,
        SnapshotRow,
        SubjectStateRow,
        SyncRunRow,
    )


def to_snapshot(row: SnapshotRow | Row[Any]) -> Snapshot:
    """The public, frozen form of a snapshot row (an ORM row, or a Core row of the snapshot table)."""
    assert row.id is not None  # rows are read back or flushed before conversion
    return Snapshot(
        id=row.id,
        subject_id=row.subject_id,
        subject_kind=SubjectKind(row.subject_kind),
        taken_at=row.taken_at,
        value=row.value,
        source_kind=row.source_kind,
        explanation=explanation_of(row.source_detail, row.source_kind, row.note, row.author),
        sync_run_id=row.sync_run_id,
        note=row.note,
        author=row.author,
        confirmed_at=row.confirmed_at,
        confirmed_run_id=row.confirmed_run_id,
    )


def explanation_of(detail: Mapping[str, Any] | None, source_kind: str, note: str | None,
                   author: str | None) -> Explanation:
    """What explains a stored value: its JSON detail decoded (old rows too), with the row's source
    kind, note and author, which live in columns of their own."""
    return Explanation.from_dict(detail, {"source": source_kind, "note": note, "author": author})


def to_sync_run(row: SyncRunRow) -> SyncRun:
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
        host=row.host,
        pid=row.pid,
    )


def to_subject_state(row: SubjectStateRow) -> SubjectState:
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


def to_initiative(row: InitiativeRow) -> Initiative:
    """The public, frozen form of an initiative row."""
    return Initiative(**{f.name: getattr(row, f.name) for f in dataclasses.fields(Initiative)})


def to_publish_record(row: PublishRecordRow) -> PublishRecord:
    """The public, frozen form of a publish record row."""
    return PublishRecord(key=row.key, page_id=row.page_id, title=row.title, parent_id=row.parent_id,
                         version=row.version, content_hash=row.content_hash, published_at=row.published_at)
