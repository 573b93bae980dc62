"""Silence marks in the subject state: set, kept apart from sync failures, cleared when values return."""

from __future__ import annotations

from datetime import timedelta

from okrbridge.store import Failure, NewSnapshot, Store, last_value_times, mark_silence

from .support import T0

SILENT = "no fresh value since 2026-01-01 09:00 UTC (stale after 3 days)"


def test_a_silent_kr_with_no_state_yet_is_marked_stale_with_the_reason(loaded: Store) -> None:
    changes = mark_silence(loaded, {"CO-1.2": SILENT}, heard=[])
    assert changes.marked == ("CO-1.2",)
    state = loaded.subject_states()["CO-1.2"]
    assert (state.stale, state.error, state.last_success_at) == (True, SILENT, None)


def test_marking_again_with_the_same_reason_changes_nothing(loaded: Store) -> None:
    mark_silence(loaded, {"CO-1.2": SILENT}, heard=[])
    assert mark_silence(loaded, {"CO-1.2": SILENT}, heard=[]).marked == ()


def test_a_sync_failure_keeps_its_message_and_is_never_cleared_by_the_stale_check(loaded: Store) -> None:
    run = loaded.start_run(started_at=T0)
    loaded.write_run_results(run, failures=[Failure("CO-1.1", "JQL: field 'x' does not exist", at=T0)],
                             finished_at=T0)
    assert mark_silence(loaded, {"CO-1.1": SILENT}, heard=[]).marked == ()
    assert mark_silence(loaded, {}, heard=["CO-1.1"]).cleared == ()
    state = loaded.subject_states()["CO-1.1"]
    assert (state.stale, state.error) == (True, "JQL: field 'x' does not exist")


def test_a_heard_subject_loses_its_silence_mark_and_a_fresh_sync_clears_it_too(loaded: Store) -> None:
    mark_silence(loaded, {"CO-1.2": SILENT, "CO-1.1": SILENT}, heard=[])
    assert mark_silence(loaded, {}, heard=["CO-1.2"]).cleared == ("CO-1.2",)
    assert loaded.subject_states()["CO-1.2"].stale is False
    run = loaded.start_run(started_at=T0)
    loaded.write_run_results(run, snapshots=[NewSnapshot("CO-1.1", T0, 320.0, 0.1)], finished_at=T0)
    assert loaded.subject_states()["CO-1.1"].stale is False


def test_last_value_times_are_the_newest_per_subject_in_utc(loaded: Store) -> None:
    loaded.record_checkin("CO-1.2", 3, at=T0)
    loaded.record_checkin("CO-1.2", 4, at=T0 + timedelta(days=2))
    assert last_value_times(loaded) == {"CO-1.2": T0 + timedelta(days=2)}
