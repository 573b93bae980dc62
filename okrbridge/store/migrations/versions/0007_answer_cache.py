"""Jira's answers and scope baselines, for the steady-state sync.

Revision ID: 0007_answer_cache
Revises: 0006_owner_notices
Create Date: 2026-12-01

`jira_answer` keeps the last answer to each distinct sync question; `jira_scope` the issue total
of each set of projects and when it was probed. Both are a cache of Jira: dropping them costs one
full sync, never a value (the downgrade drops them).

Written with plain SQLAlchemy types (never the application's) so this revision means the same
thing forever.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_answer_cache"
down_revision: str | Sequence[str] | None = "0006_owner_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create jira_answer and jira_scope."""
    op.create_table(
        "jira_answer",
        sa.Column("question", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("question", name=op.f("pk_jira_answer")),
    )
    op.create_table(
        "jira_scope",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("probed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_jira_scope")),
    )


def downgrade() -> None:
    """Drop both tables (a cache: the next sync asks everything again)."""
    op.drop_table("jira_scope")
    op.drop_table("jira_answer")
