"""Confluence content as the sandbox keeps it: spaces, pages and their versions, labels,
content properties and restrictions, plus the errors the store raises.

Plain dataclasses; `ConfluenceStore` owns and guards them. Versions are frozen so that a reader
holding one never sees it change under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Operation = Literal["read", "update"]
OPERATIONS: tuple[Operation, ...] = ("read", "update")
PageStatus = Literal["current", "trashed"]
LabelPrefix = Literal["global", "my", "team"]
LABEL_PREFIXES: tuple[LabelPrefix, ...] = ("global", "my", "team")


class ConfluenceError(Exception):
    """A refusal Confluence answers with a status code and a message."""

    status = 400

    def __init__(self, message: str) -> None:
        """Keep the message Confluence would show."""
        super().__init__(message)
        self.message = message


class BadRequest(ConfluenceError):
    """400: the request is malformed or breaks a rule (duplicate title, bad label...)."""

    status = 400


class Forbidden(ConfluenceError):
    """403: the caller may see the content but not change it."""

    status = 403


class NotFound(ConfluenceError):
    """404: no such thing, or the caller may not see it (Confluence does not tell which)."""

    status = 404


class Conflict(ConfluenceError):
    """409: a version number that is not the next one."""

    status = 409


@dataclass(frozen=True)
class Viewer:
    """Who is asking: restrictions name account ids and group names."""

    account_id: str
    groups: frozenset[str] = frozenset()


@dataclass
class Space:
    """A Confluence space; `homepage_id` is the page created with it, if any."""

    id: int
    key: str
    name: str
    description: str = ""
    created_at: datetime | None = None
    created_by: str | None = None
    homepage_id: str | None = None


@dataclass(frozen=True)
class PageVersion:
    """One saved state of a page. Title and body live here because both change with versions."""

    number: int
    title: str
    body: str
    representation: str
    when: datetime
    by: str | None
    message: str = ""
    minor_edit: bool = False


@dataclass(frozen=True)
class Label:
    """A label on a page; `id` is shared by every page carrying the same prefix and name."""

    id: str
    prefix: LabelPrefix
    name: str


@dataclass(frozen=True)
class PropertyVersion:
    """Bookkeeping of one content property value."""

    number: int
    when: datetime
    by: str | None
    message: str = ""
    minor_edit: bool = False


@dataclass
class ContentProperty:
    """A JSON value stored on a page under a key, versioned like the page itself."""

    id: str
    key: str
    value: Any
    version: PropertyVersion


@dataclass
class Restriction:
    """Who may perform one operation: nobody is restricted while both lists are empty."""

    users: list[str] = field(default_factory=list)    # account ids
    groups: list[str] = field(default_factory=list)   # group names

    def is_empty(self) -> bool:
        """True when this operation is open to everyone who can see the space."""
        return not self.users and not self.groups

    def admits(self, viewer: Viewer) -> bool:
        """True when the viewer is listed by account or by one of their groups."""
        return viewer.account_id in self.users or bool(viewer.groups.intersection(self.groups))


@dataclass
class Page:
    """A page with its whole version history; the last version is the current one."""

    id: str
    space_key: str
    parent_id: str | None
    versions: list[PageVersion]
    status: PageStatus = "current"
    labels: list[Label] = field(default_factory=list)
    properties: dict[str, ContentProperty] = field(default_factory=dict)
    restrictions: dict[Operation, Restriction] = field(
        default_factory=lambda: {op: Restriction() for op in OPERATIONS}
    )

    @property
    def current(self) -> PageVersion:
        """The latest version."""
        return self.versions[-1]

    @property
    def title(self) -> str:
        """The current title."""
        return self.current.title

    @property
    def created(self) -> PageVersion:
        """The first version (who created the page, and when)."""
        return self.versions[0]
