"""What silent key results' owners were told, so each silence is told once, across restarts and hosts.

A silence is (KR, `silent_since`). Telling it goes claim → send → record:

- `claim_notice` inserts the silence as "telling" (INSERT ... ON CONFLICT DO NOTHING: of two
  claimants the database lets one in), or takes over a claim left "telling" past `CLAIM_EXPIRY`
  by a process that died mid-way (a guarded UPDATE). Any other row means told, listed or being told.
- `record_told` turns the claim into "told" with the comment's id; `release_notice` deletes it when
  Jira refused the comment, so the next run tries again.
- `record_listed` stores a KR with no epic as "listed" (it was named in the log instead), once.

A process killed between Jira's answer and `record_told` leaves a claim that is taken over after
`CLAIM_EXPIRY`, so that one silence may be told a second time: the one case where at most once
gives way to at least once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import CursorResult

from okrbridge.store.repository import Store
from okrbridge.store.run_rows import _insert_statement, _table
from okrbridge.store.tables import NoticeState, OwnerNoticeRow

CLAIM_EXPIRY = timedelta(minutes=15)
"""A claim older than this was left by a process that died while telling; another may take it."""


@dataclass(frozen=True)
class OwnerNotice:
    """One silence of a KR and what was done about it."""

    subject_id: str
    silent_since: datetime
    state: NoticeState
    owner: str | None
    epic_key: str | None
    message: str
    claimed_by: str
    claimed_at: datetime
    told_at: datetime | None
    comment_id: str | None


def _notices() -> Any:
    """The owner_notice table for Core statements."""
    return _table(OwnerNoticeRow.__tablename__)


def _insert(store: Store, values: dict[str, Any]) -> bool:
    """Insert a notice unless its silence has one already; whether it went in."""
    table = _notices()
    with store.session(write=True) as session:
        inserted = session.execute(
            _insert_statement(session, table).values(**values)
            .on_conflict_do_nothing(index_elements=[table.c.subject_id, table.c.silent_since])
            .returning(table.c.subject_id)).first()
    return inserted is not None


def claim_notice(store: Store, subject_id: str, silent_since: datetime, *, owner: str | None, epic_key: str,
                 message: str, claimed_by: str, now: datetime) -> bool:
    """Claim telling this silence on `epic_key` for `claimed_by`; False when it is told or being told."""
    values = {"subject_id": subject_id, "silent_since": silent_since, "state": NoticeState.TELLING.value,
              "owner": owner, "epic_key": epic_key, "message": message, "claimed_by": claimed_by,
              "claimed_at": now}
    if _insert(store, values):
        return True
    table = _notices()
    with store.session(write=True) as session:
        taken = cast(CursorResult[Any], session.execute(
            update(table).where(and_(table.c.subject_id == subject_id, table.c.silent_since == silent_since,
                                     table.c.state == NoticeState.TELLING.value,
                                     table.c.claimed_at < now - CLAIM_EXPIRY))
            .values(owner=owner, epic_key=epic_key, message=message, claimed_by=claimed_by, claimed_at=now)))
        return taken.rowcount == 1


def record_told(store: Store, subject_id: str, silent_since: datetime, *, claimed_by: str, comment_id: str,
                now: datetime) -> None:
    """The claimed silence was told: Jira added comment `comment_id`."""
    table = _notices()
    with store.session(write=True) as session:
        session.execute(update(table).where(_claimed(table, subject_id, silent_since, claimed_by))
                        .values(state=NoticeState.TOLD.value, told_at=now, comment_id=comment_id))


def release_notice(store: Store, subject_id: str, silent_since: datetime, *, claimed_by: str) -> None:
    """Give a claim up (Jira refused the comment, or the lease was lost): the silence is untold."""
    table = _notices()
    with store.session(write=True) as session:
        session.execute(delete(table).where(_claimed(table, subject_id, silent_since, claimed_by)))


def _claimed(table: Any, subject_id: str, silent_since: datetime, claimed_by: str) -> Any:
    """The condition matching this claimant's claim on this silence."""
    return and_(table.c.subject_id == subject_id, table.c.silent_since == silent_since,
                table.c.state == NoticeState.TELLING.value, table.c.claimed_by == claimed_by)


def record_listed(store: Store, subject_id: str, silent_since: datetime, *, owner: str | None, message: str,
                  claimed_by: str, now: datetime) -> bool:
    """Record that this silence of a KR with no epic was listed in the log; False when it was already."""
    return _insert(store, {"subject_id": subject_id, "silent_since": silent_since,
                           "state": NoticeState.LISTED.value, "owner": owner, "epic_key": None,
                           "message": message, "claimed_by": claimed_by, "claimed_at": now, "told_at": now})


def owner_notices(store: Store, subject_ids: Iterable[str] | None = None) -> list[OwnerNotice]:
    """The silences recorded (optionally of some KRs only), by KR and then time."""
    table = _notices()
    statement = select(table).order_by(table.c.subject_id, table.c.silent_since)
    if subject_ids is not None:
        statement = statement.where(table.c.subject_id.in_(list(subject_ids)))
    with store.session() as session:
        return [OwnerNotice(row.subject_id, row.silent_since, NoticeState(row.state), row.owner, row.epic_key,
                            row.message, row.claimed_by, row.claimed_at, row.told_at, row.comment_id)
                for row in session.execute(statement)]


def settled_silences(store: Store, subject_ids: Iterable[str], now: datetime) -> set[tuple[str, datetime]]:
    """The (KR, silent since) among these KRs that were told or listed, or are being told (a claim
    not yet past `CLAIM_EXPIRY`)."""
    return {(notice.subject_id, notice.silent_since) for notice in owner_notices(store, subject_ids)
            if notice.state is not NoticeState.TELLING or notice.claimed_at >= now - CLAIM_EXPIRY}
