"""Run owner: the host and process id of a sync run, and the "abandoned" status.

Revision ID: 0004_run_owner
Revises: 0003_leader_lease
Create Date: 2026-12-02

A run whose process died (kill -9, a lost container) stays "running" forever unless someone can tell
it is dead: its host and pid say which process to look for, and the next sync closes it as
"abandoned". Plain SQLAlchemy types only, like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_run_owner"
down_revision: str | Sequence[str] | None = "0003_leader_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = "status IN ('running', 'succeeded', 'partial', 'failed')"
_AFTER = "status IN ('running', 'succeeded', 'partial', 'failed', 'abandoned')"


def upgrade() -> None:
    """Add sync_run.host and sync_run.pid; allow the "abandoned" status."""
    with op.batch_alter_table("sync_run") as batch:
        batch.add_column(sa.Column("host", sa.String(), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.drop_constraint(op.f("ck_sync_run_status"), type_="check")
        batch.create_check_constraint(op.f("ck_sync_run_status"), _AFTER)


def downgrade() -> None:
    """Drop the owner columns; abandoned runs become failed ones (the older status set)."""
    op.execute("UPDATE sync_run SET status = 'failed' WHERE status = 'abandoned'")
    with op.batch_alter_table("sync_run") as batch:
        batch.drop_constraint(op.f("ck_sync_run_status"), type_="check")
        batch.create_check_constraint(op.f("ck_sync_run_status"), _BEFORE)
        batch.drop_column("pid")
        batch.drop_column("host")
