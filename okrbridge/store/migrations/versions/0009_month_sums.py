"""Month sums for `grades`, kept honest by triggers on the snapshot table.

Revision ID: 0009_month_sums
Revises: 0008_catalog_fingerprint
Create Date: 2026-12-01

`month_sum` holds, per subject and UTC month, the exact least-squares sums of its observations and
the latest of them (okrbridge.month_series); a year's grade then reads twelve rows per KR instead
of every observation. `month_sum_due` lists the months whose sums must be worked out again.

Every write to a snapshot row — by a sync, a check-in, compaction, a migration or a hand-written
UPDATE — fires a trigger that deletes the sums of the months the row touched (those of its
`taken_at` and `confirmed_at`, before and after the write) and marks those months due, in the
writer's own transaction. So a sum that exists is never stale, and a reader that finds a month due
works it out from the rows. The upgrade marks every month of the existing history due; the next
sync or check-in works them out (`okrbridge sync` does it after writing). Both tables are derived:
the downgrade drops them and the triggers, and loses nothing.

A later revision that rebuilds the snapshot table on SQLite (a batch "move and copy") drops its
triggers with it and must create them again (`create_triggers` below shows the statements).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_month_sums"
down_revision: str | Sequence[str] | None = "0008_catalog_fingerprint"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_MONTH = "strftime('%Y-%m', {row}.{column})"
_POSTGRES_MONTH = "to_char({row}.{column} AT TIME ZONE 'UTC', 'YYYY-MM')"


def _touch(row: str, month: str, *, sqlite: bool) -> str:
    """The statements that drop and mark due the months row OLD or NEW touches."""
    taken = month.format(row=row, column="taken_at")
    confirmed = month.format(row=row, column="confirmed_at")
    ignore = "INSERT OR IGNORE INTO" if sqlite else "INSERT INTO"
    conflict = "" if sqlite else " ON CONFLICT DO NOTHING"
    return (f"DELETE FROM month_sum WHERE subject_id = {row}.subject_id "
            f"AND month IN ({taken}, {confirmed});\n"
            f"{ignore} month_sum_due (subject_id, month) VALUES ({row}.subject_id, {taken}), "
            f"({row}.subject_id, {confirmed}){conflict};\n")


def create_triggers() -> None:
    """The triggers that keep month_sum honest (SQLite: three; PostgreSQL: one function, one trigger)."""
    if op.get_bind().dialect.name == "sqlite":
        update = "UPDATE OF subject_id, taken_at, confirmed_at, value "
        for event, rows in (("INSERT ", ("NEW",)), (update, ("OLD", "NEW")), ("DELETE ", ("OLD",))):
            name = event.split()[0].lower()
            body = "".join(_touch(row, _SQLITE_MONTH, sqlite=True) for row in rows)
            op.execute(f"CREATE TRIGGER snapshot_month_sum_{name} AFTER {event}ON snapshot BEGIN\n{body}END")
        return
    op.execute(
        "CREATE FUNCTION okrbridge_month_sum_due() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
        f"IF TG_OP <> 'INSERT' THEN\n{_touch('OLD', _POSTGRES_MONTH, sqlite=False)}END IF;\n"
        f"IF TG_OP <> 'DELETE' THEN\n{_touch('NEW', _POSTGRES_MONTH, sqlite=False)}END IF;\n"
        "RETURN NULL;\nEND $$")
    op.execute("CREATE TRIGGER snapshot_month_sum AFTER INSERT OR DELETE OR UPDATE OF subject_id, taken_at, "
               "confirmed_at, value ON snapshot FOR EACH ROW EXECUTE FUNCTION okrbridge_month_sum_due()")


def upgrade() -> None:
    """Create month_sum and month_sum_due, the triggers, and mark every month of the history due."""
    op.create_table(
        "month_sum",
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum_x", sa.String(), nullable=False),
        sa.Column("sum_xx", sa.String(), nullable=False),
        sa.Column("sum_y", sa.String(), nullable=False),
        sa.Column("sum_xy", sa.String(), nullable=False),
        sa.Column("exponent", sa.Integer(), nullable=False),
        sa.Column("nonfinite", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.Column("last_ref", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "month", name=op.f("pk_month_sum")),
    )
    op.create_table(
        "month_sum_due",
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("month", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "month", name=op.f("pk_month_sum_due")),
    )
    create_triggers()
    month = _SQLITE_MONTH if op.get_bind().dialect.name == "sqlite" else _POSTGRES_MONTH
    taken, confirmed = (month.format(row="snapshot", column=c) for c in ("taken_at", "confirmed_at"))
    op.execute(f"INSERT INTO month_sum_due (subject_id, month) SELECT subject_id, {taken} FROM snapshot "
               f"UNION SELECT subject_id, {confirmed} FROM snapshot")


def downgrade() -> None:
    """Drop the triggers and both tables (derived data: nothing is lost)."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS snapshot_month_sum_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS snapshot_month_sum ON snapshot")
        op.execute("DROP FUNCTION IF EXISTS okrbridge_month_sum_due()")
    op.drop_table("month_sum_due")
    op.drop_table("month_sum")
