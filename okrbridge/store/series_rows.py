"""The readings of many subjects as `Series` (compact arrays), for `grades` at scale.

`history_rows.read_readings` turns every observation into a `Reading`; at 10,000 KRs over a year of
hourly syncs that is millions of objects, each holding its explanation's JSON. Here the database
is asked for five narrow columns only (id, subject, first seen, last confirmed, value) — the same
rows and observations `read_readings` gives, without the ones that have no value, which grading
skips — read from the covering index a chunk of subjects at a time, straight from the driver's
cursor, put in grading's order per subject, and instants are kept as microseconds. The
explanation of an observation is read by id only when the grade uses it: `DetailBook.prefetch`
reads the ones a report will need in a few statements, and anything else is read on first use.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import chain, compress, repeat
from operator import add, and_, gt, lt, mul, ne
from typing import Any

from sqlalchemy import Engine, String, Text, bindparam, cast, column, select, text, type_coerce

from okrbridge.domain import Reading
from okrbridge.series import Series, micros
from okrbridge.store.history_rows import _CHUNK, Moments, _explained, snapshot_table

_KINDS = 2
"""Observation refs are `row id * 2 + kind`: kind 0 is first seen (taken_at), 1 last confirmed."""


class DetailBook:
    """The explanations of the observations a grade reads, loaded by row id and kept."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # rows as the driver gives them (see `detail_columns`), by row id: times are converted
        # when a reading is made, each distinct one once
        self._rows: dict[int, Sequence[Any]] = {}
        self._readings: dict[int, Reading] = {}
        self._moments = Moments()

    def prefetch(self, refs: Iterable[int]) -> None:
        """Read the rows of these stored observations (row id * 2 + kind) not yet read, in chunks."""
        rows = {ref // _KINDS for ref in refs}
        wanted = sorted(rows - self._rows.keys())
        table = snapshot_table()
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                statement = select(*detail_columns(table)).where(table.c.id.in_(chunk))
                self.keep(conn.execute(statement).cursor.fetchall())

    def keep(self, rows: Iterable[Sequence[Any]]) -> None:
        """Keep rows read elsewhere, columns as `detail_columns` gives them (a statement that reads
        observations may read their details in the same pass; see month_sums.read_month_series)."""
        self._rows.update((row[0], row) for row in rows)

    def reading_at(self, subject_id: str, ref: int, value: float) -> Reading:
        """The stored observation `ref` (row id * 2 + kind) of a subject as the Reading `read_readings`
        makes of it."""
        made = self._readings.get(ref)
        if made is not None:  # a reading graded in several periods is made (and explained) once
            return made
        row_id, kind = divmod(ref, _KINDS)
        if row_id not in self._rows:
            self.prefetch([ref])
        _, taken, confirmed, source_kind, detail, note, author = self._rows[row_id]
        moment = self._moments
        retime = (moment.iso(taken), moment.iso(confirmed)) if kind else None
        made = self._readings[ref] = Reading(
            subject_id, moment(confirmed if kind else taken), value,
            _explained(detail, source_kind, note, author, retime))
        return made


def detail_columns(table: Any) -> list[Any]:
    """What explains a snapshot row, as `DetailBook.keep` takes it: id, first seen, last confirmed (times
    as the driver gives them, each distinct one converted once; see Moments), source kind, the
    explanation's JSON text, note, author."""
    return [table.c.id, type_coerce(table.c.taken_at, String), type_coerce(table.c.confirmed_at, String),
            table.c.source_kind, cast(table.c.source_detail, Text), table.c.note, table.c.author]


class _Instants:
    """Stored times as microseconds since the epoch, each distinct one converted once (see Moments)."""

    def __init__(self) -> None:
        self.seen: dict[Any, int] = {}
        self._moments = Moments()

    def __call__(self, stored: Any) -> int:
        """The microseconds since the epoch of one stored time (naive means UTC)."""
        found = self.seen.get(stored)
        if found is None:
            found = self.seen[stored] = micros(self._moments(stored))
        return found


def _columns(table: Any) -> list[Any]:
    """id, subject, first seen, last confirmed, value: times as the driver gives them (no conversion)."""
    return [table.c.id, table.c.subject_id, type_coerce(table.c.taken_at, String).label("taken"),
            type_coerce(table.c.confirmed_at, String).label("confirmed"), table.c.value]


def _last_before(subject_ids: Sequence[str], since: datetime, until: datetime | None) -> Any:
    """Per subject, its last valued row confirmed before `since` (by confirmed_at, then id): one
    index probe each on (subject_id, confirmed_at), however long the history before it is."""
    table, probe = snapshot_table(), snapshot_table().alias("probe")
    # A VALUES list names its column column1 on SQLite and PostgreSQL alike.
    names = [f"subject_{i}" for i in range(len(subject_ids))]
    wanted = (text("VALUES " + ", ".join(f"(:{name})" for name in names))
              .bindparams(*(bindparam(n, v, type_=String) for n, v in zip(names, subject_ids, strict=True)))
              .columns(column("column1", String)).subquery("wanted"))
    last = (select(probe.c.id)
            .where(probe.c.subject_id == wanted.c.column1, probe.c.confirmed_at < since,
                   probe.c.value.is_not(None), *([probe.c.taken_at < until] if until is not None else []))
            .order_by(probe.c.confirmed_at.desc(), probe.c.id.desc()).limit(1)
            .correlate(wanted).scalar_subquery())
    return select(*_columns(table)).where(table.c.id.in_(select(last).select_from(wanted)))


def _inside(subject_ids: Sequence[str], since: datetime | None, until: datetime | None) -> Any:
    """The subjects' valued rows with an observation in [since, until), each subject's together
    (answered from the covering (subject_id, confirmed_at, ...) index)."""
    table = snapshot_table()
    inside = select(*_columns(table)).where(table.c.subject_id.in_(list(subject_ids)),
                                           table.c.value.is_not(None))
    if until is not None:
        inside = inside.where(table.c.taken_at < until)
    if since is not None:
        inside = inside.where(table.c.confirmed_at >= since)
    return inside.order_by(table.c.subject_id)


def _runs(subjects: Sequence[str]) -> Iterator[tuple[int, int]]:
    """The [start, stop) of each run of equal subjects in a column grouped by subject."""
    count = len(subjects)
    starts = [0, *compress(range(1, count), map(ne, subjects[1:], subjects[:-1]))]
    return zip(starts, [*starts[1:], count], strict=True)


def _series(book: DetailBook, subject_id: str, rows: Sequence[Sequence[Any]], seen: dict[Any, int],
            cut: int | None) -> Series:
    """One subject's rows (columns as `_columns`) as its series of observations in grading's order:
    by instant, then row id, first seen before last confirmed."""
    ids, _, taken, confirmed, values = zip(*rows, strict=True)
    firsts = list(map(seen.__getitem__, taken))
    lasts = list(map(seen.__getitem__, confirmed))
    # The last confirmation is an observation of its own once a later sync confirmed the value.
    later = map(gt, lasts, firsts)
    if cut is not None:
        later = map(and_, later, map(lt, lasts, repeat(cut)))
    keep = list(chain.from_iterable(zip(repeat(True), later)))
    first_refs = list(map(mul, ids, repeat(_KINDS)))
    last_refs = list(map(add, first_refs, repeat(1)))
    times = list(compress(chain.from_iterable(zip(firsts, lasts, strict=True)), keep))
    refs = list(compress(chain.from_iterable(zip(first_refs, last_refs, strict=True)), keep))
    kept = list(compress(chain.from_iterable(zip(values, values, strict=True)), keep))
    if not all(map(lt, times[:-1], times[1:])):  # rows overlap (a check-in dated into a confirmed span)
        order = sorted(range(len(times)), key=lambda i: (times[i], refs[i]))
        times, refs, kept = [times[i] for i in order], [refs[i] for i in order], [kept[i] for i in order]
    stored_refs = array("q", refs)
    stored = array("d", kept)
    return Series(array("q", times), stored, lambda i: book.reading_at(subject_id, stored_refs[i], stored[i]),
                  stored_refs)


def read_series(engine: Engine, subject_ids: Sequence[str], since: datetime | None,
                until: datetime | None, book: DetailBook | None = None,
                ) -> tuple[dict[str, Series], DetailBook]:
    """The valued observations of `subject_ids` in [since, until) and the last value of each before
    `since`, and the book their explanations are read through (subjects with none are left out;
    `book`, when given, is the one used).

    The rows come straight from the driver's cursor (no result processing per row), since there
    are millions of them, a chunk of subjects at a time; each distinct stored instant is parsed
    once (`_Instants`) and a subject's series is built with C-level maps, not a loop per row.
    """
    book = book if book is not None else DetailBook(engine)
    instant_of = _Instants()
    seen = instant_of.seen
    cut = micros(until) if until is not None else None
    found: dict[str, Series] = {}
    with engine.connect() as conn:
        for start in range(0, len(subject_ids), _CHUNK):
            chunk = subject_ids[start:start + _CHUNK]
            before: dict[str, Sequence[Any]] = {}
            if since is not None:
                last_rows = conn.execute(_last_before(chunk, since, until)).cursor.fetchall()
                before = {row[1]: row for row in last_rows}
            rows = conn.execute(_inside(chunk, since, until)).cursor.fetchall()
            stamps = {row[2] for row in rows} | {row[3] for row in rows}
            stamps.update(t for row in before.values() for t in row[2:4])
            for stamp in stamps - seen.keys():
                instant_of(stamp)
            subjects = [row[1] for row in rows]
            for low, high in _runs(subjects) if rows else ():
                subject = subjects[low]
                earlier = before.pop(subject, None)
                run = [earlier, *rows[low:high]] if earlier is not None else rows[low:high]
                found[subject] = _series(book, subject, run, seen, cut)
            for subject, earlier in before.items():  # nothing since the window opened
                found[subject] = _series(book, subject, [earlier], seen, cut)
    return found, book


__all__ = ["DetailBook", "detail_columns", "read_series"]
