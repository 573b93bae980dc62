"""Plain data returned by `connectors.confluence.ConfluenceConnection`, and the errors it raises.

Nothing here knows HTTP or atlassian-python-api. People are named the way each deployment names
them in restrictions: an `accountId` on Cloud, a `username` on Data Center (`Person.ref`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connectors.service_error import ServiceError

Deployment = Literal["cloud", "datacenter"]


@dataclass(frozen=True)
class Person:
    """A Confluence user: `ref` is what restrictions name them by (accountId or username)."""

    ref: str
    display_name: str = ""


@dataclass(frozen=True)
class Space:
    """A Confluence space; `homepage_id` is its home page, when it has one."""

    key: str
    id: int
    name: str
    homepage_id: str | None = None


@dataclass(frozen=True)
class Page:
    """A page as Confluence holds it now: its current version, who wrote it and with what message.

    `body` (storage format) is None unless it was asked for; `parent_id` is the direct parent
    (the last ancestor), None for a page at the top of its space.
    """

    id: str
    title: str
    space_key: str
    version: int
    message: str
    by: Person | None
    parent_id: str | None
    body: str | None = None
    url: str = ""


@dataclass(frozen=True)
class Restrictions:
    """Who may read and who may update a page: person refs and group names, per operation.

    Empty lists mean "not restricted" for that operation (everyone who can see the space).
    """

    read_users: tuple[str, ...] = ()
    read_groups: tuple[str, ...] = ()
    update_users: tuple[str, ...] = ()
    update_groups: tuple[str, ...] = ()

    def normalised(self) -> Restrictions:
        """The same restrictions with every list sorted and de-duplicated (for comparisons)."""
        return Restrictions(*(tuple(sorted(set(items))) for items in
                              (self.read_users, self.read_groups, self.update_users, self.update_groups)))

    @property
    def is_empty(self) -> bool:
        """No restriction at all."""
        return not (self.read_users or self.read_groups or self.update_users or self.update_groups)


class ConfluenceError(ServiceError):
    """Confluence refused or failed a request; `messages` are its own words, `url` has no secret.

    `context` says what was being done (creating page "OKRs 2026" in space OKR), so the message
    names the culprit on its own.
    """

    service = "Confluence"


class ConfluenceAuthError(ConfluenceError):
    """Confluence refused the credentials (401) or the permission (403)."""


class ConfluenceUnavailable(ConfluenceError):
    """Confluence could not be reached, or kept failing until the retries ran out."""


class VersionConflict(ConfluenceError):
    """409: the page moved on to another version than the one the update was numbered after."""


class RestrictionError(ConfluenceError):
    """The restrictions could not be set, or Confluence kept others than the ones asked for."""
