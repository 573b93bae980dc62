"""What silent key results' owners were told (one row per KR and silence), and an index on
snapshot.confirmed_run_id.

Revision ID: 0006_owner_notices
Revises: 0005_change_only_history
Create Date: 2026-12-01

The index serves the foreign key: without it, deleting a sync run (compaction deletes the old
ones nothing refers to) makes SQLite and PostgreSQL scan every snapshot for readings it confirmed,
70 ms a run at 450,000 readings; with it, a lookup. It costs a sync's confirmations about a
fifth more index work.

Written with plain SQLAlchemy types (never the application's) so this revision means the same
thing forever; tests/store checks the migrated schema matches okrbridge.store.tables exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_owner_notices"
down_revision: str | Sequence[str] | None = "0005_change_only_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the owner_notice table and index snapshot.confirmed_run_id."""
    op.create_index(op.f("ix_snapshot_confirmed_run_id"), "snapshot", ["confirmed_run_id"])
    op.create_table(
        "owner_notice",
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("silent_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("epic_key", sa.String(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment_id", sa.String(), nullable=True),
        sa.CheckConstraint("state IN ('telling', 'told', 'listed')", name=op.f("ck_owner_notice_state")),
        sa.ForeignKeyConstraint(["subject_id"], ["key_result.id"],
                                name=op.f("fk_owner_notice_subject_id_key_result")),
        sa.PrimaryKeyConstraint("subject_id", "silent_since", name=op.f("pk_owner_notice")),
    )


def downgrade() -> None:
    """Drop the owner_notice table and the index."""
    op.drop_table("owner_notice")
    op.drop_index(op.f("ix_snapshot_confirmed_run_id"), table_name="snapshot")
