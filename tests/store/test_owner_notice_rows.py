"""Owner notices in the store: one claim per silence, a dead claimant's claim taken over, released
claims free the silence again; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from okrbridge.store import Store
from okrbridge.store.notices import (
    CLAIM_EXPIRY,
    claim_notice,
    owner_notices,
    record_listed,
    record_told,
    release_notice,
    settled_silences,
)
from okrbridge.store.tables import NoticeState

from .support import T0, sample_catalog

SINCE = T0 - timedelta(days=4)


def _claim(store: Store, who: str, at: Any = T0) -> bool:
    """Claim CO-1.1's silence since SINCE on epic SALES-1 for `who`."""
    return claim_notice(store, "CO-1.1", SINCE, owner="bob", epic_key="SALES-1", message="told",
                        claimed_by=who, now=at)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def notice_store(request: pytest.FixtureRequest, make_store: Callable[[Any], Store]) -> Store:
    """A migrated store with the sample catalog, on each backend."""
    store = make_store(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))
    store.migrate()
    store.sync_catalog(sample_catalog(), now=T0)
    return store


def test_a_silence_is_claimed_by_one_daemon_and_told_once(notice_store: Store) -> None:
    assert _claim(notice_store, "daemon-a") is True
    assert _claim(notice_store, "daemon-b") is False          # the other daemon finds it being told
    record_told(notice_store, "CO-1.1", SINCE, claimed_by="daemon-a", comment_id="10001", now=T0)
    assert _claim(notice_store, "daemon-b", T0 + CLAIM_EXPIRY * 2) is False   # told: never again
    [notice] = owner_notices(notice_store)
    assert (notice.state, notice.claimed_by, notice.comment_id, notice.told_at, notice.silent_since) == (
        NoticeState.TOLD, "daemon-a", "10001", T0, SINCE)


def test_a_claim_left_by_a_dead_daemon_is_taken_over_once_it_expired(notice_store: Store) -> None:
    assert _claim(notice_store, "daemon-a") is True
    assert _claim(notice_store, "daemon-b", T0 + CLAIM_EXPIRY) is False       # not expired yet
    assert settled_silences(notice_store, ["CO-1.1"], T0 + CLAIM_EXPIRY) == {("CO-1.1", SINCE)}
    later = T0 + CLAIM_EXPIRY + timedelta(seconds=1)
    assert settled_silences(notice_store, ["CO-1.1"], later) == set()
    assert _claim(notice_store, "daemon-b", later) is True
    record_told(notice_store, "CO-1.1", SINCE, claimed_by="daemon-a", comment_id="9", now=later)  # too late
    assert owner_notices(notice_store)[0].state is NoticeState.TELLING
    record_told(notice_store, "CO-1.1", SINCE, claimed_by="daemon-b", comment_id="10", now=later)
    assert owner_notices(notice_store)[0].comment_id == "10"


def test_a_released_claim_leaves_the_silence_untold_and_a_new_silence_is_a_new_notice(
        notice_store: Store) -> None:
    assert _claim(notice_store, "daemon-a") is True
    release_notice(notice_store, "CO-1.1", SINCE, claimed_by="daemon-a")
    assert owner_notices(notice_store) == []
    assert _claim(notice_store, "daemon-a") is True
    assert claim_notice(notice_store, "CO-1.1", SINCE + timedelta(days=9), owner="bob", epic_key="SALES-1",
                        message="again", claimed_by="daemon-a", now=T0) is True
    assert [n.silent_since for n in owner_notices(notice_store)] == [SINCE, SINCE + timedelta(days=9)]


def test_a_kr_without_an_epic_is_listed_once_per_silence(notice_store: Store) -> None:
    for claimant, expected in (("a", True), ("b", False)):
        assert record_listed(notice_store, "CO-1.2", SINCE, owner="carol", message="m", claimed_by=claimant,
                             now=T0) is expected
    [notice] = owner_notices(notice_store, ["CO-1.2"])
    assert (notice.state, notice.epic_key, notice.owner) == (NoticeState.LISTED, None, "carol")
