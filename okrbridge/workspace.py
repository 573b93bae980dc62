"""The product's use cases over one configuration: what the CLI commands and scheduler jobs call.

A `Workspace` is the validated settings, the loaded OKR catalog and the migrated store. Opening one
loads `okrs.toml`, migrates the database and records the catalog (new ids added, changed ones
updated, removed ones archived), so every command sees the file as it is now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.jira import JiraConnection
from connectors.retry import RetryPolicy
from okrbridge.catalog import Checkin, LoadedCatalog, load_catalog
from okrbridge.config import Settings
from okrbridge.cycles import Period, PeriodKind
from okrbridge.domain import Catalog
from okrbridge.grading import Bands, kpi_score, score_value
from okrbridge.report import PeriodReport, grade_period
from okrbridge.store import Snapshot, Store, UnknownSubject
from okrbridge.sync import LinkOptions, Progress, SyncReport, run_sync


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
    """Store a manual value of a KR or KPI with its score; UnknownSubject names an unknown id."""
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


def grades(ws: Workspace, period: Period, *, now: datetime, nested: bool = False) -> list[PeriodReport]:
    """Grades for `period` (and, when `nested`, for each quarter and month inside it)."""
    readings = ws.store.readings(until=period.ends_at)
    periods = ws.loaded.calendar.nested(period) if nested else [period]
    return [grade_period(ws.catalog, readings, p, now=now, bands=ws.bands,
                         pace_tolerance=ws.settings.grading.pace_tolerance)
            for p in periods]


def jira_connection(settings: Settings) -> JiraConnection:
    """A Jira connection from the `[jira]` settings and the token in the environment."""
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


def kr_url(settings: Settings) -> Callable[[str], str]:
    """Where a KR's remote link points: the dashboard's KR page."""
    web = settings.web
    base = (web.base_url or f"http://{web.host}:{web.port}").rstrip("/")
    return lambda kr_id: f"{base}/kr/{kr_id}"


def sync(ws: Workspace, jira: JiraConnection, *, progress: Progress | None = None,
         only: frozenset[str] | None = None, now: Callable[[], datetime] | None = None) -> SyncReport:
    """Run one sync of the workspace's catalog through `jira` (the scheduler's job calls this too)."""
    links = LinkOptions(enabled=ws.settings.jira.remote_links, url_for=kr_url(ws.settings))
    return run_sync(ws.catalog, ws.store, jira, max_concurrency=ws.settings.jira.max_concurrency,
                    bands=ws.bands, links=links, only=only, progress=progress,
                    now=now or (lambda: datetime.now(UTC)))
