"""Telling a silent key result's owner, once per silence: a comment on the KR's first epic.

After the stale check (`okrbridge.staleness`), and only with `scheduler.notify_silent =
"epic-comment"`, each silent KR whose silence was not told yet is told on its first driving epic
(the first by key of the epics the last sync found for it) through an `EpicCommenter` — the one
Jira operation this needs, which `connectors.jira.JiraConnection` has. A silence is the KR and the
instant its silence counts from, so a KR is told again only after a value arrived and it fell
silent anew. What was told is recorded in the store (`okrbridge.store.notices`), claimed before
the comment is sent, so neither a restart nor a second daemon tells it twice; a comment Jira
refused is not recorded as told, is reported, and is tried again at the next check.

A KR with no epic cannot be told this way: it is listed in the stale job's log line instead, once
per silence. KPIs drive no epics and are not told; their stale mark shows wherever they appear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from okrbridge.domain import KeyResult
from okrbridge.notice_text import notice_paragraphs
from okrbridge.staleness import SILENCE_PREFIX, SilenceVerdict
from okrbridge.store import notices
from okrbridge.sync import LeadershipLost
from okrbridge.workspace import Workspace

NOTIFY_EPIC_COMMENT = "epic-comment"
"""The `scheduler.notify_silent` setting that turns the comments on ("off", the default, does not)."""


class EpicCommenter(Protocol):
    """What telling owners needs from Jira: add a comment of plain-text paragraphs to an issue."""

    def add_comment(self, key: str, paragraphs: Sequence[str]) -> str:
        """Add the comment; the new comment's id. Raises on any refusal."""
        ...


@dataclass
class NoticeReport:
    """What one round of telling did: told (KR, epic), listed (KR, owner), failed KR -> why, and how
    many silent KRs had been told already."""

    told: list[tuple[str, str]] = field(default_factory=list)
    listed: list[tuple[str, str | None]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    already: int = 0

    def detail(self) -> str:
        """The stale job's log words for it."""
        words = [f"told={len(self.told)}", f"already_told={self.already}"]
        if self.told:
            words.append("told_on=" + ",".join(f"{kr}@{epic}" for kr, epic in self.told))
        if self.listed:
            words.append("no_epic=" + ",".join(f"{kr}(owner:{owner or '-'})" for kr, owner in self.listed))
        if self.failed:
            failures = sorted(self.failed.items())
            words.append("notice_failures=" + " | ".join(f"{kr}: {why}" for kr, why in failures))
        return " ".join(words)


def _kr_url(ws: Workspace, kr_id: str) -> str | None:
    """The KR's page in the web app, when `web.base_url` says where it is served."""
    base = ws.settings.web.base_url
    return f"{base.rstrip('/')}/kr/{kr_id}" if base else None


def _one_line(error: BaseException) -> str:
    """An error as one line for the log."""
    return " ".join(str(error).split()) or type(error).__name__


def tell_silent_owners(ws: Workspace, verdict: SilenceVerdict, commenter: EpicCommenter, *, now: datetime,
                       claimed_by: str, still_leader: Callable[[], bool] | None = None) -> NoticeReport:
    """Tell the owner of each silent KR in `verdict` not told yet (see the module docstring).

    `still_leader`, from the daemon, is asked before each KR's first write: a daemon that lost its
    lease raises LeadershipLost there, so only the leader claims, comments and lists.
    """
    krs = {kr.id: kr for kr in ws.catalog.key_results() if kr.id in verdict.silent}
    report = NoticeReport()
    if not krs:
        return report
    settled = notices.settled_silences(ws.store, krs, now)
    states = ws.store.subject_states(krs)
    for kr_id, kr in sorted(krs.items()):
        since = verdict.since[kr_id]
        if (kr_id, since) in settled:
            report.already += 1
            continue
        if still_leader is not None and not still_leader():
            raise LeadershipLost(f"lost the leader lease before telling {kr_id}'s owner; the new leader will")
        state = states.get(kr_id)
        failure = (state.error if state is not None and state.stale and state.error
                   and not state.error.startswith(SILENCE_PREFIX) else None)
        paragraphs = notice_paragraphs(kr, verdict.silent[kr_id], failure=failure, kr_url=_kr_url(ws, kr_id))
        epics = ws.store.initiatives_for(kr_id)
        if not epics:
            if notices.record_listed(ws.store, kr_id, since, owner=kr.owner, message="\n\n".join(paragraphs),
                                     claimed_by=claimed_by, now=now):
                report.listed.append((kr_id, kr.owner))
            else:
                report.already += 1
            continue
        _tell(ws, kr, since, epics[0].epic_key, paragraphs, commenter, report, now=now, claimed_by=claimed_by)
    return report


def _tell(ws: Workspace, kr: KeyResult, since: datetime, epic: str, paragraphs: list[str],
          commenter: EpicCommenter, report: NoticeReport, *, now: datetime, claimed_by: str) -> None:
    """Claim this silence, comment on `epic`, and record the outcome in the store and `report`."""
    if not notices.claim_notice(ws.store, kr.id, since, owner=kr.owner, epic_key=epic,
                                message="\n\n".join(paragraphs), claimed_by=claimed_by, now=now):
        report.already += 1  # another daemon told it, or is telling it right now
        return
    try:
        comment_id = commenter.add_comment(epic, paragraphs)
    except Exception as exc:  # Jira's refusal (or a broken connection) is reported and tried again next run
        notices.release_notice(ws.store, kr.id, since, claimed_by=claimed_by)
        report.failed[kr.id] = f"commenting on {epic}: {_one_line(exc)}"
        return
    notices.record_told(ws.store, kr.id, since, claimed_by=claimed_by, comment_id=comment_id, now=now)
    report.told.append((kr.id, epic))
