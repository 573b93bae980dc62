"""A read-only HTML viewer for the sandbox's Confluence pages, so a person can look at what was
published: `GET /pages/` (spaces and their page trees) and `GET /pages/<id>` (one page).

The addresses the REST API hands out as `_links.webui` and `_links.tinyui` are served too:
`/wiki/spaces/<key>/pages/<id>/<title>` (Cloud), `/pages/viewpage.action?pageId=<id>` (Data
Center) and `/x/<code>` (short links, redirected).

Access is decided as in the API: the viewer asks for the same Basic (email or username + API
token) or Bearer credentials, answering 401 with a `WWW-Authenticate` challenge so a browser
prompts for them, and shows only pages the signed-in user may read (others are "not found",
exactly as the API hides them). There is no impersonation switch. Pages are rendered by
confluence_render from an allow-list, and every answer forbids scripts through its
Content-Security-Policy.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, redirect, render_template_string, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from sandbox.auth import credentials_user
from sandbox.confluence_api_common import page_links, viewer_for
from sandbox.confluence_json import page_id_from_tiny
from sandbox.confluence_json_meta import iso
from sandbox.confluence_model import NotFound, Page, Viewer
from sandbox.confluence_render import render_storage
from sandbox.confluence_store import ConfluenceStore
from sandbox.confluence_viewer_html import INDEX, LAYOUT, MESSAGE, PAGE, STYLE
from sandbox.model import User
from sandbox.state import SandboxState, current_state

REALM = 'Basic realm="okrbridge-sandbox"'
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'"


def register(app: Flask) -> None:
    """Mount the viewer at the site root."""
    app.register_blueprint(build_viewer())


def harden(response: Response) -> Response:
    """No scripts, frames or sniffing on any viewer answer (the page viewer and the issue page)."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def build_viewer() -> Blueprint:
    """The viewer blueprint."""
    bp = Blueprint("confluence_viewer", __name__)
    bp.after_request(harden)

    @bp.get("/pages/")
    def index() -> ResponseReturnValue:
        """Every space with the tree of pages the signed-in user may read."""
        signed = signed_in_or_challenge()
        if isinstance(signed, Response):
            return signed
        state, user = signed
        viewer = viewer_for(state, user)
        store = state.confluence
        with store.lock:
            spaces = [{"key": space.key, "name": space.name, "tree": _tree(store, viewer, space.key)}
                      for space in sorted(store.spaces.values(), key=lambda s: s.key)]
        return _page("Spaces", user, [], render_template_string(INDEX, spaces=spaces))

    @bp.get("/pages/<page_id>")
    def show(page_id: str) -> ResponseReturnValue:
        """One page by id."""
        return _show(page_id)

    @bp.get("/pages/viewpage.action")
    def show_dc() -> ResponseReturnValue:
        """Data Center's page address."""
        return _show(request.args.get("pageId", ""))

    @bp.get("/spaces/<space_key>/pages/<page_id>")
    @bp.get("/spaces/<space_key>/pages/<page_id>/<path:slug>")
    @bp.get("/wiki/spaces/<space_key>/pages/<page_id>")
    @bp.get("/wiki/spaces/<space_key>/pages/<page_id>/<path:slug>")
    def show_cloud(space_key: str, page_id: str, slug: str = "") -> ResponseReturnValue:
        """Cloud's page address (the title slug is decoration, as in Confluence)."""
        return _show(page_id)

    @bp.get("/x/<code>")
    @bp.get("/wiki/x/<code>")
    def tiny(code: str) -> ResponseReturnValue:
        """A short link: redirect to the page (whether it may be seen is decided there)."""
        page_id = page_id_from_tiny(code)
        if page_id is None:
            return _message("Not found", "This short link does not name a page.", 404)
        return redirect(f"/pages/{page_id}", code=302)

    return bp


def signed_in_or_challenge() -> tuple[SandboxState, User] | Response:
    """The state and the signed-in user, or the answer to give instead: 401 with a challenge (so a
    browser prompts) without valid credentials, 403 for a deactivated account as the API answers."""
    state = current_state()
    user: User | None = g.get("sandbox_user")
    header = request.headers.get("Authorization")
    if user is None and header:
        user = credentials_user(state, header)
    if user is None:
        response = _message("Sign in", "Sign in with your sandbox email (or username) and API token.", 401)
        response.headers["WWW-Authenticate"] = REALM
        return response
    if not user.active:
        return _message("Account deactivated", "This account has been deactivated.", 403)
    return state, user


def _message(heading: str, message: str, status: int, user: User | None = None) -> Response:
    """A short HTML answer (errors, sign-in prompt)."""
    response = _page(heading, user, [], render_template_string(MESSAGE, heading=heading, message=message))
    response.status_code = status
    return response


def _page(title: str, user: User | None, crumbs: list[dict[str, str]], content: str) -> Response:
    """`content` inside the common layout."""
    html = render_template_string(LAYOUT, title=title, style=Markup(STYLE), crumbs=crumbs,
                                  user_name=user.display_name if user else "nobody", content=Markup(content))
    return Response(html, mimetype="text/html")


def _show(page_id: str) -> Response:
    """Render one page (or `?version=N` of it) for the signed-in user; 404 when hidden or missing."""
    signed = signed_in_or_challenge()
    if isinstance(signed, Response):
        return signed
    state, user = signed
    viewer = viewer_for(state, user)
    store = state.confluence
    with store.lock:
        try:
            page = store.get_page(page_id, viewer)
            number = request.args.get("version", "")
            version = store.version(page_id, int(number), viewer) if number.isdigit() else page.current
        except NotFound:
            return _message("Page not found", "The page does not exist, or you may not see it.", 404, user)
        links = page_links(store, viewer, page, lambda target: f"/pages/{target.id}", state.users)
        author = state.users.get(version.by or "")
        context: dict[str, Any] = {
            "page_id": page.id, "page_title": version.title, "version": version,
            "latest": version.number == page.current.number,
            "version_by": author.display_name if author else (version.by or "the sandbox"),
            "version_when": iso(version.when), "space_key": page.space_key,
            "space_name": store.spaces[page.space_key].name,
            "read_restricted": any(not p.restrictions["read"].is_empty()
                                   for p in [*store.ancestors(page), page]),
            "update_restricted": not page.restrictions["update"].is_empty(),
            "labels": [label.name for label in page.labels],
            "children": store.children(page.id, viewer),
            "older": [v.number for v in page.versions if v.number != version.number],
            "body_html": Markup(render_storage(version.body, links)),
        }
        crumbs = [{"href": f"/pages/{a.id}", "title": a.title} for a in store.ancestors(page)]
    return _page(version.title, user, crumbs, render_template_string(PAGE, **context))


def _tree(store: ConfluenceStore, viewer: Viewer, space_key: str) -> list[dict[str, Any]]:
    """The visible pages of a space, depth-first with their depth (a visible page's ancestors are
    visible too, because read restrictions are inherited)."""
    pages = store.visible_pages(viewer, space_key=space_key)
    by_parent: dict[str | None, list[Page]] = {}
    for page in pages:
        by_parent.setdefault(page.parent_id, []).append(page)
    out: list[dict[str, Any]] = []

    def walk(parent_id: str | None, depth: int) -> None:
        """Append the children of `parent_id`, each followed by its own subtree."""
        for page in sorted(by_parent.get(parent_id, []), key=lambda p: p.title.lower()):
            out.append({"id": page.id, "title": page.title, "depth": depth})
            walk(page.id, depth + 1)

    walk(None, 0)
    return out
