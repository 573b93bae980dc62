"""Labels, content properties and restrictions of the sandbox's Confluence pages.

A mixin of `ConfluenceStore`: it uses the store's lock, pages and permission checks. Reading needs
permission to read the page; changing anything needs permission to update it (403 otherwise).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox.confluence_model import (
    LABEL_PREFIXES,
    OPERATIONS,
    BadRequest,
    Conflict,
    ContentProperty,
    Forbidden,
    Label,
    LabelPrefix,
    NotFound,
    Operation,
    Page,
    PropertyVersion,
    Restriction,
    Viewer,
)

MAX_LABEL_LENGTH = 255
MAX_PROPERTY_KEY_LENGTH = 255
# Characters Confluence refuses in label names (besides whitespace).
_LABEL_FORBIDDEN = re.compile(r"[\s:;,.?&\[\]()#^*@!]")


def _check_property_value(value: Any) -> None:
    """The contract allows a string, a boolean, an object or an array of strings, nothing else."""
    if isinstance(value, bool | str | dict):
        return
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return
    raise BadRequest("A content property value must be a string, a boolean, an object or an array of strings")


class ConfluenceMetaMixin:
    """Labels, properties and restrictions; mixed into `ConfluenceStore`."""

    lock: threading.RLock
    pages: dict[str, Page]

    if TYPE_CHECKING:
        def get_page(self, page_id: str, viewer: Viewer | None = None, *,
                     include_trashed: bool = False) -> Page: ...

        def can_update(self, page: Page, viewer: Viewer | None) -> bool: ...

    def _init_meta(self) -> None:
        """Counters for label and property ids (label ids are shared across pages, as in Confluence)."""
        self._label_ids: dict[tuple[str, str], str] = {}
        self._label_counter = itertools.count(1507329)
        self._property_counter = itertools.count(2424833)

    def _writable(self, page_id: str, viewer: Viewer | None) -> Page:
        """A page the viewer may change: 404 if they cannot see it, 403 if they cannot edit it."""
        page = self.get_page(page_id, viewer)
        if not self.can_update(page, viewer):
            raise Forbidden(f"Not permitted to update content with id {page_id}")
        return page

    # ----- labels -------------------------------------------------------------------------------

    def labels(self, page_id: str, viewer: Viewer | None, prefix: str | None = None) -> list[Label]:
        """The page's labels in the order they were added, optionally only one prefix."""
        with self.lock:
            page = self.get_page(page_id, viewer)
            return [label for label in page.labels if prefix is None or label.prefix == prefix]

    def add_labels(self, page_id: str, wanted: Iterable[tuple[str, str]],
                   viewer: Viewer | None) -> list[Label]:
        """Add (prefix, name) labels; names are lower-cased and already present ones are kept once."""
        with self.lock:
            page = self._writable(page_id, viewer)
            for prefix, raw_name in wanted:
                label = self._label(prefix, raw_name)
                if label not in page.labels:
                    page.labels.append(label)
            return list(page.labels)

    def remove_label(self, page_id: str, name: str, viewer: Viewer | None) -> None:
        """Remove a label by name (`my:name` names a non-global prefix); 404 when absent."""
        with self.lock:
            page = self._writable(page_id, viewer)
            prefix, _, bare = name.rpartition(":") if ":" in name else ("global", "", name)
            kept = [label for label in page.labels if (label.prefix, label.name) != (prefix, bare.lower())]
            if len(kept) == len(page.labels):
                raise NotFound(f"Label {name} is not on content with id {page_id}")
            page.labels = kept

    def _label(self, prefix: str, raw_name: str) -> Label:
        """The shared label object for a prefix and name, after Confluence's validity rules."""
        name = raw_name.strip().lower()
        if prefix not in LABEL_PREFIXES:
            raise BadRequest(f"Invalid label prefix: {prefix}")
        if not name or len(name) > MAX_LABEL_LENGTH or _LABEL_FORBIDDEN.search(name):
            raise BadRequest(f"Invalid label name: '{raw_name}'")
        typed_prefix: LabelPrefix = prefix
        key = (prefix, name)
        if key not in self._label_ids:
            self._label_ids[key] = str(next(self._label_counter))
        return Label(self._label_ids[key], typed_prefix, name)

    # ----- content properties -------------------------------------------------------------------

    def properties(self, page_id: str, viewer: Viewer | None) -> list[ContentProperty]:
        """The page's properties, by key."""
        with self.lock:
            page = self.get_page(page_id, viewer)
            return [page.properties[key] for key in sorted(page.properties)]

    def get_property(self, page_id: str, key: str, viewer: Viewer | None) -> ContentProperty:
        """One property of a readable page, or 404."""
        with self.lock:
            page = self.get_page(page_id, viewer)
            if key not in page.properties:
                raise NotFound(f"Cannot find content property with key: {key}")
            return page.properties[key]

    def create_property(self, page_id: str, key: str, value: Any, viewer: Viewer | None, *,
                        by: str | None = None, at: datetime | None = None) -> ContentProperty:
        """Add a property (version 1); 400 when the key is taken, empty or too long."""
        with self.lock:
            page = self._writable(page_id, viewer)
            if not key or len(key) > MAX_PROPERTY_KEY_LENGTH:
                raise BadRequest(f"Content property key must be 1 to {MAX_PROPERTY_KEY_LENGTH} characters")
            if key in page.properties:
                raise BadRequest(f"Cannot add a property with key '{key}': the content already has one")
            _check_property_value(value)
            prop = ContentProperty(str(next(self._property_counter)), key, value,
                                   PropertyVersion(1, at or datetime.now(UTC), by))
            page.properties[key] = prop
            return prop

    def update_property(self, page_id: str, key: str, value: Any, version_number: int | None,
                        viewer: Viewer | None, *, message: str = "", minor_edit: bool = False,
                        by: str | None = None, at: datetime | None = None) -> ContentProperty:
        """Replace a value at version current+1; a missing key is created only at version 1."""
        with self.lock:
            page = self._writable(page_id, viewer)
            if version_number is None:
                raise BadRequest("A content property update must carry version.number")
            prop = page.properties.get(key)
            if prop is None:
                if version_number != 1:
                    raise NotFound(f"Cannot find content property with key: {key}")
                return self.create_property(page_id, key, value, viewer, by=by, at=at)
            if version_number != prop.version.number + 1:
                raise Conflict(
                    f"Version must be incremented on update. Current version is: {prop.version.number}"
                )
            _check_property_value(value)
            prop.value = value
            prop.version = PropertyVersion(version_number, at or datetime.now(UTC), by, message, minor_edit)
            return prop

    def delete_property(self, page_id: str, key: str, viewer: Viewer | None) -> None:
        """Remove a property; 404 when there is none."""
        with self.lock:
            page = self._writable(page_id, viewer)
            if page.properties.pop(key, None) is None:
                raise NotFound(f"Cannot find content property with key: {key}")

    # ----- restrictions -------------------------------------------------------------------------

    def restrictions(self, page_id: str, viewer: Viewer | None) -> dict[Operation, Restriction]:
        """A copy of the page's own restrictions per operation (inherited ones are not listed)."""
        with self.lock:
            page = self.get_page(page_id, viewer)
            return {op: Restriction(list(rule.users), list(rule.groups))
                    for op, rule in page.restrictions.items()}

    def set_restrictions(self, page_id: str, changes: dict[Operation, Restriction], viewer: Viewer | None,
                         *, replace: bool) -> dict[Operation, Restriction]:
        """Add to the restrictions, or (`replace`) make `changes` the whole set, clearing the rest."""
        with self.lock:
            page = self._writable(page_id, viewer)
            for op in OPERATIONS:
                rule = page.restrictions[op]
                change = changes.get(op, Restriction())
                if replace:
                    rule.users, rule.groups = [], []
                rule.users.extend(user for user in change.users if user not in rule.users)
                rule.groups.extend(group for group in change.groups if group not in rule.groups)
            return self.restrictions(page_id, viewer=None)

    def clear_restrictions(self, page_id: str, viewer: Viewer | None) -> dict[Operation, Restriction]:
        """Remove every read and update restriction of the page."""
        return self.set_restrictions(page_id, {}, viewer, replace=True)
