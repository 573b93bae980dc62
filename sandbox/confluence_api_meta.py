"""Confluence v1 label, content-property and restriction endpoints of the sandbox.

Installed on the blueprint built in confluence_api.py, so they answer under both prefixes.
Reading needs permission to read the page; every change needs permission to update it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from sandbox.auth import groups_of
from sandbox.confluence_api_common import (
    Call,
    current_call,
    dict_field,
    int_arg,
    json_body,
    json_object,
    locked_route,
)
from sandbox.confluence_json_meta import group_id
from sandbox.confluence_model import (
    OPERATIONS,
    BadRequest,
    Forbidden,
    NotFound,
    Operation,
    Restriction,
)

DEFAULT_LABEL_LIMIT = 200
DEFAULT_PROPERTY_LIMIT = 10


def label_pairs(raw: Any) -> list[tuple[str, str]]:
    """(prefix, name) pairs from a label body: one `{prefix, name}` object or a list of them."""
    items = raw if isinstance(raw, list) else [raw]
    pairs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadRequest("Each label needs a name (and optionally a prefix)")
        pairs.append((str(item.get("prefix") or "global"), item["name"]))
    return pairs


def _entries(raw: Any, kind: str) -> list[dict[str, Any]]:
    """Users or groups of a restriction body: a plain list, or `{"results": [...]}` as Confluence returns."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = raw.get("results", [])
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise BadRequest(f"restrictions.{kind} must be a list of objects")
    return raw


def _account_of(call: Call, entry: dict[str, Any]) -> str:
    """The account id a restriction's user entry names (accountId, userKey or username)."""
    account = entry.get("accountId") or entry.get("userKey")
    if account and str(account) in call.state.users:
        return str(account)
    if entry.get("username"):
        user = call.state.user_by_login(str(entry["username"]))
        if user is not None:
            return user.account_id
    raise BadRequest(f"No user found for restriction entry {entry}")


def _group_of(call: Call, entry: dict[str, Any]) -> str:
    """The group name a restriction's group entry names (by name, or by the id the sandbox shows)."""
    known = set(call.state.groups)
    for user in call.state.users.values():
        known.update(groups_of(call.state, user))
    name = entry.get("name")
    if name in known:
        return str(name)
    by_id = {group_id(group): group for group in known}
    if entry.get("id") in by_id:
        return by_id[str(entry["id"])]
    raise BadRequest(f"No group found for restriction entry {entry}")


def restriction_changes(call: Call, raw: Any) -> dict[Operation, Restriction]:
    """Parse a restriction body: `[{operation, restrictions: {user, group}}]` (or `{"results": [...]}`)."""
    items = raw.get("results") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise BadRequest("Restrictions must be a list of {operation, restrictions}")
    changes: dict[Operation, Restriction] = {}
    for item in items:
        operation = item.get("operation") if isinstance(item, dict) else None
        if operation not in OPERATIONS:
            raise BadRequest(f"Unknown restriction operation: {operation}")
        subjects = item.get("restrictions") or {}
        if not isinstance(subjects, dict):
            raise BadRequest("restrictions must be an object with user and group lists")
        rule = changes.setdefault(operation, Restriction())
        rule.users.extend(_account_of(call, e) for e in _entries(subjects.get("user"), "user"))
        rule.groups.extend(_group_of(call, e) for e in _entries(subjects.get("group"), "group"))
    return changes


def install(bp: Blueprint) -> None:
    """Add the label, property and restriction routes to `bp`."""
    _install_labels(bp)
    _install_properties(bp)
    _install_restrictions(bp)


def _install_labels(bp: Blueprint) -> None:
    """GET/POST content/{id}/label, DELETE content/{id}/label?name= and label/{name}."""

    @locked_route(bp, "/content/<page_id>/label", methods=["GET"])
    def get_labels(page_id: str) -> ResponseReturnValue:
        """The page's labels (optionally one prefix), paged."""
        call = current_call()
        labels = call.store.labels(page_id, call.viewer, request.args.get("prefix"))
        start, limit = int_arg("start", 0), int_arg("limit", DEFAULT_LABEL_LIMIT)
        return jsonify(call.json.label_array(call.store.get_page(page_id, call.viewer), labels, start, limit))

    @locked_route(bp, "/content/<page_id>/label", methods=["POST"])
    def add_labels(page_id: str) -> ResponseReturnValue:
        """Add labels; answers every label of the page."""
        call = current_call()
        labels = call.store.add_labels(page_id, label_pairs(json_body()), call.viewer)
        page = call.store.get_page(page_id, call.viewer)
        return jsonify(call.json.label_array(page, labels, 0, DEFAULT_LABEL_LIMIT))

    @locked_route(bp, "/content/<page_id>/label", "/content/<page_id>/label/<path:name>", methods=["DELETE"])
    def remove_label(page_id: str, name: str | None = None) -> ResponseReturnValue:
        """Remove one label, named in the path or by `?name=`; 204."""
        call = current_call()
        name = name or request.args.get("name")
        if not name:
            raise BadRequest("The name of the label to remove is required")
        call.store.remove_label(page_id, name, call.viewer)
        return Response(status=204)


def _install_properties(bp: Blueprint) -> None:
    """Content properties: list, create, get, update (version+1), delete."""

    @locked_route(bp, "/content/<page_id>/property", methods=["GET"])
    def list_properties(page_id: str) -> ResponseReturnValue:
        """The page's properties (optionally only some keys), paged."""
        call = current_call()
        wanted = set(request.args.getlist("key"))
        props = [p for p in call.store.properties(page_id, call.viewer) if not wanted or p.key in wanted]
        start, limit = int_arg("start", 0), int_arg("limit", DEFAULT_PROPERTY_LIMIT)
        page = call.store.get_page(page_id, call.viewer)
        shown = props[start:start + limit]
        links = call.site.top_links(f"/rest/api/content/{page_id}/property")
        if start + limit < len(props):
            links["next"] = f"/rest/api/content/{page_id}/property?start={start + limit}&limit={limit}"
        return jsonify({"results": [call.json.property(page, p) for p in shown], "start": start,
                        "limit": limit, "size": len(shown), "_links": links})

    @locked_route(bp, "/content/<page_id>/property", "/content/<page_id>/property/<path:key>",
                  methods=["POST"])
    def create_property(page_id: str, key: str | None = None) -> ResponseReturnValue:
        """Create a property (key in the body, or in the path); 400 when the key exists."""
        call = current_call()
        payload = json_object()
        if "value" not in payload:
            raise BadRequest("A content property needs a value")
        prop = call.store.create_property(page_id, str(key or payload.get("key") or ""), payload["value"],
                                          call.viewer, by=call.user.account_id, at=call.state.now())
        return jsonify(call.json.property(call.store.get_page(page_id, call.viewer), prop, top=True))

    @locked_route(bp, "/content/<page_id>/property/<path:key>", methods=["GET"])
    def get_property(page_id: str, key: str) -> ResponseReturnValue:
        """One property; 404 when absent."""
        call = current_call()
        prop = call.store.get_property(page_id, key, call.viewer)
        return jsonify(call.json.property(call.store.get_page(page_id, call.viewer), prop, top=True))

    @locked_route(bp, "/content/<page_id>/property/<path:key>", methods=["PUT"])
    def update_property(page_id: str, key: str) -> ResponseReturnValue:
        """Replace a property's value at version current+1 (409 otherwise; version 1 creates)."""
        call = current_call()
        payload = json_object()
        if "value" not in payload:
            raise BadRequest("A content property needs a value")
        version = dict_field(payload, "version")
        number = version.get("number")
        if number is not None and not isinstance(number, int):
            raise BadRequest("version.number must be a number")
        prop = call.store.update_property(
            page_id, key, payload["value"], number, call.viewer, message=str(version.get("message") or ""),
            minor_edit=bool(version.get("minorEdit", False)), by=call.user.account_id, at=call.state.now())
        return jsonify(call.json.property(call.store.get_page(page_id, call.viewer), prop, top=True))

    @locked_route(bp, "/content/<page_id>/property/<path:key>", methods=["DELETE"])
    def delete_property(page_id: str, key: str) -> ResponseReturnValue:
        """Remove a property; 204."""
        call = current_call()
        call.store.delete_property(page_id, key, call.viewer)
        return Response(status=204)


def _install_restrictions(bp: Blueprint) -> None:
    """Restrictions: get, replace (PUT), add (POST), clear (DELETE), and by operation."""

    @locked_route(bp, "/content/<page_id>/restriction", methods=["GET"])
    def get_restrictions(page_id: str) -> ResponseReturnValue:
        """Read and update restrictions of the page."""
        call = current_call()
        rules = call.store.restrictions(page_id, call.viewer)
        return jsonify(call.json.restriction_array(call.store.get_page(page_id, call.viewer), rules))

    @locked_route(bp, "/content/<page_id>/restriction", methods=["PUT", "POST"])
    def change_restrictions(page_id: str) -> ResponseReturnValue:
        """PUT replaces every restriction with the body's; POST adds the body's to them."""
        call = current_call()
        page = call.store.get_page(page_id, call.viewer)
        changes = restriction_changes(call, json_body())
        try:
            rules = call.store.set_restrictions(page_id, changes, call.viewer,
                                                replace=request.method == "PUT")
        except Forbidden as exc:
            # The contract documents only 404 for "may not change the restrictions" on PUT and POST.
            raise NotFound(exc.message) from exc
        return jsonify(call.json.restriction_array(page, rules))

    @locked_route(bp, "/content/<page_id>/restriction", methods=["DELETE"])
    def clear_restrictions(page_id: str) -> ResponseReturnValue:
        """Remove every restriction; answers the (now empty) restrictions."""
        call = current_call()
        rules = call.store.clear_restrictions(page_id, call.viewer)
        return jsonify(call.json.restriction_array(call.store.get_page(page_id, call.viewer), rules))

    @locked_route(bp, "/content/<page_id>/restriction/byOperation", methods=["GET"])
    def by_operation(page_id: str) -> ResponseReturnValue:
        """Restrictions keyed by operation: `{"read": {...}, "update": {...}, "_links": {...}}`."""
        call = current_call()
        rules = call.store.restrictions(page_id, call.viewer)
        return jsonify(call.json.by_operation(call.store.get_page(page_id, call.viewer), rules))

    @locked_route(bp, "/content/<page_id>/restriction/byOperation/<operation>", methods=["GET"])
    def one_operation(page_id: str, operation: str) -> ResponseReturnValue:
        """The restriction of one operation."""
        call = current_call()
        rules = call.store.restrictions(page_id, call.viewer)
        if operation not in OPERATIONS:
            raise BadRequest(f"Unknown restriction operation: {operation}")
        op: Operation = "read" if operation == "read" else "update"
        page = call.store.get_page(page_id, call.viewer)
        data = call.json.restriction(page, op, rules[op])
        data["_links"] = {**data["_links"], "base": call.site.base, "context": call.site.context}
        return jsonify(data)
