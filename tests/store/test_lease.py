"""The leader lease: one owner at a time, renewals, expiry and takeover, on SQLite and PostgreSQL.

Concurrency is exercised with separate Stores (own engines and pools, as separate daemons have)
racing on threads released together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import URL

from okrbridge.store import Store, acquire_lease, current_lease, release_lease

from .test_postgres import in_parallel


def test_the_first_owner_takes_the_lease_and_another_is_refused(store: Store) -> None:
    lease = acquire_lease(store, "daemon", "host-a:1:x", 30)
    assert lease is not None and lease.owner == "host-a:1:x"
    assert lease.expires_at - lease.renewed_at == timedelta(seconds=30)

    assert acquire_lease(store, "daemon", "host-b:2:y", 30) is None
    stored = current_lease(store, "daemon")
    assert stored is not None and stored.owner == "host-a:1:x"


def test_a_renewal_moves_the_expiry_and_keeps_the_term_start(store: Store) -> None:
    first = acquire_lease(store, "daemon", "a", 30)
    time.sleep(0.01)  # so the renewal's timestamp is a different instant (not a timing assertion)
    second = acquire_lease(store, "daemon", "a", 30)
    assert first is not None and second is not None
    assert second.acquired_at == first.acquired_at
    assert second.expires_at > first.expires_at


def test_an_expired_lease_is_taken_over_with_a_new_term(store: Store) -> None:
    old = acquire_lease(store, "daemon", "a", 0.05)
    time.sleep(0.1)
    new = acquire_lease(store, "daemon", "b", 30)
    assert old is not None and new is not None
    assert new.owner == "b" and new.acquired_at > old.acquired_at
    # the old owner, back from a pause, finds it taken and does not get it back
    assert acquire_lease(store, "daemon", "a", 30) is None


def test_a_released_lease_is_free_at_once_and_only_its_owner_can_release_it(store: Store) -> None:
    acquire_lease(store, "daemon", "a", 30)
    assert release_lease(store, "daemon", "b") is False
    assert acquire_lease(store, "daemon", "b", 30) is None
    assert release_lease(store, "daemon", "a") is True
    lease = acquire_lease(store, "daemon", "b", 30)
    assert lease is not None and lease.owner == "b"


def test_leases_of_different_names_are_independent(store: Store) -> None:
    assert acquire_lease(store, "daemon", "a", 30) is not None
    assert acquire_lease(store, "other", "b", 30) is not None


def _race(stores: list[Store], expired_first: bool) -> list[str]:
    """Owners that got the lease when every store asks for it at the same moment."""
    if expired_first:
        acquire_lease(stores[0], "daemon", "gone", 0.01)
        time.sleep(0.05)
    calls: list[Callable[[], object]] = [
        (lambda s=s, n=n: acquire_lease(s, "daemon", f"owner-{n}", 30)) for n, s in enumerate(stores)]
    results = in_parallel(calls)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return [r.owner for r in results if r is not None]  # type: ignore[union-attr]


@pytest.mark.parametrize("expired_first", [False, True], ids=["fresh", "after-expiry"])
def test_concurrent_daemons_on_sqlite_get_exactly_one_lease(
        sqlite_url: str, make_store: Callable[[str | URL], Store], expired_first: bool) -> None:
    make_store(sqlite_url).migrate()
    stores = [make_store(sqlite_url) for _ in range(6)]
    winners = _race(stores, expired_first)
    assert len(winners) == 1
    stored = current_lease(stores[0], "daemon")
    assert stored is not None and stored.owner == winners[0]


@pytest.mark.postgres
@pytest.mark.parametrize("expired_first", [False, True], ids=["fresh", "after-expiry"])
def test_concurrent_daemons_on_postgres_get_exactly_one_lease(
        postgres_store: Store, postgres_url: URL, make_store: Callable[[str | URL], Store],
        expired_first: bool) -> None:
    stores = [make_store(postgres_url) for _ in range(8)]
    for _ in range(5):  # several rounds: a race that only sometimes goes wrong shows up here
        winners = _race(stores, expired_first)
        assert len(winners) == 1
        stored = current_lease(postgres_store, "daemon")
        assert stored is not None and stored.owner == winners[0]
        release_lease(postgres_store, "daemon", winners[0])


@pytest.mark.postgres
def test_concurrent_migrations_on_postgres_take_turns(
        postgres_url: URL, make_store: Callable[[str | URL], Store]) -> None:
    stores = [make_store(postgres_url) for _ in range(3)]
    results = in_parallel([s.migrate for s in stores])
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert acquire_lease(stores[0], "daemon", "a", 30) is not None
