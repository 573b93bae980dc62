"""The store's own column type: datetimes kept in UTC and given back aware."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from okrbridge.cycles import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC, returned as an aware UTC datetime.

    Naive datetimes are refused: a wall-clock time without a zone cannot be placed on the timeline,
    and guessing would silently shift history by hours. SQLite keeps no offset, so values are
    written there as naive UTC in one fixed format (string comparison then orders them correctly)
    and given their UTC zone back on read; PostgreSQL stores `timestamptz` and answers in the
    session's zone, which is converted back to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC for storage; refuse a naive one."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: give it a timezone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give a stored datetime back as aware UTC, whatever the backend returned."""
        return as_utc(value) if value is not None else None
