"""Carrying a publish plan out against Confluence: read what is live, write what changed.

`read_live` finds each rendered page (by the stored page id, else by title) — reads only. `apply`
performs a plan through `PageOperations`, the narrow set of page operations it needs (the real
`connectors.confluence.ConfluenceConnection` fits it; the tests also use an in-memory fake).

Restrictions come before content. A new restricted page is created empty (a placeholder), its
restrictions are set, and only then is its content written. An existing page whose readers change
is first narrowed to the readers allowed both before and after, then rewritten, then given its new
readers. The bot keeps update rights (update restricted to its own account) and stays a reader. A
page with no read groups has no restrictions. When restrictions cannot be set, nothing of that
page's content is written, and its subtree is not published either.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from connectors.confluence import ConfluenceError, Page, Person, RestrictionError, Restrictions
from okrbridge.page_spec import PageSpec
from okrbridge.publish_plan import (
    INCOMPLETE_HASH,
    PLACEHOLDER_MESSAGE,
    LivePage,
    PageAction,
    stamp,
)
from okrbridge.store import PublishRecord

Progress = Callable[[int, int], None]
OUTCOME_OF = {"create": "created", "update": "updated", "skip": "unchanged", "conflict": "conflict",
              "orphan": "orphan"}


class PageOperations(Protocol):
    """The page operations a publish needs (reads for the plan, writes for `apply`)."""

    def current_user(self) -> Person:
        """Who the publisher signs in as."""
        ...

    def find_page(self, space_key: str, title: str) -> Page | None:
        """The page with this title in the space, if any."""
        ...

    def get_page(self, page_id: str, *, body: bool = False) -> Page | None:
        """The page with this id (and its storage body when asked), None when gone or hidden."""
        ...

    def create_page(self, space_key: str, title: str, body: str, *, parent_id: str | None = None,
                    message: str = "") -> Page:
        """Create a page at version 1."""
        ...

    def update_page(self, page_id: str, *, title: str, body: str, version: int,
                    parent_id: str | None = None, message: str = "", minor_edit: bool = True) -> Page:
        """Save `version` (current + 1) of a page."""
        ...

    def restrictions(self, page_id: str) -> Restrictions:
        """The page's own restrictions."""
        ...

    def set_restrictions(self, page_id: str, wanted: Restrictions) -> Restrictions:
        """Replace every restriction of the page; RestrictionError when that fails."""
        ...

    def labels(self, page_id: str) -> list[str]:
        """The page's labels."""
        ...

    def add_labels(self, page_id: str, names: Sequence[str]) -> None:
        """Add labels to the page."""
        ...


@dataclass(frozen=True)
class PageOutcome:
    """What happened to one page: created, updated, unchanged, conflict, orphan or failed."""

    key: str
    title: str
    outcome: str
    reason: str
    page_id: str | None = None
    version: int | None = None
    diff: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the diff only when there is one)."""
        data: dict[str, object] = {"key": self.key, "title": self.title, "outcome": self.outcome,
                                   "reason": self.reason, "page_id": self.page_id, "version": self.version}
        if self.diff:
            data["diff"] = self.diff
        return data


@dataclass
class PublishReport:
    """A publish run's pages, in tree order; `dry_run` when nothing was written."""

    dry_run: bool
    pages: list[PageOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[PageOutcome]:
        """Pages that could not be published."""
        return [p for p in self.pages if p.outcome == "failed"]

    def counts(self) -> dict[str, int]:
        """How many pages had each outcome."""
        found: dict[str, int] = {}
        for page in self.pages:
            found[page.outcome] = found.get(page.outcome, 0) + 1
        return found

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"dry_run": self.dry_run, "counts": self.counts(), "pages": [p.to_dict() for p in self.pages]}


def read_live(pages: PageOperations, specs: Sequence[PageSpec], records: Mapping[str, PublishRecord],
              space_key: str) -> dict[str, Page | None]:
    """Each spec's live page: by its record's page id, else by its title in the space (reads only)."""
    return {spec.key: (pages.get_page(records[spec.key].page_id) if spec.key in records
                       else pages.find_page(space_key, spec.title)) for spec in specs}


def wanted_restrictions(spec: PageSpec, bot: str) -> Restrictions:
    """A page's restrictions: its groups and the bot may read, only the bot may update; none when open."""
    if not spec.read_groups:
        return Restrictions()
    return Restrictions(read_users=(bot,), read_groups=tuple(sorted(set(spec.read_groups))),
                        update_users=(bot,)).normalised()


def interim_restrictions(old: Restrictions, new: Restrictions, bot: str) -> Restrictions:
    """While a page's readers change: only those allowed both before and after (and the bot) may read."""
    if not (old.read_users or old.read_groups):
        return new
    if not (new.read_users or new.read_groups):
        return Restrictions(read_users=(bot,), read_groups=old.read_groups, update_users=(bot,)).normalised()
    both = tuple(sorted(set(old.read_groups) & set(new.read_groups)))
    return Restrictions(read_users=(bot,), read_groups=both, update_users=(bot,)).normalised()


def body_diff(title: str, old: str, new: str) -> str:
    """A unified diff of two storage bodies (line-broken at tags so a change reads as a line)."""
    def lines(text: str) -> list[str]:
        return [line + "\n" for line in text.replace("><", ">\n<").splitlines()]
    return "".join(difflib.unified_diff(lines(old), lines(new), f"{title} (live)", f"{title} (rendered)"))


def preview(actions: Sequence[PageAction], pages: PageOperations) -> PublishReport:
    """A dry run's report: every action with its reason and, for writes, the diff of the bodies."""
    report = PublishReport(dry_run=True)
    for item in actions:
        diff = ""
        if item.spec is not None and item.action in ("create", "update", "conflict"):
            live = pages.get_page(item.live.id, body=True) if item.live is not None else None
            diff = body_diff(item.title, (live.body or "") if live is not None else "", item.spec.body)
        page_id = item.live.id if item.live is not None else (item.record.page_id if item.record else None)
        report.pages.append(PageOutcome(item.key, item.title, OUTCOME_OF[item.action], item.reason, page_id,
                                        item.live.version if item.live is not None else None, diff))
    return report


class _Applier:
    """One `apply` run's state: the bot's identity, page ids by key, keys that failed."""

    def __init__(self, pages: PageOperations, space_key: str, root_parent_id: str | None,
                 save: Callable[[PublishRecord], None], now: Callable[[], datetime],
                 published: Mapping[str, str]) -> None:
        """Keep the collaborators; the bot's identity is asked for on the first write."""
        self.pages, self.space_key, self.root_parent_id = pages, space_key, root_parent_id
        self.save, self.now = save, now
        self.ids: dict[str, str] = dict(published)
        self.failed: set[str] = set()
        self._bot: str | None = None

    @property
    def bot(self) -> str:
        """The ref restrictions name the bot by."""
        if self._bot is None:
            self._bot = self.pages.current_user().ref
        return self._bot

    def parent_of(self, spec: PageSpec) -> str | None:
        """The page id `spec` goes under: its parent's, or the tree's root parent."""
        return self.ids.get(spec.parent_key) if spec.parent_key is not None else self.root_parent_id

    def record(self, spec: PageSpec, page: LivePage, parent_id: str | None, digest: str) -> None:
        """Remember what was written to the page."""
        self.save(PublishRecord(spec.key, page.id, spec.title, parent_id, page.version, digest, self.now()))

    def run(self, item: PageAction) -> PageOutcome:
        """Carry out one action."""
        spec = item.spec
        outcome = OUTCOME_OF[item.action]
        if spec is None or item.action == "orphan":
            return PageOutcome(item.key, item.title, outcome, item.reason,
                               item.record.page_id if item.record else None)
        known = item.live.id if item.live is not None else (item.record.page_id if item.record else None)
        if known is not None:
            self.ids[spec.key] = known
        orphaned = spec.parent_key in self.failed or spec.parent_key not in self.ids
        if spec.parent_key is not None and orphaned:
            self.failed.add(spec.key)
            return PageOutcome(item.key, item.title, "failed",
                               f"not published: its parent {spec.parent_key!r} was not published", known)
        if item.action in ("skip", "conflict"):
            if item.action == "skip" and item.record is None and item.live is not None:
                self.record(spec, item.live, item.live.parent_id, item.content_hash)
            return PageOutcome(item.key, item.title, outcome, item.reason, known,
                               item.live.version if item.live is not None else None)
        try:
            page = self.write(item, spec)
        except RestrictionError as exc:
            self.failed.add(spec.key)
            why = f"restrictions could not be set, so its content was not published: {exc}"
            return PageOutcome(item.key, item.title, "failed", why, self.ids.get(spec.key))
        except ConfluenceError as exc:
            self.failed.add(spec.key)
            return PageOutcome(item.key, item.title, "failed", str(exc), self.ids.get(spec.key))
        self.ids[spec.key] = page.id
        return PageOutcome(item.key, item.title, outcome, item.reason, page.id, page.version)

    def write(self, item: PageAction, spec: PageSpec) -> Page:
        """Create or update one page, restrictions before content; returns the page as written."""
        parent_id = self.parent_of(spec)
        wanted = wanted_restrictions(spec, self.bot) if spec.read_groups else Restrictions()
        live = item.live if item.action == "update" else None
        if live is None:
            if spec.read_groups:
                page = self.pages.create_page(self.space_key, spec.title, "", parent_id=parent_id,
                                              message=PLACEHOLDER_MESSAGE)
                self.ids[spec.key] = page.id
                self._restrict(spec, page, parent_id, wanted)
                page = self.pages.update_page(page.id, title=spec.title, body=spec.body,
                                              version=page.version + 1, parent_id=parent_id,
                                              message=stamp(item.content_hash))
            else:
                page = self.pages.create_page(self.space_key, spec.title, spec.body, parent_id=parent_id,
                                              message=stamp(item.content_hash))
        else:
            old = self.pages.restrictions(live.id).normalised()
            interim = interim_restrictions(old, wanted, self.bot) if old != wanted else old
            if interim != old:
                self._restrict(spec, live, live.parent_id, interim)
            page = self.pages.update_page(live.id, title=spec.title, body=spec.body, version=live.version + 1,
                                          parent_id=parent_id, message=stamp(item.content_hash))
            if wanted != interim:
                self._restrict(spec, page, parent_id, wanted)
        missing = sorted(set(spec.labels) - set(self.pages.labels(page.id))) if spec.labels else []
        self.pages.add_labels(page.id, missing)
        self.record(spec, page, parent_id, item.content_hash)
        return page

    def _restrict(self, spec: PageSpec, page: LivePage, parent_id: str | None, wanted: Restrictions) -> None:
        """Set restrictions; on failure record the page as half-written so the next run finishes it."""
        try:
            self.pages.set_restrictions(page.id, wanted)
        except ConfluenceError:
            self.record(spec, page, parent_id, INCOMPLETE_HASH)
            raise


def apply(actions: Sequence[PageAction], pages: PageOperations, *, space_key: str, root_parent_id: str | None,
          save: Callable[[PublishRecord], None], now: Callable[[], datetime],
          progress: Progress | None = None, published: Mapping[str, str] | None = None) -> PublishReport:
    """Carry out `actions` in order (parents first); a failed page fails its subtree, not the run.

    `published` maps keys of pages published before to their ids, for parents not rendered this time.
    """
    applier = _Applier(pages, space_key, root_parent_id, save, now, published or {})
    report = PublishReport(dry_run=False)
    for done, item in enumerate(actions, start=1):
        report.pages.append(applier.run(item))
        if progress is not None:
            progress(done, len(actions))
    return report
