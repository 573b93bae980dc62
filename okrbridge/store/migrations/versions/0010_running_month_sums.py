"""Month sums kept as running totals, and triggers that change only the months a write changed.

Revision ID: 0010_running_month_sums
Revises: 0009_month_sums
Create Date: 2026-12-01

A `month_sum` row now holds the sums of every observation of its subject up to the month's end
(okrbridge.month_series), so a window's trend line is the difference of two rows: a year's grade
reads two rows per KR instead of twelve. An index on (subject_id, month, last_at) serves the
"last row before this bound, holding nothing after the report's instant" each read asks.

Running totals change the triggers' rule: a write to a snapshot row changes the running sums of
the first month whose observations it changed *and of every later month* of that subject, so
the trigger deletes those and marks them due (with the months the new row's observations fall
in). For each subject, every stored row then lies before its earliest due month. The trigger
also tells a confirmation from other writes: a sync that finds a value unchanged moves only
`confirmed_at`, which changes the month of the old and of the new last confirmation, not the
month the value was first seen in (the 0009 triggers marked that one due too).

The upgrade marks every stored month due and empties `month_sum`; the next sync, check-in or
compaction works them out again (about half a minute for a year of hourly syncs at 10,000 KRs).
The downgrade puts the 0009 triggers back and does the same: both tables are derived data.

A later revision that rebuilds the snapshot table on SQLite (a batch "move and copy") drops its
triggers with it and must create them again (`create_triggers` below).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_running_month_sums"
down_revision: str | Sequence[str] | None = "0009_month_sums"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_MONTH = "strftime('%Y-%m', {row}.{column})"
_POSTGRES_MONTH = "to_char({row}.{column} AT TIME ZONE 'UTC', 'YYYY-MM')"
_SQLITE_TRIGGERS = ("insert", "update", "delete", "confirm")
_INDEX = "ix_month_sum_subject_id_month_last_at"


def _months(row: str, month: str) -> tuple[str, str]:
    """The month expressions of a row's first-seen and last-confirmed instants."""
    return month.format(row=row, column="taken_at"), month.format(row=row, column="confirmed_at")


def _changed_from(subject: str, since: str, marks: Sequence[str], *, sqlite: bool) -> str:
    """The statements for one subject whose observations changed from month `since` on: every stored
    month from `since` marked due and deleted, and the months `marks` marked due."""
    ignore = "INSERT OR IGNORE INTO" if sqlite else "INSERT INTO"
    conflict = "" if sqlite else " ON CONFLICT DO NOTHING"
    values = ", ".join(f"({subject}, {mark})" for mark in marks)
    return (f"{ignore} month_sum_due (subject_id, month) SELECT subject_id, month FROM month_sum "
            f"WHERE subject_id = {subject} AND month >= {since}{conflict};\n"
            f"DELETE FROM month_sum WHERE subject_id = {subject} AND month >= {since};\n"
            f"{ignore} month_sum_due (subject_id, month) VALUES {values}{conflict};\n")


def _row_changed(row: str, month: str, *, sqlite: bool) -> str:
    """The statements for a row OLD or NEW inserted or deleted: its subject changed from the earlier
    of its two months on."""
    taken, confirmed = _months(row, month)
    earlier = f"{'min' if sqlite else 'LEAST'}({taken}, {confirmed})"
    return _changed_from(f"{row}.subject_id", earlier, (taken, confirmed), sqlite=sqlite)


def _confirmed(month: str, *, sqlite: bool) -> str:
    """The statements for an update that moved only `confirmed_at`: the month of the new last
    confirmation changed, and that of the old one if it was an observation (later than first seen)."""
    _, new = _months("NEW", month)
    _, old = _months("OLD", month)
    old_observed = f"CASE WHEN OLD.confirmed_at > OLD.taken_at THEN {old} ELSE {new} END"
    earlier = f"{'min' if sqlite else 'LEAST'}({new}, {old_observed})"
    return _changed_from("NEW.subject_id", earlier, (new, old_observed), sqlite=sqlite)


_ONLY_CONFIRMED = ("OLD.subject_id = NEW.subject_id AND OLD.taken_at = NEW.taken_at "
                   "AND OLD.value IS NOT DISTINCT FROM NEW.value")


def create_triggers() -> None:
    """The triggers that keep month_sum honest (SQLite: four; PostgreSQL: one function, one trigger)."""
    columns = "subject_id, taken_at, confirmed_at, value"
    if op.get_bind().dialect.name == "sqlite":
        only_confirmed = _ONLY_CONFIRMED.replace("IS NOT DISTINCT FROM", "IS")
        month = _SQLITE_MONTH
        triggers = {
            "insert": ("INSERT", "", _row_changed("NEW", month, sqlite=True)),
            "delete": ("DELETE", "", _row_changed("OLD", month, sqlite=True)),
            "update": (f"UPDATE OF {columns}", f" WHEN NOT ({only_confirmed})",
                       _row_changed("OLD", month, sqlite=True) + _row_changed("NEW", month, sqlite=True)),
            "confirm": (f"UPDATE OF {columns}", f" WHEN {only_confirmed}", _confirmed(month, sqlite=True)),
        }
        for name, (event, when, body) in triggers.items():
            op.execute(f"CREATE TRIGGER snapshot_month_sum_{name} AFTER {event} ON snapshot "
                       f"FOR EACH ROW{when} BEGIN\n{body}END")
        return
    month = _POSTGRES_MONTH
    op.execute(
        "CREATE OR REPLACE FUNCTION okrbridge_month_sum_due() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
        f"IF TG_OP = 'UPDATE' AND {_ONLY_CONFIRMED} THEN\n{_confirmed(month, sqlite=False)}RETURN NULL;\n"
        "END IF;\n"
        f"IF TG_OP <> 'INSERT' THEN\n{_row_changed('OLD', month, sqlite=False)}END IF;\n"
        f"IF TG_OP <> 'DELETE' THEN\n{_row_changed('NEW', month, sqlite=False)}END IF;\n"
        "RETURN NULL;\nEND $$")
    op.execute(f"CREATE TRIGGER snapshot_month_sum AFTER INSERT OR DELETE OR UPDATE OF {columns} "
               "ON snapshot FOR EACH ROW EXECUTE FUNCTION okrbridge_month_sum_due()")


def _drop_triggers() -> None:
    """Drop the month-sum triggers of either revision (the PostgreSQL function goes with the last)."""
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS snapshot_month_sum_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS snapshot_month_sum ON snapshot")
        op.execute("DROP FUNCTION IF EXISTS okrbridge_month_sum_due()")


def _all_due() -> None:
    """Mark every stored month due and empty month_sum (derived data: the next refresh redoes it)."""
    conflict = "" if op.get_bind().dialect.name == "sqlite" else " ON CONFLICT DO NOTHING"
    ignore = "INSERT OR IGNORE INTO" if not conflict else "INSERT INTO"
    op.execute(f"{ignore} month_sum_due (subject_id, month) "
               f"SELECT subject_id, month FROM month_sum{conflict}")
    op.execute("DELETE FROM month_sum")


def upgrade() -> None:
    """Running sums: the new triggers, the (subject_id, month, last_at) index, every month due again."""
    _drop_triggers()
    create_triggers()
    op.create_index(_INDEX, "month_sum", ["subject_id", "month", "last_at"])
    _all_due()


def downgrade() -> None:
    """Back to 0009's month-by-month sums and triggers, every month due again."""
    import importlib

    _drop_triggers()
    op.drop_index(_INDEX, table_name="month_sum")
    importlib.import_module("okrbridge.store.migrations.versions.0009_month_sums").create_triggers()
    _all_due()
