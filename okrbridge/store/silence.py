"""Silence made visible: KRs and KPIs with no fresh value for too long are marked stale.

The stale job (`okrbridge.staleness` decides who is silent) records its verdict in the subject
state the sync already keeps, so everything that shows a stale mark shows this one too. A silence
mark is told apart from a sync failure's by its text (`SILENCE_PREFIX`): the stale job only ever
clears its own marks, and never overwrites a failure's message, which says more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, func, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import CursorResult

from okrbridge.staleness import SILENCE_PREFIX
from okrbridge.store.catalog_rows import find_subjects
from okrbridge.store.repository import Store
from okrbridge.store.run_rows import _insert_statement, _table
from okrbridge.store.tables import SnapshotRow, SubjectStateRow


@dataclass(frozen=True)
class SilenceChanges:
    """What one stale check changed: subjects newly marked silent, and marks cleared."""

    marked: tuple[str, ...]
    cleared: tuple[str, ...]


def last_value_times(store: Store) -> dict[str, datetime]:
    """When each subject's value was last heard: the newest value taken or confirmed unchanged.

    History is change-only, so a sync that found a value unchanged moved its `confirmed_at`:
    silence is judged from the last confirmation, not from when the value first appeared.
    """
    snapshots = _table(SnapshotRow.__tablename__)
    # max() returns its argument's type, so the timestamps come back as aware UTC datetimes
    with store.session() as session:
        rows = session.execute(select_columns(snapshots.c.subject_id, func.max(snapshots.c.confirmed_at))
                               .group_by(snapshots.c.subject_id))
        return {subject_id: taken for subject_id, taken in rows}


def mark_silence(store: Store, silent: Mapping[str, str], heard: Iterable[str]) -> SilenceChanges:
    """Mark each subject in `silent` stale with its reason; clear the silence marks of `heard` ones.

    A subject already stale for a sync failure keeps that message; a silence mark whose reason
    changed gets the new one. Ids the catalog does not know are ignored.
    """
    states = _table(SubjectStateRow.__tablename__)
    is_silence_mark = and_(states.c.stale.is_(True), states.c.error.like(f"{SILENCE_PREFIX}%"))
    marked: list[str] = []
    cleared: list[str] = []
    with store.session(write=True) as session:
        subjects = find_subjects(session, [*silent, *heard])
        new_rows = [{"subject_id": s, "subject_kind": subjects[s].kind.value, "stale": False}
                    for s in sorted(silent) if s in subjects]
        if new_rows:  # a manual KR has no state row until something is recorded about it
            session.execute(_insert_statement(session, states).on_conflict_do_nothing(
                index_elements=[states.c.subject_id]), new_rows)
        for subject_id, reason in sorted(silent.items()):
            changed = cast(CursorResult[Any], session.execute(
                update(states).where(and_(states.c.subject_id == subject_id,
                                          (states.c.stale.is_(False)) | is_silence_mark,
                                          states.c.error.is_distinct_from(reason)))
                .values(stale=True, error=reason)))
            if changed.rowcount:
                marked.append(subject_id)
        for subject_id in sorted(set(heard) - set(silent)):
            changed = cast(CursorResult[Any], session.execute(
                update(states).where(and_(states.c.subject_id == subject_id, is_silence_mark))
                .values(stale=False, error=None)))
            if changed.rowcount:
                cleared.append(subject_id)
    return SilenceChanges(tuple(marked), tuple(cleared))
