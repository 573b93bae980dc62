"""Sync runs: one transaction per run's results, stale marking, and runs that go wrong."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from okrbridge.domain import Catalog
from okrbridge.explanation import Explanation
from okrbridge.store import (
    Failure,
    NewSnapshot,
    RunAlreadyFinished,
    RunError,
    RunStatus,
    Store,
    SubjectKind,
    UnknownRun,
    UnknownSubject,
    run_rows,
)
from okrbridge.store.tables import InitiativeRow, SnapshotRow, SubjectStateRow

from .support import EPIC as SHOP_EPIC
from .support import T0

T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)
EPIC = replace(SHOP_EPIC, children_done=3)


def synced(subject_id: str, value: float, at: Any = T0, **detail: Any) -> NewSnapshot:
    """A snapshot as the sync worker would produce it."""
    return NewSnapshot(subject_id, at, value, explanation=Explanation.from_dict(detail))


def count(store: Store, model: type[Any]) -> int:
    """How many rows a table holds."""
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_results_are_stored_and_the_run_finished(loaded: Store) -> None:
    run_id = loaded.start_run(deployment="cloud", started_at=T0)

    run = loaded.write_run_results(
        run_id,
        [synced("CO-1.1", 42, jql="project = SALES", count=42), synced("web-conversion", 2.4)],
        initiatives=[EPIC],
        finished_at=T1,
        counts={"synced": 2, "stale": 0, "failed": 0, "requests": 3},
    )

    assert (run.status, run.finished_at, run.deployment) == (RunStatus.SUCCEEDED, T1, "cloud")
    assert run.counts == {"synced": 2, "stale": 0, "failed": 0, "requests": 3}
    assert loaded.run(run_id) == run
    (snapshot,) = loaded.history("CO-1.1")
    assert (snapshot.value, snapshot.sync_run_id, snapshot.source_kind) == (42, run_id, "jql_count")
    assert snapshot.explanation == Explanation("jql_count", jql="project = SALES", count=42)
    state = loaded.subject_states()["CO-1.1"]
    assert (state.stale, state.error, state.last_success_at, state.last_sync_run_id) == (
        False,
        None,
        T0,
        run_id,
    )
    assert [i.epic_key for i in loaded.initiatives_for("T-1.1")] == ["SHOP-7"]


def test_a_failed_query_keeps_the_last_good_snapshot_and_marks_the_subject_stale(loaded: Store) -> None:
    first = loaded.start_run(started_at=T0)
    loaded.write_run_results(first, [synced("CO-1.1", 40, at=T0)], finished_at=T0)
    second = loaded.start_run(started_at=T1)

    run = loaded.write_run_results(
        second, failures=[Failure("CO-1.1", "Error in JQL: field 'labelz' does not exist")], finished_at=T1
    )

    assert run.status is RunStatus.PARTIAL
    assert run.counts == {"synced": 0, "failed": 1}
    latest = loaded.latest_snapshot("CO-1.1")
    assert latest is not None
    assert (latest.value, latest.sync_run_id) == (40, first)
    state = loaded.subject_states()["CO-1.1"]
    assert state.stale is True
    assert state.error == "Error in JQL: field 'labelz' does not exist"
    assert (state.last_success_at, state.last_attempt_at, state.last_sync_run_id) == (T0, T1, second)


def test_a_later_success_clears_the_stale_mark(loaded: Store) -> None:
    failing = loaded.start_run(started_at=T0)
    loaded.write_run_results(failing, failures=[Failure("CO-1.1", "Jira said no")], finished_at=T0)
    assert loaded.subject_states()["CO-1.1"].last_success_at is None

    fixed = loaded.start_run(started_at=T1)
    loaded.write_run_results(fixed, [synced("CO-1.1", 41, at=T1)], finished_at=T1)

    state = loaded.subject_states()["CO-1.1"]
    assert (state.stale, state.error, state.last_success_at) == (False, None, T1)


def test_an_older_run_finishing_late_does_not_overwrite_a_newer_state(loaded: Store) -> None:
    slow = loaded.start_run(started_at=T0)
    fast = loaded.start_run(started_at=T1)
    loaded.write_run_results(fast, [synced("CO-1.1", 41, at=T1)], finished_at=T1)

    loaded.write_run_results(slow, failures=[Failure("CO-1.1", "timeout", at=T0)], finished_at=T1)

    state = loaded.subject_states()["CO-1.1"]
    assert (state.stale, state.last_attempt_at, state.last_sync_run_id) == (False, T1, fast)


def test_a_failure_midway_stores_nothing_of_the_run_and_marks_it_failed(
    loaded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = loaded.start_run(started_at=T0)
    loaded.write_run_results(earlier, [synced("CO-1.1", 40, at=T0)], initiatives=[EPIC], finished_at=T0)

    def explode(*args: object, **kwargs: object) -> None:
        # Runs after the snapshots and subject states of the run have been flushed.
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_rows, "_write_initiatives", explode)
    broken = loaded.start_run(started_at=T1)
    with pytest.raises(RuntimeError, match="disk full"):
        loaded.write_run_results(
            broken,
            [synced("CO-1.1", 99, at=T1), synced("web-conversion", 2.0, at=T1)],
            failures=[Failure("CO-1.2", "bad JQL")],
            initiatives=[EPIC],
            finished_at=T2,
            errors=["429 from Jira, retried"],
        )

    assert [s.value for s in loaded.history("CO-1.1")] == [40]
    assert loaded.history("web-conversion") == []
    assert set(loaded.subject_states()) == {"CO-1.1"}
    assert loaded.subject_states()["CO-1.1"].last_sync_run_id == earlier
    run = loaded.run(broken)
    assert (run.status, run.finished_at) == (RunStatus.FAILED, T2)
    assert run.errors == ["429 from Jira, retried", "results not stored: disk full"]


def test_results_naming_an_unknown_subject_store_nothing(loaded: Store) -> None:
    run_id = loaded.start_run(started_at=T0)

    with pytest.raises(UnknownSubject, match="'CO-404'"):
        loaded.write_run_results(run_id, [synced("CO-1.1", 1), synced("CO-404", 2)], finished_at=T1)

    assert count(loaded, SnapshotRow) == 0
    assert loaded.run(run_id).status is RunStatus.FAILED


def test_an_initiative_for_a_kpi_is_refused(loaded: Store) -> None:
    run_id = loaded.start_run(started_at=T0)

    with pytest.raises(ValueError, match="web-conversion is a KPI"):
        loaded.write_run_results(run_id, initiatives=[replace(EPIC, kr_id="web-conversion")])

    assert count(loaded, InitiativeRow) == 0


def test_results_for_an_archived_subject_are_still_stored(loaded: Store, catalog: Catalog) -> None:
    # A run that began before the KPI left okrs.toml still reports what Jira said at the time.
    run_id = loaded.start_run(started_at=T0)
    loaded.sync_catalog(replace(catalog, kpis=()), now=T1)

    loaded.write_run_results(run_id, [synced("web-conversion", 2.3, at=T0)], finished_at=T1)

    assert [s.value for s in loaded.history("web-conversion")] == [2.3]


def test_results_are_never_written_twice_for_one_run(loaded: Store) -> None:
    run_id = loaded.start_run(started_at=T0)
    loaded.write_run_results(run_id, [synced("CO-1.1", 1)], finished_at=T1)

    with pytest.raises(RunAlreadyFinished, match=f"sync run {run_id} has already finished"):
        loaded.write_run_results(run_id, [synced("CO-1.1", 1)], finished_at=T2)

    assert count(loaded, SnapshotRow) == 1
    assert loaded.run(run_id).status is RunStatus.SUCCEEDED  # the good run is not marked failed


def test_results_for_a_run_never_started_are_refused(loaded: Store) -> None:
    with pytest.raises(UnknownRun, match="no sync run with id 12345"):
        loaded.write_run_results(12345, [synced("CO-1.1", 1)])


def test_one_subject_twice_in_a_run_is_refused(loaded: Store) -> None:
    run_id = loaded.start_run(started_at=T0)

    with pytest.raises(ValueError, match=r"both a snapshot and a failure in one run for: CO-1\.1"):
        loaded.write_run_results(run_id, [synced("CO-1.1", 1)], failures=[Failure("CO-1.1", "x")])

    assert loaded.run(run_id).status is RunStatus.FAILED


def test_a_dry_run_stores_no_results_and_finishes_with_finish_run(loaded: Store) -> None:
    run_id = loaded.start_run(deployment="datacenter", dry_run=True, started_at=T0)

    with pytest.raises(ValueError, match="dry run"):
        loaded.write_run_results(run_id, [synced("CO-1.1", 1)])
    assert count(loaded, SnapshotRow) == 0

    other = loaded.start_run(dry_run=True, started_at=T1)
    run = loaded.finish_run(other, "succeeded", {"requests": 0}, [], finished_at=T2)
    assert (run.status, run.dry_run, run.counts, run.finished_at) == (
        RunStatus.SUCCEEDED,
        True,
        {"requests": 0},
        T2,
    )


def test_finish_run_refuses_running_as_a_final_status_and_a_second_finish(loaded: Store) -> None:
    run_id = loaded.start_run(started_at=T0)

    with pytest.raises(ValueError, match="cannot finish with status 'running'"):
        loaded.finish_run(run_id, RunStatus.RUNNING)
    loaded.finish_run(run_id, RunStatus.FAILED, errors=["Jira unreachable"])
    with pytest.raises(RunAlreadyFinished):
        loaded.finish_run(run_id, RunStatus.SUCCEEDED)

    assert loaded.run(run_id).errors == ["Jira unreachable"]


def test_runs_are_listed_newest_first_up_to_the_limit(loaded: Store) -> None:
    ids = [loaded.start_run(started_at=T0 + timedelta(minutes=m)) for m in range(5)]

    runs = loaded.runs(limit=3)

    assert [r.id for r in runs] == ids[::-1][:3]
    assert all(r.status is RunStatus.RUNNING and r.finished_at is None for r in runs)


def test_concurrent_runs_on_sqlite_lose_no_rows(
    sqlite_url: str, loaded: Store, make_store: Callable[[str], Store]
) -> None:
    stores = [make_store(sqlite_url) for _ in range(4)]
    run_ids = [s.start_run(started_at=T0) for s in stores]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def write(s: Store, run_id: int, n: int) -> None:
        barrier.wait()
        try:
            s.write_run_results(
                run_id,
                [synced("CO-1.1", n, at=T0 + timedelta(minutes=n)), synced("web-conversion", n)],
                failures=[Failure("CO-1.2", f"run {n} failed")],
                initiatives=[EPIC],
                finished_at=T1 + timedelta(minutes=n),
            )
        except BaseException as exc:  # collected: a thread's exception would otherwise be lost
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(s, r, n))
        for n, (s, r) in enumerate(zip(stores, run_ids, strict=True))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert count(loaded, SnapshotRow) == 8
    assert count(loaded, SubjectStateRow) == 3
    assert count(loaded, InitiativeRow) == 1
    assert {r.status for r in loaded.runs()} == {RunStatus.PARTIAL}
    # The newest attempt wins, whatever order the threads committed in.
    assert loaded.subject_states()["CO-1.1"].last_success_at == T0 + timedelta(minutes=3)


def test_a_subject_kind_given_by_the_caller_must_match_the_catalog(loaded: Store) -> None:
    run_id = loaded.start_run(started_at=T0)

    with pytest.raises(ValueError, match=r"CO-1\.1 is a kr, not a kpi"):
        loaded.write_run_results(run_id, [NewSnapshot("CO-1.1", T0, 1.0, subject_kind=SubjectKind.KPI)])

    assert count(loaded, SnapshotRow) == 0


def test_a_subject_kind_may_be_given_as_text() -> None:
    assert Failure("web-conversion", "boom", subject_kind="kpi").subject_kind is SubjectKind.KPI  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'objective' is not a valid SubjectKind"):
        Failure("CO-1", "boom", subject_kind="objective")  # type: ignore[arg-type]


def test_run_errors_may_be_messages_or_json_objects(loaded: Store) -> None:
    run_id = loaded.start_run(started_at=T0)
    errors: list[RunError] = [{"subject": "CO-1.2", "error": "bad JQL"}, "Jira answered 429 twice"]

    loaded.write_run_results(run_id, failures=[Failure("CO-1.2", "bad JQL")], finished_at=T1, errors=errors)

    assert loaded.run(run_id).errors == errors
