"""Change-only history as rows: which stored reading a new value confirms, and as-of reads.

A snapshot row is a value that held from `taken_at` (first seen) to `confirmed_at` (last found
unchanged). Grading sees each row as its observations: one at `taken_at` and, once a later sync
confirmed it, one at `confirmed_at` (same value, same explanation). That is exactly what a store
that added a row per sync would have shown at those two instants, so a database migrated by
collapsing a pair of identical rows answers every question as before.

Reads are plain Core rows (no ORM object per row); the explanation JSON of a reading is decoded
only when something looks at it (`Reading.explanation`), which grading does for the one reading it
grades.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, TableClause, Text, cast, func, select, union_all

from okrbridge.cycles import as_utc
from okrbridge.domain import Reading
from okrbridge.explanation import Explanation
from okrbridge.store.clauses import SNAPSHOT
from okrbridge.store.convert import explanation_of
from okrbridge.store.json_text import loads

if TYPE_CHECKING:
    from sqlmodel import Session

VOLATILE_DETAIL_KEY = "queried_at"
"""The one part of an explanation that names when Jira was asked: not a change of the value.

The sync writes the moment of asking (the reading's own time) there; a confirmation moves
`confirmed_at` instead, and the observation at `confirmed_at` shows that time in its place.
"""

_CHUNK = 500
"""Subject ids per IN (...) list: far below SQLite's and PostgreSQL's bound-parameter limits."""


def snapshot_table() -> TableClause:
    """The snapshot table for Core statements (the lightweight clause: no ORM needed)."""
    return SNAPSHOT


def _retimed(detail: Any, first_seen: str, at: str) -> Any:
    """A copy of `detail` with every `queried_at` equal to `first_seen` (at any depth) replaced by `at`."""
    copied = copy.deepcopy(detail)
    _retime_in_place(copied, first_seen, at)
    return copied


def _retime_in_place(detail: Any, first_seen: str, at: str) -> None:
    """`_retimed` on a structure nobody else holds (just decoded): changed where it is, not copied."""
    if isinstance(detail, dict):
        if detail.get(VOLATILE_DETAIL_KEY) == first_seen:
            detail[VOLATILE_DETAIL_KEY] = at
        # only containers are walked into: an explanation is mostly flat text and numbers
        for value in detail.values():
            if isinstance(value, dict | list):
                _retime_in_place(value, first_seen, at)
    elif isinstance(detail, list):
        for item in detail:
            if isinstance(item, dict | list):
                _retime_in_place(item, first_seen, at)


def observed_detail(detail: Mapping[str, Any], taken_at: datetime, at: datetime) -> Any:
    """The explanation a reading first seen at `taken_at` shows when observed at `at` (its confirmation)."""
    return _retimed(dict(detail), taken_at.isoformat(), at.isoformat())


def comparable_detail(detail: Mapping[str, Any], taken_at: datetime) -> Any:
    """An explanation with the reading's own time of asking blanked, for "is it unchanged?"."""
    return _retimed(dict(detail), taken_at.isoformat(), "")


@dataclass(frozen=True)
class StoredValue:
    """What decides whether a new value merely confirms a stored reading."""

    value: float | None
    score: float | None
    source_kind: str
    detail: Any
    note: str | None = None
    author: str | None = None


def latest_rows(session: Session, subject_ids: Sequence[str]) -> dict[str, Row[Any]]:
    """Each subject's most recent reading (by last observation, then id), as a plain row.

    Selected by the database: a window function ranks each subject's rows, so one statement per
    chunk of ids answers however long the history is (the (subject_id, confirmed_at) index serves it).
    """
    table = snapshot_table()
    found: dict[str, Row[Any]] = {}
    for start in range(0, len(subject_ids), _CHUNK):
        ids = list(subject_ids[start:start + _CHUNK])
        rank = func.row_number().over(
            partition_by=table.c.subject_id, order_by=(table.c.confirmed_at.desc(), table.c.id.desc())
        ).label("rank")
        ranked = select(table, rank).where(table.c.subject_id.in_(ids)).subquery()
        for row in session.execute(select(ranked).where(ranked.c.rank == 1)):
            found[row.subject_id] = row
    return found


def stored_value(row: Row[Any]) -> StoredValue:
    """The comparable form of a stored row."""
    detail = comparable_detail(row.source_detail, row.taken_at)
    return StoredValue(row.value, row.score, row.source_kind, detail, row.note, row.author)


class Moments:
    """Stored times (SQLite's text, PostgreSQL's datetimes) as aware UTC datetimes, as the store's
    UTCDateTime gives them, each distinct one converted once: a year of hourly runs stamps its
    readings with 8,760 instants, and `grades --nested` reads 120,000 rows' two times each."""

    def __init__(self) -> None:
        self.seen: dict[Any, datetime] = {}
        self._isos: dict[Any, str] = {}

    def __call__(self, stored: Any) -> datetime:
        """One stored time as an aware UTC datetime (naive means UTC)."""
        found = self.seen.get(stored)
        if found is None:
            found = self.seen[stored] = as_utc(datetime.fromisoformat(stored) if isinstance(stored, str)
                                               else stored)
        return found

    def iso(self, stored: Any) -> str:
        """One stored time's aware datetime in ISO form (what an explanation's `queried_at` holds;
        formatting an aware datetime takes microseconds, and a year's confirmations share 8,760)."""
        found = self._isos.get(stored)
        if found is None:
            found = self._isos[stored] = self(stored).isoformat()
        return found


def _explained(raw: str | None, source_kind: str, note: str | None, author: str | None,
               retime: tuple[str, str] | None = None) -> Callable[[], Explanation]:
    """A decoder of a reading's explanation from its JSON text, run on first use (see `Reading`).

    For the observation at `confirmed_at`, `retime` (the first-seen and confirmed instants in ISO
    form; a caller converting many keeps each distinct one's) puts that time of asking in place of
    the first.
    """
    def decode() -> Explanation:
        stored = loads(raw) if raw else {}
        if retime is not None:  # the structure was just decoded: nobody else holds it
            _retime_in_place(stored, *retime)
        return explanation_of(stored, source_kind, note, author)
    return decode


def _reading_columns(table: TableClause) -> list[Any]:
    """The columns grading needs, the explanation as raw JSON text (decoded only on use)."""
    return [
        table.c.id, table.c.subject_id, table.c.taken_at, table.c.confirmed_at, table.c.value,
        table.c.source_kind, cast(table.c.source_detail, Text).label("detail_json"),
        table.c.note, table.c.author,
    ]


def _bounded_statements(subject_ids: Sequence[str] | None, since: datetime | None,
                        until: datetime | None) -> Select[Any]:
    """Rows with an observation in [since, until), plus each subject's last valued row before `since`.

    A row observed at or after `since` has `confirmed_at >= since`; the last one before it is the
    row with a value confirmed last before `since` (a window function picks it per subject).
    Together they hold every observation of the window and the value each subject had when the
    window opened.
    """
    table = snapshot_table()
    columns = _reading_columns(table)
    inside = select(*columns)
    if subject_ids is not None:
        inside = inside.where(table.c.subject_id.in_(list(subject_ids)))
    if until is not None:
        inside = inside.where(table.c.taken_at < until)
    if since is None:
        return inside.order_by(table.c.subject_id, table.c.taken_at, table.c.id)
    inside = inside.where(table.c.confirmed_at >= since)
    rank = func.row_number().over(
        partition_by=table.c.subject_id, order_by=(table.c.confirmed_at.desc(), table.c.id.desc())
    ).label("rank")
    # Grading skips a reading without a value (nothing measured), so the last one *with* a value
    # is the one that still grades when the window opens.
    earlier = select(*columns, rank).where(table.c.confirmed_at < since, table.c.value.is_not(None))
    if until is not None:
        earlier = earlier.where(table.c.taken_at < until)
    if subject_ids is not None:
        earlier = earlier.where(table.c.subject_id.in_(list(subject_ids)))
    ranked = earlier.subquery()
    last_before = select(*(ranked.c[c.name] for c in columns)).where(ranked.c.rank == 1)
    combined = union_all(inside, last_before).subquery()
    return select(combined).order_by(combined.c.subject_id, combined.c.taken_at, combined.c.id)


def read_readings(session: Session, subject_ids: Sequence[str] | None, since: datetime | None,
                  until: datetime | None) -> dict[str, list[Reading]]:
    """Readings per subject, one per observation, in time order (ties: stored order).

    The rows come ordered by subject and first-seen time; a subject's observations are then
    sorted once more only because a check-in dated in the past can fall inside a confirmed span.
    """
    chunks: list[Sequence[str] | None] = (
        [None] if subject_ids is None
        else [subject_ids[i:i + _CHUNK] for i in range(0, len(subject_ids), _CHUNK)]
    )
    per_subject: dict[str, list[tuple[datetime, int, int, Reading]]] = {}
    moments = Moments()  # each distinct instant formatted once (see _explained)
    for chunk in chunks:
        if chunk is not None and not chunk:
            continue
        rows = session.execute(_bounded_statements(chunk, since, until))
        for row_id, subject_id, taken_at, confirmed_at, value, source_kind, raw, note, author in rows:
            observations = per_subject.get(subject_id)
            if observations is None:
                observations = per_subject[subject_id] = []
            observations.append((taken_at, row_id, 0, Reading(
                subject_id, taken_at, value, _explained(raw, source_kind, note, author))))
            if confirmed_at > taken_at and (until is None or confirmed_at < until):
                retime = (moments.iso(taken_at), moments.iso(confirmed_at))
                observations.append((confirmed_at, row_id, 1, Reading(
                    subject_id, confirmed_at, value, _explained(raw, source_kind, note, author, retime))))
    result: dict[str, list[Reading]] = {}
    for subject_id, observations in per_subject.items():
        observations.sort(key=_observation_order)
        result[subject_id] = [observation[3] for observation in observations]
    return result


def _observation_order(observation: tuple[datetime, int, int, Reading]) -> tuple[datetime, int, int]:
    """Time, then stored order (row id, first seen before confirmed) among equal times."""
    return observation[0], observation[1], observation[2]
