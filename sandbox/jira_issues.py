"""Jira issue endpoints: read an issue, its remote links (upserted by `globalId`) and its properties."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.errors import JiraError
from sandbox.jira_common import (
    check_version,
    find_issue,
    json_body,
    query_list,
    render_for,
)
from sandbox.jira_issue_format import FieldSelection, issue_json
from sandbox.model import RemoteLink
from sandbox.state import current_state

bp = Blueprint("jira_issues", __name__)

ISSUE = "/rest/api/<version>/issue/<id_or_key>"
MAX_PROPERTY_BYTES = 32768
MAX_KEY_LENGTH = 255
MAX_GLOBAL_ID = 255


def _empty(status: int) -> Response:
    """An answer without a body (204, or 200/201 for property writes)."""
    return Response(status=status)


@bp.route(ISSUE, methods=["GET"])
def get_issue(version: str, id_or_key: str) -> Response:
    """An issue with all fields by default (`fields`, `expand`, `properties` honoured)."""
    render = render_for(version)
    issue = find_issue(id_or_key)
    selection = FieldSelection(query_list("fields"), default="*all")
    expand = set(query_list("expand"))
    return jsonify(issue_json(issue, render, selection, expand=expand, properties=query_list("properties")))


# ----- remote links ------------------------------------------------------------------------------


def _link_json(link: RemoteLink, base: str) -> dict[str, Any]:
    """A remote link as Jira lists it."""
    data: dict[str, Any] = {"id": link.id, "self": f"{base}/remotelink/{link.id}"}
    if link.global_id is not None:
        data["globalId"] = link.global_id
    if link.application:
        data["application"] = dict(link.application)
    if link.relationship is not None:
        data["relationship"] = link.relationship
    data["object"] = dict(link.object)
    return data


def _issue_base(version: str, key: str) -> str:
    """`<base>/rest/api/<v>/issue/<key>` for the links' self URLs."""
    return f"{render_for(version).rest}/issue/{key}"


def _check_link_body(body: Any) -> dict[str, Any]:
    """The request body of a create/update, with Jira's per-field messages when it is incomplete."""
    if not isinstance(body, dict):
        raise JiraError(400, "The request body must be a JSON object.")
    obj = body.get("object")
    errors: dict[str, str] = {}
    if not isinstance(obj, dict):
        errors["object"] = "'object' is required."
    else:
        if not obj.get("title"):
            errors["title"] = "'title' is required."
        if not obj.get("url"):
            errors["url"] = "'url' is required."
    global_id = body.get("globalId")
    if global_id is not None and (not isinstance(global_id, str) or len(global_id) > MAX_GLOBAL_ID):
        errors["globalId"] = f"'globalId' must be a string of at most {MAX_GLOBAL_ID} characters."
    if errors:
        raise JiraError(400, errors=errors)
    return body


def _apply(link: RemoteLink, body: dict[str, Any]) -> None:
    """Overwrite a link's content with a create/update body (Jira replaces, it does not merge)."""
    link.object = dict(body["object"])
    link.global_id = body.get("globalId")
    link.relationship = body.get("relationship")
    link.application = dict(body.get("application") or {})


@bp.route(f"{ISSUE}/remotelink", methods=["GET"])
def list_remote_links(version: str, id_or_key: str) -> Response:
    """The issue's remote links; with `globalId`, that one link."""
    issue = find_issue(id_or_key)
    base = _issue_base(version, issue.key)
    links = current_state().remote_links.get(issue.key, [])
    global_id = request.args.get("globalId")
    if global_id is not None:
        for link in links:
            if link.global_id == global_id:
                return jsonify(_link_json(link, base))
        raise JiraError(404, f"No remote link with global id '{global_id}' exists on issue {issue.key}.")
    return jsonify([_link_json(link, base) for link in links])


@bp.route(f"{ISSUE}/remotelink", methods=["POST"])
def upsert_remote_link(version: str, id_or_key: str) -> Response:
    """Create a link (201), or update the one with the same `globalId` (200): `{id, self}`."""
    issue = find_issue(id_or_key)
    base = _issue_base(version, issue.key)
    body = _check_link_body(json_body())
    state = current_state()
    with state.lock:
        links = state.remote_links.setdefault(issue.key, [])
        global_id = body.get("globalId")
        existing = next((link for link in links if global_id and link.global_id == global_id), None)
        if existing is not None:
            _apply(existing, body)
            link, status = existing, 200
        else:
            link = RemoteLink(state.allocate_remote_link_id(), issue.key, {})
            _apply(link, body)
            links.append(link)
            status = 201
    response = jsonify({"id": link.id, "self": f"{base}/remotelink/{link.id}"})
    response.status_code = status
    return response


@bp.route(f"{ISSUE}/remotelink", methods=["DELETE"])
def delete_remote_link_by_global_id(version: str, id_or_key: str) -> Response:
    """Delete the link with `globalId` (204)."""
    check_version(version)
    issue = find_issue(id_or_key)
    global_id = request.args.get("globalId")
    if not global_id:
        raise JiraError(400, "The globalId parameter is required.")
    state = current_state()
    with state.lock:
        links = state.remote_links.get(issue.key, [])
        kept = [link for link in links if link.global_id != global_id]
        if len(kept) == len(links):
            raise JiraError(404, f"No remote link with global id '{global_id}' exists on issue {issue.key}.")
        state.remote_links[issue.key] = kept
    return _empty(204)


def _find_link(issue_key: str, link_id: str) -> RemoteLink:
    """The link with this id on this issue, or Jira's 404 (400 for a non-numeric id)."""
    if not link_id.isdigit():
        raise JiraError(400, f"Invalid remote link id: {link_id}")
    for link in current_state().remote_links.get(issue_key, []):
        if link.id == int(link_id):
            return link
    raise JiraError(404, f"No remote link with id {link_id} exists on issue {issue_key}.")


@bp.route(f"{ISSUE}/remotelink/<link_id>", methods=["GET"])
def get_remote_link(version: str, id_or_key: str, link_id: str) -> Response:
    """One link by id."""
    issue = find_issue(id_or_key)
    return jsonify(_link_json(_find_link(issue.key, link_id), _issue_base(version, issue.key)))


@bp.route(f"{ISSUE}/remotelink/<link_id>", methods=["PUT"])
def update_remote_link(version: str, id_or_key: str, link_id: str) -> Response:
    """Replace a link's content (204)."""
    check_version(version)
    issue = find_issue(id_or_key)
    body = _check_link_body(json_body())
    state = current_state()
    with state.lock:
        _apply(_find_link(issue.key, link_id), body)
    return _empty(204)


@bp.route(f"{ISSUE}/remotelink/<link_id>", methods=["DELETE"])
def delete_remote_link(version: str, id_or_key: str, link_id: str) -> Response:
    """Delete a link by id (204)."""
    check_version(version)
    issue = find_issue(id_or_key)
    state = current_state()
    with state.lock:
        link = _find_link(issue.key, link_id)
        state.remote_links[issue.key] = [x for x in state.remote_links[issue.key] if x is not link]
    return _empty(204)


# ----- issue properties --------------------------------------------------------------------------


@bp.route(f"{ISSUE}/properties", methods=["GET"])
def list_properties(version: str, id_or_key: str) -> Response:
    """The keys of the issue's properties, with self links."""
    issue = find_issue(id_or_key)
    base = _issue_base(version, issue.key)
    keys = sorted(current_state().issue_properties.get(issue.key, {}))
    return jsonify({"keys": [{"self": f"{base}/properties/{key}", "key": key} for key in keys]})


@bp.route(f"{ISSUE}/properties/<property_key>", methods=["GET"])
def get_property(version: str, id_or_key: str, property_key: str) -> Response:
    """One property: `{key, value}`."""
    check_version(version)
    issue = find_issue(id_or_key)
    stored = current_state().issue_properties.get(issue.key, {})
    if property_key not in stored:
        raise JiraError(404, f"The property with key '{property_key}' does not exist.")
    return jsonify({"key": property_key, "value": stored[property_key]})


@bp.route(f"{ISSUE}/properties/<property_key>", methods=["PUT"])
def set_property(version: str, id_or_key: str, property_key: str) -> Response:
    """Set a property to the JSON body: 201 when created, 200 when replaced."""
    check_version(version)
    issue = find_issue(id_or_key)
    if len(property_key) > MAX_KEY_LENGTH:
        raise JiraError(400, f"The property key cannot be longer than {MAX_KEY_LENGTH} characters.")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_PROPERTY_BYTES:
        raise JiraError(400, f"The property value cannot be longer than {MAX_PROPERTY_BYTES} bytes.")
    try:
        value = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise JiraError(400, "The property value must be valid JSON.") from None
    if value is None and not raw.strip():
        raise JiraError(400, "The property value cannot be empty.")
    state = current_state()
    with state.lock:
        stored = state.issue_properties.setdefault(issue.key, {})
        created = property_key not in stored
        stored[property_key] = value
    # Properties are searchable in JQL (issue.property[...]), so cached results must not survive.
    state.touch()
    return _empty(201 if created else 200)


@bp.route(f"{ISSUE}/properties/<property_key>", methods=["DELETE"])
def delete_property(version: str, id_or_key: str, property_key: str) -> Response:
    """Delete a property (204)."""
    check_version(version)
    issue = find_issue(id_or_key)
    state = current_state()
    with state.lock:
        stored = state.issue_properties.get(issue.key, {})
        if property_key not in stored:
            raise JiraError(404, f"The property with key '{property_key}' does not exist.")
        del stored[property_key]
    state.touch()
    return _empty(204)
