"""Which remote links a sync writes and removes on epics: pure, no IO.

okrbridge owns every remote link whose globalId starts with `okrbridge:kr=`. After a sync reads the
epics behind each KR, the links it wants are one per (epic, KR) with the KR's title, URL and status;
`link_changes` compares them with the links found on the epics and returns only the differences:
a link already showing the same title, URL, summary and status is not written again, and a link of
ours for a KR that no longer drives that epic — its initiatives changed or were removed, or the KR
left `okrs.toml` — is removed. Links of KRs whose epics could not be read this run are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from connectors.jira_models import RemoteLink
from okrbridge.domain import Catalog, KeyResult
from okrbridge.safe_text import one_line

LINK_PREFIX = "okrbridge:kr="
"""The globalId prefix of every remote link okrbridge writes."""


def global_link_id(kr_id: str) -> str:
    """The remote link's globalId: one per KR on each epic, so a re-sync updates it in place."""
    return f"{LINK_PREFIX}{kr_id}"


def kr_of_link(global_id: str | None) -> str | None:
    """The KR id a link of ours names, or None for a link okrbridge did not write."""
    if not global_id or not global_id.startswith(LINK_PREFIX):
        return None
    return global_id[len(LINK_PREFIX):] or None


LINK_TITLE_LIMIT = 255
"""The longest remote-link title Jira stores."""


def link_title(kr: KeyResult, score: float | None, status: str) -> str:
    """The remote link's title: `KR CO-1.1 · Increase web conversion rate · 0.62 at risk`, on one
    line with no control characters, the title cut so the whole fits LINK_TITLE_LIMIT."""
    grade = "no value yet" if score is None else f"{score:.2f} {status}"
    head, tail = f"KR {kr.id} · ", f" · {grade}"
    return head + one_line(kr.title, LINK_TITLE_LIMIT - len(head) - len(tail)) + tail


@dataclass(frozen=True)
class WantedLink:
    """The link one epic should carry for one KR."""

    epic_key: str
    kr_id: str
    url: str
    title: str
    summary: str
    resolved: bool

    def shown_by(self, link: RemoteLink) -> bool:
        """Whether `link` already shows exactly this (then writing it again would change nothing)."""
        return (link.url, link.title, link.summary, link.status_resolved) == (
            self.url, self.title, self.summary, self.resolved)


@dataclass(frozen=True)
class LinkChanges:
    """What to send Jira: links to create or update, and (epic, KR) links to delete."""

    writes: tuple[WantedLink, ...]
    deletes: tuple[tuple[str, str], ...]


def link_owner(catalog: Catalog, resolved: Collection[str],
               only: frozenset[str] | None) -> Callable[[str], bool]:
    """Whether this run knows every epic a KR should be linked from (so its other links can go).

    True for KRs whose epics were read this run, for catalog KRs with no initiatives (none should
    carry a link), and — on a full run — for KRs no longer in the catalog. False for KRs whose epic
    query failed, whose cycle is closed, or that a `--only` run left out: their links stay as they are.
    """
    with_initiatives = {kr.id for kr in catalog.key_results() if kr.initiatives}
    in_catalog = {kr.id for kr in catalog.key_results()}
    found = set(resolved)

    def owned(kr_id: str) -> bool:
        if kr_id in found:
            return True
        if only is not None and kr_id not in only:
            return False
        if kr_id not in in_catalog:
            return only is None
        return kr_id not in with_initiatives

    return owned


def link_changes(wanted: Sequence[WantedLink], existing: Mapping[str, Sequence[RemoteLink]],
                 owned: Callable[[str], bool]) -> LinkChanges:
    """The writes and deletes that make the scanned epics' links of ours match `wanted`.

    `existing` maps every scanned epic to the links of ours on it. A wanted link on an epic that
    was not scanned is written (nothing is known about it).
    """
    wanted_keys = {(w.epic_key, w.kr_id) for w in wanted}
    writes: list[WantedLink] = []
    for link in wanted:
        on_epic = existing.get(link.epic_key, ())
        current = [e for e in on_epic if kr_of_link(e.global_id) == link.kr_id]
        if len(current) == 1 and link.shown_by(current[0]):
            continue
        writes.append(link)
    deletes: list[tuple[str, str]] = []
    for epic_key in sorted(existing):
        for found in existing[epic_key]:
            kr_id = kr_of_link(found.global_id)
            if kr_id is None or (epic_key, kr_id) in wanted_keys or not owned(kr_id):
                continue
            if (epic_key, kr_id) not in deletes:
                deletes.append((epic_key, kr_id))
    return LinkChanges(tuple(writes), tuple(deletes))
