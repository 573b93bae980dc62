"""Deciding what a publish run writes: each rendered page against what okrbridge last wrote.

Pure: `plan()` takes the rendered `PageSpec`s, the publish records (what was last written to each
page key) and the live state of those pages as Confluence has it now, and returns one action per
page, parents before children:

| action   | when                                                                          |
|----------|-------------------------------------------------------------------------------|
| create   | no page yet (or the page we wrote is gone)                                    |
| update   | what we render differs from what we last wrote (hash), and nobody else edited |
| skip     | unchanged: same hash, same version as we wrote — nothing is written at all    |
| conflict | someone else edited, moved or owns the page: left alone unless `force`        |
| orphan   | a page we wrote whose key is no longer rendered: reported, never deleted      |

The hash covers title, body, parent key, read groups and labels; it is stamped in the version
message of each write (`okrbridge sha256:<hash>`), so a page we wrote can be recognised even when
the record is lost. A page is found again by its stored id after a rename or a move.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from okrbridge.page_spec import PageSpec
from okrbridge.store import PublishRecord

STAMP = "okrbridge sha256:"
PLACEHOLDER_MESSAGE = "okrbridge placeholder: content follows once restrictions are in place"
INCOMPLETE_HASH = ""
"""Recorded when a write stopped halfway (restrictions refused): never equal to a real hash."""

Action = Literal["create", "update", "skip", "conflict", "orphan"]


class PlanError(ValueError):
    """The rendered pages cannot be published as a tree (duplicate key or title, unknown parent)."""


class LiveAuthor(Protocol):
    """Who wrote a live version (only the name is shown)."""

    @property
    def display_name(self) -> str:
        """The author's display name."""
        ...


class LivePage(Protocol):
    """What the plan reads of a page as Confluence holds it now."""

    @property
    def id(self) -> str:
        """The page id."""
        ...

    @property
    def version(self) -> int:
        """The current version number."""
        ...

    @property
    def message(self) -> str:
        """The current version's message."""
        ...

    @property
    def parent_id(self) -> str | None:
        """The direct parent's id."""
        ...

    @property
    def by(self) -> LiveAuthor | None:
        """Who saved the current version."""
        ...


@dataclass(frozen=True)
class PageAction:
    """What to do with one page, and why. `live` is the page found by stored id or by title."""

    action: Action
    key: str
    title: str
    reason: str
    content_hash: str
    spec: PageSpec | None = None
    record: PublishRecord | None = None
    live: LivePage | None = None


def content_hash(spec: PageSpec) -> str:
    """sha256 over what makes a page what it is: title, body, parent, read groups, labels."""
    canonical = json.dumps({"title": spec.title, "body": spec.body, "parent": spec.parent_key,
                            "read_groups": sorted(set(spec.read_groups)), "labels": sorted(set(spec.labels))},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def stamp(digest: str) -> str:
    """The version message of a write okrbridge makes."""
    return f"{STAMP}{digest}"


def stamped_hash(message: str) -> str | None:
    """The hash stamped in a version message, or None when okrbridge did not write that version."""
    return message[len(STAMP):].strip() if message.startswith(STAMP) else None


def written_by_okrbridge(message: str) -> bool:
    """Whether a version message is one of ours (a stamped write or a restricted page's placeholder)."""
    return stamped_hash(message) is not None or message == PLACEHOLDER_MESSAGE


def tree_order(specs: Sequence[PageSpec], published: Iterable[str] = ()) -> list[PageSpec]:
    """The specs with every parent before its children (PlanError on duplicates, unknown parents, cycles).

    A parent may also be a page published before and not rendered this time (`published` keys),
    as when one period's pages are published under the root published earlier.
    """
    by_key: dict[str, PageSpec] = {}
    titles: dict[str, str] = {}
    for spec in specs:
        if spec.key in by_key:
            raise PlanError(f"two pages have the key {spec.key!r}")
        folded = spec.title.casefold()
        if folded in titles:
            raise PlanError(f"pages {titles[folded]!r} and {spec.key!r} have the same title {spec.title!r} "
                            "(titles are unique in a Confluence space)")
        by_key[spec.key], titles[folded] = spec, spec.key
    elsewhere = set(published)
    for spec in specs:
        if spec.parent_key is not None and spec.parent_key not in by_key and spec.parent_key not in elsewhere:
            raise PlanError(f"page {spec.key!r} names the parent {spec.parent_key!r}, "
                            "which is neither rendered nor published")
    ordered: list[PageSpec] = []
    placed: set[str] = set()

    def place(spec: PageSpec, path: tuple[str, ...]) -> None:
        """Place `spec` after its ancestors (depth first)."""
        if spec.key in placed:
            return
        if spec.key in path:
            raise PlanError(f"pages {' -> '.join((*path, spec.key))} form a cycle")
        if spec.parent_key in by_key:
            place(by_key[spec.parent_key], (*path, spec.key))
        placed.add(spec.key)
        ordered.append(spec)

    for spec in specs:
        place(spec, ())
    return ordered


def _author(live: LivePage) -> str:
    """Who saved the live version, for reasons."""
    return live.by.display_name if live.by is not None and live.by.display_name else "someone"


def _for_spec(spec: PageSpec, record: PublishRecord | None, live: LivePage | None, force: bool) -> PageAction:
    """The action for one rendered page."""
    digest = content_hash(spec)

    def act(action: Action, reason: str) -> PageAction:
        return PageAction(action, spec.key, spec.title, reason, digest, spec, record, live)

    if record is None:
        if live is None:
            return act("create", "new page")
        if written_by_okrbridge(live.message):
            if stamped_hash(live.message) == digest:
                return act("skip", f"unchanged (page {live.id} already carries it; record restored)")
            return act("update", f"page {live.id} was written by okrbridge; its content changed")
        if force:
            return act("update", f"--force: takes over page {live.id}, last saved by {_author(live)}")
        return act("conflict", f"a page titled {spec.title!r} already exists (id {live.id}, last saved by "
                               f"{_author(live)}) and okrbridge did not write it; --force takes it over")
    if live is None:
        return act("create", f"page {record.page_id} (written at version {record.version}) is gone; "
                             "creating it again")
    edited = live.version != record.version
    moved = live.parent_id != record.parent_id
    if edited or moved:
        what = (f"edited by {_author(live)} (version {live.version}; okrbridge wrote {record.version})"
                if edited else f"moved by someone (parent {live.parent_id}, okrbridge put it under "
                               f"{record.parent_id})")
        if force:
            return act("update", f"--force: overwrites the page {what}")
        return act("conflict", f"{what}; left alone (--force overwrites it)")
    if record.content_hash == digest:
        return act("skip", "unchanged")
    if record.content_hash == INCOMPLETE_HASH:
        return act("update", "the last publish of this page stopped halfway; finishing it")
    if record.title != spec.title:
        return act("update", f"renamed from {record.title!r}")
    return act("update", "content changed")


def plan(specs: Sequence[PageSpec], records: Mapping[str, PublishRecord], live: Mapping[str, LivePage | None],
         *, force: bool = False, orphan_scope: Callable[[str], bool] | None = None) -> list[PageAction]:
    """One action per rendered page (parents first), then one per orphaned record in scope.

    `live` holds, per spec key, the page found by the record's page id (or, with no record, by the
    spec's title); a key missing from it counts as "no such page". `orphan_scope` limits which
    records may be reported as orphans (a publish of one period does not orphan the others).
    """
    ordered = tree_order(specs, records)
    actions = [_for_spec(spec, records.get(spec.key), live.get(spec.key), force) for spec in ordered]
    rendered = {spec.key for spec in ordered}
    for key, record in sorted(records.items()):
        if key not in rendered and (orphan_scope is None or orphan_scope(key)):
            actions.append(PageAction("orphan", key, record.title,
                                      f"no longer rendered; page {record.page_id} is left in place",
                                      record.content_hash, record=record))
    return actions


def counts(actions: Iterable[PageAction]) -> dict[str, int]:
    """How many pages each action has."""
    found: dict[str, int] = {}
    for item in actions:
        found[item.action] = found.get(item.action, 0) + 1
    return found
