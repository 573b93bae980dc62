"""The tables the store's Core statements name, as lightweight table clauses (`sqlalchemy.table`).

Why: the tables themselves are SQLModel classes (`okrbridge.store.tables`), and loading them loads
SQLModel, SQLAlchemy's ORM and pydantic's model machinery — a fifth of a read-only command's
start-up. The statements that read history, month sums and the catalog fingerprint, and write month
sums, need only the tables' names, columns and column types: these clauses give exactly that, with
the same types, so rows decode as they do through the ORM. `tests/store/test_clauses.py` holds
every clause to its table in the store's metadata, column by column.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Float, Integer, String, Text, column, table

from okrbridge.store.types import UTCDateTime

SNAPSHOT = table(
    "snapshot",
    column("id", Integer), column("subject_id", String), column("subject_kind", String),
    column("taken_at", UTCDateTime()), column("value", Float), column("score", Float),
    column("source_kind", String), column("source_detail", JSON), column("sync_run_id", Integer),
    column("note", Text), column("author", String), column("confirmed_at", UTCDateTime()),
    column("confirmed_run_id", Integer),
)
"""Every reading: a value, when first seen and last confirmed, and what explains it."""

MONTH_SUM = table(
    "month_sum",
    column("subject_id", String), column("month", String), column("count", Integer),
    column("sum_x", String), column("sum_xx", String), column("sum_y", String), column("sum_xy", String),
    column("exponent", Integer), column("nonfinite", Integer), column("last_at", BigInteger),
    column("last_ref", BigInteger), column("last_value", Float),
)
"""Each subject's running line sums through each month (see okrbridge.store.month_sums)."""

MONTH_SUM_DUE = table("month_sum_due", column("subject_id", String), column("month", String))
"""The months whose running sums must be worked out again."""

CATALOG_FINGERPRINT = table(
    "catalog_fingerprint",
    column("id", Integer), column("digest", String), column("catalog", JSON),
    column("recorded_at", UTCDateTime()),
)
"""The content hash of the okrs.toml last recorded, and its catalog as data."""

ALL = (SNAPSHOT, MONTH_SUM, MONTH_SUM_DUE, CATALOG_FINGERPRINT)
"""Every clause here (each one is held to its table by a test)."""
