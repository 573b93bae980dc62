"""Publish records: what was last written to each Confluence page survives, and a rewrite replaces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from okrbridge.store import PublishRecord, Store

WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def record(key: str = "period:2026", **changes: object) -> PublishRecord:
    """A record of a page written at version 2."""
    values: dict[str, object] = {"key": key, "page_id": "98310", "title": "OKRs 2026", "parent_id": "98306",
                                 "version": 2, "content_hash": "ab" * 32, "published_at": WHEN}
    values.update(changes)
    return PublishRecord(**values)  # type: ignore[arg-type]


def test_a_saved_record_reads_back_as_written(store: Store) -> None:
    store.save_publish_record(record())
    store.save_publish_record(record("root", page_id="98306", title="OKRs", parent_id=None, version=1))

    assert store.publish_records() == {"period:2026": record(),
                                       "root": record("root", page_id="98306", title="OKRs", parent_id=None,
                                                      version=1)}


def test_saving_a_key_again_replaces_its_record(store: Store) -> None:
    store.save_publish_record(record())
    store.save_publish_record(record(version=3, title="OKRs FY2026", content_hash="cd" * 32,
                                     published_at=WHEN + timedelta(days=1)))

    assert store.publish_records() == {"period:2026": record(version=3, title="OKRs FY2026",
                                                             content_hash="cd" * 32,
                                                             published_at=WHEN + timedelta(days=1))}


def test_published_at_comes_back_in_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=2))
    store.save_publish_record(record(published_at=datetime(2026, 11, 30, 11, 0, tzinfo=paris)))

    assert store.publish_records()["period:2026"].published_at == WHEN


def test_a_naive_published_at_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="published_at"):
        store.save_publish_record(record(published_at=datetime(2026, 11, 30, 9, 0)))
