"""The demo: okrbridge's main job on embedded defaults, against the bundled sandbox.

It starts the sandbox Jira/Confluence in-process (seeded with the demo organisation), writes a
config pointing at it into the demo folder, loads the sample OKRs into a fresh SQLite database
there, records the sample check-ins, and then replays the year so far: the sandbox's clock is set
to each week's end (its issues are cut to what existed then) and a real sync runs over HTTP, as the
scheduler would have done every week; at each month's last sync, and at the end, the Confluence
status pages are published through the same `workspace.publish` as `okrbridge publish`. The grades
printed at the end therefore come with a history, trends and forecasts — every number from a real
JQL count — and the sandbox's Confluence holds the page tree with a version per month it changed.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import requests

from okrbridge.catalog import bundled_sample, load_checkins
from okrbridge.config import Settings, default_settings, load_settings
from okrbridge.cycles import PeriodKind
from okrbridge.demo_folder import (
    BOT_EMAIL,
    BOT_TOKEN,
    JIRA_TOKEN_ENV,
    DemoFolder,
    demo_env,
    prepare_folder,
    write_demo_config,
)
from okrbridge.publish import PublishReport
from okrbridge.sync import SyncReport
from okrbridge.workspace import (
    Workspace,
    confluence_connection,
    import_checkins,
    jira_connection,
    open_workspace,
    publish,
    sync,
)
from sandbox.forge_host import APP_ID as FORGE_APP_ID
from sandbox.seed import DEFAULT_SEED, DEFAULT_SIZE, populate
from sandbox.server import SandboxServer
from sandbox.state import Deployment

__all__ = ["BOT_EMAIL", "BOT_TOKEN", "DemoRun", "Pointer", "demo_settings", "load_demo_config",
           "publish_moments", "replay_days", "run_demo", "running_sandbox", "running_web_app", "web_pointers",
           "where_to_look"]


@dataclass
class DemoRun:
    """What the demo did, for printing."""

    sandbox_url: str
    folder: DemoFolder
    web_port: int
    checkins: int = 0
    syncs: list[SyncReport] = field(default_factory=list)
    publishes: list[tuple[datetime, PublishReport]] = field(default_factory=list)

    @property
    def config_file(self) -> Path:
        """The config written for exploring the demo afterwards."""
        return self.folder.config

    @property
    def database_url(self) -> str:
        """The demo's database."""
        return self.folder.database_url

    def pages_written(self) -> int:
        """Page writes (creations and updates) over all the replay's publishes."""
        return sum(n for _, report in self.publishes for outcome, n in report.counts().items()
                   if outcome in ("created", "updated"))


def replay_days(start: datetime, now: datetime, every: timedelta, at: time = time(18, 0)) -> list[datetime]:
    """When a weekly sync would have run since `start`: each `every` at `at` o'clock UTC, strictly
    before `now`, then `now` itself."""
    moments: list[datetime] = []
    day = (start + every).date()
    while (moment := datetime.combine(day, at, tzinfo=UTC)) < now:
        moments.append(moment)
        day += every
    return [*moments, now]


def publish_moments(moments: list[datetime]) -> set[datetime]:
    """The replayed syncs followed by a publish: the last of each month, and the last of all."""
    chosen = {a for a, b in itertools.pairwise(moments) if (a.year, a.month) != (b.year, b.month)}
    return chosen | set(moments[-1:])


def _fixed(moment: datetime) -> Callable[[], datetime]:
    """A clock stopped at `moment`: each replayed sync or publish is stamped with its own day."""
    return lambda: moment


@contextmanager
def running_sandbox(deployment: Deployment = "cloud", port: int = 0, seed: int = DEFAULT_SEED,
                    size: int = DEFAULT_SIZE) -> Iterator[SandboxServer]:
    """The sandbox serving on a background thread for the duration of the block."""
    with SandboxServer(deployment=deployment, port=port, seed=seed, size=size) as server:
        yield server


def demo_settings(sandbox_url: str, database: Path, env: dict[str, str]) -> Settings:
    """Embedded defaults pointed at a sandbox's Jira and a database, the bot's token via `env`
    (in memory, no file: what tests open workspaces on a sandbox with)."""
    settings = default_settings({**env, JIRA_TOKEN_ENV: BOT_TOKEN})
    jira = settings.jira.model_copy(update={"url": sandbox_url, "email": BOT_EMAIL, "deployment": "auto"})
    return settings.model_copy(update={"jira": jira, "database_url": f"sqlite:///{database}"})


def load_demo_config(folder: DemoFolder, server: SandboxServer, web_port: int) -> Settings:
    """Write the demo config for `server` into `folder` and load it, with the bot's tokens.

    Loading the written file (rather than building settings in memory) proves that the config a
    user explores with afterwards is the one the demo ran on.
    """
    config = write_demo_config(folder, server.url, server.state.deployment, web_port, FORGE_APP_ID)
    return load_settings(config, {**os.environ, **demo_env()})


def run_demo(server: SandboxServer, folder: Path, *, web_port: int, weeks: bool = True,
             now: datetime | None = None,
             progress: Callable[[str], None] | None = None) -> tuple[DemoRun, Workspace]:
    """Recreate `folder`, load the sample, record its check-ins, and replay this year against `server`.

    Every week's sync runs with the sandbox as it was that week; the status pages are published
    after each month's last sync and after the last one. Returns the run summary and the open
    workspace (the caller grades from it and closes it). DemoFolderError when `folder` is not the
    demo's to recreate.
    """
    demo_folder = prepare_folder(folder)
    now = now or server.state.now()
    settings = load_demo_config(demo_folder, server, web_port)
    ws = open_workspace(settings, mode="record", now=now)
    run = DemoRun(server.url, demo_folder, web_port)
    run.checkins = import_checkins(ws, load_checkins(bundled_sample("checkins.toml"), ws.catalog))
    year = ws.loaded.calendar.period_of(PeriodKind.YEAR, now)
    moments = replay_days(year.starts_at, now, timedelta(days=7)) if weeks else [now]
    publish_at = publish_moments(moments)
    seed_info = server.state.seed_info or {}
    with jira_connection(settings) as jira, confluence_connection(settings) as confluence:
        for number, at in enumerate(moments, start=1):
            # Rebuild the sandbox's Jira as it was at `at` and move its clock there, so JQL such as
            # `resolved >= -30d` is evaluated as it would have been that day (and page versions are
            # dated that day). Confluence's pages are kept: their versions are the history.
            populate(server.state, seed=int(seed_info.get("seed", DEFAULT_SEED)),
                     size=int(seed_info.get("size", DEFAULT_SIZE)), as_of=at)
            server.state.clock.set_now(at)
            run.syncs.append(sync(ws, jira, now=_fixed(at)))
            line = f"sync {number}/{len(moments)} as of {at:%Y-%m-%d}: {len(run.syncs[-1].synced)} values"
            if at in publish_at:
                report = publish(ws, confluence, now=_fixed(at))
                run.publishes.append((at, report))
                counts = sorted(report.counts().items())
                line += "; pages " + (", ".join(f"{n} {outcome}" for outcome, n in counts) or "none")
            if progress:
                progress(line)
    server.state.clock.offset = timedelta(0)
    return run, ws


@dataclass(frozen=True)
class Pointer:
    """One place to look at after the demo: what it is, its address, and who to sign in as."""

    what: str
    url: str
    sign_in: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"what": self.what, "url": self.url, "sign_in": self.sign_in}


def _person(login: str, role: str) -> str:
    """A seeded person's sandbox credentials (the documented pattern in sandbox.seed)."""
    return f"{login}@example.com / sandbox-token-{login} ({role})"


def first_driven_epic(ws: Workspace) -> tuple[str, str] | None:
    """The first KR (in catalog order) that an epic drives, with that epic's key: what to point at."""
    for kr in ws.catalog.key_results():
        initiatives = ws.store.initiatives_for(kr.id)
        if initiatives:
            return kr.id, initiatives[0].epic_key
    return None


def where_to_look(run: DemoRun, ws: Workspace, deployment: str, *, year: str) -> list[Pointer]:
    """The sandbox addresses worth opening: the published pages (per reader) and an epic's remote links.

    The viewer and the API ask a browser for Basic credentials; `sign_in` says whose to give.
    """
    records = ws.store.publish_records()
    pointers: list[Pointer] = []
    company = records.get(f"period:{year}/audience:company")
    if company is not None:
        pointers.append(Pointer(f"Confluence: {company.title}, open to everyone (earlier: ?version=1, 2, …)",
                                f"{run.sandbox_url}/pages/{company.page_id}", _person("frank", "advisor")))
    sales = records.get(f"period:{year}/audience:team-sales")
    if sales is not None:
        pointers.append(Pointer(f"Confluence: {sales.title}, restricted (carol, marketing, gets not found)",
                                f"{run.sandbox_url}/pages/{sales.page_id}", _person("bob", "VP Sales")))
    if records:
        pointers.append(Pointer("Confluence: the page tree (each reader sees only the pages they may read)",
                                f"{run.sandbox_url}/pages/", _person("alice", "CEO, sees every page")))
    api = "/rest/api/3" if deployment == "cloud" else "/rest/api/2"
    linked = first_driven_epic(ws)
    if linked and ws.settings.jira.remote_links:
        kr_id, epic = linked
        pointers.append(Pointer(f"Jira: epic {epic}, which drives {kr_id}, with its remote links to the KRs",
                                f"{run.sandbox_url}{api}/issue/{epic}/remotelink", _person("alice", "CEO")))
    bot = f"{BOT_EMAIL} / {BOT_TOKEN} (okrbridge's bot)"
    pointers.append(Pointer("Jira: the server info; okrbridge's own calls sign in as its bot",
                            f"{run.sandbox_url}{api}/serverInfo", bot))
    return pointers


@contextmanager
def running_web_app(ws: Workspace, sandbox_url: str) -> Iterator[str]:
    """The web app (dashboard, KR pages, API, the Forge panel endpoint) served on `web.port` in the
    background, as `okrbridge serve` serves it, with the sandbox's Forge host pointed at it so the
    sandbox's Jira issue page shows the panel. Yields the app's base URL; stops it on exit."""
    import waitress

    from okrbridge.web import create_app, web_context

    web = ws.settings.web
    app = create_app(ws.settings)
    server = waitress.create_server(app, host=web.host, port=web.port, threads=4, ident="okrbridge")
    thread = threading.Thread(target=server.run, name="okrbridge-web", daemon=True)
    thread.start()
    base = f"http://{web.host}:{web.port}"
    answer = requests.put(f"{sandbox_url}/_sandbox/forge", json={"appId": FORGE_APP_ID, "remote": base},
                          timeout=10)
    answer.raise_for_status()
    try:
        yield base
    finally:
        server.close()
        thread.join(timeout=5)
        web_context(app).close()


def web_pointers(ws: Workspace, sandbox_url: str, web_url: str) -> list[Pointer]:
    """Where to look in the web app and in the sandbox's Jira issue page that carries the panel."""
    pointers = [Pointer("Web: the dashboard (All / Group / Personal, year / quarter / month)", f"{web_url}/",
                        "anyone (the demo's web app is open on loopback: web.auth = anonymous)")]
    linked = first_driven_epic(ws)
    if linked:
        kr_id, epic = linked
        pointers.append(Pointer(f"Web: the KR page of {kr_id} (history, chart, the JQL behind each value)",
                                f"{web_url}/kr/{kr_id}", "anyone"))
        pointers.append(Pointer(f"Jira: issue {epic} with its remote links and the okrbridge panel",
                                f"{sandbox_url}/browse/{epic}", _person("alice", "CEO, sees every KR")))
    return pointers
