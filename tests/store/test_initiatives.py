"""Initiatives: the epics that drive a key result, upserted per run and marked removed when gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from okrbridge.store import InitiativeRecord, Store

from .support import EPIC, T0

EPIC_A = EPIC
EPIC_B = replace(EPIC_A, epic_key="SHOP-9", summary="Saved cards", children_done=0, children_total=2)


def sync_epics(
    store: Store, hours: int, epics: list[InitiativeRecord], resolved: list[str] | None = None
) -> int:
    """Write one run that found `epics`, finishing `hours` after T0; returns the run id."""
    run_id = store.start_run(started_at=T0 + timedelta(hours=hours))
    store.write_run_results(
        run_id, initiatives=epics, finished_at=T0 + timedelta(hours=hours), initiative_krs=resolved
    )
    return run_id


def test_epics_are_stored_with_their_progress(loaded: Store) -> None:
    run_id = sync_epics(loaded, 1, [EPIC_A, EPIC_B])

    stored = loaded.initiatives_for("T-1.1")

    assert [(i.epic_key, i.progress, i.children_done, i.children_total) for i in stored] == [
        ("SHOP-7", 0.25, 1, 4),
        ("SHOP-9", 0.0, 0, 2),
    ]
    assert all(i.last_sync_run_id == run_id and i.synced_at == T0 + timedelta(hours=1) for i in stored)
    assert all(i.removed_at is None for i in stored)


def test_a_later_sync_updates_an_epic_in_place(loaded: Store) -> None:
    sync_epics(loaded, 1, [EPIC_A])
    finished = replace(EPIC_A, status="Done", status_category="done", done=True, children_done=4)

    run_id = sync_epics(loaded, 2, [finished])

    (stored,) = loaded.initiatives_for("T-1.1")
    assert (stored.done, stored.progress, stored.status, stored.last_sync_run_id) == (
        True,
        1.0,
        "Done",
        run_id,
    )


def test_an_epic_no_longer_found_for_its_key_result_is_marked_removed(loaded: Store) -> None:
    sync_epics(loaded, 1, [EPIC_A, EPIC_B])

    sync_epics(loaded, 2, [EPIC_A])

    assert [i.epic_key for i in loaded.initiatives_for("T-1.1")] == ["SHOP-7"]
    removed = [i for i in loaded.initiatives_for("T-1.1", include_removed=True) if i.epic_key == "SHOP-9"]
    assert [i.removed_at for i in removed] == [T0 + timedelta(hours=2)]


def test_a_key_result_whose_last_epic_went_away_is_resolved_explicitly(loaded: Store) -> None:
    sync_epics(loaded, 1, [EPIC_A])

    sync_epics(loaded, 2, [], resolved=["T-1.1"])

    assert loaded.initiatives_for("T-1.1") == []
    assert len(loaded.initiatives_for("T-1.1", include_removed=True)) == 1


def test_epics_of_a_key_result_not_resolved_in_a_run_are_kept(loaded: Store) -> None:
    # e.g. the epic query of T-1.1 failed this time: its epics must not vanish from the pages.
    sync_epics(loaded, 1, [EPIC_A])

    sync_epics(loaded, 2, [])

    assert [i.epic_key for i in loaded.initiatives_for("T-1.1")] == ["SHOP-7"]


def test_a_removed_epic_that_comes_back_is_current_again(loaded: Store) -> None:
    sync_epics(loaded, 1, [EPIC_A, EPIC_B])
    sync_epics(loaded, 2, [EPIC_A])

    sync_epics(loaded, 3, [EPIC_A, EPIC_B])

    assert [(i.epic_key, i.removed_at) for i in loaded.initiatives_for("T-1.1")] == [
        ("SHOP-7", None),
        ("SHOP-9", None),
    ]


def test_an_older_run_finishing_late_neither_overwrites_nor_removes_newer_epics(loaded: Store) -> None:
    slow = loaded.start_run(started_at=T0)
    sync_epics(loaded, 2, [replace(EPIC_A, children_done=3), EPIC_B])

    loaded.write_run_results(slow, initiatives=[EPIC_A], finished_at=T0 + timedelta(hours=1))

    stored = {i.epic_key: i for i in loaded.initiatives_for("T-1.1")}
    assert set(stored) == {"SHOP-7", "SHOP-9"}
    assert stored["SHOP-7"].children_done == 3


def test_an_epic_driving_several_key_results_is_listed_for_each(loaded: Store) -> None:
    sync_epics(loaded, 1, [EPIC_A, replace(EPIC_A, kr_id="CO-1.1")])

    driven = loaded.initiatives_for_epic("SHOP-7")

    assert [i.kr_id for i in driven] == ["CO-1.1", "T-1.1"]


def test_an_epic_without_children_counts_by_its_own_state() -> None:
    assert replace(EPIC_A, children_done=0, children_total=0).progress == 0.0
    assert replace(EPIC_A, children_done=0, children_total=0, done=True).progress == 1.0


def test_impossible_child_counts_are_refused() -> None:
    with pytest.raises(ValueError, match=r"children_done=5 must be within 0\.\.children_total=4"):
        replace(EPIC_A, children_done=5)


def test_an_older_run_finishing_late_does_not_revive_an_epic_a_newer_run_dropped(loaded: Store) -> None:
    sync_epics(loaded, 1, [EPIC_A, EPIC_B])
    slow = loaded.start_run(started_at=T0 + timedelta(hours=1))
    sync_epics(loaded, 3, [EPIC_A])

    loaded.write_run_results(slow, initiatives=[EPIC_A, EPIC_B], finished_at=T0 + timedelta(hours=2))

    assert [i.epic_key for i in loaded.initiatives_for("T-1.1")] == ["SHOP-7"]
