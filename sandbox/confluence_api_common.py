"""Request plumbing shared by the Confluence endpoints: who asks, which flavour of the API they
address (`/wiki/rest/api` = Cloud, `/rest/api` = Data Center), paging and body parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue

from sandbox.auth import groups_of
from sandbox.confluence_json import ConfluenceJson, Expand, parse_expand
from sandbox.confluence_json_meta import Site
from sandbox.confluence_model import BadRequest, ConfluenceError, Page, PageVersion, Viewer
from sandbox.confluence_render import RenderLinks, render_storage
from sandbox.confluence_store import ConfluenceStore
from sandbox.model import User
from sandbox.state import SandboxState, current_state

CLOUD_CONTEXT = "/wiki"
MAX_LIMIT = 200
View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


class Unauthorized(ConfluenceError):
    """401: no signed-in user (the app's auth hook normally answers before a handler runs)."""

    status = 401


@dataclass
class Call:
    """Everything a handler needs about the current request."""

    state: SandboxState
    store: ConfluenceStore
    user: User
    viewer: Viewer
    site: Site
    json: ConfluenceJson


def viewer_for(state: SandboxState, user: User) -> Viewer:
    """The restriction identity of a user: account id and every group they belong to."""
    return Viewer(user.account_id, frozenset(groups_of(state, user)))


def page_links(store: ConfluenceStore, viewer: Viewer, page: Page, href: Callable[[Page], str],
               users: dict[str, User]) -> RenderLinks:
    """How references in `page`'s body resolve for `viewer` (hidden pages do not resolve)."""

    def page_href(space_key: str | None, title: str) -> str | None:
        """The address of the visible page with this title (in the page's own space by default)."""
        found = store.visible_pages(viewer, space_key=space_key or page.space_key, title=title)
        return href(found[0]) if found else None

    def user_name(account_id: str) -> str:
        """A user's display name, or the id when unknown."""
        known = users.get(account_id)
        return known.display_name if known else account_id

    return RenderLinks(page_href=page_href, user_name=user_name)


def current_call() -> Call:
    """The signed-in user, their visibility and the JSON builder for this request."""
    state = current_state()
    user: User | None = g.get("sandbox_user")
    if user is None:
        raise Unauthorized("You are not authenticated. Authentication required to perform this operation.")
    store = state.confluence
    viewer = viewer_for(state, user)
    context = CLOUD_CONTEXT if request.path.startswith(CLOUD_CONTEXT + "/") else ""
    site = Site(request.host_url, context)

    def render_view(page: Page, version: PageVersion) -> str:
        """`body.view`: the storage rendered with links in this API's web address form."""
        def href(target: Page) -> str:
            """A linked page's address as this flavour of Confluence writes it in `body.view`."""
            return site.context + site.webui(target.id, target.space_key, target.title)

        links = page_links(store, viewer, page, href, state.users)
        return render_storage(version.body, links)

    json = ConfluenceJson(store, site, state.users, lambda page: store.can_read(page, viewer), render_view)
    return Call(state, store, user, viewer, site, json)


def locked_route(bp: Blueprint, *rules: str, **options: Any) -> Callable[[View], View]:
    """`bp.route` for one or more rules, running the handler under the Confluence store's lock so
    that it reads and writes whole states."""

    def decorator(view: View) -> View:
        """Register `view` wrapped in the lock."""

        @functools.wraps(view)
        def locked(**kwargs: Any) -> ResponseReturnValue:
            """The handler, holding the store lock."""
            with current_state().confluence.lock:
                return view(**kwargs)

        for rule in rules:
            bp.add_url_rule(rule, view_func=locked, **options)
        return view

    return decorator


def int_arg(name: str, default: int, *, maximum: int | None = None) -> int:
    """A non-negative integer query parameter (capped at `maximum`); 400 when it is not one."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Parameter {name} must be a number: {raw}") from None
    if value < 0:
        raise BadRequest(f"Parameter {name} must not be negative: {raw}")
    return min(value, maximum) if maximum is not None else value


def expand_arg(default: str = "") -> Expand:
    """The `expand` parameter as a tree (repeated parameters are joined, as Confluence allows)."""
    values = request.args.getlist("expand")
    return parse_expand(",".join(values) if values else default)


def statuses_arg() -> set[str]:
    """The `status` filter (repeatable, comma-separated allowed); `current` when absent."""
    raw_values = request.args.getlist("status")
    values = {part.strip() for raw in raw_values for part in raw.split(",") if part.strip()}
    return values or {"current"}


def json_body() -> Any:
    """The request's JSON body; 400 when it is missing or not JSON."""
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("The request body must be JSON")
    return body


def json_object() -> dict[str, Any]:
    """The request's JSON body when it must be an object."""
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


def dict_field(payload: dict[str, Any], name: str) -> dict[str, Any]:
    """`payload[name]` when it is an object, else an empty one (absent and malformed alike)."""
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def storage_of(body: Any) -> tuple[str, str] | None:
    """(value, representation) from a content `body` field, or None when there is none."""
    if not isinstance(body, dict) or not body:
        return None
    for representation, content in body.items():
        if isinstance(content, dict) and isinstance(content.get("value"), str):
            return content["value"], str(content.get("representation") or representation)
    raise BadRequest("The content body must carry a value and a representation")


def parent_of(payload: dict[str, Any]) -> str | None:
    """The parent page id from `ancestors` (the last one is the direct parent), or None."""
    ancestors = payload.get("ancestors")
    if not ancestors:
        return None
    if not isinstance(ancestors, list) or not isinstance(ancestors[-1], dict) or "id" not in ancestors[-1]:
        raise BadRequest("ancestors must be a list of objects with an id")
    return str(ancestors[-1]["id"])


def paged(items: list[Any], start: int, limit: int) -> tuple[list[Any], bool]:
    """One page of `items` and whether more follow."""
    return items[start:start + limit], start + limit < len(items)
