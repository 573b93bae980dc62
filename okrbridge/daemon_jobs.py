"""The daemon's jobs: sync, publish, the stale check, compaction, and keeping the catalog as okrs.toml says.

Each job calls the same library functions as the CLI (`okrbridge.workspace`, `okrbridge.store`)
and returns a `JobOutcome` (the daemon logs it as one line with the duration). A new job is one
more function of a Workspace returning a JobOutcome, registered in `okrbridge.scheduler`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from connectors.jira import JiraConnection
from okrbridge.catalog import MAX_FILE_BYTES, CatalogError, load_catalog
from okrbridge.leadership import owner_id
from okrbridge.owner_notices import NOTIFY_EPIC_COMMENT, EpicCommenter, tell_silent_owners
from okrbridge.store.compaction import compact
from okrbridge.tomlread import TomlFileError, read_regular_bytes
from okrbridge.workspace import Workspace, check_silence, confluence_connection, publish, record_catalog
from okrbridge.workspace import sync as sync_workspace

log = logging.getLogger("okrbridge.daemon")

_CHANGE_KINDS: tuple[Literal["added", "updated", "archived", "restored"], ...] = (
    "added", "updated", "archived", "restored")


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: `status` (succeeded, partial, failed, skipped, error) and a short detail."""

    status: str
    detail: str = ""
    stored_values: bool = False

    @property
    def ok(self) -> bool:
        """Whether nothing went wrong (a job with nothing to do is not a failure)."""
        return self.status in ("succeeded", "skipped")


def sync_job(ws: Workspace, jira: JiraConnection, still_leader: Callable[[], bool]) -> JobOutcome:
    """One sync of the workspace's catalog; `still_leader` is asked before it writes."""
    report = sync_workspace(ws, jira, still_leader=still_leader)
    detail = (f"run={report.run_id} synced={len(report.synced)} failed={len(report.failed)} "
              f"skipped={len(report.skipped)} requests={report.requests} "
              f"answers_stood={report.answers_stood}/{report.questions}")
    if report.failed:
        detail += " failures=" + ",".join(sorted(report.failed))
    return JobOutcome(report.status, detail, stored_values=bool(report.synced))


def publish_job(ws: Workspace) -> JobOutcome:
    """Publish the Confluence status pages (only what changed), when Confluence is configured."""
    if not ws.settings.confluence.url:
        return JobOutcome("skipped", "publishing not configured (confluence.url is unset)")
    confluence = confluence_connection(ws.settings)
    try:
        report = publish(ws, confluence)
    finally:
        confluence.close()
    counts = " ".join(f"{outcome}={n}" for outcome, n in sorted(report.counts().items()))
    if report.failed:
        failed = ",".join(page.key for page in report.failed)
        return JobOutcome("failed", f"{counts} failures={failed}")
    return JobOutcome("succeeded", counts)


def stale_job(ws: Workspace, commenter: EpicCommenter | None = None, *,
              still_leader: Callable[[], bool] | None = None, claimed_by: str | None = None,
              now: datetime | None = None) -> JobOutcome:
    """Mark stale the KRs and KPIs with no fresh value for too long; lift marks where values came back.

    With `scheduler.notify_silent = "epic-comment"` and a `commenter`, then tell each silent KR's
    owner once per silence (okrbridge.owner_notices): "partial" when Jira refused a comment.
    """
    moment = now or datetime.now(UTC)
    verdict, changes = check_silence(ws, now=moment)
    detail = f"silent={len(verdict.silent)} newly_marked={len(changes.marked)} cleared={len(changes.cleared)}"
    if changes.marked:
        detail += " marked=" + ",".join(changes.marked)
    if ws.settings.scheduler.notify_silent != NOTIFY_EPIC_COMMENT or commenter is None:
        return JobOutcome("succeeded", detail)
    report = tell_silent_owners(ws, verdict, commenter, now=moment, claimed_by=claimed_by or owner_id(),
                                still_leader=still_leader)
    return JobOutcome("partial" if report.failed else "succeeded", f"{detail} {report.detail()}")


def compact_job(ws: Workspace, now: datetime | None = None) -> JobOutcome:
    """Compact the store as `okrbridge compact` does: readings written twice, runs nothing refers to."""
    report = compact(ws.store, now=now or datetime.now(UTC),
                     keep_runs_days=ws.settings.scheduler.keep_runs_days)
    return JobOutcome("succeeded", report.describe())


class CatalogKeeper:
    """Keeps the workspace's catalog as okrs.toml says, between jobs and without a restart.

    Before each job `refresh` re-reads the file when its content changed: a valid edit replaces
    the catalog (and is recorded in the store); an invalid one keeps the last good catalog and is
    reported at ERROR once — not at every job — until the file changes again.
    """

    def __init__(self, ws: Workspace) -> None:
        self._digest = self._read_digest(ws)
        self._recorded = False  # the catalog the daemon started with is recorded by its first job
        self._broken = False

    @staticmethod
    def _read_digest(ws: Workspace) -> str | None:
        """A hash of okrs.toml's bytes, or None when it cannot be read (a FIFO or device is never
        waited on: see tomlread)."""
        try:
            return hashlib.sha256(read_regular_bytes(ws.settings.okrs, max_bytes=MAX_FILE_BYTES)).hexdigest()
        except (OSError, TomlFileError):
            return None

    def refresh(self, ws: Workspace) -> None:
        """Reload okrs.toml if it changed; record the catalog in the store when new (leader only)."""
        digest = self._read_digest(ws)
        changed = digest != self._digest
        if not changed and self._recorded:
            return
        previous, self._digest = self._digest, digest
        try:
            loaded = load_catalog(ws.settings.okrs) if changed else ws.loaded
        except CatalogError as exc:
            if self._read_digest(ws) != digest:
                # written while it was read (an editor truncates, then writes): judge it next time
                self._digest = previous
                return
            problems = " | ".join(str(exc).splitlines())
            log.error("event=catalog_invalid file=%s keeping=last_good_catalog problems=%s",
                      ws.settings.okrs, problems)
            self._broken = True
            return
        changes = record_catalog(ws.store, loaded, datetime.now(UTC))
        ws.loaded = loaded
        self._recorded = True
        if changed:
            # None: another process recorded this very file already, so there is nothing to list
            listed = {what: (",".join(changes.ids(what)) if changes else "") or "-" for what in _CHANGE_KINDS}
            log.info("event=catalog_reloaded file=%s%s %s", ws.settings.okrs,
                     " valid_again=yes" if self._broken else "",
                     " ".join(f"{what}={ids}" for what, ids in listed.items()))
        self._broken = False
