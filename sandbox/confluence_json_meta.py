"""Confluence v1 JSON of labels, content properties and restrictions, and the link helpers every
shape shares (`Site`, timestamps). Mixed into `ConfluenceJson`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from sandbox.confluence_model import (
    OPERATIONS,
    ContentProperty,
    Label,
    Operation,
    Page,
    Restriction,
)

Json = dict[str, Any]


def iso(moment: datetime) -> str:
    """Confluence's timestamp format: UTC with milliseconds and a Z (naive times are taken as UTC)."""
    value = moment.astimezone(UTC) if moment.tzinfo else moment
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def group_id(name: str) -> str:
    """A stable id for a group (Cloud groups carry UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"okrbridge-sandbox-group:{name}"))


@dataclass(frozen=True)
class Site:
    """Where the answering API lives: host and context path ("/wiki" on Cloud, "" on Data Center)."""

    host_url: str
    context: str

    @property
    def base(self) -> str:
        """Absolute base URL every relative link hangs off."""
        return self.host_url.rstrip("/") + self.context

    @property
    def cloud(self) -> bool:
        """Whether this is the Cloud flavour of the API."""
        return self.context == "/wiki"

    def absolute(self, relative: str) -> str:
        """A link relative to `base` made absolute."""
        return self.base + relative

    def top_links(self, self_path: str) -> Json:
        """`_links` of a top-level answer."""
        return {"base": self.base, "context": self.context, "self": self.absolute(self_path)}

    def webui(self, page_id: str, space_key: str, title: str) -> str:
        """The page's web address relative to `base` (the sandbox viewer serves both forms)."""
        if self.cloud:
            return f"/spaces/{space_key}/pages/{page_id}/{quote_plus(title)}"
        return f"/pages/viewpage.action?pageId={page_id}"


class ConfluenceMetaJson:
    """Labels, properties and restrictions as Confluence shows them."""

    site: Site

    if TYPE_CHECKING:
        def user(self, account_id: str | None) -> Json: ...

    # ----- labels and properties ----------------------------------------------------------------

    @staticmethod
    def label(label: Label) -> Json:
        """A `Label`."""
        return {"prefix": label.prefix, "name": label.name, "id": label.id, "label": label.name}

    def label_array(self, page: Page, labels: list[Label], start: int, limit: int, *,
                    top: bool = True) -> Json:
        """A `LabelArray` of one page's labels."""
        shown = labels[start:start + limit]
        path = f"/rest/api/content/{page.id}/label"
        return {"results": [self.label(label) for label in shown], "start": start, "limit": limit,
                "size": len(shown),
                "_links": self.site.top_links(path) if top else {"self": self.site.absolute(path)}}

    def property(self, page: Page, prop: ContentProperty, *, top: bool = False) -> Json:
        """A `ContentProperty` with its version."""
        path = f"/rest/api/content/{page.id}/property/{quote_plus(prop.key)}"
        version = prop.version
        return {"id": prop.id, "key": prop.key, "value": prop.value,
                "version": {"when": iso(version.when), "message": version.message, "number": version.number,
                            "minorEdit": version.minor_edit, "contentTypeModified": False,
                            "by": self.user(version.by)},
                "_links": self.site.top_links(path) if top else {"self": self.site.absolute(path)},
                "_expandable": {"content": f"/rest/api/content/{page.id}"}}

    # ----- restrictions -------------------------------------------------------------------------

    def restriction(self, page: Page, op: Operation, rule: Restriction) -> Json:
        """A `ContentRestriction` with users and groups expanded (Confluence's default)."""
        groups = [{"type": "group", "name": name, "id": group_id(name)} for name in rule.groups]
        self_path = f"/rest/api/content/{page.id}/restriction/byOperation/{op}"
        return {
            "operation": op,
            "restrictions": {
                "user": {"results": [self.user(account) for account in rule.users], "start": 0,
                         "limit": 100, "size": len(rule.users)},
                "group": {"results": groups, "start": 0, "limit": 100, "size": len(groups)},
            },
            "_expandable": {"content": f"/rest/api/content/{page.id}"},
            "_links": {"self": self.site.absolute(self_path)},
        }

    def _restrictions_map(self, page: Page) -> Json:
        """`restrictions` as expanded on content: one entry per operation."""
        return {op: self.restriction(page, op, page.restrictions[op]) for op in OPERATIONS}

    def restriction_array(self, page: Page, rules: dict[Operation, Restriction]) -> Json:
        """A `ContentRestrictionArray` (read and update, always both)."""
        results = [self.restriction(page, op, rules[op]) for op in OPERATIONS]
        digest = uuid.uuid5(uuid.NAMESPACE_OID, repr(sorted((op, sorted(r.users), sorted(r.groups))
                                                              for op, r in rules.items())))
        return {"results": results, "start": 0, "limit": 100, "size": len(results),
                "restrictionsHash": digest.hex,
                "_links": self.site.top_links(f"/rest/api/content/{page.id}/restriction")}

    def by_operation(self, page: Page, rules: dict[Operation, Restriction],
                     only: Iterable[Operation] = OPERATIONS) -> Json:
        """The `byOperation` answer: restrictions keyed by operation."""
        data: Json = {op: self.restriction(page, op, rules[op]) for op in only}
        data["_links"] = {"base": self.site.base, "context": self.site.context}
        return data
