"""The product's use cases over one configuration: the whole API the CLI and the daemon call, and the
coming web app will.

A `Workspace` is the validated settings, the OKR catalog loaded from `okrs.toml` and the store. It
is opened in one of two modes:

- `mode="read"` (grades, history, the coming web app's pages): loads `okrs.toml` and checks that the
  database's schema is current, and writes nothing — no migration, no catalog record. A missing or
  old database is a `SchemaNotReady` error saying to run `okrbridge sync` first. When the file's
  content hash is the one recorded last, the validated catalog recorded with it is used instead
  of parsing the file again (at 10,000 key results that parse costs about a second).
- `mode="record"` (sync, check-in, the daemon's jobs): loads `okrs.toml`, migrates the
  database and records the catalog in it (new ids added, changed ones updated, removed ones
  archived), so the values written belong to the file as it is now — unless the file's content
  hash is the one recorded last: then the tables already hold it, and nothing is written.

A long-running process (the daemon, the coming web app) opens its workspace once at start-up and shares
it between requests and jobs: the Store is thread-safe and holds one connection pool. It sees
`okrs.toml` as it was when opened; the daemon's `CatalogKeeper` swaps in an edited file between jobs.

Scores are never read from the store: `score_of` derives them from the stored value and the
catalog's current measure (`grading.score_of`), for grades, history and remote links alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

from okrbridge.catalog import (
    CatalogText,
    Checkin,
    LoadedCatalog,
    check_catalog_file,
    load_catalog,
    read_catalog_text,
)
from okrbridge.collector import collector_paused
from okrbridge.config import Settings
from okrbridge.cycles import Period, PeriodKind, user_instant
from okrbridge.domain import Catalog, KeyResult, Kpi, SourceKind, checked_value
from okrbridge.grading import Bands, score_of
from okrbridge.lint import Problem
from okrbridge.report import (
    GradeMemo,
    PeriodReport,
    grade_period,
    graded_kpi_observations,
    graded_observations,
    reading_window_start,
    window_bounds,
)
from okrbridge.safe_text import describe, printable, unsafe_character
from okrbridge.series import Observations, Series
from okrbridge.store import (
    CatalogChanges,
    Initiative,
    Snapshot,
    Store,
    UnknownSubject,
)
from okrbridge.store.definitions import UnreadableSubject

if TYPE_CHECKING:  # the Jira and Confluence side (HTTP, connectors) loads only for the commands that use it
    from connectors.confluence import ConfluenceConnection
    from connectors.jira import JiraConnection
    from okrbridge.audiences import Audience
    from okrbridge.page_spec import PageSpec
    from okrbridge.publish import PageOperations, PublishReport
    from okrbridge.publish import Progress as PublishProgress
    from okrbridge.staleness import SilenceVerdict
    from okrbridge.store.silence import SilenceChanges
    from okrbridge.sync import Progress, SyncReport
    from okrbridge.views import ViewData

Mode = Literal["read", "record"]
"""How a workspace is opened: "read" writes nothing; "record" migrates and records the catalog."""


@dataclass
class Workspace:
    """Settings, the catalog loaded from `settings.okrs`, and the store at `settings.database_url`."""

    settings: Settings
    loaded: LoadedCatalog
    store: Store
    mode: Mode

    @property
    def catalog(self) -> Catalog:
        """The validated OKRs and KPIs."""
        return self.loaded.catalog

    @property
    def bands(self) -> Bands:
        """Status bands from the grading settings."""
        grading = self.settings.grading
        return Bands(off_track_below=grading.off_track_below, at_risk_below=grading.at_risk_below)

    def subject(self, subject_id: str) -> KeyResult | Kpi:
        """The KR or KPI with this id in the loaded catalog; UnknownSubject names an unknown one."""
        found = self.loaded.subject(subject_id)
        if found is None:
            raise UnknownSubject(subject_id)
        return found

    def score_of(self, snapshot: Snapshot) -> float | None:
        """A stored value's score under the catalog's current measure (None once its id left okrs.toml)."""
        subject = self.loaded.subject(snapshot.subject_id)
        return score_of(subject, snapshot.value, snapshot.explanation) if subject is not None else None

    def require_record_mode(self, action: str) -> None:
        """Refuse a write through a workspace opened for reading (its catalog is not recorded)."""
        if self.mode != "record":
            raise ValueError(f"cannot {action}: this workspace was opened for reading (mode='read')")

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()


def open_workspace(settings: Settings, *, mode: Mode, now: datetime | None = None) -> Workspace:
    """Load the catalog (CatalogError on errors) and open the store for `mode` (see the module docstring).

    "read" raises SchemaNotReady, naming the command to run, when the database is missing or has
    another schema; "record" migrates it and records the catalog (when the file changed).
    """
    if mode == "read":
        text = read_catalog_text(settings.okrs)
        store = Store(settings.database_url, create=False)
        try:
            try:
                store.check_schema()
            except BaseException:
                load_catalog(settings.okrs, text)  # a broken okrs.toml is named before the database
                raise
            loaded = _recorded_or_parsed(store, text)
        except BaseException:
            store.close()
            raise
    elif mode == "record":
        loaded = load_catalog(settings.okrs)
        store = Store(settings.database_url)
        try:
            store.migrate()
            record_catalog(store, loaded, now or datetime.now(UTC))
        except BaseException:
            store.close()
            raise
    else:
        raise ValueError(f"a workspace opens in mode 'read' or 'record', not {mode!r}")
    return Workspace(settings, loaded, store, mode)


def _recorded_or_parsed(store: Store, text: CatalogText) -> LoadedCatalog:
    """The catalog recorded with this file's content hash, or the file parsed when none was."""
    recorded = store.recorded_catalog(text.digest)
    if recorded is None:
        return load_catalog(text.path, text)

    def build() -> Catalog:
        """The recorded catalog, or the file parsed when the data cannot be read back."""
        return recorded.catalog() or load_catalog(text.path, text).catalog

    def find_subject(subject_id: str) -> KeyResult | Kpi | None:
        """One subject from the recorded data, or from the whole catalog when it cannot be told there."""
        try:
            return recorded.subject(subject_id)
        except UnreadableSubject:
            catalog = loaded.catalog
            return catalog.key_result(subject_id) or catalog.kpi(subject_id)

    # The file was valid when recorded; its warnings are found only if someone asks for them, and
    # the catalog is built only if something needs all of it (history of one KR does not).
    loaded = LoadedCatalog(build, lambda: check_catalog_file(text.path), text.digest, find_subject)
    return loaded


def record_catalog(store: Store, loaded: LoadedCatalog, now: datetime) -> CatalogChanges | None:
    """Record `loaded` in the store's catalog tables unless the file recorded last had its content
    hash: then nothing is written and None is returned (one hash and one SELECT)."""
    if loaded.digest is not None and store.catalog_digest() == loaded.digest:
        return None
    return store.sync_catalog(loaded.catalog, now, digest=loaded.digest)


def validate(settings: Settings) -> list[Problem]:
    """Errors and lint warnings of `settings.okrs`, in file order; nothing is opened or written."""
    return check_catalog_file(settings.okrs)


def dry_run(settings: Settings, only: frozenset[str] | None = None, *,
            at: datetime | None = None) -> SyncReport:
    """The questions a sync would ask; only `okrs.toml` is read (no Jira, no database)."""
    from okrbridge.sync import dry_run as plan_only

    return plan_only(load_catalog(settings.okrs).catalog, only, at=at)


def record_checkin(ws: Workspace, subject_id: str, value: float, *, at: datetime | None = None,
                   note: str | None = None, author: str | None = None,
                   sum_months: bool = True) -> Snapshot:
    """Store a manual value of a KR or KPI; UnknownSubject names an unknown id.

    The score it has now is stored with it as a record; every reader scores it afresh (`score_of`).
    The month sums it made due are worked out unless `sum_months` is False (a caller recording many
    works them out once, after the last).
    A value beyond ±MAX_CHECKIN_MAGNITUDE, a time outside cycles.user_instant's range, or a control
    character in the note or author raises ValueError naming it: nothing is stored.
    """
    ws.require_record_mode("record a check-in")
    value = checked_value(value)
    at = user_instant(at) if at is not None else None
    for name, text, allow in (("note", note, "\t\n\r"), ("author", author, "")):
        char = unsafe_character(text, allow=allow) if text else None
        if char is not None:
            raise ValueError(f"the {name} holds the control character {describe(char)}; write plain text")
    score = score_of(ws.subject(subject_id), value)
    stored = ws.store.record_checkin(subject_id, value, at or datetime.now(UTC), note, author, score=score)
    if sum_months:  # one subject's month or two: the sums stay ready for `grades`
        ws.store.refresh_month_sums()
    return stored


def checkin_warning(ws: Workspace, subject_id: str) -> str | None:
    """Why a check-in of a Jira-backed KR or KPI will not last (the next sync stores a newer value)."""
    subject = ws.subject(subject_id)
    if subject.source.kind is SourceKind.MANUAL:
        return None
    return (f"{subject_id} is synced from Jira ({subject.source.kind.value}); "
            "the next sync will store a newer value")


class HistoryEntry(NamedTuple):
    """One stored value and its score under the catalog's current measure."""

    snapshot: Snapshot
    score: float | None


def history(ws: Workspace, subject_id: str) -> list[HistoryEntry]:
    """Every stored value of a KR or KPI of the catalog, oldest first, each with its score now.

    UnknownSubject when `okrs.toml` has no such id; a KR added to the file since the last sync or
    check-in simply has no values yet.
    """
    ws.subject(subject_id)
    try:
        snapshots = ws.store.history(subject_id)
    except UnknownSubject:  # in okrs.toml, not recorded yet: a read-only open records nothing
        snapshots = []
    return [HistoryEntry(snapshot, ws.score_of(snapshot)) for snapshot in snapshots]


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
                       author=author, sum_months=False)
        stored[checkin.subject_id].add((checkin.at, checkin.value))
        added += 1
    ws.store.refresh_month_sums()  # once for the whole file
    return added


def resolve_period(ws: Workspace, cycle: str | None, at: datetime) -> Period:
    """The period a grades command asks for: `cycle` parsed, or the fiscal year containing `at`."""
    calendar = ws.loaded.calendar
    return calendar.parse(cycle) if cycle else calendar.period_of(PeriodKind.YEAR, at)


def grades(ws: Workspace, period: Period, *, now: datetime, nested: bool = False) -> list[PeriodReport]:
    """Grades for `period` (and, when `nested`, for each quarter and month inside it)."""
    return list(iter_grades(ws, period, now=now, nested=nested))


def iter_grades(ws: Workspace, period: Period, *, now: datetime,
                nested: bool = False) -> Iterator[PeriodReport]:
    """`grades`, one report at a time (a caller that writes each out holds one report, not seventeen).

    The store is read once for all the periods: the key results' running month sums at the bounds
    of the windows graded (every cycle is a run of whole months; see okrbridge.month_series), the KPIs'
    valued observations as compact series (a KPI's value may be older than any cycle), and only the
    explanations of the readings the grades show: a month sum's latest observation comes with its
    own, and the rest are read in a few batched statements.
    """
    periods, grade = _graded(ws, ws.catalog, period, now=now, nested=nested)
    memo: GradeMemo = {}  # a quarter's grade of a yearly objective is its last month's
    for each in periods:
        yield grade(each, memo)


def rendered_grades(ws: Workspace, period: Period, *, now: datetime, nested: bool,
                    render: Callable[[PeriodReport], str], jobs: int = 1) -> Iterator[str]:
    """`iter_grades`, each report rendered to text by `render`, in period order.

    With `jobs` > 1 the reports are graded and rendered in that many worker processes forked after
    the store was read (see okrbridge.report_jobs; a worker never reads the store): for a process
    with no other thread, such as the CLI.
    """
    from okrbridge.report_jobs import rendered_reports

    periods, grade = _graded(ws, ws.catalog, period, now=now, nested=nested)
    engine = ws.store.engine

    def forget_connections() -> None:
        """In a forked worker: the parent's pooled connections are left to the parent."""
        engine.dispose(close=False)

    return rendered_reports(periods, grade, render, now=now, jobs=jobs, fork_safe=forget_connections)


def _graded(ws: Workspace, catalog: Catalog, period: Period, *, now: datetime,
            nested: bool) -> tuple[list[Period], Callable[[Period, GradeMemo], PeriodReport]]:
    """The periods `grades` reports on, and how one of them is graded, for `catalog` (the
    workspace's, or some of its objectives), from one read of the store (see `iter_grades`; a memo
    shared by reports of one read keeps each objective grade once)."""
    since = reading_window_start(catalog, period, now)
    periods = catalog.calendar.nested(period) if nested else [period]
    with collector_paused():  # what is read and graded here all survives (see okrbridge.collector)
        by_month, details = ws.store.month_series(
            [kr.id for kr in catalog.key_results()], bounds=window_bounds(catalog, periods), now=now)
        kpi_series, _ = ws.store.series([kpi.id for kpi in catalog.kpis], until=period.ends_at,
                                        since=since, book=details)
        observations: dict[str, Observations] = {**by_month, **kpi_series}
        # the month sums came with the details of their latest observations; the KPIs' are read now
        details.prefetch(graded_kpi_observations(catalog, kpi_series, periods, now=now))

    def grade(each: Period, memo: GradeMemo) -> PeriodReport:
        """One period's report from what was read."""
        with collector_paused():
            return grade_period(catalog, observations, each, now=now, bands=ws.bands,
                                pace_tolerance=ws.settings.grading.pace_tolerance, memo=memo)

    return periods, grade


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
         still_leader: Callable[[], bool] | None = None, full: bool = False) -> SyncReport:
    """Run one sync of the workspace's catalog through `jira` (the daemon's sync job calls this too).

    Answers of unchanged project sets stand (see okrbridge.change_probe) unless `full` or they
    are older than `jira.full_sync_hours`; with that at 0, change detection is off.
    Remote links are written only when `web.base_url` says where the KR pages are served.
    Raises SyncAborted, naming the credential settings to fix, when Jira refuses them.
    `still_leader`, from the daemon, is checked right before the sync writes (see run_sync).
    """
    ws.require_record_mode("sync")
    from okrbridge.change_probe import ChangeDetection
    from okrbridge.sync import LinkOptions, run_sync

    links = LinkOptions(enabled=ws.settings.jira.remote_links, base_url=ws.settings.web.base_url)
    hours = ws.settings.jira.full_sync_hours
    # 0 hours: no answer ever stands, so no probe is worth asking either (change detection is off)
    detection = ChangeDetection(full=full, full_sync_hours=hours) if hours > 0 else None
    report = run_sync(ws.catalog, ws.store, jira, max_concurrency=ws.settings.jira.max_concurrency,
                      bands=ws.bands, links=links, only=only, progress=progress,
                      auth_hint=credentials_hint(ws.settings), now=now or (lambda: datetime.now(UTC)),
                      still_leader=still_leader, deadline_seconds=ws.settings.jira.sync_deadline_seconds,
                      change_detection=detection)
    if still_leader is None or still_leader():
        # the months this sync wrote into are summed now, so the next `grades` reads their sums
        ws.store.refresh_month_sums()
    return report


def _skipped_lines(report: SyncReport) -> list[str]:
    """What was not synced, grouped by reason (manual KRs are many and expected: one line)."""
    by_reason: dict[str, list[str]] = {}
    for subject, reason in report.skipped.items():
        by_reason.setdefault(reason, []).append(subject)
    return [f"  not synced ({reason}): {', '.join(sorted(subjects))}"
            for reason, subjects in sorted(by_reason.items())]


def sync_summary(report: SyncReport) -> str:
    """The human summary of a sync (or of a dry run's plan), as the CLI prints it; control characters
    escaped, so one logical line is one line on the terminal."""
    if report.dry_run:
        lines = [f"dry run: {report.questions} distinct question(s) would be asked; nothing was touched"]
        lines += [f"  {q}" for q in report.planned]
        return "\n".join(printable(line) for line in [*lines, *_skipped_lines(report)])
    lines = [f"sync run {report.run_id} on Jira {report.deployment}: {report.status} in "
             f"{report.duration_seconds:.1f}s — {len(report.synced)} synced, {len(report.failed)} failed "
             f"({len(report.stale)} keep an older value, marked stale), {report.questions} questions, "
             f"{report.requests} requests, {report.retries} retries",
             f"change detection: {report.answers_stood} of {report.questions} answers unchanged since the "
             f"last sync (not asked again); {report.links_in_place} epics' links known in place"
             + (f"; {report.change_note}" if report.change_note else ""),
             f"initiatives: {report.initiatives} epic links; remote links written {report.links_written}, "
             f"removed {report.links_removed}"]
    if report.links_skipped:
        lines.append(f"  {report.links_skipped}")
    lines += [f"  failed {subject}: {reason}" for subject, reason in sorted(report.failed.items())]
    lines += [f"  warning {subject}: {reason}" for subject, reason in sorted(report.warnings.items())]
    lines += _skipped_lines(report)
    lines += [f"  remote link {where}: {reason}" for where, reason in sorted(report.link_errors.items())]
    return "\n".join(printable(line) for line in lines)


def audiences(ws: Workspace) -> tuple[Audience, ...]:
    """The configured `[[audience]]` entries, or the defaults made from the catalog."""
    from okrbridge.audiences import resolve_audiences  # views and pages only: grades never load them

    return resolve_audiences(ws.settings.audiences(), ws.catalog)


def view_data(ws: Workspace, period: Period, *, now: datetime,
              objectives: Sequence[str] | None = None, trends: bool = True) -> ViewData:
    """What views need for `period`: its grades as of `now`, the readings, initiatives and sync states.

    With `objectives` (ids), only those objectives are graded (and no KPI), and only their KRs'
    values are read: what the web panel and a KR page need, without reading every snapshot. The
    catalog stays whole, so views still find parents and KPIs to decide what a reader may see.
    Without `trends` (an export shows none) no reading is kept for views to draw: the grades are
    worked out from the month sums, as `grades` works them out, and every trend is empty.
    """
    catalog = ws.catalog
    graded = catalog
    if objectives is not None:
        wanted = set(objectives)
        graded = replace(catalog, objectives=tuple(o for o in catalog.objectives if o.id in wanted), kpis=())
    ids = None if objectives is None else [kr.id for kr in graded.key_results()]
    readings: Mapping[str, Series] = {}
    if trends:
        # Compact series, not a Reading per observation: a year's views at 10,000 KRs read millions
        # of them. The trends are drawn from the series; explanations are read only for the values
        # graded.
        since = reading_window_start(graded, period, now)
        subjects = [kr.id for kr in graded.key_results()] + [kpi.id for kpi in graded.kpis]
        readings, book = ws.store.series(subjects, until=period.ends_at, since=since)
        book.prefetch(graded_observations(graded, readings, [period], now=now))
        report = grade_period(graded, readings, period, now=now, bands=ws.bands,
                              pace_tolerance=ws.settings.grading.pace_tolerance)
    else:
        _, grade = _graded(ws, graded, period, now=now, nested=False)
        report = grade(period, {})
    # one query for the KRs' epics, not one per KR
    initiatives: dict[str, list[Initiative]] = {}
    for item in ws.store.all_initiatives() if ids is None else ws.store.initiatives_of(ids) if ids else []:
        initiatives.setdefault(item.kr_id, []).append(item)
    states = ws.store.subject_states(ids) if ids != [] else {}
    from okrbridge.views import ViewData  # loaded by the commands that render views, not by grades

    return ViewData(catalog, report, readings, initiatives, states)


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
    from okrbridge.store.silence import last_value_times, mark_silence

    moment = now or datetime.now(UTC)
    last = last_value_times(ws.store)
    for subject_id, state in ws.store.subject_states().items():
        confirmed = state.last_success_at
        if confirmed is not None and (subject_id not in last or confirmed > last[subject_id]):
            last[subject_id] = confirmed
    from okrbridge.staleness import find_silence

    verdict = find_silence(ws.catalog, ws.loaded.calendar, last, moment, ws.settings.scheduler.stale_after)
    return verdict, mark_silence(ws.store, verdict.silent, verdict.heard)


Renderer = Callable[["Workspace", str | None], Sequence["PageSpec"]]
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
