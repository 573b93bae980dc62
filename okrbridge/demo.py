"""The demo: okrbridge's main job on embedded defaults, against the bundled sandbox.

It starts the sandbox Jira/Confluence in-process (seeded with the demo organisation), loads the
sample OKRs into a fresh SQLite database, records the sample check-ins, and then replays the year
so far: the sandbox's clock is set to each week's end (its issues are cut to what existed then) and
a real sync runs over HTTP, as the scheduler would have done every week. The grades printed at the
end therefore come with a history, trends and forecasts — every number from a real JQL count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from okrbridge.catalog import bundled_sample, load_checkins
from okrbridge.config import Settings, default_settings
from okrbridge.cycles import PeriodKind
from okrbridge.sync import SyncReport
from okrbridge.workspace import Workspace, import_checkins, jira_connection, open_workspace, sync
from sandbox.seed import DEFAULT_SEED, DEFAULT_SIZE, populate
from sandbox.server import SandboxServer
from sandbox.state import Deployment

BOT_EMAIL = "okrbot@example.com"
BOT_TOKEN = "sandbox-token-okrbot"  # the sandbox's documented, fake credential for its bot user


@dataclass
class DemoRun:
    """What the demo did, for printing."""

    sandbox_url: str
    database_url: str
    config_file: Path
    checkins: int = 0
    syncs: list[SyncReport] = field(default_factory=list)


def write_demo_config(database: Path) -> Path:
    """A config next to the demo database, so `okrbridge --config ... history KR` explores it after."""
    path = database.with_suffix(".toml")
    path.write_text("# Written by `okrbridge demo`: the sample OKRs and the demo's database.\n"
                    f"database_url = \"sqlite:///{database.resolve()}\"\n", encoding="utf-8")
    return path


def replay_days(start: datetime, now: datetime, every: timedelta, at: time = time(18, 0)) -> list[datetime]:
    """When a weekly sync would have run since `start`: each `every` at `at` o'clock UTC, strictly
    before `now`, then `now` itself."""
    moments: list[datetime] = []
    day = (start + every).date()
    while (moment := datetime.combine(day, at, tzinfo=UTC)) < now:
        moments.append(moment)
        day += every
    return [*moments, now]


def _fixed(moment: datetime) -> Callable[[], datetime]:
    """A clock stopped at `moment`: each replayed sync stamps its snapshots with its own day."""
    return lambda: moment


def demo_settings(sandbox_url: str, database: Path, env: dict[str, str]) -> Settings:
    """Embedded defaults pointed at the sandbox and a demo database; the token via the environment."""
    settings = default_settings({**env, "OKRBRIDGE_JIRA_TOKEN": BOT_TOKEN})
    jira = settings.jira.model_copy(update={"url": sandbox_url, "email": BOT_EMAIL, "deployment": "auto"})
    return settings.model_copy(update={"jira": jira, "database_url": f"sqlite:///{database}"})


@contextmanager
def running_sandbox(deployment: Deployment = "cloud", port: int = 0, seed: int = DEFAULT_SEED,
                    size: int = DEFAULT_SIZE) -> Iterator[SandboxServer]:
    """The sandbox serving on a background thread for the duration of the block."""
    with SandboxServer(deployment=deployment, port=port, seed=seed, size=size) as server:
        yield server


def run_demo(server: SandboxServer, database: Path, *, weeks: bool = True, now: datetime | None = None,
             progress: Callable[[str], None] | None = None) -> tuple[DemoRun, Workspace]:
    """Load the sample, record its check-ins, and replay this year's syncs against `server`.

    The database file is recreated so that every demo run starts from the same place. Returns the
    run summary and the open workspace (the caller grades from it and closes it).
    """
    database.unlink(missing_ok=True)
    now = now or server.state.now()
    settings = demo_settings(server.url, database, dict(os.environ))
    ws = open_workspace(settings, mode="record", now=now)
    run = DemoRun(server.url, settings.database_url, write_demo_config(database))
    run.checkins = import_checkins(ws, load_checkins(bundled_sample("checkins.toml"), ws.catalog))
    year = ws.loaded.calendar.period_of(PeriodKind.YEAR, now)
    moments = replay_days(year.starts_at, now, timedelta(days=7)) if weeks else [now]
    seed_info = server.state.seed_info or {}
    with jira_connection(settings) as jira:
        for number, at in enumerate(moments, start=1):
            # Rebuild the sandbox's Jira as it was at `at` and move its clock there, so JQL such as
            # `resolved >= -30d` is evaluated as it would have been that day.
            populate(server.state, seed=int(seed_info.get("seed", DEFAULT_SEED)),
                     size=int(seed_info.get("size", DEFAULT_SIZE)), as_of=at)
            server.state.clock.set_now(at)
            run.syncs.append(sync(ws, jira, now=_fixed(at)))
            if progress:
                progress(f"sync {number}/{len(moments)} as of {at:%Y-%m-%d}: "
                         f"{len(run.syncs[-1].synced)} values stored")
    server.state.clock.offset = timedelta(0)
    return run, ws
