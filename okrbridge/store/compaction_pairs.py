"""Readings stored twice: finding them and folding each pair into one confirmed reading.

Part of compaction (see okrbridge.store.compaction for what may go and why). Two sync readings of
a subject are one reading stored twice when they sit next to each other in time with no other
observation of the subject at or between them, neither was ever confirmed, every field is equal
and the second's explanation is the first's with only its time of asking moved. A read-only scan
(`candidate_pairs`) finds candidates with window functions; `mergeable_pairs` checks each one
again inside the writing transaction and `merge` folds them: the earlier row takes the later
one's time and run as its confirmation and the later row goes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Text, and_, bindparam, cast, delete, func, select, update
from sqlmodel import Session

from okrbridge.store.history_rows import observed_detail, snapshot_table

_T = TypeVar("_T")

CHUNK = 500
"""Ids per IN (...) list or executemany batch."""


@dataclass(frozen=True)
class Pair:
    """Two rows that are one reading: `kept` (first seen) absorbs `gone` (its confirmation)."""

    kept: int
    gone: int
    confirmed_at: datetime
    confirmed_run_id: int | None


def candidate_pairs(session: Session) -> list[tuple[int, int]]:
    """(earlier id, later id) of every candidate pair, in time order (a read-only scan)."""
    return [(row.p_id, row.id) for row in _candidate_rows(session)]


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
    for chunk in chunks(list(dict.fromkeys(ids))):
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


def mergeable_pairs(session: Session, candidates: Sequence[tuple[int, int]]) -> list[Pair]:
    """The candidates that still are one reading stored twice, each checked again (the scan ran
    before this transaction began), taken greedily in time order: a row absorbed into the one before
    cannot absorb the one after, which would be a third observation; a row an explanation names is
    never absorbed."""
    named = _named_snapshot_ids(session)
    rows = _rows_by_id(session, [row_id for pair in candidates for row_id in pair])
    pairs: list[Pair] = []
    absorbed: set[int] = set()
    for kept_id, gone_id in candidates:
        first, second = rows.get(kept_id), rows.get(gone_id)
        if first is None or second is None or kept_id in absorbed or gone_id in named:
            continue
        if not _one_reading(first, second) or not _alone_between(session, first, second):
            continue
        pairs.append(Pair(kept_id, gone_id, second.taken_at, second.sync_run_id))
        absorbed.add(gone_id)
    return pairs


def merge(session: Session, pairs: Sequence[Pair]) -> None:
    """Give each kept row its partner's time and run as its confirmation, then delete the partners."""
    table = snapshot_table()
    for chunk in chunks(pairs):
        session.execute(
            update(table).where(table.c.id == bindparam("kept"))
            .values(confirmed_at=bindparam("at"), confirmed_run_id=bindparam("run")),
            [{"kept": p.kept, "at": p.confirmed_at, "run": p.confirmed_run_id} for p in chunk])
        session.execute(delete(table).where(table.c.id.in_([p.gone for p in chunk])))


def chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    """`items` in slices of at most CHUNK."""
    return (items[start:start + CHUNK] for start in range(0, len(items), CHUNK))
