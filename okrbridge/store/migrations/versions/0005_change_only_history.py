"""Change-only history: a snapshot holds a value from first seen (taken_at) to last confirmed.

Revision ID: 0005_change_only_history
Revises: 0004_run_owner
Create Date: 2026-11-30

Adds `snapshot.confirmed_at` (when a sync last found the value unchanged; `taken_at` until then)
and `snapshot.confirmed_run_id`, and the indexes the as-of reads use.

Existing history is converted without changing any answer it gave. The store now reads a row as
two observations, at `taken_at` and at `confirmed_at`, so two consecutive sync readings of a
subject with the same value, score, source and explanation (the time of asking aside), taken at
different instants, are exactly one row first seen at the first and confirmed at the second.
Only such pairs are collapsed: folding a third reading in would drop an observation that trends
and forecasts are fitted through. Check-ins are kept as they are (explanations may name them by id).
The downgrade writes each confirmation back as a row of its own.

Self-contained on purpose (plain SQLAlchemy, no application imports), so it means the same forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005_change_only_history"
down_revision: str | Sequence[str] | None = "0004_run_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME_OF_ASKING = "queried_at"

_snapshot = sa.table(
    "snapshot",
    sa.column("id", sa.Integer()),
    sa.column("subject_id", sa.String()),
    sa.column("subject_kind", sa.String()),
    sa.column("taken_at", sa.DateTime(timezone=True)),
    sa.column("confirmed_at", sa.DateTime(timezone=True)),
    sa.column("value", sa.Float()),
    sa.column("score", sa.Float()),
    sa.column("source_kind", sa.String()),
    sa.column("source_detail", sa.JSON()),
    sa.column("sync_run_id", sa.Integer()),
    sa.column("confirmed_run_id", sa.Integer()),
    sa.column("note", sa.Text()),
    sa.column("author", sa.String()),
)


def _iso(value: datetime) -> str:
    """A stored time as the ISO text the sync wrote into explanations (aware UTC)."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.isoformat()


def _retimed(detail: Any, first: str, at: str) -> Any:
    """`detail` with every time of asking equal to `first` (at any depth) replaced by `at`."""
    if isinstance(detail, dict):
        return {
            k: at if k == _TIME_OF_ASKING and v == first else _retimed(v, first, at)
            for k, v in detail.items()
        }
    if isinstance(detail, list):
        return [_retimed(item, first, at) for item in detail]
    return detail


def _comparable(row: Any) -> tuple[Any, ...]:
    """What must be equal for a reading to be a confirmation of the one before it."""
    detail = _retimed(row.source_detail or {}, _iso(row.taken_at), "")
    return (row.subject_id, row.subject_kind, row.value, row.score, row.source_kind, detail, row.note,
            row.author)


def _pairs_to_collapse(connection: sa.Connection) -> list[tuple[int, int]]:
    """(kept id, absorbed id) for every collapsible pair, read in one ordered pass."""
    rows = connection.execute(
        sa.select(_snapshot).order_by(_snapshot.c.subject_id, _snapshot.c.taken_at, _snapshot.c.id)
    )
    pairs: list[tuple[int, int]] = []
    open_row: Any = None  # the previous sync reading, while it has absorbed nothing yet
    open_key: tuple[Any, ...] | None = None
    for row in rows:
        key = _comparable(row) if row.sync_run_id is not None else None
        if (
            key is not None
            and open_row is not None
            and key == open_key
            and row.taken_at > open_row.taken_at
        ):
            pairs.append((open_row.id, row.id))
            open_row, open_key = None, None
            continue
        open_row, open_key = (row, key) if key is not None else (None, None)
    return pairs


def upgrade() -> None:
    """Add the confirmation columns, collapse identical pairs, then require confirmed_at."""
    with op.batch_alter_table("snapshot") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("confirmed_run_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_snapshot_confirmed_run_id_sync_run"), "sync_run", ["confirmed_run_id"], ["id"]
        )
    connection = op.get_bind()
    connection.execute(sa.update(_snapshot).values(confirmed_at=_snapshot.c.taken_at))
    pairs = _pairs_to_collapse(connection)
    absorbed = _snapshot.alias("absorbed")
    for start in range(0, len(pairs), 1000):
        chunk = pairs[start:start + 1000]
        connection.execute(
            sa.update(_snapshot)
            .where(_snapshot.c.id == sa.bindparam("kept"))
            .values(
                confirmed_at=sa.select(absorbed.c.taken_at)
                .where(absorbed.c.id == sa.bindparam("gone"))
                .scalar_subquery(),
                confirmed_run_id=sa.select(absorbed.c.sync_run_id)
                .where(absorbed.c.id == sa.bindparam("gone"))
                .scalar_subquery(),
            ),
            [{"kept": kept, "gone": gone} for kept, gone in chunk],
        )
        connection.execute(
            sa.delete(_snapshot).where(_snapshot.c.id.in_([gone for _, gone in chunk]))
        )
    with op.batch_alter_table("snapshot") as batch:
        batch.alter_column("confirmed_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index("ix_snapshot_subject_id_confirmed_at", "snapshot", ["subject_id", "confirmed_at"])
    op.create_index(op.f("ix_snapshot_confirmed_at"), "snapshot", ["confirmed_at"])


def downgrade() -> None:
    """Write each confirmation back as a reading of its own, then drop the columns."""
    connection = op.get_bind()
    confirmed = connection.execute(
        sa.select(_snapshot).where(_snapshot.c.confirmed_at > _snapshot.c.taken_at).order_by(_snapshot.c.id)
    ).all()
    copies = [
        {
            "subject_id": row.subject_id,
            "subject_kind": row.subject_kind,
            "taken_at": row.confirmed_at,
            "confirmed_at": row.confirmed_at,
            "value": row.value,
            "score": row.score,
            "source_kind": row.source_kind,
            "source_detail": _retimed(row.source_detail or {}, _iso(row.taken_at), _iso(row.confirmed_at)),
            "sync_run_id": row.confirmed_run_id,
            "note": row.note,
            "author": row.author,
        }
        for row in confirmed
    ]
    if copies:
        connection.execute(sa.insert(_snapshot), copies)
    op.drop_index(op.f("ix_snapshot_confirmed_at"), table_name="snapshot")
    op.drop_index("ix_snapshot_subject_id_confirmed_at", table_name="snapshot")
    with op.batch_alter_table("snapshot") as batch:
        batch.drop_constraint(op.f("fk_snapshot_confirmed_run_id_sync_run"), type_="foreignkey")
        batch.drop_column("confirmed_run_id")
        batch.drop_column("confirmed_at")
