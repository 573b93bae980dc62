"""Month sums: each subject's observations folded per UTC month, kept as running totals, read by `grades`.

A month's sums (okrbridge.month_series) come from the snapshot rows that have an observation in it:
first seen (`taken_at`) in the month, or last confirmed (`confirmed_at`, when later than first
seen) in it — the observations `series_rows.read_series` gives, and nothing else. The store keeps,
per subject and month with observations, the *running* sums: those of every observation of the
subject up to that month's end. A window's line is the difference of two rows, so a year reads two
rows per KR.

Triggers on the snapshot table (migration 0010) keep that honest: a write to a row deletes the
running sums of the first month whose observations it changed *and of every later month* of that
subject, and marks them due. So for each subject, every stored row lies before its earliest due
month, and every month with observations is either stored or due. `refresh_month_sums` works out
what is due, month by month on top of the last stored row; `read_month_series` reads, for each
window bound, the last stored row before it, and works out from the rows the months from a
subject's earliest due month (or its first month holding observations after the report's
instant) on. Neither can return a stale sum: a sum that exists was written from the rows as they are.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import groupby, pairwise
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    TableClause,
    delete,
    func,
    insert,
    select,
    tuple_,
    union_all,
)

from okrbridge.domain import Reading
from okrbridge.month_series import (
    MonthlyObservations,
    MonthRow,
    MonthSum,
    bound_month,
    month_key,
    month_keys,
    month_start,
    month_sum_of,
    next_month,
    running,
    running_rows,
)
from okrbridge.series import instant, micros
from okrbridge.store.clauses import MONTH_SUM, MONTH_SUM_DUE
from okrbridge.store.engine import SQLITE_BEGIN_OPTION
from okrbridge.store.history_rows import _CHUNK, snapshot_table
from okrbridge.store.series_rows import _KINDS, DetailBook, _columns, _Instants, detail_columns

_ROW_LENGTH = 11
"""The columns of a MonthRow; a stored row is read with its latest observation's details after them."""

REFRESH_BATCH = 2_000
"""Due (subject, month) pairs worked out per write transaction: short enough not to hold up a sync."""


def _observations(conn: Connection, subjects: Sequence[str], first: str, end: str, instants: _Instants,
                  cut: int | None) -> dict[str, dict[str, list[tuple[int, int, float]]]]:
    """Per subject and month of [first, end), its (instant, ref, value) observations, none after
    `cut` (microseconds); months without any are left out."""
    table = snapshot_table()
    keys = month_keys(first, end)
    starts = [micros(month_start(key)) for key in keys]
    low, high = starts[0], micros(month_start(end))
    found: dict[str, dict[str, list[tuple[int, int, float]]]] = defaultdict(lambda: defaultdict(list))
    # a row first seen after `cut` has no observation up to it: not read at all
    seen_by = (() if cut is None else (table.c.taken_at <= instant(cut),))
    for start in range(0, len(subjects), _CHUNK):
        statement = (select(*_columns(table))
                     .where(table.c.subject_id.in_(list(subjects[start:start + _CHUNK])),
                            table.c.value.is_not(None), table.c.confirmed_at >= month_start(first),
                            table.c.taken_at < month_start(end), *seen_by))
        for row_id, subject, taken_at, confirmed_at, value in conn.execute(statement).cursor.fetchall():
            taken, confirmed = instants(taken_at), instants(confirmed_at)
            if low <= taken < high and (cut is None or taken <= cut):
                found[subject][keys[bisect_right(starts, taken) - 1]].append((taken, row_id * _KINDS, value))
            if confirmed > taken and low <= confirmed < high and (cut is None or confirmed <= cut):
                found[subject][keys[bisect_right(starts, confirmed) - 1]].append(
                    (confirmed, row_id * _KINDS + 1, value))
    return found


def _work_out(conn: Connection, pairs: Iterable[tuple[str, str]], instants: _Instants,
              cut: int | None) -> Iterator[tuple[str, str, MonthSum | None]]:
    """The sums of the observations in each (subject, month), from the rows (None for a month
    without observations)."""
    by_month: dict[str, list[str]] = defaultdict(list)
    for subject, month in pairs:
        by_month[month].append(subject)
    for month, subjects in sorted(by_month.items()):
        found = _observations(conn, subjects, month, next_month(month), instants, cut)
        for subject in subjects:
            yield subject, month, month_sum_of(month, found.get(subject, {}).get(month, ()))


def running_from_rows(conn: Connection, subjects: Sequence[str], first: str, end: str,
                      before: dict[str, MonthRow], instants: _Instants,
                      cut: int | None) -> dict[str, list[MonthRow]]:
    """Per subject, the running rows of its months in [first, end) with observations up to `cut`,
    worked out from the snapshot rows on top of `before` (its running row before `first`, if any)."""
    found = _observations(conn, subjects, first, end, instants, cut)
    return {subject: running_rows(subject, before.get(subject),
                                  [_month_sum(month, points) for month, points in sorted(months.items())])
            for subject, months in found.items()}


def _month_sum(month: str, points: list[tuple[int, int, float]]) -> MonthSum:
    """The MonthSum of a month's observations (there is at least one)."""
    each = month_sum_of(month, points)
    assert each is not None
    return each


def _as_row(subject: str, each: MonthSum) -> dict[str, Any]:
    """A month_sum row of a subject's running MonthSum (the sums as decimal text)."""
    sums = each.sums
    return {"subject_id": subject, "month": each.month, "count": sums.count, "sum_x": str(sums.sum_x),
            "sum_xx": str(sums.sum_xx), "sum_y": str(sums.sum_y), "sum_xy": str(sums.sum_xy),
            "exponent": sums.exponent, "nonfinite": sums.nonfinite, "last_at": each.last_at,
            "last_ref": each.last_ref, "last_value": each.last_value}


def _row_columns(sums: TableClause) -> list[Any]:
    """The columns of a MonthRow, in its order."""
    return [sums.c.subject_id, sums.c.month, sums.c.count, sums.c.sum_x, sums.c.sum_xx, sums.c.sum_y,
            sums.c.sum_xy, sums.c.exponent, sums.c.nonfinite, sums.c.last_ref, sums.c.last_value]


def _last_month(*conditions: Any) -> Select[Any]:
    """Per subject, its last month among the stored rows meeting `conditions`."""
    return (select(MONTH_SUM.c.subject_id, func.max(MONTH_SUM.c.month).label("month"))
            .where(*conditions).group_by(MONTH_SUM.c.subject_id))


def _rows_of(months: Any) -> Select[Any]:
    """The stored rows of the (subject_id, month) pairs `months` (a subquery) selects."""
    return select(*_row_columns(MONTH_SUM)).join(
        months, (MONTH_SUM.c.subject_id == months.c.subject_id) & (MONTH_SUM.c.month == months.c.month))


def _latest_rows(conn: Connection, subjects: Sequence[str]) -> dict[str, MonthRow]:
    """Each subject's last stored running row."""
    found: dict[str, MonthRow] = {}
    for start in range(0, len(subjects), _CHUNK):
        latest = _last_month(MONTH_SUM.c.subject_id.in_(list(subjects[start:start + _CHUNK]))).subquery()
        for row in conn.execute(_rows_of(latest)).cursor.fetchall():
            found[row[0]] = row
    return found


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
    """Work out every due month's running sums and store them; how many (subject, month) pairs were due.

    A batch of due pairs at a time, earliest months first, each batch in its own short write
    transaction (see `_writing`): a subject's months are worked out in order, each on top of the
    one before, so the last stored row of a subject is always the base of its next due month.
    """
    done = 0
    sums, due = MONTH_SUM, MONTH_SUM_DUE
    instants = _Instants()
    while True:
        with _writing(engine) as conn:
            pairs = [(row[0], row[1]) for row in conn.execute(
                select(due.c.subject_id, due.c.month).order_by(due.c.month, due.c.subject_id).limit(batch))]
            if not pairs:
                return done
            by_subject: dict[str, list[MonthSum]] = defaultdict(list)
            for subject, _, each in _work_out(conn, pairs, instants, None):
                if each is not None:
                    by_subject[subject].append(each)
            before = _latest_rows(conn, sorted(by_subject))
            rows = [_as_row(subject, each) for subject, months in by_subject.items()
                    for each in running(before.get(subject), months)]  # _work_out gives months in order
            for start in range(0, len(pairs), _CHUNK):
                chunk = pairs[start:start + _CHUNK]
                conn.execute(delete(due).where(tuple_(due.c.subject_id, due.c.month).in_(chunk)))
            if rows:
                conn.execute(insert(sums), rows)
            done += len(pairs)


def _stored_statement(keys: Sequence[str], cut: int, subjects: Sequence[str] | None) -> Select[Any]:
    """The stored running rows a report bounded at months `keys` needs, as of `cut`: per subject, the
    last row (holding nothing after `cut`) before each bound. When every bound after the first is
    the month after the one before (`--nested` over months), that is every such row from the first."""
    sums = MONTH_SUM
    holding = (sums.c.last_at <= cut, *(() if subjects is None else (sums.c.subject_id.in_(list(subjects)),)))

    def last_before(end: str, first: str | None) -> Select[Any]:
        in_range = (sums.c.month < end, *(() if first is None else (sums.c.month >= first,)))
        return _last_month(*in_range, *holding)

    monthly = all(next_month(earlier) == later for earlier, later in pairwise(keys))
    if monthly:
        every = select(*_row_columns(sums)).where(sums.c.month >= keys[0], sums.c.month < keys[-1], *holding)
        parts: list[Select[Any]] = [last_before(keys[0], None)]
    else:
        parts = [last_before(end, first) for first, end in zip([None, *keys], keys, strict=False)]
    picked = _rows_of(union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery())
    rows = (union_all(picked, every) if monthly else picked).subquery("rows")
    # Each row's latest observation comes with what explains it, one primary-key probe per row in
    # the same statement: a grade shows the explanation of a window's latest observation, and the
    # windows end at these rows' months (`--nested` grades 120,000 of them at 10,000 KRs).
    snapshot = snapshot_table()
    return (select(*rows.c, *detail_columns(snapshot))
            .select_from(rows.outerjoin(snapshot, snapshot.c.id == rows.c.last_ref // _KINDS)))


def _pending(conn: Connection, keys: Sequence[str], now: datetime,
             subjects: Sequence[str] | None) -> dict[str, str]:
    """Per subject, the earliest month before the last bound whose running sums cannot be read as
    stored: a due month, or a stored month holding observations after `now`."""
    sums, due = MONTH_SUM, MONTH_SUM_DUE
    only_sums = () if subjects is None else (sums.c.subject_id.in_(list(subjects)),)
    only_due = () if subjects is None else (due.c.subject_id.in_(list(subjects)),)
    pending: dict[str, str] = {}
    statements = (
        select(due.c.subject_id, func.min(due.c.month)).where(due.c.month < keys[-1], *only_due)
        .group_by(due.c.subject_id),
        # a month holding an observation after `now` ends after it: none before the month of `now`
        select(sums.c.subject_id, func.min(sums.c.month))
        .where(sums.c.month >= month_key(now), sums.c.month < keys[-1], sums.c.last_at > micros(now),
               *only_sums)
        .group_by(sums.c.subject_id),
    )
    for statement in statements:
        for subject, month in conn.execute(statement).cursor.fetchall():
            pending[subject] = min(month, pending.get(subject, month))
    return pending


def read_month_series(engine: Engine, subject_ids: Sequence[str], bounds: Sequence[datetime],
                      now: datetime, book: DetailBook) -> dict[str, MonthlyObservations]:
    """Each subject's running month sums for windows bounded at `bounds` (month starts), holding the
    observations up to `now`, as MonthlyObservations (subjects with none are left out).

    Stored rows are read where they can be (see `_stored_statement`); from a subject's earliest
    pending month (see `_pending`) on, its months are worked out from the snapshot rows — from the
    first bound on, on top of nothing, when that month comes before it (no window starts earlier,
    so only differences from there on are asked). One transaction (on PostgreSQL repeatable read)
    sees one state of the store for all of it.
    """
    keys = sorted({bound_month(bound) for bound in bounds})
    if not keys:
        return {}
    cut = micros(now)
    instants = _Instants()
    found: dict[str, list[MonthRow]] = defaultdict(list)
    worked_out: list[MonthRow] = []
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # one statement for the whole store when most of it is wanted (a catalog's every KR),
            # else a chunk of subjects per statement; rows of other subjects are left out
            whole = len(subject_ids) > _CHUNK
            wanted = set(subject_ids)
            for start in range(0, len(subject_ids), len(subject_ids) if whole else _CHUNK):
                chunk = None if whole else subject_ids[start:start + _CHUNK]
                # the pending months are read first: a month written after the stored rows are read
                # is then pending, and a row deleted in between is worked out from the rows
                pending = {subject: month for subject, month in _pending(conn, keys, now, chunk).items()
                           if subject in wanted}
                stored = sorted(conn.execute(_stored_statement(keys, cut, chunk)).cursor.fetchall(),
                                key=itemgetter(0, 1))
                book.keep(row[_ROW_LENGTH:] for row in stored if row[_ROW_LENGTH] is not None)
                for subject, rows in groupby(stored, key=itemgetter(0)):
                    if subject in wanted:
                        found[subject].extend(row[:_ROW_LENGTH] for row in rows)
                worked_out.extend(_work_out_pending(conn, pending, keys, found, instants, cut))
    # what a window ending in a worked-out month shows, read in a few statements
    book.prefetch(row[9] for row in worked_out)  # each month's latest observation
    return {subject: MonthlyObservations(rows, bounds, now, _reader(book, subject))
            for subject, rows in found.items() if rows}


def _work_out_pending(conn: Connection, pending: dict[str, str], keys: Sequence[str],
                      found: dict[str, list[MonthRow]], instants: _Instants, cut: int) -> list[MonthRow]:
    """Add to `found` the running rows of each pending subject's months from its pending month on,
    worked out from the snapshot rows (see `read_month_series`); the rows added."""
    by_first: dict[str, list[str]] = defaultdict(list)
    before: dict[str, MonthRow] = {}
    for subject, month in pending.items():
        # the stored rows read of a pending subject all lie before its pending month (see the
        # module's doc), so the last of them is the base its worked-out months add up on
        rows = found.get(subject)
        if month < keys[0]:
            found.pop(subject, None)  # worked out from the first bound, on top of nothing
        elif rows:
            before[subject] = rows[-1]
        by_first[max(month, keys[0])].append(subject)
    added: list[MonthRow] = []
    for first, subjects in by_first.items():
        worked_out = running_from_rows(conn, subjects, first, keys[-1], before, instants, cut)
        for subject, rows in worked_out.items():
            found[subject].extend(rows)
            added.extend(rows)
    return added


def _reader(book: DetailBook, subject_id: str) -> Callable[[int, float], Reading]:
    """How a subject's MonthlyObservations make the Reading of a stored observation."""
    def reading(ref: int, value: float) -> Reading:
        return book.reading_at(subject_id, ref, value)
    return reading


__all__ = ["REFRESH_BATCH", "read_month_series", "refresh_month_sums", "running_from_rows"]
