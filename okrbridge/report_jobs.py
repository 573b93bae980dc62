"""Reports of many periods graded and rendered in worker processes forked after the store was read.

Why: `grades --nested` grades and writes out seventeen reports of one store read — 120,000 distinct
KR grades and 140 MB of JSON at 10,000 KRs — and that is Python work for one core. The read is done
once, in the caller; workers forked after it see what was read as it is (copy-on-write, nothing sent
through a pipe), each grades and renders whole reports, and sends back text. The caller yields the
texts in period order, each as soon as the ones before it are in.

Reports that share an objective's grades (see report.GradeMemo: a quarter's grade of a yearly
objective is its last month's) go to the same worker, so no grade is worked out twice. Work is
handed out a group of such reports at a time, largest first, so the workers finish together.

Only where processes can be forked (Linux, and in a process with no other thread: the CLI), and
only the grading and rendering: a worker never reads the store (its inherited connections are
forgotten, see `fork_safe`). With one job, or one group, or where no worker can be started, it
all runs here in order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from okrbridge.cycles import Period, as_utc
from okrbridge.report import GradeMemo, PeriodReport

MAX_JOBS = 4
"""The most worker processes `default_jobs` offers (the reports of a year are twelve groups)."""


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it), at most MAX_JOBS."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this system
        available = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, available))


def can_fork() -> bool:
    """Whether worker processes can be forked here."""
    return "fork" in multiprocessing.get_all_start_methods()


def share_groups(periods: Sequence[Period], now: datetime) -> list[list[int]]:
    """The indexes of `periods` grouped by the instant their grades are taken at (the earlier of the
    period's end and `now`): the reports that may share objective grades, largest group first."""
    groups: dict[datetime, list[int]] = {}
    cut = as_utc(now)
    for index, period in enumerate(periods):
        groups.setdefault(min(period.ends_at, cut), []).append(index)
    return sorted(groups.values(), key=len, reverse=True)


@dataclass(frozen=True)
class _Work:
    """What the forked workers grade and render (set before they are forked, so never pickled)."""

    periods: Sequence[Period]
    grade: Callable[[Period, GradeMemo], PeriodReport]
    render: Callable[[PeriodReport], str]


_work: _Work | None = None


def _render_group(indexes: Sequence[int]) -> list[tuple[int, str]]:
    """In a worker: the rendered reports of one group of periods, by index."""
    assert _work is not None, "a worker runs only after rendered_reports set its work"
    memo: GradeMemo = {}
    return [(index, _work.render(_work.grade(_work.periods[index], memo))) for index in indexes]


def rendered_reports(periods: Sequence[Period], grade: Callable[[Period, GradeMemo], PeriodReport],
                     render: Callable[[PeriodReport], str], *, now: datetime, jobs: int = 1,
                     fork_safe: Callable[[], None] = lambda: None) -> Iterator[str]:
    """Each period's report, `grade`d (sharing the memo it is given) and `render`ed, in period order.

    With `jobs` > 1 where processes can be forked, up to that many workers grade and render groups
    of periods (see `share_groups`); `fork_safe` runs first in each (forgetting the store's
    connections). Otherwise, or when there is only one group, it all runs here, one memo for all.
    """
    global _work
    groups = share_groups(periods, now)
    workers = min(jobs, len(groups))
    if workers <= 1 or not can_fork():
        yield from _here(periods, grade, render)
        return
    if _work is not None:
        raise RuntimeError("reports are already being rendered in worker processes")
    _work = _Work(periods, grade, render)
    try:
        try:
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=fork_safe)
        except OSError:  # no semaphores (a system without /dev/shm) or no process to spare
            yield from _here(periods, grade, render)
            return
        with pool:
            done: dict[int, str] = {}
            following = 0
            for rendered in pool.imap_unordered(_render_group, groups):
                done.update(rendered)
                while following in done:
                    yield done.pop(following)
                    following += 1
    finally:
        _work = None


def _here(periods: Sequence[Period], grade: Callable[[Period, GradeMemo], PeriodReport],
          render: Callable[[PeriodReport], str]) -> Iterator[str]:
    """`rendered_reports` in this process, one memo for all."""
    memo: GradeMemo = {}
    for period in periods:
        yield render(grade(period, memo))


__all__ = ["MAX_JOBS", "can_fork", "default_jobs", "rendered_reports", "share_groups"]
