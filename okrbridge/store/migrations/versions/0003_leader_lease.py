"""The daemons' leader lease: one row per lease name, with its owner and expiry.

Revision ID: 0003_leader_lease
Revises: 0002_publish_records
Create Date: 2026-11-30

Written with plain SQLAlchemy types (never the application's) so this revision means the same
thing forever; tests/store checks the migrated schema matches okrbridge.store.tables exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_leader_lease"
down_revision: str | Sequence[str] | None = "0002_publish_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the leader_lease table."""
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leader_lease")),
    )


def downgrade() -> None:
    """Drop the leader_lease table."""
    op.drop_table("leader_lease")
