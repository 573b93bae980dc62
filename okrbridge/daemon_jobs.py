"""The daemon's jobs: sync, publish, the stale check, and keeping the catalog as okrs.toml says.

Each job calls the same `okrbridge.workspace` functions as the CLI and returns a `JobOutcome`
(the daemon logs it as one line with the duration). A new job — compaction, say — is one more
function of a Workspace returning a JobOutcome, registered in `okrbridge.scheduler`.
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
              f"skipped={len(report.skipped)} requests={report.requests}")
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


def stale_job(ws: Workspace) -> JobOutcome:
    """Mark stale the KRs and KPIs with no fresh value for too long; lift marks where values came back."""
    verdict, changes = check_silence(ws)
    detail = f"silent={len(verdict.silent)} newly_marked={len(changes.marked)} cleared={len(changes.cleared)}"
    if changes.marked:
        detail += " marked=" + ",".join(changes.marked)
    return JobOutcome("succeeded", detail)


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
