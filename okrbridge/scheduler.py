"""`okrbridge daemon`: sync, publish, the stale check and compaction on a timetable, by one leader at a time.

The jobs run on APScheduler 3 in a single worker thread, so they never overlap; a job that fell
behind (a suspended host, a long sync) runs once when it can (`coalesce`), never once per missed
time. Before each job the daemon checks its leader lease (see `okrbridge.leadership`): a standby
daemon skips the job, and the leader runs it. Interval timetables count from the Unix epoch, so
daemons on several hosts agree on when each period starts.

Each job logs one line to stderr — job, outcome, duration — and okrs.toml is re-read before each
job (see `daemon_jobs.CatalogKeeper`). SIGTERM or SIGINT lets the running job finish, gives the
lease up and exits 0; a second signal exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors.jira import JiraConnection
from okrbridge.config import SchedulerSettings
from okrbridge.daemon_jobs import CatalogKeeper, JobOutcome, compact_job, publish_job, stale_job, sync_job
from okrbridge.leadership import Leadership
from okrbridge.sync import LeadershipLost
from okrbridge.workspace import Workspace

log = logging.getLogger("okrbridge.daemon")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Where interval timetables start counting, the same on every host."""


@dataclass(frozen=True)
class JobSpec:
    """A job of the daemon: its name, when it runs (None: only after another job), what it does, and
    the job that follows it whenever it stored values (publish after sync)."""

    name: str
    trigger: BaseTrigger | None
    run: Callable[[], JobOutcome]
    then: str | None = None


def cron_trigger(setting: str, expression: str, timezone: str) -> CronTrigger:
    """A crontab expression's timetable; ValueError naming the setting when APScheduler refuses it."""
    try:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    except ValueError as exc:
        raise ValueError(f"scheduler.{setting} = {expression!r} is not a valid crontab expression: "
                         f"{exc}") from exc


def sync_trigger(settings: SchedulerSettings) -> BaseTrigger:
    """The sync timetable: the cron expression, or every N seconds or minutes from the epoch."""
    if settings.sync_cron is not None:
        return cron_trigger("sync_cron", settings.sync_cron, settings.timezone)
    if settings.sync_every_seconds is not None:
        return IntervalTrigger(seconds=settings.sync_every_seconds, start_date=EPOCH, timezone=UTC)
    return IntervalTrigger(minutes=settings.sync_every_minutes, start_date=EPOCH, timezone=UTC)


def _every(minutes: int) -> IntervalTrigger:
    """Every `minutes` from the epoch."""
    return IntervalTrigger(minutes=minutes, start_date=EPOCH, timezone=UTC)


class Daemon:
    """The scheduled jobs of one workspace, run while this process holds the leader lease."""

    def __init__(self, ws: Workspace, jira: JiraConnection, *, leadership: Leadership | None = None) -> None:
        self.ws = ws
        self.jira = jira
        settings = ws.settings.scheduler
        self.leadership = leadership or Leadership(ws.store, settings.lease_seconds)
        self.catalog = CatalogKeeper(ws)
        self._stopping = threading.Event()
        self.outcomes: list[tuple[str, JobOutcome]] = []
        self.jobs = [
            JobSpec("sync", sync_trigger(settings),
                    lambda: sync_job(self.ws, self.jira, self.leadership.still_leader),
                    then="publish" if settings.publish_after_sync else None),
            JobSpec("publish",
                    None if settings.publish_after_sync else _every(settings.publish_every_minutes),
                    lambda: publish_job(self.ws)),
            JobSpec("stale", _every(settings.stale_check_every_minutes),
                    lambda: stale_job(self.ws, self.jira, still_leader=self.leadership.still_leader,
                                      claimed_by=self.leadership.owner)),
            JobSpec("compact", cron_trigger("compact_cron", settings.compact_cron, settings.timezone),
                    lambda: compact_job(self.ws)),
        ]

    def run_job(self, spec: JobSpec) -> JobOutcome | None:
        """Run one job if this daemon leads (None when it stands by or is stopping); log its outcome."""
        if self._stopping.is_set() or not self.leadership.still_leader():
            return None
        started = time.monotonic()
        try:
            self.catalog.refresh(self.ws)
            outcome = spec.run()
        except LeadershipLost as exc:
            outcome = JobOutcome("lost_lease", str(exc))
        except Exception as exc:  # a job's failure is logged and the daemon keeps its timetable
            outcome = JobOutcome("error", f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        duration = time.monotonic() - started
        log.log(logging.INFO if outcome.ok else logging.WARNING, "job=%s outcome=%s duration=%.3fs %s",
                spec.name, outcome.status, duration, outcome.detail)
        self.outcomes.append((spec.name, outcome))
        if spec.then is not None and outcome.stored_values:
            self.run_job(self._spec(spec.then))
        return outcome

    def _spec(self, name: str) -> JobSpec:
        """The job called `name`."""
        return next(spec for spec in self.jobs if spec.name == name)

    def run_once(self) -> int:
        """Run every job once (publish after the sync, as configured) if this daemon leads; the exit code.

        0 when every job ran and none failed, 1 when one failed, 2 when another daemon leads.
        """
        try:
            if not self.leadership.still_leader():
                log.warning("event=not_leader owner=%s: another daemon holds the lease; nothing ran",
                            self.leadership.owner)
                return 2
            for spec in self.jobs:
                if spec.trigger is not None:
                    self.run_job(spec)
        finally:
            self.leadership.stop()
        return 0 if all(outcome.ok for _, outcome in self.outcomes) else 1

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        """Signal handler: finish the running job, then stop; a second signal exits at once."""
        if self._stopping.is_set():
            log.warning("event=forced_exit signal=%s", signal.Signals(signum).name)
            os._exit(1)
        log.info("event=stopping signal=%s: finishing the running job", signal.Signals(signum).name)
        self._stopping.set()

    def run_forever(self) -> int:
        """Run the jobs on their timetables until SIGTERM or SIGINT; returns the exit code (0)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.request_stop)
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},  # one job at a time, ever
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC)
        for spec in self.jobs:
            if spec.trigger is not None:
                scheduler.add_job(self.run_job, spec.trigger, args=[spec], id=spec.name, name=spec.name)
        self.leadership.start()
        scheduler.start()
        log.info("event=started owner=%s jobs=%s", self.leadership.owner, ",".join(
            f"{job.id}@{job.trigger}" for job in scheduler.get_jobs()))
        self._stopping.wait()
        scheduler.shutdown(wait=True)  # waits for the running job; queued ones return at once
        self.leadership.stop()
        log.info("event=stopped owner=%s", self.leadership.owner)
        return 0


def configure_logging(level: int = logging.INFO) -> None:
    """One event per line on stderr, with the time; APScheduler's own chatter only when it matters."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
