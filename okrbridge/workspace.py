"""The product's use cases over one configuration: what the CLI commands and scheduler jobs call.

A `Workspace` is the validated settings, the loaded OKR catalog and the migrated store. Opening one
loads `okrs.toml`, migrates the database and records the catalog (new ids added, changed ones
updated, removed ones archived), so every command sees the file as it is now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from okrbridge.audiences import Audience, resolve_audiences
from okrbridge.catalog import Checkin, LoadedCatalog, load_catalog
from okrbridge.config import Settings
from okrbridge.cycles import Period, PeriodKind, user_instant
from okrbridge.domain import Catalog, Reading, checked_value
from okrbridge.grading import Bands, kpi_score, score_value
from okrbridge.page_spec import PageSpec
from okrbridge.report import PeriodReport, grade_period, reading_window_start
from okrbridge.safe_text import describe, unsafe_character
from okrbridge.staleness import SilenceVerdict, find_silence
from okrbridge.store import (
    Initiative,
    SilenceChanges,
    Snapshot,
    Store,
    UnknownSubject,
    last_value_times,
    mark_silence,
)
from okrbridge.views import ViewData

if TYPE_CHECKING:  # the Jira and Confluence side (HTTP, connectors) loads only for the commands that use it
    from connectors.confluence import ConfluenceConnection
    from connectors.jira import JiraConnection
    from okrbridge.publish import PageOperations, PublishReport
    from okrbridge.publish import Progress as PublishProgress
    from okrbridge.sync import Progress, SyncReport


@dataclass
class Workspace:
    """Settings, the catalog loaded from `settings.okrs`, and the store at `settings.database_url`."""

    settings: Settings
    loaded: LoadedCatalog
    store: Store

    @property
    def catalog(self) -> Catalog:
        """The validated OKRs and KPIs."""
        return self.loaded.catalog

    @property
    def bands(self) -> Bands:
        """Status bands from the grading settings."""
        grading = self.settings.grading
        return Bands(off_track_below=grading.off_track_below, at_risk_below=grading.at_risk_below)

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()


def open_workspace(settings: Settings, *, now: datetime | None = None) -> Workspace:
    """Load the catalog (CatalogError on errors), migrate the store and record the catalog in it."""
    loaded = load_catalog(settings.okrs)
    store = Store(settings.database_url)
    store.migrate()
    store.sync_catalog(loaded.catalog, now or datetime.now(UTC))
    return Workspace(settings, loaded, store)


def record_checkin(ws: Workspace, subject_id: str, value: float, *, at: datetime | None = None,
                   note: str | None = None, author: str | None = None) -> Snapshot:
    """Store a manual value of a KR or KPI with its score; UnknownSubject names an unknown id.

    A value beyond ±MAX_CHECKIN_MAGNITUDE, a time outside cycles.user_instant's range, or a control
    character in the note or author raises ValueError naming it: nothing is stored.
    """
    value = checked_value(value)
    at = user_instant(at) if at is not None else None
    for name, text, allow in (("note", note, "\t\n\r"), ("author", author, "")):
        char = unsafe_character(text, allow=allow) if text else None
        if char is not None:
            raise ValueError(f"the {name} holds the control character {describe(char)}; write plain text")
    kr = ws.catalog.key_result(subject_id)
    kpi = ws.catalog.kpi(subject_id)
    if kr is not None:
        score = score_value(kr.measure, value)
    elif kpi is not None:
        score = kpi_score(kpi, value)
    else:
        raise UnknownSubject(subject_id)
    return ws.store.record_checkin(subject_id, value, at or datetime.now(UTC), note, author, score=score)


def import_checkins(ws: Workspace, checkins: list[Checkin], *, author: str = "sample") -> int:
    """Record check-ins not stored yet (same subject, time and value); returns how many were new."""
    stored: dict[str, set[tuple[datetime, float | None]]] = {}
    added = 0
    for checkin in checkins:
        if checkin.subject_id not in stored:  # each subject's history is read once, not per check-in
            stored[checkin.subject_id] = {(s.taken_at, s.value) for s in ws.store.history(checkin.subject_id)}
        if (checkin.at, checkin.value) in stored[checkin.subject_id]:
            continue
        record_checkin(ws, checkin.subject_id, checkin.value, at=checkin.at, note=checkin.note or None,
                       author=author)
        stored[checkin.subject_id].add((checkin.at, checkin.value))
        added += 1
    return added


def resolve_period(ws: Workspace, cycle: str | None, at: datetime) -> Period:
    """The period a grades command asks for: `cycle` parsed, or the fiscal year containing `at`."""
    calendar = ws.loaded.calendar
    return calendar.parse(cycle) if cycle else calendar.period_of(PeriodKind.YEAR, at)


def _period_readings(ws: Workspace, period: Period, now: datetime) -> dict[str, list[Reading]]:
    """The readings any grade of `period` (or of a period inside it) as of `now` can use, in one read."""
    since = reading_window_start(ws.catalog, period, ws.loaded.calendar, now)
    return ws.store.readings(until=period.ends_at, since=since)


def grades(ws: Workspace, period: Period, *, now: datetime, nested: bool = False) -> list[PeriodReport]:
    """Grades for `period` (and, when `nested`, for each quarter and month inside it)."""
    readings = _period_readings(ws, period, now)
    periods = ws.loaded.calendar.nested(period) if nested else [period]
    return [grade_period(ws.catalog, readings, p, now=now, bands=ws.bands, calendar=ws.loaded.calendar)
            for p in periods]


def jira_connection(settings: Settings) -> JiraConnection:
    """A Jira connection from the `[jira]` settings and the token in the environment."""
    from connectors.jira import JiraConnection
    from connectors.retry import RetryPolicy

    jira = settings.jira
    if not jira.url:
        raise ValueError("jira.url is not set: name your Jira site in the config file")
    token = settings.jira_token()
    if not token:
        raise ValueError(f"no Jira token: set the environment variable {jira.token_env} to an API token "
                         "(Cloud, with jira.email) or a personal access token (Data Center)")
    policy = RetryPolicy(max_attempts=jira.max_retries + 1, max_wait=jira.max_retry_wait_seconds)
    return JiraConnection(jira.url, deployment=jira.deployment, email=jira.email, token=token,
                          timeout=jira.timeout_seconds, policy=policy,
                          max_connections=max(jira.max_concurrency, 10))


def confluence_connection(settings: Settings) -> ConfluenceConnection:
    """A Confluence connection from the `[confluence]` settings and the token in the environment.

    Timeouts and retries follow the `[jira]` settings: one policy for every Atlassian call.
    """
    from connectors.confluence import ConfluenceConnection
    from connectors.retry import RetryPolicy

    confluence, jira = settings.confluence, settings.jira
    if not confluence.url:
        raise ValueError("confluence.url is not set: name your Confluence site in the config file")
    token = settings.confluence_token()
    if not token:
        raise ValueError(f"no Confluence token: set the environment variable {confluence.token_env} to an "
                         "API token (Cloud, with confluence.email) or a personal access token (Data Center)")
    policy = RetryPolicy(max_attempts=jira.max_retries + 1, max_wait=jira.max_retry_wait_seconds)
    return ConfluenceConnection(confluence.url, deployment=confluence.deployment, email=confluence.email,
                                token=token, timeout=jira.timeout_seconds, policy=policy)


def credentials_hint(settings: Settings) -> str:
    """What to fix when Jira refuses the credentials: the settings that hold them (never their values)."""
    jira = settings.jira
    account = (f"jira.email ({jira.email}) must be the account the token belongs to" if jira.email
               else "jira.email is not set (Jira Cloud needs the account's email with an API token)")
    return (f"fix jira.token_env: the environment variable {jira.token_env} must hold a valid API token "
            f"(Cloud) or personal access token (Data Center), and {account}")


def sync(ws: Workspace, jira: JiraConnection, *, progress: Progress | None = None,
         only: frozenset[str] | None = None, now: Callable[[], datetime] | None = None,
         still_leader: Callable[[], bool] | None = None) -> SyncReport:
    """Run one sync of the workspace's catalog through `jira` (the scheduler's job calls this too).

    Remote links are written only when `web.base_url` says where the KR pages are served.
    Raises SyncAborted, naming the credential settings to fix, when Jira refuses them.
    `still_leader`, from the daemon, is checked right before the sync writes (see run_sync).
    """
    from okrbridge.sync import LinkOptions, run_sync

    links = LinkOptions(enabled=ws.settings.jira.remote_links, base_url=ws.settings.web.base_url)
    return run_sync(ws.catalog, ws.store, jira, max_concurrency=ws.settings.jira.max_concurrency,
                    bands=ws.bands, links=links, calendar=ws.loaded.calendar, only=only, progress=progress,
                    auth_hint=credentials_hint(ws.settings), now=now or (lambda: datetime.now(UTC)),
                    still_leader=still_leader, deadline_seconds=ws.settings.jira.sync_deadline_seconds)


def audiences(ws: Workspace) -> tuple[Audience, ...]:
    """The configured `[[audience]]` entries, or the defaults made from the catalog."""
    return resolve_audiences(ws.settings.audiences(), ws.catalog)


def view_data(ws: Workspace, period: Period, *, now: datetime,
              objectives: Sequence[str] | None = None) -> ViewData:
    """What views need for `period`: its grades as of `now`, the readings, initiatives and sync states.

    With `objectives` (ids), only those objectives are graded (and no KPI), and only their KRs'
    values are read: what the web panel and a KR page need, without reading every snapshot. The
    catalog stays whole, so views still find parents and KPIs to decide what a reader may see.
    """
    catalog = ws.catalog
    graded = catalog
    if objectives is not None:
        wanted = set(objectives)
        graded = Catalog(objectives=tuple(o for o in catalog.objectives if o.id in wanted),
                         fiscal_year_start=catalog.fiscal_year_start)
    ids = None if objectives is None else [kr.id for kr in graded.key_results()]
    since = reading_window_start(graded, period, ws.loaded.calendar, now)
    readings = ws.store.readings(ids, until=period.ends_at, since=since) if ids != [] else {}
    report = grade_period(graded, readings, period, now=now, bands=ws.bands, calendar=ws.loaded.calendar)
    # one query for the KRs' epics, not one per KR
    initiatives: dict[str, list[Initiative]] = {}
    for item in ws.store.all_initiatives() if ids is None else ws.store.initiatives_of(ids) if ids else []:
        initiatives.setdefault(item.kr_id, []).append(item)
    states = ws.store.subject_states(ids) if ids != [] else {}
    return ViewData(catalog, report, readings, initiatives, states, ws.loaded.calendar)


def status_pages(ws: Workspace, *, now: datetime) -> list[PageSpec]:
    """The Confluence page tree for every published period (see pages.publish_periods) as of `now`."""
    from okrbridge.pages import period_views, publish_periods, render_pages  # templates load here

    chosen = audiences(ws)
    periods = publish_periods(ws.catalog, ws.loaded.calendar, now)
    return render_pages([period_views(view_data(ws, p, now=now), chosen) for p in periods],
                        jira_url=ws.settings.jira.url)



def check_silence(ws: Workspace, *, now: datetime | None = None) -> tuple[SilenceVerdict, SilenceChanges]:
    """Mark stale every KR and KPI with no fresh value for longer than `[scheduler]` allows.

    A value is fresh when a snapshot or check-in was taken, or a sync last confirmed it. Marks
    it set itself are lifted once a value arrives; a sync failure's stale mark is left alone.
    """
    moment = now or datetime.now(UTC)
    last = last_value_times(ws.store)
    for subject_id, state in ws.store.subject_states().items():
        confirmed = state.last_success_at
        if confirmed is not None and (subject_id not in last or confirmed > last[subject_id]):
            last[subject_id] = confirmed
    verdict = find_silence(ws.catalog, ws.loaded.calendar, last, moment, ws.settings.scheduler.stale_after)
    return verdict, mark_silence(ws.store, verdict.silent, verdict.heard)


Renderer = Callable[["Workspace", str | None], Sequence[PageSpec]]
"""Renders the status pages of a workspace (for one period, or all when None)."""


def publish(ws: Workspace, confluence: PageOperations,
            specs_or_renderer: Sequence[PageSpec] | Renderer | None = None, *, dry_run: bool = False,
            force: bool = False, period: str | None = None,
            progress: PublishProgress | None = None,
            now: Callable[[], datetime] | None = None) -> PublishReport:
    """Publish the status pages to `confluence.space`: plan against what is live, then write what changed.

    `specs_or_renderer` is the rendered pages, or a function rendering them for (ws, period); None
    renders `status_pages` (cut to `period` by `period_pages`). A dry run reads Confluence exactly
    as a real run does and writes nothing; its report carries the diff of each body that would
    change. With a `period`, only records of that period's pages can be reported as orphans.
    """
    from okrbridge.publish import apply, preview, read_live  # the Confluence side loads here
    from okrbridge.publish_plan import plan

    when = now or (lambda: datetime.now(UTC))
    if specs_or_renderer is None:
        specs_or_renderer = lambda ws, period: period_pages(status_pages(ws, now=when()), period)  # noqa: E731
    specs = list(specs_or_renderer(ws, period) if callable(specs_or_renderer) else specs_or_renderer)
    space = ws.settings.confluence.space
    records = ws.store.publish_records()
    live = read_live(confluence, specs, records, space)
    scope = (lambda key: in_period(key, period)) if period else None
    actions = plan(specs, records, live, force=force, orphan_scope=scope)
    if dry_run:
        return preview(actions, confluence)
    parent_title = ws.settings.confluence.parent_title
    root_parent_id: str | None = None
    if parent_title:
        parent = confluence.find_page(space, parent_title)
        if parent is None:
            raise ValueError(f"confluence.parent_title: no page titled {parent_title!r} in space {space}")
        root_parent_id = parent.id
    return apply(actions, confluence, space_key=space, root_parent_id=root_parent_id,
                 save=ws.store.save_publish_record, now=when, progress=progress,
                 published={key: record.page_id for key, record in records.items()})


def in_period(key: str, period: str) -> bool:
    """Whether a page key belongs to one period's pages (`period:<label>` and the pages under it)."""
    return key == f"period:{period}" or key.startswith(f"period:{period}/")


def period_pages(specs: Sequence[PageSpec], period: str | None) -> list[PageSpec]:
    """The pages one publish of `period` writes: its own pages and the root they hang from (all for None)."""
    if period is None:
        return list(specs)
    chosen = [spec for spec in specs if in_period(spec.key, period)]
    if not chosen:
        published = sorted({spec.key.split("/")[0].removeprefix("period:") for spec in specs
                            if spec.key.startswith("period:")})
        raise ValueError(f"no pages are published for period {period} (periods with pages: "
                         f"{', '.join(published) or 'none'})")
    keys = {spec.key for spec in chosen}
    parents = {spec.parent_key for spec in chosen if spec.parent_key not in keys}
    return [spec for spec in specs if spec.key in parents] + chosen
