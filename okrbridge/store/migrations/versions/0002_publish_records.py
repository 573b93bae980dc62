"""Publish records: what okrbridge last wrote to each Confluence page.

Revision ID: 0002_publish_records
Revises: 0001
Create Date: 2026-11-30

Plain SQLAlchemy types, as in 0001; tests/store checks the result matches okrbridge.store.tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_publish_records"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the publish_record table and its page-id index."""
    op.create_table(
        "publish_record",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("page_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_publish_record")),
    )
    op.create_index(op.f("ix_publish_record_page_id"), "publish_record", ["page_id"], unique=False)


def downgrade() -> None:
    """Drop the publish_record table (its index goes with it)."""
    op.drop_table("publish_record")
