"""Month sums: each subject's observations folded per UTC month, worked out once and read by `grades`.

A month's sums (okrbridge.month_series) come from the snapshot rows that have an observation in it:
first seen (`taken_at`) in the month, or last confirmed (`confirmed_at`, when later than first
seen) in it — the observations `series_rows.read_series` gives, and nothing else. Triggers on the
snapshot table (migration 0009) delete a month's sums whenever a row touching it is written and
mark the month due; `refresh_month_sums` works out what is due, and `read_month_series` reads the
sums, working out from the rows, in the same way, any month that is due or that holds observations
after the report's instant. Neither reader nor refresher can return a stale sum: a sum that exists
was written from the rows as they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, tuple_

from okrbridge.domain import Reading
from okrbridge.month_series import (
    MonthlyObservations,
    MonthRow,
    MonthSum,
    month_row,
    month_start,
    month_sum_of,
    months_between,
    next_month,
)
from okrbridge.series import micros
from okrbridge.store.engine import SQLITE_BEGIN_OPTION
from okrbridge.store.history_rows import _CHUNK, snapshot_table
from okrbridge.store.series_rows import _KINDS, DetailBook, _columns, _Instants
from okrbridge.store.tables import MonthSumDueRow, MonthSumRow, StoreModel

REFRESH_BATCH = 2_000
"""Due (subject, month) pairs worked out per write transaction: short enough not to hold up a sync."""


def _sum_table() -> Table:
    return StoreModel.metadata.tables[MonthSumRow.__tablename__]


def _due_table() -> Table:
    return StoreModel.metadata.tables[MonthSumDueRow.__tablename__]


def _observations_in_month(conn: Connection, subjects: Sequence[str], month: str, instants: _Instants,
                           cut: int | None) -> dict[str, list[tuple[int, int, float]]]:
    """Per subject, its (instant, ref, value) observations in `month`, none after `cut` (microseconds)."""
    table = snapshot_table()
    starts, ends = month_start(month), month_start(next_month(month))
    low, high = micros(starts), micros(ends)
    found: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for start in range(0, len(subjects), _CHUNK):
        statement = (select(*_columns(table))
                     .where(table.c.subject_id.in_(list(subjects[start:start + _CHUNK])),
                            table.c.value.is_not(None), table.c.confirmed_at >= starts,
                            table.c.taken_at < ends))
        for row_id, subject, taken_at, confirmed_at, value in conn.execute(statement).cursor.fetchall():
            taken, confirmed = instants(taken_at), instants(confirmed_at)
            if low <= taken < high and (cut is None or taken <= cut):
                found[subject].append((taken, row_id * _KINDS, value))
            if confirmed > taken and low <= confirmed < high and (cut is None or confirmed <= cut):
                found[subject].append((confirmed, row_id * _KINDS + 1, value))
    return found


def _work_out(conn: Connection, pairs: Iterable[tuple[str, str]], instants: _Instants,
              cut: int | None) -> Iterator[tuple[str, str, MonthSum | None]]:
    """The sums of each (subject, month) from the rows (None for a month without observations)."""
    by_month: dict[str, list[str]] = defaultdict(list)
    for subject, month in pairs:
        by_month[month].append(subject)
    for month, subjects in sorted(by_month.items()):
        found = _observations_in_month(conn, subjects, month, instants, cut)
        for subject in subjects:
            yield subject, month, month_sum_of(month, found.get(subject, ()))


def _as_row(subject: str, each: MonthSum) -> dict[str, Any]:
    """A month_sum row of a MonthSum."""
    sums = each.sums
    return {"subject_id": subject, "month": each.month, "count": sums.count, "sum_x": str(sums.sum_x),
            "sum_xx": str(sums.sum_xx), "sum_y": str(sums.sum_y), "sum_xy": str(sums.sum_xy),
            "exponent": sums.exponent, "nonfinite": sums.nonfinite, "last_at": each.last_at,
            "last_ref": each.last_ref, "last_value": each.last_value}


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction in which no snapshot row changes: SQLite's write lock taken at BEGIN, or
    on PostgreSQL the snapshot table locked against writers (readers go on), so sums worked out in
    it match the rows when it commits."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("LOCK TABLE snapshot IN SHARE MODE")
            yield conn


def refresh_month_sums(engine: Engine, *, batch: int = REFRESH_BATCH) -> int:
    """Work out every due month's sums and store them; how many (subject, month) pairs were due.

    A batch of due pairs at a time, each in its own short write transaction (see `_writing`).
    """
    done = 0
    sums, due = _sum_table(), _due_table()
    instants = _Instants()
    while True:
        with _writing(engine) as conn:
            pairs = [(row[0], row[1]) for row in conn.execute(
                select(due.c.subject_id, due.c.month).order_by(due.c.month, due.c.subject_id).limit(batch))]
            if not pairs:
                return done
            rows = [_as_row(subject, each) for subject, _, each in _work_out(conn, pairs, instants, None)
                    if each is not None]
            for start in range(0, len(pairs), _CHUNK):
                chunk = pairs[start:start + _CHUNK]
                conn.execute(delete(due).where(tuple_(due.c.subject_id, due.c.month).in_(chunk)))
                conn.execute(delete(sums).where(tuple_(sums.c.subject_id, sums.c.month).in_(chunk)))
            if rows:
                conn.execute(insert(sums), rows)
            done += len(pairs)


def read_month_series(engine: Engine, subject_ids: Sequence[str], since: datetime, until: datetime,
                      now: datetime, book: DetailBook) -> dict[str, MonthlyObservations]:
    """Each subject's month sums for the months of `[since, until)`, holding the observations up to
    `now`, as MonthlyObservations (subjects with none are left out).

    Stored sums are used where they are not due and hold nothing after `now`; every other month is
    worked out from the rows. One transaction (on PostgreSQL repeatable read) sees one state of the
    store for all of it. Rows come straight from the driver's cursor: a year at 10,000 KRs is
    120,000 of them.
    """
    months = months_between(since, until)
    if not months:
        return {}
    cut = micros(now)
    sums, due = _sum_table(), _due_table()
    instants = _Instants()
    found: dict[str, list[MonthRow]] = defaultdict(list)
    columns = [sums.c.subject_id, sums.c.month, sums.c.count, sums.c.sum_x, sums.c.sum_xx, sums.c.sum_y,
               sums.c.sum_xy, sums.c.exponent, sums.c.nonfinite, sums.c.last_ref, sums.c.last_value]
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # one statement for the whole range when most of the store is wanted (a catalog's every
            # KR), else a chunk of subjects per statement; rows of other subjects are left out
            whole = len(subject_ids) > _CHUNK
            wanted = set(subject_ids)
            for start in range(0, len(subject_ids), len(subject_ids) if whole else _CHUNK):
                chunk = list(subject_ids[start:start + _CHUNK])
                in_range = (sums.c.month >= months[0], sums.c.month <= months[-1],
                            *(() if whole else (sums.c.subject_id.in_(chunk),)))
                due_range = (due.c.month >= months[0], due.c.month <= months[-1],
                             *(() if whole else (due.c.subject_id.in_(chunk),)))
                stored = conn.execute(select(*columns).where(*in_range, sums.c.last_at <= cut)
                                      .order_by(sums.c.subject_id, sums.c.month)).cursor.fetchall()
                # months holding observations after the report's instant are worked out below, and so
                # are the due ones, read after the sums: a month written in between is then due
                pending = {pair for pair in conn.execute(select(sums.c.subject_id, sums.c.month).where(
                    *in_range, sums.c.last_at > cut)).cursor.fetchall() if pair[0] in wanted}
                pending.update(pair for pair in conn.execute(
                    select(due.c.subject_id, due.c.month).where(*due_range)).cursor.fetchall()
                    if pair[0] in wanted)
                if pending:
                    stored = [row for row in stored if (row[0], row[1]) not in pending]
                for subject, rows in groupby(stored, key=itemgetter(0)):
                    if subject in wanted:
                        found[subject].extend(rows)
                for subject, _, each in _work_out(conn, sorted(pending), instants, cut):
                    if each is not None:
                        found[subject].append(month_row(subject, each))
    return {subject: MonthlyObservations(rows, now, _reader(book, subject))
            for subject, rows in found.items()}


def _reader(book: DetailBook, subject_id: str) -> Callable[[int, float], Reading]:
    """How a subject's MonthlyObservations make the Reading of a stored observation."""
    def reading(ref: int, value: float) -> Reading:
        return book.reading_at(subject_id, ref, value)
    return reading


__all__ = ["REFRESH_BATCH", "read_month_series", "refresh_month_sums"]
