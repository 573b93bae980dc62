"""The catalog fingerprint (the content hash of the okrs.toml last recorded, and its catalog), and an
index that holds every column `grades` reads.

Revision ID: 0008_catalog_fingerprint
Revises: 0007_answer_cache
Create Date: 2026-12-01

Recording the catalog compares every objective, key result and KPI with its row; at 10,000 key
results that costs seconds on every sync and check-in although the file rarely changes. With the
file's hash stored beside the tables, an unchanged file costs one hash and one SELECT, and a
read-only command takes the validated catalog from the row instead of parsing the file. The table
starts empty: the next command that records fills it.

`grades` reads five narrow columns of each subject's rows confirmed since a cycle's start; from
the index on (subject_id, confirmed_at) each row cost a lookup into the table, whose rows are wide
(the explanation's JSON). The index on (subject_id, confirmed_at, taken_at, value, id) replaces it:
the same searches, answered from the index. Plain SQLAlchemy types, like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_catalog_fingerprint"
down_revision: str | Sequence[str] | None = "0007_answer_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the catalog_fingerprint table (empty); widen the (subject_id, confirmed_at) index so it
    covers what grades read."""
    op.create_table(
        "catalog_fingerprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("catalog", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_fingerprint")),
    )
    op.create_index("ix_snapshot_subject_id_confirmed_at_taken_at_value_id", "snapshot",
                    ["subject_id", "confirmed_at", "taken_at", "value", "id"])
    op.drop_index("ix_snapshot_subject_id_confirmed_at", table_name="snapshot")


def downgrade() -> None:
    """Drop the catalog_fingerprint table; the index on (subject_id, confirmed_at) alone comes back."""
    op.create_index("ix_snapshot_subject_id_confirmed_at", "snapshot", ["subject_id", "confirmed_at"])
    op.drop_index("ix_snapshot_subject_id_confirmed_at_taken_at_value_id", table_name="snapshot")
    op.drop_table("catalog_fingerprint")
