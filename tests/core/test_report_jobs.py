"""Reports graded and rendered in forked workers come back as the same texts, in period order."""

from __future__ import annotations

import json
import multiprocessing.context
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from okrbridge.catalog import bundled_sample, load_catalog
from okrbridge.cycles import FiscalCalendar, Period
from okrbridge.report import GradeMemo, PeriodReport, grade_period
from okrbridge.report_jobs import can_fork, default_jobs, rendered_reports, share_groups

CATALOG = load_catalog(bundled_sample("okrs.toml")).catalog
YEAR = FiscalCalendar().parse("2026")
PERIODS = FiscalCalendar().nested(YEAR)
AFTER = datetime(2027, 1, 1, tzinfo=UTC)
MIDYEAR = datetime(2026, 6, 15, tzinfo=UTC)

needs_fork = pytest.mark.skipif(not can_fork(), reason="worker processes are forked: this system cannot fork")


def labels(groups: list[list[int]]) -> list[set[str]]:
    """The groups as sets of period labels."""
    return [{PERIODS[i].label for i in group} for group in groups]


def grade(period: Period, memo: GradeMemo) -> PeriodReport:
    """The sample catalog graded with no values."""
    return grade_period(CATALOG, {}, period, now=AFTER, memo=memo)


def render(report: PeriodReport) -> str:
    """A report as JSON text."""
    return json.dumps(report.to_dict(), sort_keys=True)


def test_reports_taken_at_one_instant_share_a_group_so_their_grades_are_worked_out_once() -> None:
    after = labels(share_groups(PERIODS, AFTER))
    assert len(after) == 12  # one per month: a quarter goes with its last month, the year with December
    assert after[0] == {"2026", "2026-Q4", "2026-12"}
    assert {"2026-Q1", "2026-03"} in after and {"2026-01"} in after
    midyear = labels(share_groups(PERIODS, MIDYEAR))
    # every report ending after `now` is taken at `now`: one group, the largest, first
    assert midyear[0] == {"2026", "2026-Q2", "2026-06", "2026-Q3", "2026-07", "2026-08", "2026-09",
                          "2026-Q4", "2026-10", "2026-11", "2026-12"}
    assert sorted(i for group in share_groups(PERIODS, MIDYEAR) for i in group) == list(range(17))


@needs_fork
def test_workers_give_the_texts_one_process_gives_in_period_order() -> None:
    alone = list(rendered_reports(PERIODS, grade, render, now=AFTER, jobs=1))
    assert [json.loads(text)["period"] for text in alone] == [p.label for p in PERIODS]
    assert list(rendered_reports(PERIODS, grade, render, now=AFTER, jobs=3)) == alone


@needs_fork
def test_each_worker_forgets_the_store_first_and_the_caller_never_does(tmp_path: Path) -> None:
    def forget() -> None:
        (tmp_path / str(os.getpid())).touch()

    list(rendered_reports(PERIODS, grade, render, now=AFTER, jobs=2, fork_safe=forget))
    workers = {int(path.name) for path in tmp_path.iterdir()}
    assert 1 <= len(workers) <= 2 and os.getpid() not in workers


@needs_fork
def test_a_report_that_cannot_be_graded_in_a_worker_is_named_in_the_caller() -> None:
    def failing(period: Period, memo: GradeMemo) -> PeriodReport:
        if period.label == "2026-05":
            raise ValueError(f"cannot grade {period.label}")
        return grade(period, memo)

    with pytest.raises(ValueError, match="cannot grade 2026-05"):
        list(rendered_reports(PERIODS, failing, render, now=AFTER, jobs=2))


@needs_fork
def test_a_reader_that_stops_early_leaves_no_worker_behind() -> None:
    texts = rendered_reports(PERIODS, grade, render, now=AFTER, jobs=2)
    assert json.loads(next(texts))["period"] == "2026"
    texts.close()
    assert list(rendered_reports(PERIODS, grade, render, now=AFTER, jobs=2))  # a second run may start


def test_one_job_or_one_group_runs_in_the_caller_with_one_memo() -> None:
    shared: list[int] = []

    def counted(period: Period, memo: GradeMemo) -> PeriodReport:
        shared.append(id(memo))
        return grade(period, memo)

    list(rendered_reports(PERIODS, counted, render, now=AFTER, jobs=1))
    assert len(set(shared)) == 1 and len(shared) == 17
    shared.clear()
    list(rendered_reports([YEAR], counted, render, now=AFTER, jobs=4))  # one report: no worker
    assert len(shared) == 1


def test_the_default_is_the_cores_this_process_may_use_up_to_four() -> None:
    assert 1 <= default_jobs() <= 4


@needs_fork
def test_where_no_worker_can_be_started_the_reports_are_graded_here(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = list(rendered_reports(PERIODS, grade, render, now=AFTER, jobs=1))

    def no_semaphores(*_: object, **__: object) -> None:
        raise OSError(38, "Function not implemented")  # what a system without /dev/shm says

    monkeypatch.setattr(multiprocessing.context.ForkContext, "Pool", no_semaphores)
    assert list(rendered_reports(PERIODS, grade, render, now=AFTER, jobs=2)) == alone
