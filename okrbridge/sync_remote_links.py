"""Bringing the remote links on epics in line with this run's initiatives (the sync's only Jira writes).

The sync calls `update_links` after it has evaluated the run and before it stores it, so the run's
request figure includes the link traffic. Each scanned epic costs one read of its links; then only
the differences (`sync_links.link_changes`) are written: an unchanged link is never written again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TypeVar

from connectors.jira_models import JiraAuthError, JiraError, RemoteLink
from okrbridge.domain import Catalog
from okrbridge.grading import Bands, score_of
from okrbridge.store import InitiativeRecord, Store
from okrbridge.sync_links import LINK_PREFIX, WantedLink, global_link_id, link_changes, link_title
from okrbridge.sync_ports import SyncJira

T = TypeVar("T")

BASE_URL_MISSING = ("remote links not written: web.base_url is not set (the address at which okrbridge's "
                    "web app serves /kr/<id>); set it to link each epic to its key results")


@dataclass(frozen=True)
class LinkOptions:
    """Remote links written on epics: on unless switched off, and only to a KR page that answers.

    `base_url` is where okrbridge's web app is reached; a link points at `<base_url>/kr/<id>`. Without
    one no link is written (a link to nowhere is worse than none).
    """

    enabled: bool = True
    base_url: str | None = None

    def url_for(self, kr_id: str) -> str:
        """The KR page a link points at."""
        return f"{(self.base_url or '').rstrip('/')}/kr/{kr_id}"


@dataclass
class LinkResult:
    """What the link pass did."""

    written: int = 0
    removed: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def wanted_links(catalog: Catalog, store: Store, links: LinkOptions, initiatives: Sequence[InitiativeRecord],
                 fresh_scores: Mapping[str, float | None], stale: Collection[str], bands: Bands,
                 ) -> list[WantedLink]:
    """One link per (epic, KR) found this run, showing the KR's latest score.

    The score is this run's for a KR whose value was stored now, else the latest stored one (a manual
    KR's last check-in, a failed KR's last good value, then marked stale). Each KR's snapshot is
    read once however many epics drive it.
    """
    shown: dict[str, tuple[str, bool]] = {}
    wanted: list[WantedLink] = []
    for record in initiatives:
        kr = catalog.key_result(record.kr_id)
        if kr is None:
            continue
        if kr.id not in shown:
            if kr.id in fresh_scores:
                score, has_value = fresh_scores[kr.id], True
            else:
                latest = store.latest_snapshot(kr.id)
                # Scored now, from the stored value and the current measure, as grades and history are.
                score = score_of(kr, latest.value, latest.explanation) if latest else None
                has_value = latest is not None
            status = bands.status(score).value + (" (stale)" if kr.id in stale and has_value else "")
            shown[kr.id] = (link_title(kr, score, status), score is not None and score >= 1)
        title, resolved = shown[kr.id]
        wanted.append(WantedLink(record.epic_key, kr.id, links.url_for(kr.id), title,
                                 f"Key result {kr.id}", resolved))
    return wanted


def _each(pool: ThreadPoolExecutor, items: Sequence[T], call: Callable[[T], object],
          failed: Callable[[T, JiraError], None]) -> list[T]:
    """Run `call` on every item through `pool`; the items it succeeded for. A JiraError is passed
    to `failed`; a JiraAuthError cancels what has not started and is raised."""
    futures = {pool.submit(call, item): item for item in items}
    done: list[T] = []
    try:
        for future in as_completed(futures):
            item = futures[future]
            try:
                future.result()
                done.append(item)
            except JiraAuthError:
                raise
            except JiraError as exc:
                failed(item, exc)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return done


def update_links(jira: SyncJira, wanted: Sequence[WantedLink], also_scan: Collection[str],
                 owned: Callable[[str], bool], in_place: Collection[str] = (), *,
                 max_concurrency: int = 8) -> LinkResult:
    """Read the links of ours on every wanted epic and on `also_scan`, then write only the differences,
    through a pool of at most `max_concurrency` requests in flight.

    Epics in `in_place` are known to carry exactly the wanted links already (the steady-state
    sync's verdict, okrbridge.change_probe.links_in_place): they are neither read nor written.
    A refused credential or permission (401/403) stops the pass with one error: the values are
    already read, and every further write would be refused the same way.
    """
    result = LinkResult()
    existing: dict[str, list[RemoteLink]] = {}
    scan = sorted(({w.epic_key for w in wanted} | set(also_scan)) - set(in_place))

    def read(epic_key: str) -> None:
        existing[epic_key] = jira.remote_links(epic_key, LINK_PREFIX)

    def write(link: WantedLink) -> None:
        jira.upsert_remote_link(link.epic_key, global_link_id(link.kr_id), link.url, link.title,
                                summary=link.summary, status_resolved=link.resolved)

    def delete(target: tuple[str, str]) -> None:
        jira.delete_remote_link(target[0], global_link_id(target[1]))

    def unreadable(epic_key: str, exc: JiraError) -> None:
        result.errors[epic_key] = str(exc)

    def unwritten(link: WantedLink, exc: JiraError) -> None:
        result.errors[f"{link.epic_key} {link.kr_id}"] = str(exc)

    def undeleted(target: tuple[str, str], exc: JiraError) -> None:
        result.errors[f"{target[0]} {target[1]}"] = str(exc)

    try:
        with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="links") as pool:
            _each(pool, scan, read, unreadable)
            skipped = set(result.errors) | set(in_place)
            changes = link_changes([w for w in wanted if w.epic_key not in skipped], existing, owned)
            result.written = len(_each(pool, changes.writes, write, unwritten))
            result.removed = len(_each(pool, changes.deletes, delete, undeleted))
    except JiraAuthError as exc:
        result.errors["(all)"] = (f"Jira refused okrbridge's remote-link requests, so the remaining links "
                                  f"were left as they are (the account needs the Link Issues permission on "
                                  f"the epics' projects): {exc}")
    return result
