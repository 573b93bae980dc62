"""Confluence v1 JSON shapes of the sandbox's spaces, pages, versions, labels, properties and
restrictions, as `/rest/api` (Data Center) and `/wiki/rest/api` (Cloud) answer them.

Links follow Confluence: `_links.self` is absolute, every other link is relative to `_links.base`
(`http://host/wiki` on Cloud, `http://host` on Data Center); top-level objects also carry `base`
and `context`. What is not expanded is listed under `_expandable`.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from typing import Any

from sandbox.confluence_json_meta import ConfluenceMetaJson, Json, Site, iso
from sandbox.confluence_model import (
    Page,
    PageVersion,
    Space,
)
from sandbox.confluence_store import ConfluenceStore
from sandbox.model import User

Expand = dict[str, "Expand"]
DEFAULT_CONTENT_EXPAND = "space,history,version"
"""What Confluence expands on content when the request names nothing (per the v1 reference)."""
_PICTURE = {"path": "/images/icons/profilepics/default.svg", "width": 48, "height": 48, "isDefault": True}
_BODY_REPRESENTATIONS = ("editor", "view", "export_view", "styled_view", "dynamic", "storage",
                         "editor2", "anonymous_export_view")


def parse_expand(raw: str | None) -> Expand:
    """`"body.storage,version"` -> `{"body": {"storage": {}}, "version": {}}`."""
    tree: Expand = {}
    for item in (raw or "").split(","):
        node = tree
        for part in filter(None, item.strip().split(".")):
            node = node.setdefault(part, {})
    return tree


def tiny_code(page_id: str) -> str:
    """The `/x/<code>` short link Confluence derives from a page id (little-endian, base64url-ish)."""
    raw = base64.b64encode(struct.pack("<Q", int(page_id))).decode()
    return raw.replace("/", "-").replace("+", "_").rstrip("=").rstrip("A")


def page_id_from_tiny(code: str) -> str | None:
    """The page id a `/x/<code>` short link stands for, or None for a malformed code."""
    if not code or len(code) > 11:
        return None
    padded = code.replace("-", "/").replace("_", "+").ljust(11, "A") + "="
    try:
        return str(struct.unpack("<Q", base64.b64decode(padded, validate=True))[0])
    except (ValueError, struct.error):
        return None


class ConfluenceJson(ConfluenceMetaJson):
    """Builds Confluence JSON for one request: one site flavour, one viewer's visibility."""

    def __init__(self, store: ConfluenceStore, site: Site, users: dict[str, User],
                 can_see: Callable[[Page], bool], render_view: Callable[[Page, PageVersion], str]) -> None:
        """`can_see` filters children and home pages; `render_view` produces `body.view` HTML."""
        self.store = store
        self.site = site
        self.users = users
        self.can_see = can_see
        self.render_view = render_view

    # ----- people -------------------------------------------------------------------------------

    def user(self, account_id: str | None) -> Json:
        """A user as Cloud (accountId) or Data Center (username, userKey) shows one."""
        if account_id is None:
            return {"type": "anonymous", "profilePicture": _PICTURE, "displayName": "Anonymous",
                    "_expandable": {"operations": ""}, "_links": {}}
        known = self.users.get(account_id)
        name = known.display_name if known else account_id
        if self.site.cloud:
            data: Json = {"type": "known", "accountId": account_id, "accountType": "atlassian",
                          "email": known.email if known else "", "publicName": name,
                          "profilePicture": _PICTURE, "displayName": name, "isExternalCollaborator": False,
                          "_links": {"self": self.site.absolute(f"/rest/api/user?accountId={account_id}")}}
        else:
            login = known.login if known else account_id
            data = {"type": "known", "username": login, "userKey": account_id, "profilePicture": _PICTURE,
                    "displayName": name,
                    "_links": {"self": self.site.absolute(f"/rest/api/user?key={account_id}")}}
        data["_expandable"] = {"operations": "", "personalSpace": ""}
        return data

    # ----- spaces -------------------------------------------------------------------------------

    def space(self, space: Space, expand: Expand | None = None, *, top: bool = False) -> Json:
        """A space; `description`, `homepage` and `history` expand."""
        expand = expand or {}
        path = f"/rest/api/space/{space.key}"
        data: Json = {"id": space.id, "key": space.key, "name": space.name, "type": "global",
                      "status": "current"}
        expandable: Json = {"settings": f"{path}/settings", "metadata": "", "operations": "",
                            "lookAndFeel": f"/rest/api/settings/lookandfeel?spaceKey={space.key}",
                            "identifiers": "", "permissions": "", "icon": "", "theme": f"{path}/theme"}
        if "description" in expand:
            data["description"] = {"plain": {"value": space.description, "representation": "plain",
                                             "embeddedContent": []}, "_expandable": {"view": ""}}
        else:
            expandable["description"] = ""
        home = self.store.pages.get(space.homepage_id or "")
        home = home if home is not None and home.status == "current" else None
        if "homepage" in expand and home is not None and self.can_see(home):
            data["homepage"] = self.content(home, {})
        elif home is not None:
            expandable["homepage"] = f"/rest/api/content/{home.id}"
        if "history" in expand and space.created_at is not None:
            data["history"] = {"createdDate": iso(space.created_at), "createdBy": self.user(space.created_by)}
        else:
            expandable["history"] = ""
        links = self.site.top_links(path) if top else {"self": self.site.absolute(path)}
        data["_expandable"] = expandable
        data["_links"] = {"webui": f"/spaces/{space.key}", **links}
        return data

    # ----- content ------------------------------------------------------------------------------

    def content(self, page: Page, expand: Expand, *, version: PageVersion | None = None,
                top: bool = False) -> Json:
        """A page (or one historical version of it) with the requested expansions."""
        shown = version or page.current
        historical = shown.number != page.current.number
        path = f"/rest/api/content/{page.id}"
        data: Json = {"id": page.id, "type": "page", "status": "historical" if historical else page.status,
                      "title": shown.title}
        builders: dict[str, tuple[Callable[[Expand], Any], str]] = {
            "childTypes": (lambda sub: self._child_types(page), ""),
            "container": (lambda sub: self.space(self.store.spaces[page.space_key]),
                          f"/rest/api/space/{page.space_key}"),
            "metadata": (lambda sub: self._metadata(page, sub), ""),
            "operations": (lambda sub: self._operations(page), ""),
            "children": (lambda sub: self._children(page, sub), f"{path}/child"),
            "restrictions": (lambda sub: self._restrictions_map(page), f"{path}/restriction/byOperation"),
            "history": (lambda sub: self.history(page, sub), f"{path}/history"),
            "ancestors": (lambda sub: [self.content(a, {}) for a in self.store.ancestors(page)], ""),
            "body": (lambda sub: self._body(page, shown, sub), ""),
            "version": (lambda sub: self.version(page, shown), ""),
            "descendants": (lambda sub: self._descendants(page, sub), f"{path}/descendant"),
            "space": (lambda sub: self.space(self.store.spaces[page.space_key]),
                      f"/rest/api/space/{page.space_key}"),
        }
        expandable: Json = {"schedulePublishDate": "", "extensions": ""}
        for key, (build, link) in builders.items():
            if key in expand:
                data[key] = build(expand[key])
            else:
                expandable[key] = link
        data["_expandable"] = expandable
        links = {"webui": self.site.webui(page.id, page.space_key, shown.title),
                 "tinyui": f"/x/{tiny_code(page.id)}"}
        data["_links"] = {**links, **(self.site.top_links(path) if top else
                                      {"self": self.site.absolute(path)})}
        return data

    def version(self, page: Page, shown: PageVersion) -> Json:
        """A `Version` object."""
        return {"by": self.user(shown.by), "when": iso(shown.when), "message": shown.message,
                "number": shown.number, "minorEdit": shown.minor_edit, "contentTypeModified": False,
                "_expandable": {"collaborators": "", "content": f"/rest/api/content/{page.id}"},
                "_links": {"self": self.site.absolute(f"/rest/api/content/{page.id}/version/{shown.number}")}}

    def history(self, page: Page, expand: Expand, *, top: bool = False) -> Json:
        """A `ContentHistory`; `lastUpdated`, `previousVersion` and `contributors` expand."""
        path = f"/rest/api/content/{page.id}/history"
        data: Json = {"latest": page.status == "current", "createdBy": self.user(page.created.by),
                      "createdDate": iso(page.created.when)}
        expandable: Json = {}
        previous = page.versions[-2] if len(page.versions) > 1 else None
        parts: dict[str, Callable[[], Any]] = {
            "lastUpdated": lambda: self.version(page, page.current),
            "previousVersion": lambda: self.version(page, previous) if previous else None,
            "contributors": lambda: {"publishers": {
                "users": [self.user(a) for a in dict.fromkeys(v.by for v in page.versions)],
                "userKeys": [a for a in dict.fromkeys(v.by for v in page.versions) if a]}},
            "nextVersion": lambda: None,
        }
        for key, build in parts.items():
            if key in expand:
                value = build()
                if value is not None:
                    data[key] = value
            else:
                expandable[key] = ""
        data["_expandable"] = expandable
        data["_links"] = self.site.top_links(path) if top else {"self": self.site.absolute(path)}
        return data

    def _body(self, page: Page, shown: PageVersion, expand: Expand) -> Json:
        """`body` with the requested representations (`storage` verbatim, `view` rendered HTML)."""
        data: Json = {}
        expandable: Json = {}
        for rep in _BODY_REPRESENTATIONS:
            if rep == "storage" and rep in expand:
                value = shown.body
            elif rep in ("view", "export_view", "styled_view") and rep in expand:
                value = self.render_view(page, shown)
            else:
                expandable[rep] = f"/rest/api/content/{page.id}?expand=body.{rep}" if rep == "storage" else ""
                continue
            data[rep] = {"value": value, "representation": rep, "embeddedContent": [],
                         "_expandable": {"content": f"/rest/api/content/{page.id}"}}
        data["_expandable"] = expandable
        return data

    def _visible_children(self, page: Page) -> list[Page]:
        """Current child pages the viewer may see."""
        return [child for child in self.store.pages.values()
                if child.parent_id == page.id and child.status == "current" and self.can_see(child)]

    def _children(self, page: Page, expand: Expand) -> Json:
        """`children` with `page` expanded when asked (attachments and comments are always empty)."""
        path = f"/rest/api/content/{page.id}/child"
        data: Json = {"_expandable": {"attachment": f"{path}/attachment", "comment": f"{path}/comment"},
                      "_links": {"self": self.site.absolute(path)}}
        if "page" in expand:
            children = sorted(self._visible_children(page), key=lambda child: int(child.id))
            data["page"] = self.content_array(children, expand["page"], 0, len(children), f"{path}/page")
        else:
            data["_expandable"]["page"] = f"{path}/page"
        return data

    def _descendants(self, page: Page, expand: Expand) -> Json:
        """`descendants` like `children`, but every level below the page."""
        found: list[Page] = []
        level = [page]
        while level:
            level = [child for parent in level for child in self._visible_children(parent)]
            found.extend(level)
        path = f"/rest/api/content/{page.id}/descendant"
        found.sort(key=lambda item: int(item.id))
        data: Json = {"_expandable": {"attachment": "", "comment": ""},
                      "_links": {"self": self.site.absolute(path)}}
        if "page" in expand:
            data["page"] = self.content_array(found, expand["page"], 0, len(found), f"{path}/page")
        else:
            data["_expandable"]["page"] = f"{path}/page"
        return data

    def _child_types(self, page: Page) -> Json:
        """Whether the page has child pages (it never has attachments or comments here)."""
        path = f"/rest/api/content/{page.id}/child"
        return {kind: {"value": kind == "page" and bool(self._visible_children(page)),
                       "_links": {"self": self.site.absolute(f"{path}/{kind}")}}
                for kind in ("attachment", "comment", "page")}

    def _metadata(self, page: Page, expand: Expand) -> Json:
        """`metadata` with `labels` and `properties` when asked."""
        data: Json = {"_expandable": {"currentuser": "", "comments": "", "sourceTemplateEntityId": "",
                                      "simple": "", "frontend": "", "likes": ""}}
        if "labels" in expand:
            data["labels"] = self.label_array(page, page.labels, 0, 200, top=False)
        else:
            data["_expandable"]["labels"] = ""
        if "properties" in expand:
            data["properties"] = {key: self.property(page, prop)
                                  for key, prop in sorted(page.properties.items())}
        else:
            data["_expandable"]["properties"] = ""
        return data

    def _operations(self, page: Page) -> list[Json]:
        """What may be done to the page (the caller's own rights are not evaluated here)."""
        return [{"operation": op, "targetType": "page"} for op in ("read", "update", "delete")]

    # ----- collections --------------------------------------------------------------------------

    def content_array(self, pages: list[Page], expand: Expand, start: int, limit: int, path: str,
                      *, next_link: str | None = None, top: bool = False, extra: Json | None = None) -> Json:
        """A `ContentArray` page of results."""
        links: Json = self.site.top_links(path) if top else {"self": self.site.absolute(path)}
        if next_link:
            links["next"] = next_link
        return {"results": [self.content(page, expand) for page in pages], "start": start, "limit": limit,
                "size": len(pages), **(extra or {}), "_links": links}
