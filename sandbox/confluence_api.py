"""Confluence v1 REST endpoints of the sandbox: content (pages), children, history, CQL search,
spaces and the signed-in user here; labels, properties and restrictions in confluence_api_meta.py;
the HTML page viewer in confluence_viewer.py.

One blueprint is mounted twice: under `/wiki/rest/api` (Cloud) and `/rest/api` (Data Center). The
prefix picks the flavour of the answers (user shape, web links, paging links), not the deployment.
Reads honour read restrictions (hidden content is a 404, and absent from lists); writes honour
update restrictions (403). Errors are Confluence's `{"statusCode", "data", "message"}`.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from sandbox import confluence_api_meta, confluence_viewer
from sandbox.confluence_api_common import (
    MAX_LIMIT,
    current_call,
    dict_field,
    expand_arg,
    int_arg,
    json_object,
    locked_route,
    paged,
    parent_of,
    statuses_arg,
    storage_of,
)
from sandbox.confluence_cql import Facts, parse
from sandbox.confluence_json import DEFAULT_CONTENT_EXPAND
from sandbox.confluence_model import BadRequest, ConfluenceError, NotFound, Page
from sandbox.confluence_store import KEEP
from sandbox.errors import confluence_error

DEFAULT_LIMIT = 25
PREFIXES = {"confluence_cloud": "/wiki/rest/api", "confluence_dc": "/rest/api"}


def register(app: Flask) -> None:
    """Mount the Confluence REST API under both prefixes, and the page viewer."""
    bp = build_blueprint()
    for name, prefix in PREFIXES.items():
        app.register_blueprint(bp, name=name, url_prefix=prefix)
    confluence_viewer.register(app)


def build_blueprint() -> Blueprint:
    """The Confluence REST blueprint (content routes here, the rest from confluence_api_meta)."""
    bp = Blueprint("confluence", __name__)
    bp.register_error_handler(ConfluenceError, _error)
    _install_content(bp)
    confluence_api_meta.install(bp)
    return bp


def _error(error: ConfluenceError) -> Response:
    """Confluence's error body for a refusal raised by a handler or the store."""
    return confluence_error(error.status, error.message)


def _next_link(path: str, start: int, limit: int, *, cursor: bool = False) -> str:
    """The `_links.next` of a list (relative to `base`): the same query moved on by one page."""
    args = {key: value for key, value in request.args.items(multi=True) if key not in ("start", "cursor")}
    if cursor:
        args["cursor"] = base64.urlsafe_b64encode(f"start:{start + limit}".encode()).decode()
    else:
        args["start"] = str(start + limit)
    return f"{path}?{urlencode(args)}"


def _cursor_start() -> int:
    """The offset a search `cursor` stands for (Cloud pages searches by opaque cursors)."""
    cursor = request.args.get("cursor")
    if not cursor:
        return int_arg("start", 0)
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "start" and value.isdigit():
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest(f"Invalid cursor: {cursor}")


def _self_path() -> str:
    """The request path relative to the API's base, with its query (for `_links.self`)."""
    rest = request.path.split("/rest/api", 1)[1]
    query = request.query_string.decode()
    return f"/rest/api{rest}" + (f"?{query}" if query else "")


def _install_content(bp: Blueprint) -> None:
    """Content, children, history, search and space endpoints."""

    @locked_route(bp, "/content", methods=["GET"])
    def list_content() -> ResponseReturnValue:
        """GET content: pages by space and title, paged with start/limit."""
        call = current_call()
        statuses = statuses_arg()
        start, limit = int_arg("start", 0), int_arg("limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
        pages: list[Page] = []
        if request.args.get("type", "page") == "page":
            pages = [page for page in call.store.visible_pages(
                        call.viewer, space_key=request.args.get("spaceKey"), title=request.args.get("title"),
                        include_trashed=True)
                     if "any" in statuses or page.status in statuses]
        shown, more = paged(pages, start, limit)
        next_link = _next_link("/rest/api/content", start, limit) if more else None
        return jsonify(call.json.content_array(shown, expand_arg(DEFAULT_CONTENT_EXPAND), start, limit,
                                               _self_path(), next_link=next_link, top=True))

    @locked_route(bp, "/content", "/content/", methods=["POST"])
    def create_content() -> ResponseReturnValue:
        """POST content: a new page (version 1); 400 on a duplicate title in the space."""
        call = current_call()
        payload = json_object()
        _check_type(payload)
        if payload.get("status", "current") != "current":
            raise BadRequest("The sandbox creates current pages only (no drafts)")
        space = payload.get("space")
        if not isinstance(space, dict) or not space.get("key"):
            raise BadRequest("A space key is required to create content")
        value, representation = storage_of(payload.get("body")) or ("", "storage")
        version = dict_field(payload, "version")
        page = call.store.create_page(
            str(space["key"]), str(payload.get("title") or ""), value, representation=representation,
            parent_id=parent_of(payload), message=str(version.get("message") or ""),
            by=call.user.account_id, at=call.state.now(), viewer=call.viewer)
        labels = dict_field(payload, "metadata").get("labels")
        if labels:
            call.store.add_labels(page.id, confluence_api_meta.label_pairs(labels), call.viewer)
        return jsonify(call.json.content(page, expand_arg(DEFAULT_CONTENT_EXPAND), top=True))

    @locked_route(bp, "/content/<page_id>", methods=["GET"])
    def get_content(page_id: str) -> ResponseReturnValue:
        """GET content/{id}: one page (or `version=N` of it); 404 when hidden or missing."""
        call = current_call()
        statuses = statuses_arg()
        page = call.store.get_page(page_id, call.viewer, include_trashed=bool({"trashed", "any"} & statuses))
        if page.status not in statuses and "any" not in statuses and "historical" not in statuses:
            raise NotFound(f"No content found with id: ContentId{{id={page_id}}}")
        number = int_arg("version", 0)
        shown = call.store.version(page_id, number, call.viewer) if number else None
        return jsonify(call.json.content(page, expand_arg(DEFAULT_CONTENT_EXPAND), version=shown, top=True))

    @locked_route(bp, "/content/<page_id>", methods=["PUT"])
    def update_content(page_id: str) -> ResponseReturnValue:
        """PUT content/{id}: a new version numbered current+1 (400 without one, 409 when wrong)."""
        call = current_call()
        payload = json_object()
        _check_type(payload)
        version = dict_field(payload, "version")
        number = version.get("number")
        if number is not None and not isinstance(number, int):
            raise BadRequest("version.number must be a number")
        storage = storage_of(payload.get("body"))
        parent = parent_of(payload)
        page = call.store.update_page(
            page_id, version_number=number, title=str(payload.get("title") or ""),
            body=storage[0] if storage else None, representation=storage[1] if storage else "storage",
            parent_id=parent if parent is not None else KEEP,
            message=str(version.get("message") or ""), minor_edit=bool(version.get("minorEdit", False)),
            by=call.user.account_id, at=call.state.now(), viewer=call.viewer)
        return jsonify(call.json.content(page, expand_arg(DEFAULT_CONTENT_EXPAND), top=True))

    @locked_route(bp, "/content/<page_id>", methods=["DELETE"])
    def delete_content(page_id: str) -> ResponseReturnValue:
        """DELETE content/{id}: trash the page (`status=trashed` purges a trashed one)."""
        call = current_call()
        call.store.delete_page(page_id, call.viewer, purge=request.args.get("status") == "trashed")
        return Response(status=204)

    @locked_route(bp, "/content/<page_id>/child", methods=["GET"])
    def children(page_id: str) -> ResponseReturnValue:
        """GET content/{id}/child: the children map (pages when `expand=page`)."""
        call = current_call()
        page = call.store.get_page(page_id, call.viewer)
        data = call.json.content(page, {"children": expand_arg()})["children"]
        data["_links"] = {**data["_links"], "base": call.site.base, "context": call.site.context}
        return jsonify(data)

    @locked_route(bp, "/content/<page_id>/child/<child_type>", "/content/<page_id>/descendant/<child_type>",
                  methods=["GET"])
    def children_by_type(page_id: str, child_type: str) -> ResponseReturnValue:
        """GET content/{id}/child/{type} (or descendant/{type}): visible pages only, paged."""
        call = current_call()
        page = call.store.get_page(page_id, call.viewer)
        if child_type not in ("page", "comment", "attachment"):
            raise BadRequest(f"Unsupported child type: {child_type}")
        found: list[Page] = []
        if child_type == "page":
            found = call.store.children(page_id, call.viewer)
            if "/descendant/" in request.path:
                found = [p for p in call.store.visible_pages(call.viewer, space_key=page.space_key)
                         if page.id in {a.id for a in call.store.ancestors(p)}]
        start, limit = int_arg("start", 0), int_arg("limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
        shown, more = paged(found, start, limit)
        path = request.path.split("/rest/api", 1)[1]
        next_link = _next_link(f"/rest/api{path}", start, limit) if more else None
        return jsonify(call.json.content_array(shown, expand_arg(), start, limit, _self_path(),
                                               next_link=next_link, top=True))

    @locked_route(bp, "/content/<page_id>/history", methods=["GET"])
    def history(page_id: str) -> ResponseReturnValue:
        """GET content/{id}/history: creation and the latest update (always expanded, as clients rely on)."""
        call = current_call()
        page = call.store.get_page(page_id, call.viewer)
        return jsonify(call.json.history(page, {"lastUpdated": {}, **expand_arg()}, top=True))

    @locked_route(bp, "/content/search", methods=["GET"])
    def search() -> ResponseReturnValue:
        """GET content/search?cql=...: the CQL subset over pages the caller may read."""
        started = time.perf_counter()
        call = current_call()
        query = parse(request.args.get("cql", ""))
        facts = {page.id: _facts(call.store.ancestors(page), page)
                 for page in call.store.visible_pages(call.viewer)}
        ordered = query.sort([fact for fact in facts.values() if query.matches(fact)])
        pages = [call.store.pages[fact.id] for fact in ordered]
        start, limit = _cursor_start(), int_arg("limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
        shown, more = paged(pages, start, limit)
        next_link = (_next_link("/rest/api/content/search", start, limit, cursor=call.site.cloud)
                     if more else None)
        extra: dict[str, Any] = {"totalSize": len(pages), "cqlQuery": request.args.get("cql", ""),
                                 "searchDuration": round((time.perf_counter() - started) * 1000)}
        return jsonify(call.json.content_array(shown, expand_arg(), start, limit, _self_path(),
                                               next_link=next_link, top=True, extra=extra))

    @locked_route(bp, "/space/<space_key>", methods=["GET"])
    def get_space(space_key: str) -> ResponseReturnValue:
        """GET space/{key}: the space (every signed-in user may see every space here)."""
        call = current_call()
        return jsonify(call.json.space(call.store.get_space(space_key), expand_arg(), top=True))

    @locked_route(bp, "/user/current", methods=["GET"])
    def current_user() -> ResponseReturnValue:
        """GET user/current: the signed-in user (accountId on Cloud, username and userKey on DC)."""
        call = current_call()
        return jsonify(call.json.user(call.user.account_id))


def _check_type(payload: dict[str, Any]) -> None:
    """The sandbox keeps pages only; Confluence answers 400 for a missing or wrong `type`."""
    content_type = payload.get("type")
    if not content_type:
        raise BadRequest("Content type is required")
    if content_type != "page":
        raise BadRequest(f"Unsupported content type for the sandbox: {content_type}")


def _facts(ancestors: list[Page], page: Page) -> Facts:
    """What CQL may ask about a page."""
    return Facts(id=page.id, type="page", space_key=page.space_key, title=page.title,
                 labels=frozenset(label.name for label in page.labels),
                 ancestor_ids=frozenset(a.id for a in ancestors), parent_id=page.parent_id,
                 created=page.created.when, modified=page.current.when)
