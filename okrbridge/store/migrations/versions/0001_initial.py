"""Initial schema: catalog, sync runs, snapshots, subject state, initiatives.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written with plain SQLAlchemy types (never the application's) so this revision means the same
thing forever; tests/store checks it matches okrbridge.store.tables exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column[object]:
    """A UTC timestamp column (timestamptz on PostgreSQL; naive-UTC text on SQLite)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _lifecycle() -> list[sa.Column[object]]:
    """The created/updated/archived columns every catalog table has."""
    return [_utc("created_at", False), _utc("updated_at", False), _utc("archived_at", True)]


def upgrade() -> None:
    """Create every store table with its keys, checks and indexes."""
    op.create_table(
        "objective",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("cycle", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("team", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("parent", sa.String(), nullable=True),
        sa.Column("visible_to", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        *_lifecycle(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objective")),
    )
    op.create_table(
        "kpi",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("team", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("visible_to", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("source_kind", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        *_lifecycle(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi")),
    )
    op.create_table(
        "key_result",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("objective_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("measure_kind", sa.String(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("source_kind", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        *_lifecycle(),
        sa.ForeignKeyConstraint(
            ["objective_id"], ["objective.id"], name=op.f("fk_key_result_objective_id_objective")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_result")),
    )
    op.create_index(op.f("ix_key_result_objective_id"), "key_result", ["objective_id"])
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        _utc("started_at", False),
        _utc("finished_at", True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("deployment", sa.String(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'partial', 'failed')", name=op.f("ck_sync_run_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("subject_kind", sa.String(), nullable=False),
        _utc("taken_at", False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("source_kind", sa.String(), nullable=False),
        sa.Column("source_detail", sa.JSON(), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("author", sa.String(), nullable=True),
        sa.CheckConstraint("subject_kind IN ('kr', 'kpi')", name=op.f("ck_snapshot_subject_kind")),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_run.id"], name=op.f("fk_snapshot_sync_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot")),
    )
    op.create_index("ix_snapshot_subject_id_taken_at", "snapshot", ["subject_id", "taken_at"])
    op.create_index(op.f("ix_snapshot_sync_run_id"), "snapshot", ["sync_run_id"])
    op.create_table(
        "subject_state",
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("subject_kind", sa.String(), nullable=False),
        _utc("last_success_at", True),
        _utc("last_attempt_at", True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("last_sync_run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("subject_kind IN ('kr', 'kpi')", name=op.f("ck_subject_state_subject_kind")),
        sa.ForeignKeyConstraint(
            ["last_sync_run_id"], ["sync_run.id"], name=op.f("fk_subject_state_last_sync_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_state")),
    )
    op.create_table(
        "initiative",
        sa.Column("epic_key", sa.String(), nullable=False),
        sa.Column("kr_id", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_category", sa.String(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("children_done", sa.Integer(), nullable=False),
        sa.Column("children_total", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("last_sync_run_id", sa.Integer(), nullable=True),
        _utc("synced_at", False),
        _utc("removed_at", True),
        sa.ForeignKeyConstraint(["kr_id"], ["key_result.id"], name=op.f("fk_initiative_kr_id_key_result")),
        sa.ForeignKeyConstraint(
            ["last_sync_run_id"], ["sync_run.id"], name=op.f("fk_initiative_last_sync_run_id_sync_run")
        ),
        sa.PrimaryKeyConstraint("epic_key", "kr_id", name=op.f("pk_initiative")),
    )
    op.create_index(op.f("ix_initiative_kr_id"), "initiative", ["kr_id"])


def downgrade() -> None:
    """Drop every store table (and its data), children before parents."""
    for table in ("initiative", "subject_state", "snapshot", "sync_run", "key_result", "kpi", "objective"):
        # Dropping a table drops its indexes too, on SQLite and PostgreSQL alike.
        op.drop_table(table)
