"""In-memory Confluence content store for the sandbox: spaces, pages and versions, and the rules
Confluence enforces on them (unique titles per space, version+1 on update, read restrictions that
hide a page and its descendants, update restrictions that forbid edits).

Every public method takes the store's lock, so concurrent requests of the threaded server see each
change whole. Methods that act for a person take a `Viewer`; `viewer=None` means the sandbox itself
(seeding, tests) and bypasses restrictions. Labels, properties and restrictions live in
`ConfluenceMetaMixin` (confluence_store_meta.py) to keep this file small.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from sandbox.confluence_model import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Page,
    PageVersion,
    Space,
    Viewer,
)
from sandbox.confluence_store_meta import ConfluenceMetaMixin
from sandbox.confluence_xhtml import StorageFormatError, check_storage

MAX_TITLE_LENGTH = 255
_SPACE_KEY = re.compile(r"^~?[A-Za-z0-9]+$")


class _Keep:
    """Marker for "leave the parent as it is" in `update_page` (None means "move to the top")."""


KEEP = _Keep()


def not_found(page_id: str) -> NotFound:
    """Confluence's answer for a page that does not exist or that the caller may not see."""
    return NotFound(f"No content found with id: ContentId{{id={page_id}}}")


def duplicate_title(title: str, space_key: str) -> BadRequest:
    """Confluence's answer for a second page with the same title in one space."""
    return BadRequest(
        "A page with this title already exists: A page already exists with the title "
        f"{title} in the space with key {space_key}"
    )


def version_conflict(current: int) -> Conflict:
    """Confluence's answer for an update whose version number is not current+1."""
    return Conflict(f"Version must be incremented on update. Current version is: {current}")


class ConfluenceStore(ConfluenceMetaMixin):
    """All Confluence content of one sandbox, guarded by `lock`."""

    def __init__(self) -> None:
        """Start empty; ids are digit strings counting up like a fresh Confluence site."""
        self.lock = threading.RLock()
        self.spaces: dict[str, Space] = {}
        self.pages: dict[str, Page] = {}
        self._page_ids = itertools.count(98305)
        self._space_ids = itertools.count(32769)
        self._init_meta()

    # ----- spaces -------------------------------------------------------------------------------

    def add_space(self, key: str, name: str, *, description: str = "", homepage: bool = True,
                  by: str | None = None, at: datetime | None = None) -> Space:
        """Create a space; like Confluence, it gets a home page ("<name> Home") unless told not to."""
        if not _SPACE_KEY.match(key):
            raise BadRequest(f"Space key {key!r} must contain only letters and numbers")
        with self.lock:
            if key in self.spaces:
                raise BadRequest(f"A space already exists with key {key}")
            when = at or datetime.now(UTC)
            space = Space(next(self._space_ids), key, name, description, when, by)
            self.spaces[key] = space
            if homepage:
                space.homepage_id = self.create_page(key, f"{name} Home", "", by=by, at=when).id
            return space

    def get_space(self, key: str) -> Space:
        """The space with this key, or 404."""
        with self.lock:
            if key not in self.spaces:
                raise NotFound(f"No space found with key : {key}")
            return self.spaces[key]

    # ----- reading pages ------------------------------------------------------------------------

    def get_page(self, page_id: str, viewer: Viewer | None = None, *, include_trashed: bool = False) -> Page:
        """A page the viewer may read; 404 when it is missing, trashed or hidden from them."""
        with self.lock:
            page = self.pages.get(page_id)
            if page is None or (page.status == "trashed" and not include_trashed):
                raise not_found(page_id)
            if not self.can_read(page, viewer):
                raise not_found(page_id)
            return page

    def ancestors(self, page: Page) -> list[Page]:
        """The page's ancestors, the root first."""
        with self.lock:
            chain: list[Page] = []
            parent_id = page.parent_id
            while parent_id is not None and parent_id in self.pages:
                parent = self.pages[parent_id]
                chain.append(parent)
                parent_id = parent.parent_id
            return chain[::-1]

    def can_read(self, page: Page, viewer: Viewer | None) -> bool:
        """Read restrictions apply to a page and to everything below it, so every level must admit."""
        if viewer is None:
            return True
        with self.lock:
            for level in [*self.ancestors(page), page]:
                rule = level.restrictions["read"]
                if not rule.is_empty() and not rule.admits(viewer):
                    return False
            return True

    def can_update(self, page: Page, viewer: Viewer | None) -> bool:
        """Update restrictions are not inherited: only the page's own list counts."""
        if viewer is None:
            return True
        rule = page.restrictions["update"]
        return self.can_read(page, viewer) and (rule.is_empty() or rule.admits(viewer))

    def visible_pages(self, viewer: Viewer | None, *, space_key: str | None = None,
                      title: str | None = None, include_trashed: bool = False) -> list[Page]:
        """Pages the viewer may read, oldest first; `title` matches regardless of case, as in Confluence."""
        with self.lock:
            return [
                page for page in self._pages_in_order()
                if (include_trashed or page.status == "current")
                and (space_key is None or page.space_key == space_key)
                and (title is None or page.title.lower() == title.lower())
                and self.can_read(page, viewer)
            ]

    def children(self, page_id: str, viewer: Viewer | None) -> list[Page]:
        """The visible current pages directly below a page the viewer may read."""
        with self.lock:
            self.get_page(page_id, viewer)
            return [page for page in self._pages_in_order()
                    if page.parent_id == page_id and page.status == "current" and self.can_read(page, viewer)]

    def version(self, page_id: str, number: int, viewer: Viewer | None) -> PageVersion:
        """One historical version of a readable page, or 404."""
        with self.lock:
            page = self.get_page(page_id, viewer)
            if not 1 <= number <= len(page.versions):
                raise NotFound(f"No content found with id: ContentId{{id={page_id}}} and version: {number}")
            return page.versions[number - 1]

    # ----- writing pages ------------------------------------------------------------------------

    def create_page(self, space_key: str, title: str, body: str, *, representation: str = "storage",
                    parent_id: str | None = None, message: str = "", by: str | None = None,
                    at: datetime | None = None, viewer: Viewer | None = None) -> Page:
        """Create a page (version 1). The body is kept exactly as sent once it parses."""
        with self.lock:
            if space_key not in self.spaces:
                # The contract answers 403 for "the space does not exist", not 404.
                raise Forbidden(f"No space with key : {space_key}")
            self._check_title(title)
            self._check_body(body, representation)
            if parent_id is not None:
                self._check_parent(parent_id, space_key, viewer)
            self._check_unique(space_key, title, None)
            page = Page(
                id=str(next(self._page_ids)), space_key=space_key, parent_id=parent_id,
                versions=[PageVersion(1, title, body, representation, at or datetime.now(UTC), by, message)],
            )
            self.pages[page.id] = page
            return page

    def update_page(self, page_id: str, *, version_number: int | None, title: str,
                    body: str | None = None, representation: str = "storage",
                    parent_id: str | _Keep | None = KEEP, message: str = "", minor_edit: bool = False,
                    by: str | None = None, at: datetime | None = None,
                    viewer: Viewer | None = None) -> Page:
        """Save a new version; it must be numbered current+1 (400 when absent, 409 when wrong)."""
        with self.lock:
            page = self.get_page(page_id, viewer)
            if version_number is None:
                raise BadRequest(
                    "Must supply an incremented version when updating Content. No version supplied."
                )
            if not self.can_update(page, viewer):
                raise Forbidden(f"Not permitted to update content with id {page_id}")
            if version_number != page.current.number + 1:
                raise version_conflict(page.current.number)
            self._check_title(title)
            if body is None:
                body, representation = page.current.body, page.current.representation
            else:
                self._check_body(body, representation)
            if not isinstance(parent_id, _Keep) and parent_id != page.parent_id:
                if parent_id is not None:
                    self._check_parent(parent_id, page.space_key, viewer, moving=page)
                page.parent_id = parent_id
            self._check_unique(page.space_key, title, page.id)
            page.versions.append(PageVersion(version_number, title, body, representation,
                                             at or datetime.now(UTC), by, message, minor_edit))
            return page

    def delete_page(self, page_id: str, viewer: Viewer | None = None, *, purge: bool = False) -> None:
        """Trash a current page (its children move up to its parent), or purge a trashed one."""
        with self.lock:
            page = self.get_page(page_id, viewer, include_trashed=purge)
            if purge != (page.status == "trashed"):
                raise not_found(page_id)
            if not self.can_update(page, viewer):
                raise Forbidden(f"Not permitted to delete content with id {page_id}")
            if purge:
                del self.pages[page_id]
                return
            page.status = "trashed"
            for child in self.pages.values():
                if child.parent_id == page_id:
                    child.parent_id = page.parent_id

    # ----- rules --------------------------------------------------------------------------------

    def _pages_in_order(self) -> Iterator[Page]:
        """All pages, oldest first (ids count up, so numeric order is creation order)."""
        return iter(sorted(self.pages.values(), key=lambda page: int(page.id)))

    @staticmethod
    def _check_title(title: str) -> None:
        """A title is required and at most 255 characters."""
        if not title or not title.strip():
            raise BadRequest("Title cannot be empty")
        if len(title) > MAX_TITLE_LENGTH:
            raise BadRequest(f"Title cannot be longer than {MAX_TITLE_LENGTH} characters")

    @staticmethod
    def _check_body(body: str, representation: str) -> None:
        """Only storage format is accepted, and it must be well-formed."""
        if representation != "storage":
            raise BadRequest(f"Unsupported representation for the sandbox: {representation}")
        try:
            check_storage(body)
        except StorageFormatError as exc:
            raise BadRequest(str(exc)) from exc

    def _check_unique(self, space_key: str, title: str, own_id: str | None) -> None:
        """Titles are unique per space regardless of case, counting pages the caller cannot see."""
        for page in self.pages.values():
            if (page.space_key == space_key and page.status == "current" and page.id != own_id
                    and page.title.lower() == title.lower()):
                raise duplicate_title(title, space_key)

    def _check_parent(self, parent_id: str, space_key: str, viewer: Viewer | None,
                      *, moving: Page | None = None) -> None:
        """A parent must be a readable current page of the same space, and not below the moved page."""
        parent = self.pages.get(parent_id)
        if parent is None or parent.status != "current" or not self.can_read(parent, viewer):
            raise BadRequest(f"Cannot find parent page with id {parent_id}")
        if parent.space_key != space_key:
            raise BadRequest("A page and its parent must be in the same space")
        if moving is not None and moving.id in {parent.id, *(a.id for a in self.ancestors(parent))}:
            raise BadRequest("A page cannot be moved below itself")
